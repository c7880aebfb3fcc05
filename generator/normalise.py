"""Pure helpers that turn provider fields into :class:`~generator.models.Record` values.

Text rules (issue 3, ``shared/cases/acceptance.yaml`` API-01, API-02, API-04):

* Markup is stripped before entities are decoded, and only real tags of the JATS/HTML
  vocabulary are stripped, so ``&lt;0.5`` becomes the text ``<0.5`` and is never taken
  for a tag.
* HTML entities are decoded exactly one layer (``&amp;lt;`` → ``&lt;``) and entity names
  are matched case-insensitively when the exact name is unknown (``&Amp;`` → ``&``).
* Where a source escaped its markup once (``&lt;i&gt;C. elegans&lt;/i&gt;``, seen in
  Europe PMC titles and OpenAlex indexes), the tags revealed by decoding are stripped too.
* Block elements (paragraphs, sections, list items, headings) become paragraph breaks
  (``\\n\\n``); a heading that only says "Abstract" or "Summary" is dropped.
* Whitespace is collapsed inside paragraphs; LaTeX and every other character is kept.
* An OpenAlex ``abstract_inverted_index`` is rebuilt from every position of every word.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from html.entities import html5

from generator.models import Identifiers, Record
from generator.records import normalise_arxiv, normalise_doi

log = logging.getLogger(__name__)

PARAGRAPH_BREAK = "\n\n"
_BREAK = "\u2029"  # marks a block boundary until whitespace is normalised

# JATS 1.3 and HTML element names that appear in scholarly abstracts and titles.
_BLOCK = ("p|div|sec|abstract|trans-abstract|list|list-item|def-list|def-item|li|ul|ol|"
          "title|h[1-6]|br|hr|label|caption|disp-quote|blockquote|boxed-text|table-wrap|fig")
_INLINE = ("italic|bold|sup|sub|sc|scp|styled-content|ext-link|xref|underline|monospace|"
           "inline-formula|tex-math|named-content|uri|email|roman|sans-serif|overline|"
           "strike|i|b|em|strong|u|s|span|a|small|tt|font|code|mml:[\\w.-]+")
_ATTRS = r"(?:\s+[\w:.-]+\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'<>]+))*"
_TAG = re.compile(
    r"<(/?)(?:(jats:[\w.-]+|mml:[\w.-]+)[^<>]*?|(" + _BLOCK + "|" + _INLINE + r")" + _ATTRS + r")\s*/?>",
    re.IGNORECASE)
_BLOCK_NAME = re.compile(r"^(?:jats:)?(?:" + _BLOCK + r")$", re.IGNORECASE)
_HEADING = re.compile(
    r"<(jats:title|title|h[1-6])\b[^<>]*>\s*(?:abstract|summary)\s*[.:]?\s*</\1\s*>", re.IGNORECASE)
_ESCAPED_CLOSE = re.compile(r"&lt;/(?:jats:|mml:)?(?:" + _BLOCK + "|" + _INLINE + r")\s*&gt;", re.IGNORECASE)
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_HTML5_LOWER = {name.lower(): name for name in html5 if name.endswith(";")}


def decode_entities(text: str) -> str:
    """Decode HTML character references in ``text`` exactly once.

    Numeric references (``&#233;``, ``&#x0D;``) follow the HTML5 rules of
    :func:`html.unescape`; a named reference is looked up by its exact name, then
    case-insensitively (``&Amp;`` → ``&``). Unknown names are left as written.
    ``&amp;lt;`` gives ``&lt;``: the result is never decoded a second time.
    """
    def one(match: re.Match) -> str:
        body = match.group(1)
        if body.startswith("#"):
            return html.unescape(match.group(0))
        name = body + ";"
        if name in html5:
            return html5[name]
        lower = _HTML5_LOWER.get(name.lower())
        return html5[lower] if lower else match.group(0)

    return _ENTITY.sub(one, text)


def _strip_tags(text: str) -> tuple[str, bool]:
    """Replace vocabulary tags: block tags by a break marker, inline tags by nothing."""
    found = False

    def repl(match: re.Match) -> str:
        nonlocal found
        found = True
        name = match.group(2) or match.group(3) or ""
        return _BREAK if _BLOCK_NAME.match(name) else ""

    text = _HEADING.sub(_BREAK, text)
    return _TAG.sub(repl, text), found


def normalise_whitespace(text: str, *, paragraphs: bool = True) -> str:
    """Collapse runs of whitespace to one space inside each paragraph.

    With ``paragraphs`` the paragraphs (separated by a blank line or a block marker) are
    kept and joined by ``\\n\\n``; without, everything becomes one line. Where markup
    gave block boundaries, those alone separate paragraphs: blank lines from the source's
    pretty-printing (Crossref JATS) are only whitespace.
    """
    if not paragraphs:
        return " ".join(text.split())
    if _BREAK in text:
        chunks = text.split(_BREAK)
    else:
        chunks = re.split(r"\n[^\S\n]*\n", text)
    parts = (" ".join(chunk.split()) for chunk in chunks)
    return PARAGRAPH_BREAK.join(p for p in parts if p)


def markup_to_text(raw: str | None, *, paragraphs: bool = True) -> str | None:
    """JATS/HTML fragment → plain text, or ``None`` when nothing but markup is left.

    Order matters (API-04): tags are stripped first, then entities are decoded one layer,
    then any tags that had been escaped once are stripped, then whitespace is normalised.
    ``"<jats:p>amplitude was &lt;0.5 mV</jats:p>"`` → ``"amplitude was <0.5 mV"``.
    """
    if not isinstance(raw, str):
        return None
    text, _ = _strip_tags(raw)
    escaped_markup = bool(_ESCAPED_CLOSE.search(text))
    text = decode_entities(text)
    if escaped_markup:
        text, _ = _strip_tags(text)
    text = normalise_whitespace(text, paragraphs=paragraphs)
    return text or None


def clean_title(raw: str | None) -> str | None:
    """A title as one line of plain text (markup stripped, entities decoded once)."""
    return markup_to_text(raw, paragraphs=False)


def clean_abstract(raw: str | None) -> str | None:
    """An abstract as plain text with ``\\n\\n`` between paragraphs, or ``None`` if empty."""
    return markup_to_text(raw, paragraphs=True)


def plain_text(raw: str | None, *, paragraphs: bool = False) -> str | None:
    """Whitespace-normalised text with nothing else changed (arXiv: LaTeX and ``<`` kept)."""
    if not isinstance(raw, str):
        return None
    return normalise_whitespace(raw, paragraphs=paragraphs) or None


def rebuild_inverted_index(index: Mapping[str, Sequence[int]] | None) -> str | None:
    """The word sequence an OpenAlex ``abstract_inverted_index`` encodes, space-joined.

    Every position of every word is used, so repeated words are kept; words are ordered by
    position, never by key order; keys are used verbatim (``i.e.``, ``$n=10$``). A
    ``None`` or empty index gives ``None`` (no abstract). Positions that are not integers
    are ignored. Markup and entities are left for :func:`clean_abstract`.
    """
    if not index or not isinstance(index, Mapping):
        return None
    placed: list[tuple[int, str]] = []
    for word, positions in index.items():
        for pos in positions or ():
            if isinstance(pos, int) and not isinstance(pos, bool):
                placed.append((pos, word))
    if not placed:
        return None
    placed.sort(key=lambda item: item[0])
    return " ".join(word for _, word in placed)


def year_month(value) -> tuple[int | None, int | None]:
    """``(year, month)`` from ``"2022-12-31"``, ``"2022"``, ``2022`` or Crossref
    ``{"date-parts": [[2012, 3]]}``; ``(None, None)`` when absent or malformed."""
    if isinstance(value, Mapping):
        parts = value.get("date-parts") or [[]]
        first = parts[0] if parts and isinstance(parts[0], list) else []
        year = first[0] if first and isinstance(first[0], int) else None
        month = first[1] if len(first) > 1 and isinstance(first[1], int) else None
        return year, (month if year and month and 1 <= month <= 12 else None)
    if isinstance(value, int) and not isinstance(value, bool):
        return (value, None) if 1000 <= value <= 9999 else (None, None)
    if isinstance(value, str):
        m = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?", value)
        if m:
            month = int(m.group(2)) if m.group(2) else None
            return int(m.group(1)), (month if month and 1 <= month <= 12 else None)
    return None, None


def _tail(value: str | None, pattern: str) -> str | None:
    if not value or not isinstance(value, str):
        return None
    m = re.search(pattern, value.strip())
    return m.group(1) if m else None


def identifiers(*, doi: str | None = None, arxiv: str | None = None, openalex: str | None = None,
                pmid: str | int | None = None, pmcid: str | int | None = None,
                s2: str | None = None) -> Identifiers:
    """Normalised :class:`Identifiers` from raw provider values (URLs and prefixes accepted).

    The arXiv DataCite DOI ``10.48550/arXiv.<id>`` is stored as the arXiv id, not as the
    DOI (:meth:`Identifiers.keys` derives it back). ``openalex`` gives the bare ``W…`` id,
    ``pmid`` the digits, ``pmcid`` ``PMC<digits>``.
    """
    norm_doi = normalise_doi(doi)
    arx = normalise_arxiv(arxiv) if arxiv else None
    if norm_doi:
        datacite = normalise_arxiv(norm_doi)
        if datacite:
            arx = arx or datacite
            norm_doi = None
    pmcid_digits = _tail(str(pmcid) if pmcid is not None else None, r"(?:PMC)?(\d+)/?$")
    return Identifiers(
        doi=norm_doi,
        arxiv=arx[0] if arx else None,
        arxiv_version=arx[1] if arx else None,
        openalex=(_tail(openalex, r"([Ww]\d+)$") or "").upper() or None,
        pmid=_tail(str(pmid) if pmid is not None else None, r"(\d+)/?$"),
        pmcid=f"PMC{pmcid_digits}" if pmcid_digits else None,
        s2=s2 if isinstance(s2, str) and s2.strip() else None,
    )


def primary_id(ids: Identifiers, fallback: str | None) -> str | None:
    """The record id: ``doi:<doi>``, else ``arxiv:<id>``, else ``fallback``
    (a provider key such as ``openalex:W1``, ``s2:<paperId>``, ``pmid:123``)."""
    if ids.doi:
        return f"doi:{ids.doi}"
    if ids.arxiv:
        return f"arxiv:{ids.arxiv}"
    return fallback


def iso_utc(moment: datetime | None = None) -> str:
    """``moment`` (default now) as ``2026-02-01T15:33:38Z``; naive datetimes count as UTC."""
    moment = moment or datetime.now(timezone.utc)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def names(items: Iterable[str | None]) -> tuple[str, ...]:
    """Author names as one-line strings, blanks and ``None`` dropped."""
    out = []
    for item in items:
        name = clean_title(item) if isinstance(item, str) else None
        if name:
            out.append(name)
    return tuple(out)


def build_record(*, provider: str, title: str | None, ids: Identifiers, fallback_id: str | None,
                 authors: tuple[str, ...] = (), year: int | None = None, month: int | None = None,
                 venue: str | None = None, abstract: str | None = None, url: str | None = None,
                 retrieved_at: str = "") -> Record | None:
    """A :class:`Record`, or ``None`` (with a logged warning) when the entry has no title
    or no identifier at all — an unresolved reference that cannot be cited (API-05).

    ``title``/``abstract``/``venue`` must already be plain text; ``fallback_id`` is the
    provider's own key used when there is neither a DOI nor an arXiv id.
    """
    record_id = primary_id(ids, fallback_id)
    if not title or not record_id:
        log.warning("%s: skipped an entry without %s (title %r)", provider,
                    "a title" if not title else "any identifier", (title or "")[:80])
        return None
    return Record(
        id=record_id,
        title=title,
        ids=ids,
        authors=authors,
        year=year,
        month=month,
        venue=venue or None,
        abstract=abstract or None,
        url=url or None,
        provider=provider,
        retrieved_at=retrieved_at,
    )


def utc_now() -> datetime:
    """The current time, timezone-aware UTC (the default clock of every provider)."""
    return datetime.now(timezone.utc)


def lookup_target(key: str) -> tuple[str, str] | None:
    """Split an identity key into ``(scheme, normalised value)`` for a provider lookup.

    ``"doi:10.1128/MCB.01478-14"`` → ``("doi", "10.1128/mcb.01478-14")``;
    ``"doi:10.48550/arXiv.2203.02155"`` and ``"arxiv:2203.02155v2"`` → ``("arxiv",
    "2203.02155")``; ``"openalex:w1"`` → ``("openalex", "W1")``; ``pmid``, ``pmcid`` and
    ``s2`` are passed through stripped. Anything else gives ``None``.
    """
    if not isinstance(key, str) or ":" not in key:
        return None
    scheme, _, value = key.partition(":")
    scheme, value = scheme.strip().lower(), value.strip()
    if scheme in ("doi", "arxiv"):
        arx = normalise_arxiv(value)
        if arx:
            return "arxiv", arx[0]
        doi = normalise_doi(value) if scheme == "doi" else None
        return ("doi", doi) if doi else None
    if scheme == "openalex" and re.fullmatch(r"[Ww]\d+", value):
        return "openalex", value.upper()
    if scheme == "pmid" and value.isdigit():
        return "pmid", value
    if scheme == "pmcid" and re.fullmatch(r"(?:PMC)?\d+", value, re.I):
        return "pmcid", "PMC" + re.sub(r"(?i)^pmc", "", value)
    if scheme == "s2" and value:
        return "s2", value
    return None
