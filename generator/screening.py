"""Screening: duplicates, date range, relevance to the question and its facets; PRISMA counts.

Pure functions. The flow follows PRISMA 2020 (Page et al., BMJ 2021;372:n71): records
identified per source → duplicates removed → records screened → records excluded (with
reasons) → records included.

Relevance rule (this project's own, lexical; measured on hand-labelled records, below):

* **Phrase evidence.** Text is reduced to content terms (stemmed, stop words removed,
  :func:`content_terms`). A phrase (one or more consecutive terms) counts 1.0 when it is in
  the title or occurs at least :data:`TERM_SATURATION` times in the abstract, and
  ``n / TERM_SATURATION`` for ``n`` abstract occurrences: a paper naming a thing once in
  passing ("…benchmarks including code generation") scores less than one about it.
* **Facet evidence** of one facet, in [0, 1] (:func:`facet_evidence`): the largest of the
  whole facet as a phrase; a consecutive part of two or more of its terms, scaled by its
  share of the facet (``code generation`` gives half of ``self-invoking code
  generation``, ``Llama 2`` two thirds of ``multimodal Llama-2``); and
  :data:`LONE_WORD_CREDIT` times the mean evidence of its words taken one by one (``tax``
  in a tax-law paper is weak evidence of ``alignment tax``). A record's facet evidence is
  the sum over the question's facets (facet units: 2.0 = two facets fully addressed).
* **Question coverage**, in [0, 1] (:func:`question_coverage`): the IDF-weighted share of
  the question file's terms (title, question, facets, search queries) present in the
  record, IDF over the question's own deduplicated snapshot. It keeps out records that
  touch a facet word but not the question's topic (the Qwen3 report for the seed question:
  it mentions code generation and inference efficiency once each, coverage 0.09).
* **Decision.** Included when facet evidence ≥ :data:`MIN_FACET_EVIDENCE` and coverage ≥
  :data:`MIN_QUESTION_COVERAGE`, or when the question file lists the record under
  ``include:`` (always screened in, even before ``since``). Otherwise excluded as
  ``off-topic`` with both numbers, the facets addressed fully or partly, and the facets
  missed entirely. Records with no abstract are judged on their title's facet evidence
  only (a title cannot cover the question's vocabulary); included ones keep
  ``text_available == False`` and are counted in ``prisma["included_without_text"]`` (they
  give no claims; a curated claim citing one is UNVERIFIABLE).
* The **score** shown per record, in [0, 1], is the mean of the facet-evidence share
  (facet evidence / number of facets) and the coverage. Which included record addresses
  which facet (the answer status) is :func:`matched_facets`: all the facet's terms occur.

How the constants were chosen (``benchmarks/screening_eval.py`` prints every number and
fails when the constants differ from its choice): 387 records labelled relevant / not
relevant by hand (``tests/fixtures/relevance_labels.jsonl``; guidelines in the
benchmark's docstring): all 101 records the build retrieves from ``../shared`` for each
example question, 20 random corpus records per question and the seed-topic items not
retrieved; 180 relevant, 116 of the rest marked off-topic (another subject altogether).
Grid search (lone-word credit 0 / 0.25 / 0.5 / 1; facet evidence 0.125–2 by 0.125;
coverage 0–0.3 by 0.025) maximising pooled F-beta, beta = 1.5 (recall above precision:
an excluded record is still listed with its reason). Leave-one-question-out (choose on
two questions, measure on the third) picked 0.25 / 0.25 / 0.125 or 0.1 on every fold.

===========================================  =====  =====  =====  ===================
labelled records, pooled                      P      R      F1     off-topic included
===========================================  =====  =====  =====  ===================
before: ≥ 2 facets with all terms present     0.760  0.617  0.681  6 of 116
this rule, chosen on all three questions      0.631  0.978  0.767  25 of 116
this rule, leave-one-question-out (held out)  0.611  0.978  0.752  28 of 116
===========================================  =====  =====  =====  ===================

Per question (this rule): alignment-tax P 0.35 R 1.00; seed question P 0.51 R 0.93;
reasoning-modes-cost P 0.99 R 0.99. Known limits of a lexical screen: it cannot tell a
DPO paper that measures capability loss from one that reports only win rates (most of the
alignment-tax false positives), nor a homonym from the facet (``tax`` law, ``alignment``
of modalities or captions for the seed question's ``alignment``).
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass, field

from generator.models import Question, Record, ScreeningDecision, Snapshot
from generator.records import deduplicate, group_versions, identity_keys
from generator.text import STOPWORDS, stem, tokens

TERM_SATURATION = 2
"""Abstract occurrences at which a phrase counts as fully present (a title occurrence always does)."""

LONE_WORD_CREDIT = 0.25
"""Weight of a multi-word facet's single words found apart from each other (see :func:`facet_evidence`)."""

MIN_FACET_EVIDENCE = 0.25
"""Least facet evidence (sum over facets of per-facet evidence in [0, 1]) for inclusion."""

MIN_QUESTION_COVERAGE = 0.125
"""Least IDF-weighted share of the question file's terms present in the record for inclusion."""


@dataclass(frozen=True)
class ScreeningResult:
    """Outcome of screening one snapshot.

    ``records`` are the deduplicated records (``work_id`` set by version grouping), in
    snapshot order; ``decisions`` has one entry per *identified* record (duplicates
    included, ``included=False``, reason ``duplicate``); ``included`` lists the included
    records; ``prisma`` the flow counts (see :func:`prisma_counts`); ``idf`` the
    :func:`idf_weights` of ``records`` that screening used (claims are scored with the
    same table).
    """

    records: tuple[Record, ...]
    decisions: tuple[ScreeningDecision, ...]
    included: tuple[Record, ...]
    prisma: dict = field(default_factory=dict)
    idf: dict = field(default_factory=dict, compare=False, repr=False)


def content_terms(text: str) -> list[str]:
    """Stemmed tokens of ``text`` without stop words; numbers kept (``Llama-2`` → llama, 2)."""
    return list(_content_terms(text))


# Each facet's terms are looked up for every record, and each record's text by several
# steps (IDF, facet evidence, relevance): caching cut screening 50 questions from 7.1 s to
# 3.0 s (profiled, one process).
@functools.lru_cache(maxsize=16384)
def _content_terms(text: str) -> tuple[str, ...]:
    return tuple(map(stem, [t for t in tokens(text) if t not in STOPWORDS]))


def record_terms(record: Record) -> set[str]:
    """Content terms of a record's title and abstract."""
    return set(_content_terms(record.title or "")) | set(_content_terms(record.abstract or ""))


def facet_terms(facet: str) -> tuple[str, ...]:
    """Content terms a record must contain to match ``facet``, in order, without repeats."""
    return tuple(dict.fromkeys(_content_terms(facet)))


def question_terms(question: Question) -> tuple[str, ...]:
    """Content terms of the question file: title, question, facets and search queries."""
    text = " ".join([question.title, question.question, *question.facets, *question.queries])
    return tuple(dict.fromkeys(content_terms(text)))


def matched_facets(facets: tuple[str, ...], terms: set[str], text: str | None = None) -> tuple[str, ...]:
    """The facets all of whose terms are in ``terms`` (facets with no terms never match) or,
    when ``text`` is given, whose acronym it uses (:func:`facet_acronyms`: "RAG" for
    "retrieval-augmented generation" in "Radiant boosts RAG performance")."""
    out = []
    used = _acronyms_in(text) if text else frozenset()
    for facet in facets:
        needed = facet_terms(facet)
        if needed and (all(t in terms for t in needed) or used & facet_acronyms(facet)):
            out.append(facet)
    return tuple(out)


@functools.lru_cache(maxsize=4096)  # asked once per facet for every claim of a question
def facet_acronyms(facet: str) -> frozenset[str]:
    """Lower-cased acronyms of a facet of two or more words: the initials of all its words
    and of its words without stop words, hyphenated parts counted as words ("chain of
    thought" → cot, ct; "reinforcement learning from human feedback" → rlfhf, rlhf;
    "retrieval-augmented generation" → rag). Empty for a one-word facet."""
    words = re.findall(r"[A-Za-z0-9]+", facet)
    if len(words) < 2:
        return frozenset()
    content = [w for w in words if w.lower() not in STOPWORDS]
    full, short = "".join(w[0] for w in words).lower(), "".join(w[0] for w in content).lower()
    # Two letters only for a two-word facet ("reinforcement learning" → rl): "chain of
    # thought" → "ct" would match computed tomography.
    return frozenset(a for a in (full, short) if len(a) >= 3 or (len(a) == 2 and len(words) == 2))


def _acronyms_in(text: str) -> frozenset[str]:
    """Tokens of ``text`` written with two or more capitals ("RAG", "CoT", "LLMs"), lower-cased,
    a plural "s" removed."""
    out = set()
    for tok in re.findall(r"\b[A-Za-z]{2,9}\b", text):
        if sum(ch.isupper() for ch in tok) >= 2:
            low = tok.lower()
            out.add(low[:-1] if tok.endswith("s") and not tok.endswith("S") else low)
    return frozenset(out)


def _ngrams(terms: list[str], longest: int) -> Counter:
    grams: Counter = Counter()
    for n in range(1, longest + 1):
        grams.update(zip(*(terms[i:] for i in range(n))))  # the n-grams, as tuples
    return grams


@dataclass(frozen=True)
class TextEvidence:
    """Phrase counts of one record: ``title`` and ``abstract`` map term tuples (n-grams of
    content terms, up to the longest facet) to their number of occurrences."""

    title: Counter
    abstract: Counter

    @classmethod
    def of(cls, title: str | None, abstract: str | None, longest: int = 4) -> "TextEvidence":
        """Count the content-term n-grams (n <= ``longest``) of ``title`` and ``abstract``."""
        return cls(_ngrams(list(_content_terms(title or "")), longest),
                   _ngrams(list(_content_terms(abstract or "")), longest))

    def phrase(self, terms: tuple[str, ...]) -> float:
        """Evidence in [0, 1] of the consecutive ``terms``: 1.0 in the title, else
        ``min(1, n / TERM_SATURATION)`` for ``n`` occurrences in the abstract."""
        if self.title.get(terms):
            return 1.0
        return min(1.0, self.abstract.get(terms, 0) / TERM_SATURATION)


def facet_evidence(facet: str, text: TextEvidence, lone_word_credit: float = LONE_WORD_CREDIT) -> float:
    """Evidence in [0, 1] that ``text`` addresses ``facet`` (0.0 for a facet without terms).

    The largest of: the whole facet as a phrase; a consecutive part of two or more of its
    terms, scaled by the part's share of the facet (``code generation`` is half of
    ``self-invoking code generation``); and ``lone_word_credit`` times the mean evidence of
    its single terms (``tax`` alone says little about ``alignment tax``).
    """
    terms = facet_terms(facet)
    n = len(terms)
    if not n:
        return 0.0
    best = text.phrase(terms)
    if n > 1:
        best = max(best, lone_word_credit * sum(text.phrase((t,)) for t in terms) / n)
        for size in range(2, n):
            for start in range(n - size + 1):
                best = max(best, size / n * text.phrase(terms[start:start + size]))
    return best


def facet_scores(question: Question, record: Record,
                 lone_word_credit: float = LONE_WORD_CREDIT) -> tuple[float, ...]:
    """:func:`facet_evidence` of ``record`` for each of ``question.facets``, in facet order."""
    longest = max((len(facet_terms(f)) for f in question.facets), default=1)
    text = TextEvidence.of(record.title, record.abstract, longest)
    return tuple(facet_evidence(f, text, lone_word_credit) for f in question.facets)


class IdfTable(dict):
    """What :func:`idf_weights` returns: a ``dict`` term → IDF that also keeps, per set of
    question terms, the weights :func:`question_coverage` needs (computed once per table
    rather than once per record; not to be changed after it is made)."""

    def coverage_weights(self, terms: tuple[str, ...]) -> tuple[dict[str, float], float]:
        """:func:`coverage_weights` of ``terms`` over this table, kept."""
        memo = self.__dict__.setdefault("_coverage", {})
        if terms not in memo:
            memo[terms] = coverage_weights(terms, self)
        return memo[terms]


def idf_weights(records: list[Record]) -> IdfTable:
    """IDF of every content term over ``records`` (smoothed, always positive)."""
    df: Counter[str] = Counter()
    for rec in records:
        df.update(record_terms(rec))
    n = max(len(records), 1)
    # BM25-style smoothed IDF (Robertson & Zaragoza 2009), always positive.
    return IdfTable((t, math.log(1 + (n - c + 0.5) / (c + 0.5))) for t, c in df.items())


def coverage_weights(terms: tuple[str, ...], idf: dict[str, float]) -> tuple[dict[str, float], float]:
    """``({term: IDF}, their exactly rounded sum)`` of the question ``terms`` for
    :func:`question_coverage`; a term unseen in ``idf`` gets the largest IDF there (it is
    rarer than any)."""
    default = max(idf.values(), default=1.0)
    weights = {t: idf.get(t, default) for t in terms}
    # fsum: exactly rounded, independent of set/dict iteration order (PYTHONHASHSEED).
    return weights, math.fsum(weights.values())


def question_coverage(question: Question, terms: set[str], idf: dict[str, float]) -> float:
    """IDF-weighted share in [0, 1] of :func:`question_terms` present in ``terms``
    (weights: :func:`coverage_weights`)."""
    wanted = question_terms(question)
    weights, total = (idf.coverage_weights(wanted) if isinstance(idf, IdfTable)
                      else coverage_weights(wanted, idf))
    return math.fsum(w for t, w in weights.items() if t in terms) / total if total else 0.0


def relevance(question: Question, terms: set[str], idf: dict[str, float],
              facet_evidences: tuple[float, ...] | None = None) -> tuple[float, tuple[str, ...]]:
    """``(score in [0, 1], matched facets)`` of a text with content ``terms``.

    The score is the mean of the facet-evidence share and :func:`question_coverage` (just
    the coverage when the question has no facets). ``facet_evidences`` are the per-facet
    values of :func:`facet_scores`; without them (a claim sentence, a bare term set) a
    facet's evidence is 1.0 when all its terms are present, else :data:`LONE_WORD_CREDIT`
    times the share present (word order is unknown in a term set).
    """
    facets = matched_facets(question.facets, terms)
    coverage = question_coverage(question, terms, idf)
    if not question.facets:
        return round(coverage, 4), facets
    if facet_evidences is None:
        facet_evidences = tuple(
            1.0 if f in facets else LONE_WORD_CREDIT * _share(facet_terms(f), terms) for f in question.facets)
    share = sum(facet_evidences) / len(question.facets)
    return round((share + coverage) / 2, 4), facets


def _share(needed: tuple[str, ...], terms: set[str]) -> float:
    return sum(t in terms for t in needed) / len(needed) if needed else 0.0


def _off_topic(question: Question, evidences: tuple[float, ...], coverage: float,
               min_facet_evidence: float, min_coverage: float, use_coverage: bool) -> str | None:
    total = sum(evidences)
    low_facets = bool(question.facets) and total < min_facet_evidence
    low_coverage = use_coverage and coverage < min_coverage
    if not (low_facets or low_coverage):
        return None
    parts = []
    if question.facets:
        parts.append(f"facet evidence {total:.3f} of {len(question.facets)}"
                     + (f" (needs {min_facet_evidence:.3f})" if low_facets else ""))
    if use_coverage:
        parts.append(f"question-term coverage {coverage:.3f}"
                     + (f" (needs {min_coverage:.3f})" if low_coverage else ""))
    full = [f for f, e in zip(question.facets, evidences) if e >= 1.0]
    partly = [f"{f} {e:.2f}" for f, e in zip(question.facets, evidences) if 0.0 < e < 1.0]
    missing = [f for f, e in zip(question.facets, evidences) if e == 0.0]
    if full:
        parts.append("addresses " + ", ".join(full))
    if partly:
        parts.append("partly " + ", ".join(partly))
    if missing:
        parts.append("misses " + ", ".join(missing))
    return "off-topic: " + "; ".join(parts)


def screen(question: Question, snapshot: Snapshot, *,
           min_facet_evidence: float = MIN_FACET_EVIDENCE,
           min_question_coverage: float = MIN_QUESTION_COVERAGE,
           lone_word_credit: float = LONE_WORD_CREDIT) -> ScreeningResult:
    """Screen every record of ``snapshot`` for ``question``.

    Duplicates (shared identity key) are removed with reason ``duplicate of <id>``; a record
    dated before ``question.since`` is excluded (``outside date range``) unless listed under
    ``include:``; the rest are judged by the relevance rule of this module with the given
    thresholds (defaults: the measured module constants). Returns a
    :class:`ScreeningResult`; never raises on record content.
    """
    unique, dups = deduplicate(list(snapshot.records))
    unique = group_versions(unique)
    by_id = {r.id: r for r in snapshot.records}
    idf = idf_weights(unique)
    include_keys = set(question.include)

    decisions: list[ScreeningDecision] = []
    included: list[Record] = []
    for dropped, kept in dups:
        decisions.append(ScreeningDecision(
            record_id=dropped, included=False, score=0.0, reason=f"duplicate of {kept}",
            duplicate_of=kept, provider=by_id[dropped].provider if dropped in by_id else ""))
    for rec in unique:
        terms = record_terms(rec)
        evidences = facet_scores(question, rec, lone_word_credit)
        score, facets = relevance(question, terms, idf, evidences)
        listed = bool(include_keys & set(identity_keys(rec)))
        reason = None
        if listed:
            reason = None
        elif question.since and rec.year and rec.year < question.since:
            reason = f"outside date range: {rec.year} is before {question.since}"
        else:
            reason = _off_topic(question, evidences, question_coverage(question, terms, idf),
                                min_facet_evidence, min_question_coverage,
                                use_coverage=rec.text_available or not question.facets)
        decisions.append(ScreeningDecision(
            record_id=rec.id, included=reason is None, score=score,
            facets_matched=facets, reason=reason, provider=rec.provider))
        if reason is None:
            included.append(rec)
    prisma = prisma_counts(snapshot, decisions)
    prisma["included_without_text"] = sum(1 for r in included if not r.text_available)
    return ScreeningResult(
        records=tuple(unique), decisions=tuple(decisions), included=tuple(included), prisma=prisma, idf=idf)


def prisma_counts(snapshot: Snapshot, decisions: list[ScreeningDecision]) -> dict:
    """PRISMA flow counts.

    Keys: ``identified`` (total), ``identified_by_provider`` (dict), ``duplicates``,
    ``screened``, ``excluded`` (total), ``excluded_by_reason`` (dict: ``off-topic``,
    ``outside date range``), ``included``. :func:`screen` adds ``included_without_text``
    (included records without an abstract). By construction
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
