"""How external record text and identifiers are shown: cleaned text and outbound links.

Shared by the page renderer, the JSON-LD and the bibliography so that every output shows a
title or a link the same way.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
"""C0 controls (except tab/newline/CR, which are whitespace), DEL, the LRM/RLM marks and the
bidi embeddings, overrides and isolates (U+202A–202E, U+2066–2069): characters that are
invisible or reorder the text around them."""


def clean(text) -> str:
    """``text`` as shown: :data:`CONTROL` characters removed, whitespace runs as one space.

    ``None`` and ``""`` give ``""``; other values are converted with ``str``.
    """
    if text is None or text == "":
        return ""
    return _clean_text(text if isinstance(text, str) else str(text))


# A page shows the same titles and author names many times (tables, citations, JSON-LD).
@functools.lru_cache(maxsize=65536)
def _clean_text(text: str) -> str:
    return " ".join(CONTROL.sub("", text).split())


def letters(i: int) -> str:
    """The ``i``-th (from 0) letter suffix that tells apart equal author–year labels:
    0 → ``a``, 25 → ``z``, 26 → ``aa``, 27 → ``ab``."""
    out = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        out = chr(ord("a") + rem) + out
    return out


def braced_literal(name: str) -> str | None:
    """The inside of ``name`` when the whole name is one brace group (``"{OpenAI Research Team}"``).

    Library readers write organisation and other literal names this way, as BibTeX does,
    so that no later step splits them into given and family names. Returns ``None`` when
    ``name`` is not wholly braced (``"{\\'E}mile Zola"`` is not).
    """
    if not (name.startswith("{") and name.endswith("}")):
        return None
    depth = 0
    for i, ch in enumerate(name):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0:
            return name[1:-1].strip() if i == len(name) - 1 else None
    return None


def person_name(name) -> str:
    """An author string as a reader writes the name: given name first, no markers.

    Author strings come in three forms (see :func:`generator.bibliography.split_name`):
    ``"Family, Given"`` / ``"Family, Suffix, Given"`` from CSL-JSON and BibTeX files →
    ``"Given Family"`` / ``"Given Family Suffix"``; ``"{Literal Name}"`` → ``"Literal Name"``;
    anything else (``"Given Family"`` from arXiv) is returned cleaned, unchanged.
    """
    text = clean(name)
    literal = braced_literal(text)
    if literal is not None:
        return literal
    if "," not in text:
        return text
    parts = [p.strip() for p in text.split(",")]
    family, rest = parts[0], [p for p in parts[1:] if p]
    if not family:
        return text
    given = rest[-1] if rest else ""
    suffix = ", ".join(rest[:-1])
    return " ".join(p for p in (given, family, suffix) if p)


def record_links(record: dict) -> list[tuple[str, str]]:
    """``[(label, url)]`` for a record dict: arXiv, DOI, OpenAlex, PubMed, in that order.

    The DOI is percent-encoded for use in an ``href`` (``<``/``>`` become ``%3C``/``%3E``;
    ``/:;()._-`` are kept); its label is the DOI unchanged. arXiv's own DataCite DOIs
    (``10.48550/arXiv.*``) are left out: the arXiv link is the same work. A record with none
    of these gets its ``url`` when it is http(s).
    """
    ids = record.get("ids") or {}
    links = []
    if ids.get("arxiv"):
        links.append((f"arXiv:{ids['arxiv']}", f"https://arxiv.org/abs/{quote(ids['arxiv'], safe='/.')}"))
    if ids.get("doi") and not ids["doi"].lower().startswith("10.48550/arxiv."):
        links.append((f"doi:{ids['doi']}", "https://doi.org/" + quote(ids["doi"], safe="/:;()._-")))
    if ids.get("openalex"):
        links.append(("OpenAlex", f"https://openalex.org/{quote(ids['openalex'], safe='')}"))
    if ids.get("pmid"):
        links.append((f"PMID:{ids['pmid']}", f"https://pubmed.ncbi.nlm.nih.gov/{quote(str(ids['pmid']), safe='')}/"))
    if not links and str(record.get("url") or "").startswith(("https://", "http://")):
        links.append(("link", record["url"]))
    return links
