"""The data model: plain frozen dataclasses that round-trip through JSON.

Every step between retrieval and rendering takes and returns these objects (or plain
dicts/tuples of them); nothing here does I/O. Shapes follow ``../shared/DESIGN.md`` §3.

Label and verdict vocabularies are the field's standard terms:

* judgement label per (claim, record): ``SUPPORTS``, ``CONTRADICTS``, ``NOT ENOUGH INFO``
  (FEVER / SciFact terminology);
* verdict per claim: ``CORROBORATED``, ``CONTESTED``, ``CONTRADICTED``, ``UNCORROBORATED``,
  ``UNVERIFIABLE`` (DESIGN §5).
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass, field
from typing import Any

SUPPORTS = "SUPPORTS"
CONTRADICTS = "CONTRADICTS"
NOT_ENOUGH_INFO = "NOT ENOUGH INFO"
LABELS = (SUPPORTS, CONTRADICTS, NOT_ENOUGH_INFO)

CORROBORATED = "CORROBORATED"
CONTESTED = "CONTESTED"
CONTRADICTED = "CONTRADICTED"
UNCORROBORATED = "UNCORROBORATED"
UNVERIFIABLE = "UNVERIFIABLE"
VERDICTS = (CORROBORATED, CONTESTED, CONTRADICTED, UNCORROBORATED, UNVERIFIABLE)


def _tuple_of(cls, items) -> tuple:
    return tuple(cls.from_dict(x) if isinstance(x, dict) else x for x in (items or ()))


class _JSONMixin:
    """``to_dict`` / ``from_dict`` for frozen dataclasses of JSON-able fields."""

    def to_dict(self) -> dict[str, Any]:
        return _plain(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        names = _field_set(cls)
        return cls(**{k: v for k, v in data.items() if k in names})


def is_json_int(value: Any) -> bool:
    """True for an integer read from JSON: an ``int`` that is not a ``bool`` (``true`` is an
    ``int`` to Python)."""
    return isinstance(value, int) and not isinstance(value, bool)


_SCALARS = (str, int, float, bool, type(None))


# Looked up once per class: every record of a 25k-record library passes through from_dict.
@functools.lru_cache(maxsize=None)
def _field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls))


@functools.lru_cache(maxsize=None)
def _field_set(cls: type) -> frozenset[str]:
    return frozenset(_field_names(cls))


def _plain(value: Any) -> Any:
    # Scalars first: they are most of the values, and every snapshot and claim set is
    # converted at least once per build.
    if isinstance(value, _SCALARS):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name)) for name in _field_names(type(value))}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class Identifiers(_JSONMixin):
    """Normalised identifiers of one work; any may be ``None``.

    ``doi`` is lower-cased without ``https://doi.org/`` or ``doi:``; ``arxiv`` is the id
    without version (``2412.21199``, ``hep-th/9901001``) and ``arxiv_version`` keeps the
    version seen (``v2``) for provenance only; ``openalex`` is the bare ``W…`` id.
    """

    doi: str | None = None
    arxiv: str | None = None
    arxiv_version: str | None = None
    openalex: str | None = None
    pmid: str | None = None
    pmcid: str | None = None
    s2: str | None = None

    def keys(self) -> tuple[str, ...]:
        """Identity keys such as ``("doi:10.1/x", "arxiv:2412.21199")``, version-free."""
        out = []
        for name in ("doi", "arxiv", "openalex", "pmid", "pmcid", "s2"):
            val = getattr(self, name)
            if val:
                out.append(f"{name}:{val}")
        if self.arxiv and not self.doi:
            # Every arXiv paper also has the DataCite DOI 10.48550/arXiv.<id> (shared/README).
            out.append(f"doi:10.48550/arxiv.{self.arxiv.lower()}")
        return tuple(out)


@dataclass(frozen=True)
class Record(_JSONMixin):
    """One retrieved work.

    ``id`` is the record's primary key inside a snapshot (``arxiv:2505.09388``,
    ``doi:10.1/x``, ``openalex:W1``, ``lib:<file-local id>``). ``work_id`` groups versions
    of one work (preprint and published, v1 and v2); it is set by
    :func:`generator.records.group_versions` and defaults to ``id``. ``abstract`` is plain
    text as the source gave it (only whitespace normalised) or ``None``.
    ``year`` is an ``int`` or ``None``; ``retrieved_at`` an ISO 8601 UTC string.
    """

    id: str
    title: str
    ids: Identifiers = field(default_factory=Identifiers)
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None
    abstract: str | None = None
    url: str | None = None
    provider: str = ""
    retrieved_at: str = ""
    work_id: str | None = None
    month: int | None = None

    @property
    def text_available(self) -> bool:
        """True when the record has a non-empty abstract to extract and verify against."""
        return bool(self.abstract and self.abstract.strip())

    @property
    def group(self) -> str:
        """The version-group key: records sharing it are one work for verification."""
        return self.work_id or self.id

    def to_dict(self) -> dict[str, Any]:
        data = _plain(self)
        data["text_available"] = self.text_available
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Record":
        data = dict(data)
        data.pop("text_available", None)
        data["ids"] = Identifiers.from_dict(data.get("ids") or {})
        data["authors"] = tuple(data.get("authors") or ())
        return super().from_dict(data)


@dataclass(frozen=True)
class Snapshot(_JSONMixin):
    """The retrieval result of one question, stored as ``content/snapshots/<slug>.json``.

    ``provider_counts`` maps provider name → records it returned; ``provider_errors`` maps
    provider name → a one-line, key-free error message. ``query_digest`` is the digest of
    the question's search settings that produced this snapshot.
    """

    slug: str
    queries: tuple[str, ...]
    providers: tuple[str, ...]
    since: int | None
    max_records: int
    records: tuple[Record, ...]
    provider_counts: dict[str, int] = field(default_factory=dict)
    provider_errors: dict[str, str] = field(default_factory=dict)
    retrieved_at: str = ""
    litsynth_version: str = ""
    query_digest: str = ""
    unresolved_includes: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Snapshot":
        data = dict(data)
        data["unresolved_includes"] = tuple(data.get("unresolved_includes") or ())
        data["records"] = _tuple_of(Record, data.get("records"))
        data["queries"] = tuple(data.get("queries") or ())
        data["providers"] = tuple(data.get("providers") or ())
        return super().from_dict(data)


@dataclass(frozen=True)
class ScreeningDecision(_JSONMixin):
    """Screening outcome of one identified record.

    ``score`` is the relevance in [0, 1] (see :mod:`generator.screening`);
    ``facets_matched`` the facet strings the record addresses; ``reason`` is ``None`` for
    included records, otherwise one of ``duplicate``, ``no text``, ``outside date range``,
    ``off-topic`` followed by detail.
    """

    record_id: str
    included: bool
    score: float
    facets_matched: tuple[str, ...] = ()
    reason: str | None = None
    duplicate_of: str | None = None
    provider: str = ""

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["facets_matched"] = tuple(data.get("facets_matched") or ())
        return super().from_dict(data)


@dataclass(frozen=True)
class Claim(_JSONMixin):
    """A complete-sentence claim.

    ``id`` is stable: a hash of the normalised text and the origin. ``record_id`` and
    ``sentence_index`` locate the source statement; curated claims have ``origin ==
    "curated"``, ``record_id`` ``None`` and ``cites`` the records they cite.
    """

    id: str
    text: str
    origin: str  # "extracted" or "curated"
    record_id: str | None = None
    sentence_index: int | None = None
    hedged: bool = False
    cites: tuple[str, ...] = ()
    facets: tuple[str, ...] = ()
    relevance: float = 0.0

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["cites"] = tuple(data.get("cites") or ())
        data["facets"] = tuple(data.get("facets") or ())
        return super().from_dict(data)


@dataclass(frozen=True)
class Evidence(_JSONMixin):
    """One evidence (rationale) sentence: ``text == abstract[start:end]`` of the record."""

    record_id: str
    sentence_index: int
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Judgement(_JSONMixin):
    """The label of one claim against one record, with ranked rationale sentences.

    ``confidence`` is in [0, 1]. A SUPPORTS or CONTRADICTS label always has at least one
    rationale sentence that is a verbatim substring of the record's abstract.
    """

    claim_id: str
    record_id: str
    label: str
    confidence: float
    rationale: tuple[Evidence, ...] = ()
    method: str = ""
    method_version: str = ""
    kind: str = "corroboration"  # or "citation" for a curated claim's cited record

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["rationale"] = _tuple_of(Evidence, data.get("rationale"))
        return super().from_dict(data)


def counts_toward_verdict(kind: str, label: str) -> bool:
    """Whether a judgement of ``kind`` (``"corroboration"`` or ``"citation"``) with
    ``label`` counts towards its claim's verdict: all do except a curated claim's cited
    record agreeing with it — that record is the claim's source, so its support is the
    citation check, not corroboration (one paper is not two); its contradiction counts
    (the claim misstates its source). Used by the verdict and by the page's counts."""
    return not (kind == "citation" and label == SUPPORTS)


@dataclass(frozen=True)
class Verdict(_JSONMixin):
    """The aggregated verdict of one claim over independent records (DESIGN §5).

    ``confidence`` is the confidence of the strongest judgement behind the verdict, in
    [0, 1], or ``None`` for UNCORROBORATED / UNVERIFIABLE (there is nothing to be
    confident about). ``reason`` is a sentence a reader can check; ``checked`` lists every
    independent record the claim was checked against (so "none of the 10 checked" can be
    audited), the citation check's record aside.
    """

    claim_id: str
    verdict: str
    confidence: float | None
    supporting: tuple[str, ...] = ()
    contradicting: tuple[str, ...] = ()
    reason: str = ""
    citation_label: str | None = None
    checked: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, data):
        data = dict(data)
        data["supporting"] = tuple(data.get("supporting") or ())
        data["contradicting"] = tuple(data.get("contradicting") or ())
        data["checked"] = tuple(data.get("checked") or ())
        return super().from_dict(data)


@dataclass(frozen=True)
class CuratedClaim(_JSONMixin):
    """A claim written in a question file: ``text`` plus the identifiers it ``cites``."""

    text: str
    cites: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question(_JSONMixin):
    """A validated question file (DESIGN §2).

    ``slug`` comes from the file name; ``path`` is the file it was loaded from.
    ``include`` holds normalised identifiers (``arxiv:2309.06256``, ``doi:10.1/x``).
    ``providers`` are provider names; ``since`` a year or ``None``.
    """

    slug: str
    path: str
    title: str
    question: str
    facets: tuple[str, ...] = ()
    queries: tuple[str, ...] = ()
    providers: tuple[str, ...] = ()
    since: int | None = None
    max_records: int = 100
    include: tuple[str, ...] = ()
    claims: tuple[CuratedClaim, ...] = ()
    tags: tuple[str, ...] = ()
