"""Screening: measured precision/recall on hand-labelled records, and the rules on small records.

The labelled fixture (``tests/fixtures/relevance_labels.jsonl``) holds 387 records of the
``../shared`` corpora judged relevant or not for the three example questions (guidelines in
``benchmarks/screening_eval.py``). The floors below are the values that benchmark measured
for the current constants, less a small margin, so a change that makes the screen worse on
the labels fails here.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator import screening
from generator.models import Identifiers, Question, Record, Snapshot
from generator.providers.library_readers import read_corpus
from generator.questions import load_question
from generator.records import identity_keys
from tests.conftest import PROJECT_ROOT, shared_path

LABELS = PROJECT_ROOT / "tests" / "fixtures" / "relevance_labels.jsonl"
QUESTIONS = PROJECT_ROOT / "content" / "questions"
MARGIN = 0.03

# Measured by benchmarks/screening_eval.py with the module constants: (precision, recall).
MEASURED = {
    "alignment-tax": (0.348, 1.000),
    "multimodal-llama2-self-invoking-code": (0.506, 0.935),
    "reasoning-modes-cost": (0.990, 0.990),
}
MEASURED_POOLED = (0.631, 0.978)
QWEN3 = "arxiv:2505.09388"
SEED = "multimodal-llama2-self-invoking-code"


def _labels() -> list[dict]:
    with LABELS.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def labelled():
    """``{slug: (question, snapshot, labels)}`` built from the fixture and the shared corpora."""
    labels = _labels()
    wanted = {row["record_id"] for row in labels}
    records: dict[str, Record] = {}
    corpora = (shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"),
               shared_path("corpus", "seed-topic.csl.json"))
    for path in corpora:
        for rec in read_corpus(Path(path)):
            if rec.id in wanted and rec.id not in records:
                records[rec.id] = rec
    missing = sorted(wanted - set(records))
    assert not missing, f"labelled records missing from the corpus: {missing[:5]}"
    out = {}
    for slug in MEASURED:
        question = load_question(QUESTIONS / f"{slug}.yaml")
        rows = [row for row in labels if row["question"] == slug]
        snap = Snapshot(slug=slug, queries=question.queries, providers=("library",),
                        since=question.since, max_records=question.max_records,
                        records=tuple(records[r["record_id"]] for r in rows),
                        provider_counts={"library": len(rows)})
        out[slug] = (question, snap, rows)
    return out


def _counts(result: screening.ScreeningResult, rows: list[dict]) -> tuple[int, int, int]:
    by_id = {d.record_id: d for d in result.decisions}
    tp = fp = fn = 0
    for row in rows:
        d = by_id[row["record_id"]]
        d = by_id[d.duplicate_of] if d.duplicate_of else d
        tp += d.included and row["relevant"]
        fp += d.included and not row["relevant"]
        fn += (not d.included) and row["relevant"]
    return tp, fp, fn


def test_fixture_is_well_formed():
    labels = _labels()
    assert len(labels) >= 300
    keys = {"question", "record_id", "title", "relevant", "reason", "sample", "off_topic"}
    for row in labels:
        assert keys <= set(row), row
        assert isinstance(row["relevant"], bool) and row["reason"].strip()
        assert not (row["relevant"] and row["off_topic"]), row
    pairs = [(row["question"], row["record_id"]) for row in labels]
    assert len(pairs) == len(set(pairs)), "a record is labelled twice for one question"
    for slug in MEASURED:
        rows = [row for row in labels if row["question"] == slug]
        assert sum(row["sample"] == "retrieved" for row in rows) >= 100
        assert sum(row["sample"] == "random" for row in rows) == 20


@pytest.mark.parametrize("slug", sorted(MEASURED))
def test_precision_and_recall_per_question(labelled, slug):
    question, snap, rows = labelled[slug]
    tp, fp, fn = _counts(screening.screen(question, snap), rows)
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    floor_p, floor_r = MEASURED[slug]
    assert precision >= floor_p - MARGIN, (slug, precision, recall)
    assert recall >= floor_r - MARGIN, (slug, precision, recall)


def test_pooled_precision_and_recall_beat_the_earlier_rule(labelled):
    tot = [0, 0, 0]
    for question, snap, rows in labelled.values():
        tot = [a + b for a, b in zip(tot, _counts(screening.screen(question, snap), rows))]
    tp, fp, fn = tot
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    f1 = 2 * precision * recall / (precision + recall)
    assert precision >= MEASURED_POOLED[0] - MARGIN and recall >= MEASURED_POOLED[1] - MARGIN
    assert f1 > 0.681 + 0.05, "the earlier rule (two facets fully matched) had F1 0.681"


def test_off_topic_records_let_in_do_not_grow(labelled):
    let_in = 0
    for question, snap, rows in labelled.values():
        decided = {d.record_id: d for d in screening.screen(question, snap).decisions}
        let_in += sum(1 for row in rows if row["off_topic"] and decided[row["record_id"]].included)
    # Measured 25 of 116 (homonyms of "tax" and "alignment", see the module docstring).
    assert let_in <= 25 + 3


def test_random_corpus_records_are_mostly_excluded(labelled):
    included = total = 0
    for question, snap, rows in labelled.values():
        decided = {d.record_id: d for d in screening.screen(question, snap).decisions}
        for row in rows:
            if row["sample"] == "random" and not row["relevant"]:
                total += 1
                included += decided[row["record_id"]].included
    assert total >= 55 and included <= 2


def test_seed_question_excludes_qwen3_naming_missing_facets(labelled):
    question, snap, _ = labelled[SEED]
    d = {x.record_id: x for x in screening.screen(question, snap).decisions}[QWEN3]
    assert not d.included
    assert d.reason.startswith("off-topic: ")
    missed = d.reason.split("misses ", 1)[1]
    for facet in ("multimodal Llama-2", "alignment", "HumanEval Pro", "MBPP Pro"):
        assert facet in missed, d.reason
    assert "question-term coverage" in d.reason and "(needs 0.125)" in d.reason


def test_include_listed_records_of_the_examples_are_screened_in(labelled):
    for question, snap, _ in labelled.values():
        result = screening.screen(question, snap)
        listed = [r for r in result.records if set(question.include) & set(identity_keys(r))]
        assert listed, question.slug
        assert all(r in result.included for r in listed)


# --------------------------------------------------------------------------- small records

QUESTION = Question(
    slug="alignment-tax", path="alignment-tax.yaml", title="Does preference alignment cost capability?",
    question="Does RLHF or DPO alignment reduce performance on knowledge and reasoning benchmarks, "
             "and can the loss be mitigated?",
    facets=("RLHF", "DPO", "alignment tax", "benchmark performance", "mitigation"),
    queries=("alignment tax RLHF", "DPO benchmark performance degradation"),
    since=2022, include=("arxiv:2203.02155",))


def _rec(rid: str, title: str, abstract: str | None, year: int = 2024, **ids) -> Record:
    return Record(id=rid, title=title, abstract=abstract, year=year, provider="library",
                  ids=Identifiers(**ids) if ids else Identifiers(arxiv=rid.split(":", 1)[1]))


ON_TOPIC = _rec(
    "arxiv:2309.06256", "Mitigating the Alignment Tax of RLHF",
    "Aligning LLMs under RLHF can lead to forgetting, known as the alignment tax. We measure the "
    "alignment tax on knowledge and reasoning benchmarks and mitigate it by model averaging, which "
    "recovers benchmark performance lost during RLHF.")
DUPLICATE = _rec(
    "doi:10.48550/arxiv.2309.06256", "Mitigating the alignment tax of RLHF", ON_TOPIC.abstract,
    doi="10.48550/arxiv.2309.06256")
TAX_LAW = _rec(
    "arxiv:2604.08948", "TaxPraBen: A Benchmark for LLMs in Chinese Tax Practice",
    "We introduce a benchmark for Chinese tax practice covering tax risk prevention and tax "
    "inspection. We evaluate 19 LLMs; closed-source models excel.")
OLD = _rec("arxiv:2012.00001", "RLHF and DPO reduce benchmark performance: an alignment tax study",
           ON_TOPIC.abstract, year=2020)
LISTED_OLD = _rec("arxiv:2203.02155", "Training language models to follow instructions with human feedback",
                  "We fine-tune GPT-3 with human feedback.", year=2021)
TITLE_ONLY = _rec("arxiv:2501.00002", "DPO without the alignment tax: mitigation by model merging", None)
TITLE_ONLY_OFF = _rec("arxiv:2501.00003", "A corpus of Bangla poetry", "")


def _snapshot(*records: Record) -> Snapshot:
    return Snapshot(slug="alignment-tax", queries=QUESTION.queries, providers=("library",), since=2022,
                    max_records=100, records=tuple(records), provider_counts={"library": len(records)})


def _decisions(result):
    return {d.record_id: d for d in result.decisions}


def test_duplicates_are_removed_by_identifier_with_reason():
    result = screening.screen(QUESTION, _snapshot(ON_TOPIC, DUPLICATE, TAX_LAW))
    d = _decisions(result)[DUPLICATE.id]
    assert not d.included and d.duplicate_of == ON_TOPIC.id and d.reason == f"duplicate of {ON_TOPIC.id}"
    assert [r.id for r in result.records] == [ON_TOPIC.id, TAX_LAW.id]
    assert result.prisma["duplicates"] == 1


def test_records_before_since_are_excluded_unless_listed():
    result = screening.screen(QUESTION, _snapshot(OLD, LISTED_OLD))
    d = _decisions(result)
    assert not d[OLD.id].included and d[OLD.id].reason == "outside date range: 2020 is before 2022"
    assert d[LISTED_OLD.id].included and d[LISTED_OLD.id].reason is None
    assert result.prisma["excluded_by_reason"] == {"outside date range": 1}


def test_include_listed_off_topic_record_is_screened_in():
    listed = Question(**{**QUESTION.to_dict(), "include": ("arxiv:2604.08948",)})
    result = screening.screen(listed, _snapshot(ON_TOPIC, TAX_LAW))
    assert [r.id for r in result.included] == [ON_TOPIC.id, TAX_LAW.id]
    assert [r.id for r in screening.screen(QUESTION, _snapshot(ON_TOPIC, TAX_LAW)).included] == [ON_TOPIC.id]


def test_off_topic_reason_gives_numbers_and_names_missing_facets():
    d = _decisions(screening.screen(QUESTION, _snapshot(ON_TOPIC, TAX_LAW)))[TAX_LAW.id]
    assert not d.included
    assert d.reason.startswith("off-topic: facet evidence ")
    assert "partly alignment tax 0.12" in d.reason
    assert d.reason.endswith("misses RLHF, DPO, mitigation")
    on = _decisions(screening.screen(QUESTION, _snapshot(ON_TOPIC, TAX_LAW)))[ON_TOPIC.id]
    assert on.included and on.reason is None
    assert set(on.facets_matched) == {"RLHF", "alignment tax", "benchmark performance", "mitigation"}
    assert 0.0 <= d.score < on.score <= 1.0


def test_records_without_text_are_kept_but_marked():
    result = screening.screen(QUESTION, _snapshot(ON_TOPIC, TITLE_ONLY, TITLE_ONLY_OFF))
    d = _decisions(result)
    assert d[TITLE_ONLY.id].included and not TITLE_ONLY.text_available
    assert result.prisma["included_without_text"] == 1
    assert not d[TITLE_ONLY_OFF.id].included and d[TITLE_ONLY_OFF.id].reason.startswith("off-topic")
    assert d[TITLE_ONLY.id].reason is None


def test_prisma_counts_add_up():
    records = (ON_TOPIC, DUPLICATE, TAX_LAW, OLD, LISTED_OLD, TITLE_ONLY, TITLE_ONLY_OFF)
    p = screening.screen(QUESTION, _snapshot(*records)).prisma
    assert p["identified"] == len(records) == p["duplicates"] + p["screened"]
    assert p["screened"] == p["excluded"] + p["included"]
    assert sum(p["excluded_by_reason"].values()) == p["excluded"]
    assert p["excluded_by_reason"] == {"off-topic": 2, "outside date range": 1}
    assert p["identified_by_provider"] == {"library": len(records)}


def test_facet_evidence_prefers_phrases_to_scattered_words():
    text = screening.TextEvidence.of(
        "Faster decoding for code generation", "We speed up code generation. The alignment of layers "
        "matters; we pay no tax.")
    assert screening.facet_evidence("self-invoking code generation", text) == 0.5
    assert screening.facet_evidence("code generation", text) == 1.0
    # "alignment" once and "tax" once, apart: lone-word credit x mean (0.5 + 0.5) / 2.
    assert screening.facet_evidence("alignment tax", text) == pytest.approx(screening.LONE_WORD_CREDIT * 0.5)
    assert screening.facet_evidence("alignment tax", text, lone_word_credit=1.0) == 0.5
    llama = screening.TextEvidence.of("Llama 2 chat", None)
    assert screening.facet_evidence("multimodal Llama-2", llama) == pytest.approx(2 / 3)
    assert screening.facet_evidence("", text) == 0.0


def test_relevance_of_a_claim_sentence_uses_its_terms():
    idf = screening.idf_weights([ON_TOPIC, TAX_LAW])
    terms = set(screening.content_terms("Model averaging mitigates the alignment tax of RLHF."))
    score, facets = screening.relevance(QUESTION, terms, idf)
    assert facets == ("RLHF", "alignment tax", "mitigation")
    other, none = screening.relevance(QUESTION, set(screening.content_terms("Tax law is complex.")), idf)
    assert none == () and 0.0 <= other < score <= 1.0


def test_screening_is_deterministic_and_threshold_overrides_apply():
    snap = _snapshot(ON_TOPIC, TAX_LAW, TITLE_ONLY)
    assert screening.screen(QUESTION, snap) == screening.screen(QUESTION, snap)
    strict = screening.screen(QUESTION, snap, min_facet_evidence=10.0)
    assert strict.included == ()
    assert all(d.reason.startswith("off-topic") and "(needs 10.000)" in d.reason for d in strict.decisions)


def test_a_claim_addresses_a_facet_through_its_acronym():
    from generator.screening import content_terms, facet_acronyms, matched_facets
    assert facet_acronyms("retrieval-augmented generation") == {"rag"}
    assert facet_acronyms("chain of thought") == {"cot"}  # not "ct" (computed tomography)
    assert facet_acronyms("reinforcement learning from human feedback") == {"rlfhf", "rlhf"}
    assert facet_acronyms("reinforcement learning") == {"rl"} and facet_acronyms("hallucination") == frozenset()
    facets = ("retrieval-augmented generation", "chain of thought", "hallucination", "large language models")
    text = "Radiant boosts RAG performance of LLMs on CT scans."
    assert matched_facets(facets, set(content_terms(text))) == ()
    assert matched_facets(facets, set(content_terms(text)), text) == (
        "retrieval-augmented generation", "large language models")
    # lower-case words are not acronyms: "rag" (cloth), "cot" (bed)
    assert matched_facets(facets, set(), "A rag on a cot.") == ()


def test_a_facet_matches_the_other_spelling():
    """A trial reader's facet "human judgement" matched 2 records where 11 wrote "judgment"."""
    from generator import text as T
    from generator.screening import matched_facets

    facets = ("human judgement", "summarisation faithfulness")
    assert matched_facets(facets, set(T.stems("LLM ratings agree with human judgments."))) == ("human judgement",)
    assert matched_facets(facets, set(T.stems("Summarization faithfulness is low."))) == ("summarisation faithfulness",)
