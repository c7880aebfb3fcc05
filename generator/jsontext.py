"""JSON text of claim sets, page files and cache entries, written and read with orjson.

A first build at 50 questions spent about 0.9 s of CPU in the standard library's ``json``
on claim sets of 0.2–1.5 MB (the copy :func:`plain` makes of each, the downloadable claim
set, the cache entries and their keys); orjson does the same work in about a sixth of
that (issue 7, our measurement). Snapshots keep the standard library's exact text
(:func:`generator.snapshots.dumps` halves the indents of :func:`pretty`): they are
committed, and their digest is shown on every page.

What differs from ``json.dumps(value, ensure_ascii=False)``: the output is UTF-8
``bytes``; :func:`pretty` indents by two spaces; a float is written in its shortest form
with an exponent such as ``1e-5`` (``json`` writes ``1e-05``), and NaN or an infinity as
``null``. Floats of any subclass (numpy's ``float64``) are written as floats and integer
dictionary keys as strings, as ``json`` does; any other type raises ``TypeError``.
"""

from __future__ import annotations

import orjson

__all__ = ["compact", "pretty", "plain", "loads"]


def _default(value):
    # numpy.float64 is a float subclass that json writes as a float and orjson refuses.
    if isinstance(value, float):
        return float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_OPTIONS = orjson.OPT_NON_STR_KEYS | orjson.OPT_SORT_KEYS


def compact(value) -> bytes:
    """Canonical compact JSON of ``value``: keys sorted, no spaces, UTF-8. Raises
    ``TypeError`` for a value JSON cannot hold."""
    return orjson.dumps(value, default=_default, option=_OPTIONS)


def pretty(value) -> bytes:
    """JSON of ``value`` for people to read: keys sorted, two-space indents, ending in a
    newline, UTF-8. Raises ``TypeError`` as :func:`compact`."""
    return orjson.dumps(value, default=_default, option=_OPTIONS | orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def plain(value):
    """``value`` as JSON would give it back: tuples become lists, integer keys strings,
    float subclasses floats — so that a page renders exactly what is downloaded. Raises
    ``TypeError`` as :func:`compact`."""
    return orjson.loads(orjson.dumps(value, default=_default, option=orjson.OPT_NON_STR_KEYS))


def loads(data: bytes | str):
    """Parse JSON text. Raises ``ValueError`` (``orjson.JSONDecodeError``, a subclass of
    ``json.JSONDecodeError``) for text that is not JSON, NaN and infinities included."""
    return orjson.loads(data)
