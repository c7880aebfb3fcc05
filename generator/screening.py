"""Screening: duplicates, date range, relevance to the question and its facets; PRISMA counts.

Pure functions. The flow follows PRISMA 2020 (Page et al., BMJ 2021;372:n71): records
identified per source → duplicates removed → records screened → records excluded (with
reasons) → records included.

Relevance (our own rule, first version; thresholds are module constants so that the
labelled-sample measurement of issue 5 can replace them):

* A **facet** is *matched* by a record when every content term of the facet (stemmed,
  stop words removed, see :func:`generator.text.content_terms`) occurs in the record's
  title or abstract.
* The record's **relevance score** in [0, 1] is the mean of (a) the share of facets
  matched and (b) the IDF-weighted share of the question's content terms present, IDF
  computed over the question's own snapshot.
* A record is **included** when it matches at least :data:`MIN_FACETS` facets (or all of
  them if the question has fewer) — or when the question file lists it under
  ``include:``. Otherwise it is excluded as off-topic, naming the facets it misses.
* Records with no abstract are screened on their title; if included they are marked
  ``no text`` (they cannot give claims or evidence; a curated claim citing one is
  UNVERIFIABLE).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from generator.models import Question, Record, ScreeningDecision, Snapshot
from generator.records import deduplicate, group_versions, identity_keys
from generator.text import STOPWORDS, stem, tokens

MIN_FACETS = 2
"""Facets a record must match to be included (all facets if the question has fewer)."""


@dataclass(frozen=True)
class ScreeningResult:
    """Outcome of screening one snapshot.

    ``records`` are the deduplicated records (``work_id`` set by version grouping), in
    snapshot order; ``decisions`` has one entry per *identified* record (duplicates
    included, ``included=False``, reason ``duplicate``); ``included`` lists the included
    records; ``prisma`` the flow counts (see :func:`prisma_counts`).
    """

    records: tuple[Record, ...]
    decisions: tuple[ScreeningDecision, ...]
    included: tuple[Record, ...]
    prisma: dict = field(default_factory=dict)


def content_terms(text: str) -> list[str]:
    """Stemmed tokens of ``text`` without stop words; numbers kept (``Llama-2`` → llama, 2)."""
    return [stem(t) for t in tokens(text) if t not in STOPWORDS]


def record_terms(record: Record) -> set[str]:
    """Content terms of a record's title and abstract."""
    return set(content_terms(record.title or "")) | set(content_terms(record.abstract or ""))


def facet_terms(facet: str) -> tuple[str, ...]:
    """Content terms a record must contain to match ``facet``."""
    return tuple(dict.fromkeys(content_terms(facet)))


def matched_facets(facets: tuple[str, ...], terms: set[str]) -> tuple[str, ...]:
    """The facets all of whose terms are in ``terms`` (facets with no terms never match)."""
    out = []
    for facet in facets:
        needed = facet_terms(facet)
        if needed and all(t in terms for t in needed):
            out.append(facet)
    return tuple(out)


def idf_weights(records: list[Record]) -> dict[str, float]:
    """IDF of every content term over ``records`` (smoothed, always positive)."""
    df: Counter[str] = Counter()
    for rec in records:
        df.update(record_terms(rec))
    n = max(len(records), 1)
    # BM25-style smoothed IDF (Robertson & Zaragoza 2009), always positive.
    return {t: math.log(1 + (n - c + 0.5) / (c + 0.5)) for t, c in df.items()}


def relevance(question: Question, terms: set[str], idf: dict[str, float]) -> tuple[float, tuple[str, ...]]:
    """``(score in [0, 1], matched facets)`` of a record with content ``terms``."""
    facets = matched_facets(question.facets, terms)
    facet_share = len(facets) / len(question.facets) if question.facets else 0.0
    q_terms = set(content_terms(question.question)) | set(content_terms(question.title))
    default = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, default) for t in q_terms}
    total = sum(weights.values())
    term_share = sum(w for t, w in weights.items() if t in terms) / total if total else 0.0
    if not question.facets:
        return round(term_share, 4), facets
    return round((facet_share + term_share) / 2, 4), facets


def screen(question: Question, snapshot: Snapshot) -> ScreeningResult:
    """Screen every record of ``snapshot`` for ``question``.

    Returns a :class:`ScreeningResult`; never raises on record content.
    """
    unique, dups = deduplicate(list(snapshot.records))
    unique = group_versions(unique)
    by_id = {r.id: r for r in snapshot.records}
    idf = idf_weights(unique)
    include_keys = set(question.include)
    needed = min(MIN_FACETS, len(question.facets)) if question.facets else 0

    decisions: list[ScreeningDecision] = []
    included: list[Record] = []
    for dropped, kept in dups:
        decisions.append(ScreeningDecision(
            record_id=dropped, included=False, score=0.0, reason=f"duplicate of {kept}",
            duplicate_of=kept, provider=by_id[dropped].provider if dropped in by_id else ""))
    for rec in unique:
        terms = record_terms(rec)
        score, facets = relevance(question, terms, idf)
        listed = bool(include_keys & set(identity_keys(rec)))
        reason = None
        if question.since and rec.year and rec.year < question.since and not listed:
            reason = f"outside date range: {rec.year} is before {question.since}"
        elif not listed and len(facets) < needed:
            missing = [f for f in question.facets if f not in facets]
            reason = (f"off-topic: matches {len(facets)} of {len(question.facets)} facets"
                      + (f" ({', '.join(facets)})" if facets else "")
                      + f"; misses {', '.join(missing)}")
        decisions.append(ScreeningDecision(
            record_id=rec.id, included=reason is None, score=score,
            facets_matched=facets, reason=reason, provider=rec.provider))
        if reason is None:
            included.append(rec)
    return ScreeningResult(
        records=tuple(unique), decisions=tuple(decisions), included=tuple(included),
        prisma=prisma_counts(snapshot, decisions))


def prisma_counts(snapshot: Snapshot, decisions: list[ScreeningDecision]) -> dict:
    """PRISMA flow counts.

    Keys: ``identified`` (total), ``identified_by_provider`` (dict), ``duplicates``,
    ``screened``, ``excluded`` (total), ``excluded_by_reason`` (dict: ``off-topic``,
    ``outside date range``), ``included``, ``included_without_text``. By construction
    ``identified == duplicates + screened`` and ``screened == excluded + included``;
    :func:`generator.assessment.count_problems` re-checks both on the finished synthesis.
    """
    dup = sum(1 for d in decisions if d.duplicate_of)
    screened = [d for d in decisions if not d.duplicate_of]
    excluded = [d for d in screened if not d.included]
    reasons: Counter[str] = Counter((d.reason or "").split(":")[0] for d in excluded)
    return {
        "identified": len(snapshot.records),
        "identified_by_provider": dict(snapshot.provider_counts),
        "duplicates": dup,
        "screened": len(screened),
        "excluded": len(excluded),
        "excluded_by_reason": dict(sorted(reasons.items())),
        "included": len(screened) - len(excluded),
    }
