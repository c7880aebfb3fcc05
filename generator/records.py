"""Record identity: identifier normalisation, duplicate merging and version grouping.

Pure functions over :class:`generator.models.Record`. Rules (DESIGN §3, issue 3):

* DOIs are lower-cased (DOIs are case-insensitive, DOI Handbook §2.4) and stripped of
  ``https://doi.org/``, ``http://dx.doi.org/``, ``doi:`` and whitespace; parentheses and
  angle brackets are kept.
* arXiv ids in the new (``2412.21199v2``) and old (``hep-th/9901001v1``) forms; the version
  is kept for provenance but not used for identity. The DataCite DOI
  ``10.48550/arXiv.<id>`` is the same work as the arXiv id.
* Two records are duplicates when they share any identity key; two records are versions of
  one work when their normalised title, first-author family name and year agree (the
  preprint ↔ published case), or when they are duplicates.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata

from generator.models import Identifiers, Record

_DOI_PREFIX = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*|info:doi/)", re.I)
_DOI_SHAPE = re.compile(r"^10\.\d{4,9}/\S+$")
_ARXIV_NEW = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_ARXIV_OLD = re.compile(r"^([a-z][a-z\-]*(?:\.[A-Z]{2})?/\d{7})(v\d+)?$", re.I)
_ARXIV_PREFIX = re.compile(r"^(?:arxiv:|https?://arxiv\.org/(?:abs|pdf)/)", re.I)
_ARXIV_DATACITE = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)


def normalise_doi(raw: str | None) -> str | None:
    """Return the canonical DOI (``10.1128/mcb.01478-14``) or ``None`` if ``raw`` is not one.

    Accepts URL forms (``https://doi.org/…``, ``https://dx.doi.org/…``), a ``doi:`` prefix,
    surrounding and inner whitespace, and any case. Never raises.
    """
    if not raw or not isinstance(raw, str):
        return None
    text = re.sub(r"\s+", "", raw.strip())
    text = _DOI_PREFIX.sub("", text)
    text = text.rstrip(".,;")
    text = text.lower()
    return text if _DOI_SHAPE.match(text) else None


def normalise_arxiv(raw: str | None) -> tuple[str, str | None] | None:
    """Return ``(id_without_version, version_or_None)`` for an arXiv id, else ``None``.

    ``"arXiv:2412.21199v2"`` → ``("2412.21199", "v2")``; ``"hep-th/9901001"`` →
    ``("hep-th/9901001", None)``; ``https://arxiv.org/abs/…`` URLs and the DataCite DOI
    ``10.48550/arXiv.<id>`` are accepted. Never raises.
    """
    if not raw or not isinstance(raw, str):
        return None
    text = raw.strip()
    m = _ARXIV_NEW.match(text)
    if m:  # the common bare form: none of the rewrites below applies to it
        return m.group(1), m.group(2)
    m = _ARXIV_DATACITE.match(text) or _ARXIV_DATACITE.match(normalise_doi(text) or "")
    if m:
        text = m.group(1)
    text = _ARXIV_PREFIX.sub("", text)
    text = re.sub(r"\.pdf$", "", text)
    m = _ARXIV_NEW.match(text)
    if m:
        return m.group(1), m.group(2)
    m = _ARXIV_OLD.match(text)
    if m:
        return m.group(1).lower(), m.group(2)
    return None


def parse_identifier(raw: str) -> str | None:
    """Turn a question-file identifier into an identity key, or ``None`` if malformed.

    ``"arXiv:2309.06256v1"`` → ``"arxiv:2309.06256"``; ``"doi:10.48550/arXiv.2203.02155"``
    → ``"arxiv:2203.02155"`` (the DataCite DOI of an arXiv paper);
    ``"doi:10.1128/MCB.01478-14"`` → ``"doi:10.1128/mcb.01478-14"``. A bare DOI or arXiv
    id (no prefix) is accepted too.
    """
    if not isinstance(raw, str):
        return None
    text = raw.strip()
    low = text.lower()
    if low.startswith("arxiv:") or _ARXIV_NEW.match(text) or _ARXIV_OLD.match(text):
        arx = normalise_arxiv(text)
        return f"arxiv:{arx[0]}" if arx else None
    doi = normalise_doi(text)
    if doi:
        arx = normalise_arxiv(doi)
        return f"arxiv:{arx[0]}" if arx else f"doi:{doi}"
    if low.startswith("openalex:"):
        wid = text.split(":", 1)[1].strip()
        return f"openalex:{wid.upper()}" if re.fullmatch(r"[Ww]\d+", wid) else None
    return None


def identity_keys(record: Record) -> tuple[str, ...]:
    """All identity keys of a record (see :meth:`Identifiers.keys`), plus its ``id``."""
    keys = set(record.ids.keys())
    keys.add(record.id)
    if record.ids.arxiv:
        keys.add(f"doi:10.48550/arxiv.{record.ids.arxiv.lower()}")
    return tuple(sorted(keys))


_TITLE_WORD = re.compile(r"[a-z0-9]+")


def normalise_title(title: str) -> str:
    """Lower-case, accent-free, punctuation-free title used for version matching."""
    text = title or ""
    if not text.isascii():  # ASCII has nothing to decompose: most titles skip this
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(_TITLE_WORD.findall(text.lower()))


def _first_author_family(record: Record) -> str:
    if not record.authors:
        return ""
    name = record.authors[0].strip().strip("{}")
    family = name.split(",")[0] if "," in name else name
    # The last word of the family name: CSL/BibTeX give "García Márquez, Gabriel", arXiv
    # "Gabriel García Márquez"; both must give the same key for version grouping.
    words = normalise_title(family).split()
    return words[-1] if words else ""


def version_key(record: Record) -> str | None:
    """Key shared by versions of one work: normalised title + first author family name.

    The year is deliberately left out: a preprint (2015) and its proceedings version (2016)
    differ in year. Titles under four words are too generic to group on and give ``None``.
    """
    title = normalise_title(record.title)
    if len(title.split()) < 4:
        return None
    return f"{title}|{_first_author_family(record)}"


def _merge_ids(a: Identifiers, b: Identifiers) -> Identifiers:
    return Identifiers(**{
        f.name: getattr(a, f.name) or getattr(b, f.name) for f in dataclasses.fields(Identifiers)
    })


def merge(primary: Record, other: Record) -> Record:
    """Merge ``other`` (a duplicate) into ``primary``: identifiers united, gaps filled."""
    return dataclasses.replace(
        primary,
        ids=_merge_ids(primary.ids, other.ids),
        abstract=primary.abstract if primary.text_available else other.abstract,
        year=primary.year or other.year,
        venue=primary.venue or other.venue,
        authors=primary.authors or other.authors,
        url=primary.url or other.url,
    )


def deduplicate(records: list[Record] | tuple[Record, ...]) -> tuple[list[Record], list[tuple[str, str]]]:
    """Merge records that share an identity key, keeping first-seen order.

    Returns ``(unique_records, duplicates)`` where ``duplicates`` lists
    ``(dropped_record_id, kept_record_id)`` pairs. The kept record carries the union of
    identifiers. Transitive: A~B and B~C puts all three in one record.
    """
    kept: list[Record] = []
    owner: dict[str, int] = {}
    duplicates: list[tuple[str, str]] = []
    for rec in records:
        hits = {owner[k] for k in identity_keys(rec) if k in owner}
        if not hits:
            owner.update({k: len(kept) for k in identity_keys(rec)})
            kept.append(rec)
            continue
        target = min(hits)
        kept[target] = merge(kept[target], rec)
        duplicates.append((rec.id, kept[target].id))
        for k in identity_keys(kept[target]):
            owner[k] = target
    # A later merge can make two earlier kept records share a key; they stay separate
    # records here and are tied together by group_versions.
    return kept, duplicates


def group_versions(records: list[Record]) -> list[Record]:
    """Set ``work_id`` so that versions of one work share it.

    Versions: same :func:`version_key` (title + first author), or identity keys in
    common. The group id is the ``id`` of the first record of the group in input order.
    Returns new records in the same order.
    """
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(a: str, b: str) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[rb] = ra

    first_by_key: dict[str, str] = {}
    for rec in records:
        find(rec.id)
        keys = list(identity_keys(rec))
        vk = version_key(rec)
        if vk:
            keys.append("version:" + vk)
        for key in keys:
            if key in first_by_key:
                union(first_by_key[key], rec.id)
            else:
                first_by_key[key] = rec.id
    order = {rec.id: i for i, rec in enumerate(records)}
    roots: dict[str, str] = {}
    for rec in records:
        root = find(rec.id)
        best = roots.get(root)
        if best is None or order[rec.id] < order[best]:
            roots[root] = rec.id
    return [dataclasses.replace(r, work_id=roots[find(r.id)]) for r in records]
