"""Readers of local corpus files: each turns one file into :class:`Record` objects.

Formats (DESIGN §9, ``--library``):

* arXiv metadata snapshot JSON Lines (``.jsonl``, ``.jsonl.gz``; a ``.json`` file whose
  first line is a JSON object is read the same way, because the Kaggle arXiv snapshot is
  JSON Lines named ``.json``);
* CSL-JSON (``.json`` holding a list of items, as Zotero exports it);
* BibTeX (``.bib``), parsed with bibtexparser v2.

Text is kept as the source gave it: titles and abstracts only have runs of whitespace
(hard line breaks included) collapsed to one space, so LaTeX such as ``$O(n)$`` and the
source's typos survive. BibTeX is the exception: its values are LaTeX-encoded, so they are
decoded (``{\\"o}`` → ``ö``, ``{Study}`` → ``Study``) with math mode kept verbatim.

Authors keep the boundary between given and family name: CSL-JSON and BibTeX persons are
stored as ``"Family, Given"`` and organisations as ``"{Literal Name}"``
(:func:`generator.bibliography.split_name` reads both); arXiv's ``authors`` string stays
``"Given Family"``.

Problems with single entries (malformed line, no title, oversized abstract) are reported
through a ``warn(message)`` callback and the entry is skipped (the message ends with
:data:`SKIPPED`) or, for an oversized abstract, kept without it; messages start with
``path:line:`` (or ``path: item N``) so a reader can find them. Problems that make a whole
file unusable raise :class:`CorpusError`, and so does a file that ends early (a truncated
or corrupt gzip stream): searching its first part would silently miss every record after
the cut, and the snapshot written from that search would keep the gap.
"""

from __future__ import annotations

import email.utils
import gzip
import json
import logging
import re
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson

from generator import normalise
from generator.errors import CorpusError
from generator.models import Identifiers, Record
from generator.records import normalise_arxiv, normalise_doi

# Warnings from every reader go to the provider's logger, whichever module emits them.
logger = logging.getLogger("generator.providers.library")

Warn = Callable[[str], None]

#: Abstracts longer than this many characters are dropped with a warning. Real abstracts
#: are under 10 kB (the longest of the 25,065 in the shared arXiv corpus has 2,776
#: characters); anything this long is a whole paper or a corrupt line, and silently
#: truncating it would alter the text.
MAX_ABSTRACT_CHARS = 200_000

#: How the warning about an entry that was skipped ends (others keep their entry).
SKIPPED = "— skipped"

ALLOWED_FORMATS = (
    ".jsonl or .jsonl.gz (arXiv metadata snapshot JSON Lines), "
    ".json (CSL-JSON list, or arXiv JSON Lines), .bib (BibTeX)"
)

_ARXIV_NEW_DATE = re.compile(r"^(\d{2})(\d{2})\.\d{4,5}$")
_ARXIV_OLD_DATE = re.compile(r"^[^/]+/(\d{2})(\d{2})\d{3}$")
_ARXIV_IN_TEXT = re.compile(
    r"(?:arxiv\.org/(?:abs|pdf)/|arxiv:\s*)([a-z\-]+(?:\.[a-z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?",
    re.I,
)
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_AUTHOR_SEPARATOR = re.compile(r"\s*[,;]\s*(?:and\s+)?|\s+and\s+")
_INNERMOST_GROUP = re.compile(r"\([^()]*\)")
_NAME_SUFFIX = re.compile(r"^(?:jr|sr|ii|iii|iv)\.?$", re.I)
_NOT_A_NAME = re.compile(r"^(?:et\.?\s*al\.?|others|and)$", re.I)
_NOT_A_NAME_LONGEST = 7  # "et. al.": author text has its whitespace collapsed first
_YEAR_IN_TEXT = re.compile(r"\b(1[5-9]\d\d|20\d\d|21\d\d)\b")
_MONTHS = {
    name: i
    for i, names in enumerate(
        (("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
         ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
         ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
         ("dec", "december")),
        start=1,
    )
    for name in names
}


def _log_only(message: str) -> None:
    logger.warning(message)


# ---------------------------------------------------------------- shared helpers


def clean_text(value: Any) -> str | None:
    """Collapse every run of whitespace (line breaks included) to one space and strip.

    Returns ``None`` for non-strings and for strings that are empty after stripping.
    Nothing else is changed: LaTeX, markup and typos stay as given. Lone UTF-16
    surrogates (possible in JSON ``\\ud800`` escapes, not encodable as UTF-8) become
    U+FFFD so that later stages can write the text out.
    """
    if not isinstance(value, str):
        return None
    text = " ".join(value.split())
    if not text:
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = _SURROGATE.sub("\ufffd", text)
    return text


def split_authors(value: Any) -> tuple[str, ...]:
    """Split an arXiv ``authors`` string into names.

    ``"A, B and C"``, ``"A, B, and C"``, ``"A;\\nB"`` → ``("A", "B", "C")``. Separators are
    commas, semicolons and the word ``and`` outside parentheses; parenthesised groups are
    affiliations in the arXiv snapshot (``"A (1), B (2) ((1) MIT, (2) CMU)"``) and are
    dropped; a ``Jr.``/``III`` part is joined to the preceding name; ``et al.`` and
    ``others`` are dropped. A list of strings (some exports) is accepted as given.
    """
    if isinstance(value, list):
        return tuple(name for name in (clean_text(v) for v in value) if name)
    text = clean_text(value)
    if not text:
        return ()
    text = _drop_parenthesised(text)
    names: list[str] = []
    for part in _AUTHOR_SEPARATOR.split(text):
        part = part.strip()
        # Both patterns match short words only ("et al.", "others"; "Jr.", "III"): the
        # length test spares them for nearly every name of 25k author lists.
        if not part or (len(part) <= _NOT_A_NAME_LONGEST and _NOT_A_NAME.match(part)):
            continue
        if names and len(part) <= 4 and _NAME_SUFFIX.match(part):
            names[-1] = f"{names[-1]} {part}"
            continue
        names.append(part)
    return tuple(names)


def _drop_parenthesised(text: str) -> str:
    """Remove balanced ``(...)`` groups; leave the text alone if parentheses are unbalanced."""
    if "(" not in text and ")" not in text:
        return text
    # Innermost groups first, until none is left: balanced iff no parenthesis survives.
    # (A character loop did the same at 20 µs per author list, 0.5 s per 25k records.)
    out, n = _INNERMOST_GROUP.subn("", text)
    while n:
        out, n = _INNERMOST_GROUP.subn("", out)
    if "(" in out or ")" in out:
        return text
    return " ".join(out.split())


def arxiv_year_month(arxiv_id: str) -> tuple[int | None, int | None]:
    """Year and month of first submission encoded in an arXiv id, else ``(None, None)``.

    New style ``YYMM.NNNNN`` (since April 2007): ``2505.09388`` → ``(2025, 5)``. Old style
    ``archive/YYMMNNN`` (1991–2007): ``hep-th/9901001`` → ``(1999, 1)``; two-digit years
    from 91 are 19xx (arXiv began in August 1991). Source: arXiv identifier scheme,
    https://info.arxiv.org/help/arxiv_identifier.html.
    """
    m = _ARXIV_NEW_DATE.match(arxiv_id)
    if m:
        year = 2000 + int(m.group(1))
    else:
        m = _ARXIV_OLD_DATE.match(arxiv_id)
        if not m:
            return None, None
        yy = int(m.group(1))
        year = 1900 + yy if yy >= 91 else 2000 + yy
    month = int(m.group(2))
    return (year, month) if 1 <= month <= 12 else (None, None)


def _date_from_versions(versions: Any) -> tuple[int | None, int | None]:
    """Year/month of the first version's ``created`` date (RFC 2822, as arXiv writes it)."""
    if not isinstance(versions, list) or not versions or not isinstance(versions[0], dict):
        return None, None
    created = versions[0].get("created")
    if not isinstance(created, str):
        return None, None
    try:
        when = email.utils.parsedate_to_datetime(created)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None, None
    return when.year, when.month


def _date_from_iso(value: Any) -> tuple[int | None, int | None]:
    if not isinstance(value, str):
        return None, None
    m = re.match(r"^\s*(\d{4})(?:-(\d{1,2}))?", value)
    if not m:
        return None, None
    month = int(m.group(2)) if m.group(2) else None
    return int(m.group(1)), month if month and 1 <= month <= 12 else None


def _latest_version(versions: Any) -> str | None:
    if isinstance(versions, list) and versions and isinstance(versions[-1], dict):
        version = versions[-1].get("version")
        if isinstance(version, str) and re.fullmatch(r"v\d+", version.strip()):
            return version.strip()
    return None


def _abstract(value: Any, where: str, warn: Warn) -> str | None:
    text = clean_text(value)
    if text is not None and len(text) > MAX_ABSTRACT_CHARS:
        warn(
            f"{where}: abstract of {len(text):,} characters exceeds {MAX_ABSTRACT_CHARS:,} "
            "— abstract dropped, record kept without text"
        )
        return None
    return text


def _first_doi(value: Any) -> str | None:
    """The first DOI of a field that may list several separated by whitespace (arXiv does)."""
    if not isinstance(value, str):
        return None
    for token in value.split():
        doi = normalise_doi(token)
        if doi:
            return doi
    return None


def _arxiv_in_text(*values: Any) -> tuple[str, str | None] | None:
    for value in values:
        if not isinstance(value, str):
            continue
        found = normalise_arxiv(value)
        if found:
            return found
        m = _ARXIV_IN_TEXT.search(value)
        if m:
            found = normalise_arxiv(m.group(1) + (m.group(2) or ""))
            if found:
                return found
    return None


def _primary_id(doi: str | None, arxiv: str | None) -> str | None:
    """``doi:`` unless the DOI is an arXiv DataCite DOI, then ``arxiv:`` (records.parse_identifier)."""
    if doi and not (normalise_arxiv(doi) and doi.startswith("10.48550/")):
        return f"doi:{doi}"
    if arxiv:
        return f"arxiv:{arxiv}"
    if doi:
        return f"doi:{doi}"
    return None


def _url(explicit: Any, doi: str | None, arxiv: str | None) -> str | None:
    url = clean_text(explicit)
    if url and re.match(r"^https?://", url, re.I):
        return url
    if arxiv:
        return f"https://arxiv.org/abs/{arxiv}"
    if doi:
        return f"https://doi.org/{doi}"
    return None


# ---------------------------------------------------------------- arXiv JSON Lines


def arxiv_record(data: dict, where: str, warn: Warn, retrieved_at: str = "") -> Record | None:
    """Build a record from one arXiv metadata snapshot object, or ``None`` (with a warning).

    ``data`` has the snapshot's keys (``id``, ``authors``, ``title``, ``abstract``, ``doi``,
    ``journal-ref``, ``versions``, ``update_date``, …; any may be null or absent).
    ``where`` (``path:line``) prefixes warnings. Year and month come from the id, else the
    first version's date, else ``update_date``.
    """
    raw_id = data.get("id")
    arxiv = normalise_arxiv(raw_id) if isinstance(raw_id, str) else None
    if arxiv is None:
        warn(f"{where}: record has no valid arXiv id ({_short(raw_id)}) {SKIPPED}")
        return None
    arxiv_id, id_version = arxiv
    title = clean_text(data.get("title"))
    if title is None:
        warn(f"{where}: record has no title {SKIPPED}")
        return None
    year, month = arxiv_year_month(arxiv_id)
    if year is None:
        year, month = _date_from_versions(data.get("versions"))
    if year is None:
        year, month = _date_from_iso(data.get("update_date"))
    doi = _first_doi(data.get("doi"))
    return Record(
        id=f"arxiv:{arxiv_id}",
        title=title,
        ids=Identifiers(
            doi=doi,
            arxiv=arxiv_id,
            arxiv_version=id_version or _latest_version(data.get("versions")),
        ),
        authors=split_authors(data.get("authors")),
        year=year,
        month=month,
        venue=clean_text(data.get("journal-ref")),
        abstract=_abstract(data.get("abstract"), where, warn),
        url=f"https://arxiv.org/abs/{arxiv_id}",
        provider="library",
        retrieved_at=retrieved_at,
    )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_arxiv_jsonl(path: Path, warn: Warn | None = None) -> Iterator[Record]:
    """Yield records from an arXiv metadata snapshot JSON Lines file, one line at a time.

    ``path`` ends in ``.jsonl``, ``.jsonl.gz`` or ``.json`` (``.gz`` is decompressed on the
    fly; the file is never held in memory whole). Malformed lines, lines that are not JSON
    objects or not UTF-8, records without title or valid id: warning, skipped. Raises
    :class:`CorpusError` when the file cannot be opened, its very first read fails (not
    gzip, empty gzip member, …) or the stream is truncated or corrupt further on (the
    message names the line where it ends).
    """
    warn = warn or _log_only
    path = Path(path)
    gz = path.name.lower().endswith(".gz")
    try:
        handle = gzip.open(path, "rb") if gz else open(path, "rb")
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open corpus file: {exc}") from exc
    retrieved_at = ""  # stamped by retrieval with the snapshot's time (generator.retrieval)
    lineno = 0
    with handle:
        try:
            for raw in handle:
                lineno += 1
                record = _arxiv_line(raw, path, lineno, warn, retrieved_at)
                if record is not None:
                    yield record
        except (EOFError, zlib.error, gzip.BadGzipFile, OSError) as exc:
            if lineno == 0:
                raise CorpusError(f"{path}: not a readable {'gzip ' if gz else ''}file: {exc}") from exc
            raise CorpusError(
                f"{path}:{lineno + 1}: file is truncated or corrupt after line {lineno} ({exc}) — "
                f"a search of the first {lineno} lines would miss the rest; download or export the file again"
            ) from exc


def _parse_line(text: str):
    """One JSON Lines line, parsed by orjson (0.08 s less of the 1 s a 25k-record corpus
    takes to read, on the build's busiest process); what orjson refuses and the standard
    library accepts (NaN, integers beyond 64 bits, lone surrogates) is parsed, or refused
    with its own message, by the standard library."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _arxiv_line(raw: bytes, path: Path, lineno: int, warn: Warn, retrieved_at: str) -> Record | None:
    where = f"{path}:{lineno}"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        warn(f"{where}: line is not UTF-8 ({exc.reason} at byte {exc.start}) {SKIPPED}")
        return None
    if lineno == 1:
        text = text.lstrip("\ufeff")
    if not text.strip():
        return None
    try:
        data = _parse_line(text)
    except (ValueError, RecursionError) as exc:
        # json's messages end in " at" before the position it appends ("Invalid control
        # character at"); the position is given as line:column here.
        detail = (getattr(exc, "msg", None) or type(exc).__name__).removesuffix(" at")
        col = getattr(exc, "colno", None)
        loc = f"{where}:{col}" if col else where
        warn(f"{loc}: malformed JSON ({detail}) {SKIPPED}")
        return None
    if not isinstance(data, dict):
        warn(f"{where}: line is a JSON {type(data).__name__}, not an object {SKIPPED}")
        return None
    return arxiv_record(data, where, warn, retrieved_at)


# ---------------------------------------------------------------- CSL-JSON


def _csl_name(person: Any) -> str | None:
    """A CSL name object as an author string that keeps the family-name boundary.

    ``{"given": "Gabriel", "family": "García Márquez"}`` → ``"García Márquez, Gabriel"``
    (particles lead the family part: ``"van der Berg, Jan"``; a suffix sits between, as in
    BibTeX: ``"King, Jr., Martin Luther"``); ``{"literal": "OpenAI Research Team"}`` and
    family- or given-only names of several words → ``"{OpenAI Research Team}"``, one-word
    names as given. See :func:`generator.bibliography.split_name` for how these are read.
    """
    if not isinstance(person, dict):
        return clean_text(person)
    literal = clean_text(person.get("literal"))
    if literal:
        return _literal(literal)
    family = " ".join(
        p for p in (clean_text(person.get(k)) for k in ("dropping-particle", "non-dropping-particle", "family")) if p
    )
    given = clean_text(person.get("given"))
    suffix = clean_text(person.get("suffix"))
    if not family or not given:
        return _literal(" ".join(p for p in (given, family, suffix) if p))
    return ", ".join(p for p in (family, suffix, given) if p)


def _date_parts(issued: Any) -> tuple[int | None, int | None]:
    """Year and month of a CSL date: ``date-parts`` (ints or digit strings), else ``raw``/``literal``."""
    if not isinstance(issued, dict):
        return _date_from_iso(issued) if isinstance(issued, str) else (None, None)
    parts = issued.get("date-parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
        year = _as_int(parts[0][0])
        month = _as_int(parts[0][1]) if len(parts[0]) > 1 else None
        if year is not None:
            return year, month if month and 1 <= month <= 12 else None
    for key in ("raw", "literal"):
        value = issued.get(key)
        if isinstance(value, str):
            m = _YEAR_IN_TEXT.search(value)
            if m:
                return int(m.group(1)), None
    return None, None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit() and len(value.strip()) <= 4:
        return int(value.strip())
    return None


def _first_string(value: Any) -> Any:
    """Some CSL exports give ``container-title`` as a list; take its first string."""
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str)), None)
    return value


def read_csl_json(path: Path, warn: Warn | None = None) -> Iterator[Record]:
    """Yield records from a CSL-JSON file (a top-level list of items, as Zotero exports).

    Record id: ``doi:<doi>`` when the item has a DOI (an arXiv DataCite DOI
    ``10.48550/arXiv.<id>`` gives ``arxiv:<id>``), else ``arxiv:<id>`` when ``URL``,
    ``number`` or ``archive_location`` names an arXiv paper, else ``lib:<item id>``. If an
    earlier item of the same file already took that id (two versions of one paper, as
    with the two LLaVA items of ``seed-topic.csl.json``), the later item gets
    ``lib:<item id>`` and keeps its identifiers, so both load and
    :func:`generator.records.deduplicate` decides later. ``note`` is ignored. Items that
    are not objects or have no title: warning, skipped. Raises :class:`CorpusError` for an
    unreadable file, invalid JSON or a top level that is not a list.
    """
    warn = warn or _log_only
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            data = json.load(handle)
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open corpus file: {exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise CorpusError(f"{path}: not valid JSON ({exc}); expected a CSL-JSON list of items") from exc
    if not isinstance(data, list):
        raise CorpusError(
            f"{path}: CSL-JSON must be a list of items, found a JSON {type(data).__name__}"
        )
    retrieved_at = ""  # stamped by retrieval with the snapshot's time (generator.retrieval)
    used: set[str] = set()
    for index, item in enumerate(data, 1):
        where = f"{path}: item {index}"
        if not isinstance(item, dict):
            warn(f"{where}: not a JSON object {SKIPPED}")
            continue
        local = item.get("id")
        if isinstance(local, (str, int)) and not isinstance(local, bool) and str(local).strip():
            local_id = str(local).strip()
            where += f" ({local_id})"
        else:
            local_id = f"{path.stem}-{index}"
        record = _csl_record(item, local_id, where, warn, retrieved_at, used)
        if record is not None:
            used.add(record.id)
            yield record


# CSL-JSON's rich-text markup (citeproc-js, "Rich text markup within fields"): these tags
# format a field and are not its text. Any other "<…>" is text and stays as written.
_CSL_RICH = re.compile(r"</?(?:i|b|sup|sub|sc)>|<span\s+(?:class=\"nocase\"|style=\"font-variant:\s*small-caps;?\")>"
                       r"|</span>", re.IGNORECASE)


def _csl_rich_text(value: Any) -> Any:
    return _CSL_RICH.sub("", value) if isinstance(value, str) else value


def _csl_abstract(value: Any) -> Any:
    """Zotero copies Crossref's JATS abstracts as they are ("<jats:p>… &amp; …</jats:p>"):
    those are read as the Crossref provider reads them (markup and one layer of entities)."""
    if isinstance(value, str) and "<jats:" in value:
        return normalise.clean_abstract(value)
    return _csl_rich_text(value)


def _csl_record(
    item: dict, local_id: str, where: str, warn: Warn, retrieved_at: str, used: set[str]
) -> Record | None:
    title = clean_text(_csl_rich_text(item.get("title")))
    if title is None:
        warn(f"{where}: record has no title {SKIPPED}")
        return None
    doi = _first_doi(item.get("DOI") or item.get("doi"))
    arxiv = _arxiv_in_text(doi, item.get("URL"), item.get("number"), item.get("archive_location"))
    arxiv_id, arxiv_version = arxiv if arxiv else (None, None)
    record_id = _primary_id(doi, arxiv_id) or f"lib:{local_id}"
    if record_id in used:
        record_id = f"lib:{local_id}"
    year, month = _date_parts(item.get("issued"))
    authors = item.get("author")
    names = tuple(n for n in (_csl_name(a) for a in authors) if n) if isinstance(authors, list) else ()
    return Record(
        id=record_id,
        title=title,
        ids=Identifiers(doi=doi, arxiv=arxiv_id, arxiv_version=arxiv_version),
        authors=names,
        year=year,
        month=month,
        venue=clean_text(_first_string(item.get("container-title"))),
        abstract=_abstract(_csl_abstract(item.get("abstract")), where, warn),
        url=_url(item.get("URL"), doi, arxiv_id),
        provider="library",
        retrieved_at=retrieved_at,
    )


# ---------------------------------------------------------------- BibTeX


def read_bibtex(path: Path, warn: Warn | None = None) -> Iterator[Record]:
    """Yield records from a BibTeX file, parsed with bibtexparser v2.

    Values are LaTeX-decoded by bibtexparser's ``LatexDecodingMiddleware`` with math mode
    kept verbatim (``A {Study} of $O(n)$`` → ``A Study of $O(n)$``) and no macro dropped
    (:func:`latex_decoder`); authors are split on ``and`` outside braces and written
    ``"Family, Given"`` or ``"{Literal}"`` (:func:`_bib_name`). Record id: ``doi:`` (an arXiv
    DataCite DOI gives ``arxiv:``), else ``arxiv:`` from ``eprint`` (with
    ``archivePrefix``/``eprinttype`` arXiv, or no prefix and an arXiv-shaped id) or from an
    arXiv URL/``arXiv:`` reference in ``url``/``journal``/``note``, else ``lib:<citekey>``;
    a repeated id in the same file falls back to ``lib:<citekey>``. Blocks bibtexparser
    cannot parse (syntax errors, duplicate keys) and entries without title: warning,
    skipped. Raises :class:`CorpusError` when the file cannot be read as UTF-8.
    """
    warn = warn or _log_only
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path}: cannot read BibTeX file as UTF-8: {exc}") from exc
    import bibtexparser
    from bibtexparser import middlewares

    try:
        library = bibtexparser.parse_string(
            text,
            append_middleware=[
                # Split names before decoding so "{Barnes and Noble}" stays one name;
                # the decoder skips list values, so names are decoded in _bib_name.
                middlewares.SeparateCoAuthors(),
                middlewares.LatexDecodingMiddleware(decoder=latex_decoder()),
                middlewares.SplitNameParts(),
            ],
        )
    except Exception as exc:  # bibtexparser documents no exception types for bad input
        raise CorpusError(f"{path}: BibTeX could not be parsed: {exc}") from exc
    for block in library.failed_blocks:
        line = (getattr(block, "start_line", None) or 0) + 1
        warn(f"{path}:{line}: BibTeX block could not be parsed ({_block_error(block)}) {SKIPPED}")
    retrieved_at = ""  # stamped by retrieval with the snapshot's time (generator.retrieval)
    used: set[str] = set()
    for entry in library.entries:
        record = _bib_record(entry, path, warn, retrieved_at, used)
        if record is not None:
            used.add(record.id)
            yield record


def _block_error(block: Any) -> str:
    error = getattr(block, "error", None)
    reason = getattr(error, "abort_reason", None) or (str(error) if error else "")
    return " ".join(str(reason).split()) or type(block).__name__


_decoder = None

#: Macros that stand for a word (pylatexenc's default context has none of them, so it
#: would drop them: "Injection attacks in \\LaTeX{} templates" lost a word).
_WORD_MACROS = {"LaTeX": "LaTeX", "LaTeXe": "LaTeX2e", "TeX": "TeX", "BibTeX": "BibTeX", "XeTeX": "XeTeX",
                "LuaTeX": "LuaTeX", "eTeX": "e-TeX", "AmS": "AmS"}


def latex_decoder():
    """The pylatexenc ``LatexNodes2Text`` that decodes BibTeX values (one shared instance).

    Like bibtexparser's default (pylatexenc's context, ``\\url{x}`` → ``x``, braces dropped,
    math kept verbatim), plus two rules so that no text is lost: the TeX logos
    (:data:`_WORD_MACROS`) become their names, and any macro pylatexenc does not know is
    kept as written (``\\foo`` stays ``\\foo``, followed by ``{}`` when it was not
    followed by a space, so ``\\foo{bar}`` reads ``\\foo{}bar``) instead of being
    dropped with its name.
    """
    global _decoder
    if _decoder is None:
        from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

        class _KeepUnknown(LatexNodes2Text):
            def macro_node_to_text(self, node):
                if self.latex_context.get_macro_spec(node.macroname) is None:
                    return "\\" + node.macroname + (node.macro_post_space or "{}")
                return super().macro_node_to_text(node)

        context = get_default_latex_context_db()
        context.add_context_category(
            "litsynth-bibtex",
            prepend=True,
            macros=[MacroTextSpec("url", simplify_repl="%s")]
            + [MacroTextSpec(name, simplify_repl=word) for name, word in _WORD_MACROS.items()],
        )
        _decoder = _KeepUnknown(latex_context=context, math_mode="verbatim", keep_braced_groups=False)
    return _decoder


def _decode(raw: str) -> str | None:
    try:
        return clean_text(latex_decoder().latex_to_text(raw))
    except Exception:  # pylatexenc may raise on malformed LaTeX; keep the text as written
        return clean_text(raw)


def _bib_name(parts: Any) -> str | None:
    """A bibtexparser ``NameParts`` (or plain string) → a decoded author string.

    Persons become ``"von Last, First"`` (``"von Last, Jr, First"`` with a suffix), so the
    family name keeps its words (``Garc{\\'i}a M{\\'a}rquez, Gabriel`` →
    ``"García Márquez, Gabriel"``); a name that is only a last part is kept whole, braced
    when it has several words (``{OpenAI Research Team}`` → ``"{OpenAI Research Team}"``),
    so no later step splits it (see :func:`generator.bibliography.split_name`).
    """
    if isinstance(parts, str):
        return _decode(parts)
    decoded = {
        name: _decode(" ".join(getattr(parts, name, None) or [])) or ""
        for name in ("first", "von", "last", "jr")
    }
    family = " ".join(p for p in (decoded["von"], decoded["last"]) if p)
    if not decoded["first"] and not decoded["jr"]:
        return _literal(family)
    if not family:
        return _literal(decoded["first"])
    return ", ".join(p for p in (family, decoded["jr"], decoded["first"]) if p)


def _literal(name: str | None) -> str | None:
    """A name that must not be split: braced when it has several words or a comma."""
    name = clean_text(name)
    if name and (" " in name or "," in name):
        return "{" + name + "}"
    return name


def _bib_record(entry: Any, path: Path, warn: Warn, retrieved_at: str, used: set[str]) -> Record | None:
    fields = {f.key.lower(): f.value for f in entry.fields}
    key = str(entry.key).strip()
    where = f"{path}:{(entry.start_line or 0) + 1}"
    title = clean_text(fields.get("title"))
    if title is None:
        warn(f"{where}: record has no title {SKIPPED}")
        return None
    doi = _first_doi(fields.get("doi"))
    prefix = fields.get("archiveprefix") or fields.get("eprinttype")
    eprint = fields.get("eprint")
    arxiv = None
    if isinstance(eprint, str) and (
        not isinstance(prefix, str) or prefix.strip().lower() == "arxiv"
    ):
        arxiv = normalise_arxiv(eprint.strip())
    arxiv = arxiv or _arxiv_in_text(doi, fields.get("url"), fields.get("journal"), fields.get("note"))
    arxiv_id, arxiv_version = arxiv if arxiv else (None, None)
    record_id = _primary_id(doi, arxiv_id) or f"lib:{key}"
    if record_id in used:
        record_id = f"lib:{key}"
    year, month = _bib_date(fields)
    authors = fields.get("author")
    if isinstance(authors, list):
        names = tuple(n for n in (_bib_name(a) for a in authors) if n)
    else:
        names = split_authors(authors)
    venue = next(
        (clean_text(fields[k]) for k in ("journal", "journaltitle", "booktitle") if clean_text(fields.get(k))),
        None,
    )
    return Record(
        id=record_id,
        title=title,
        ids=Identifiers(doi=doi, arxiv=arxiv_id, arxiv_version=arxiv_version),
        authors=names,
        year=year,
        month=month,
        venue=venue,
        abstract=_abstract(fields.get("abstract"), where, warn),
        url=_url(fields.get("url"), doi, arxiv_id),
        provider="library",
        retrieved_at=retrieved_at,
    )


def _bib_date(fields: dict) -> tuple[int | None, int | None]:
    year = None
    value = fields.get("year")
    if isinstance(value, str):
        m = _YEAR_IN_TEXT.search(value)
        year = int(m.group(1)) if m else None
    month = None
    value = fields.get("month")
    if isinstance(value, str):
        token = value.strip().lower().rstrip(".")
        month = _MONTHS.get(token) or (int(token) if token.isdigit() and 1 <= int(token) <= 12 else None)
    if year is None:
        year, iso_month = _date_from_iso(fields.get("date"))
        month = month or iso_month
    return year, month


# ---------------------------------------------------------------- dispatch


def read_corpus(path: Path, warn: Warn | None = None) -> Iterator[Record]:
    """Check ``path`` and return the iterator of its records, chosen by file extension.

    Raises :class:`CorpusError` at once (not on first iteration) when the file is
    missing, is not a regular file, or has an extension other than those in
    :data:`ALLOWED_FORMATS`. A ``.json`` file is CSL-JSON when its first non-blank
    character is ``[``, and arXiv JSON Lines when its first line is a whole JSON object.
    """
    path = Path(path)
    if not path.exists():
        raise CorpusError(f"{path}: corpus file not found (allowed formats: {ALLOWED_FORMATS})")
    if not path.is_file():
        raise CorpusError(f"{path}: not a file (allowed formats: {ALLOWED_FORMATS})")
    name = path.name.lower()
    if name.endswith((".jsonl", ".jsonl.gz")):
        return read_arxiv_jsonl(path, warn)
    if name.endswith(".bib"):
        return read_bibtex(path, warn)
    if name.endswith(".json"):
        return read_arxiv_jsonl(path, warn) if _looks_like_json_lines(path) else read_csl_json(path, warn)
    raise CorpusError(f"{path}: unknown corpus format {path.suffix or '(no extension)'!r}; allowed: {ALLOWED_FORMATS}")


def _looks_like_json_lines(path: Path) -> bool:
    try:
        with open(path, "rb") as handle:
            first = handle.readline(1 << 20).decode("utf-8", "replace").lstrip("\ufeff").strip()
    except OSError as exc:
        raise CorpusError(f"{path}: cannot open corpus file: {exc}") from exc
    if not first.startswith("{"):
        return False
    try:
        return isinstance(json.loads(first), dict)
    except (ValueError, RecursionError):
        return False
