r"""Case-insensitive regular expressions, matched without ``re.IGNORECASE`` on lower-cased
text: the same matches, three to four times faster.

Python's ``re.IGNORECASE`` folds every character of the text while matching and turns off
the searches for literal prefixes, so the cue patterns of claim extraction and hedge
detection were the slowest code of a build: over the 32,910 sentences of the 50
benchmark questions' abstracts, the result-verb pattern took 0.83 s with the flag and
0.22 s without it on the lower-cased sentence (issue 7, our measurement).

The two are the same when the pattern's literals are lower-case ASCII (checked when a
:class:`Caseless` is made) and the text is lower-cased by :func:`fold`: ``str.lower``,
after mapping to their letter the four non-ASCII characters that the flag matches to an
ASCII letter: U+0130 (İ) and U+0131 (ı) to ``i``, U+017F (ſ) to ``s``, U+212A (the
Kelvin sign) to ``k`` (``str.lower`` gives two characters for the first, and keeps the
second and third). The four were found by testing every code point against ``[a-z]``
with the flag; every other code point ``str.lower`` turns into one character, in the
same classes ``\w``, ``\d`` and ``\s`` (``tests/test_text.py`` repeats both tests).
So :func:`fold` keeps the text's length, and match positions are the same too.
"""

from __future__ import annotations

import re

__all__ = ["Caseless", "FOLD_EXCEPTIONS", "fold"]

FOLD_EXCEPTIONS = {"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"}
"""The non-ASCII characters ``re.IGNORECASE`` matches to an ASCII letter, and that letter."""

_TO_ASCII = str.maketrans(FOLD_EXCEPTIONS)
# An escape (\b, \S, \W, …) may be upper case; anything else upper case is a literal.
_UPPER_LITERAL = re.compile(r"\\.|([A-Z])")


def fold(text: str) -> str:
    """``text`` lower-cased for matching without ``re.IGNORECASE`` (module docstring);
    the same length as ``text``."""
    if not text.isascii():
        text = text.translate(_TO_ASCII)
    return text.lower()


class Caseless:
    """``re.compile(pattern, flags | re.IGNORECASE)``, answered without the flag on
    :func:`fold`-ed text (module docstring): the same matches at the same positions.
    Raises ``ValueError`` when ``pattern`` has an upper-case literal (it would never
    match folded text)."""

    __slots__ = ("compiled",)

    def __init__(self, pattern: str, flags: int = 0):
        if any(m.group(1) for m in _UPPER_LITERAL.finditer(pattern)):
            raise ValueError(f"pattern has an upper-case literal: {pattern!r}")
        self.compiled = re.compile(pattern, flags)

    def search(self, text: str) -> bool:
        """True when the pattern matches somewhere in ``text`` (``re.search``)."""
        return self.compiled.search(fold(text)) is not None

    def count(self, text: str) -> int:
        """The number of non-overlapping matches in ``text`` (``len(re.findall(…))``)."""
        return len(self.compiled.findall(fold(text)))

    def spans(self, text: str) -> list[tuple[int, int]]:
        """``(start, end)`` of every non-overlapping match in ``text``, positions in
        ``text`` (``re.finditer``)."""
        return [m.span() for m in self.compiled.finditer(fold(text))]
