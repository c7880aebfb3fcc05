"""The lexical judge, validation, aggregation and verify (generator.verification),
driven by the VER cases of shared/cases/acceptance.yaml and SciFact train claims."""

from __future__ import annotations

import dataclasses
import json
import logging
import math

import pytest
import yaml

from generator import text as T
from generator import verification as V
from generator.extraction import curated_claim, extract_claims
from generator.models import (
    CONTESTED,
    CONTRADICTED,
    CONTRADICTS,
    CORROBORATED,
    LABELS,
    NOT_ENOUGH_INFO,
    SUPPORTS,
    UNCORROBORATED,
    UNVERIFIABLE,
    Claim,
    Evidence,
    Identifiers,
    Judgement,
    Record,
)
from generator.providers.library_readers import read_corpus
from generator.records import deduplicate, group_versions, normalise_arxiv, normalise_doi
from tests.conftest import shared_path

EXPECTED = {"contradicted": CONTRADICTS, "supported": SUPPORTS, "not enough info": NOT_ENOUGH_INFO}


@pytest.fixture(scope="module")
def cases() -> dict[str, dict]:
    data = yaml.safe_load(shared_path("cases", "acceptance.yaml").read_text(encoding="utf-8"))
    return {c["id"].split("-")[0] + "-" + c["id"].split("-")[1]: c
            for c in data if c["id"].startswith("VER-")}


def _claim(text: str, record_id: str = "doi:10.1/source") -> Claim:
    return Claim(id="c-test", text=text, origin="extracted", record_id=record_id, sentence_index=0)


def _record(rid: str, abstract: str | None, title: str = "A study of things in general") -> Record:
    return Record(id=rid, title=title, abstract=abstract)


def _check_invariants(j: Judgement, record: Record) -> None:
    assert j.label in LABELS
    assert 0.0 <= j.confidence <= 1.0
    assert (j.method, j.method_version) == V.active_method()
    if j.label == NOT_ENOUGH_INFO:
        assert j.rationale == ()
    else:
        assert j.rationale
        for ev in j.rationale:
            assert ev.record_id == record.id
            assert record.abstract[ev.start:ev.end] == ev.text


# --------------------------------------------------------------------------- VER-01


def _pool_record(item: dict) -> Record:
    raw_id = item["id"]
    arx = normalise_arxiv(raw_id) or normalise_arxiv(item.get("doi") or "")
    if arx:
        rid, ids = f"arxiv:{arx[0]}", Identifiers(arxiv=arx[0], arxiv_version=arx[1])
    else:
        rid, ids = f"openalex:{raw_id}", Identifiers(doi=normalise_doi(item.get("doi")), openalex=raw_id)
    return Record(id=rid, title=item["title"], ids=ids, abstract=item["text"], provider="test")


def test_ver01_claim_never_verified_against_its_own_paper_or_preprint(cases):
    case = cases["VER-01"]
    origin = case["input"]["claim"]["origin"]
    claim_text = case["input"]["claim"]["text"]
    source = Record(
        id=f"openalex:{origin['openalex_id']}",
        title=origin["title"],
        ids=Identifiers(doi=normalise_doi(origin["doi"]), openalex=origin["openalex_id"]),
        abstract=claim_text,
        provider="test",
    )
    pool = [_pool_record(item) for item in case["input"]["evidence_pool"]]
    unique, duplicates = deduplicate([source, *pool])
    # Same DOI in another case and URL form: the same record (required).
    assert (f"openalex:{origin['openalex_id']}", source.id) in duplicates
    records = group_versions(unique)
    by_id = {r.id: r for r in records}
    # The arXiv preprint with the same title is another version of the same work (should).
    assert by_id["arxiv:2201.00001"].group == by_id[source.id].group
    assert by_id["openalex:W1000000003"].group != by_id[source.id].group

    claims = extract_claims(by_id[source.id])
    assert [c.text for c in claims] == [claim_text]
    judgements, verdicts = V.verify(claims, records)
    assert judgements == []
    (verdict,) = verdicts
    assert verdict.verdict == UNCORROBORATED  # "not enough info": stated by its source only
    assert verdict.confidence is None
    assert verdict.supporting == () and verdict.contradicting == ()
    assert "source only" in verdict.reason

    # What grouping prevents: without it the preprint would "corroborate" its own claim.
    _, naive = V.verify(claims, unique)
    assert naive[0].verdict == CORROBORATED and naive[0].supporting == ("arxiv:2201.00001",)


# --------------------------------------------------------------------------- VER-02


def test_ver02_cited_source_lacks_the_claim(cases):
    case = cases["VER-02"]
    pair1, pair2 = case["input"]["pairs"]
    label, conf, rationale = V.judge_text(pair1["claim"], T.sentences(pair1["document"]))
    assert (label, conf, rationale) == (NOT_ENOUGH_INFO, 0.0, [])

    record = _record("doi:10.1/methoda", pair2["document"])
    j = V.judge(_claim(pair2["claim"]), record)
    _check_invariants(j, record)
    assert j.label == EXPECTED[case["expected"]["pair_2"]["verdict"]] == CONTRADICTS
    assert j.rationale[0].text == case["expected"]["pair_2"]["evidence_sentence"]
    verdict = V.aggregate(_claim(pair2["claim"]), [j])
    assert verdict.verdict == CONTRADICTED and verdict.contradicting == (record.id,)


# --------------------------------------------------------------------------- VER-04


def test_ver04_empty_evidence_gives_nothing(cases):
    call = cases["VER-04"]["input"]["verifier_call"]
    assert call["evidence"] == []
    assert V.judge_text(call["claim"], call["evidence"]) == (NOT_ENOUGH_INFO, 0.0, [])
    claim = curated_claim(call["claim"])
    judgements, verdicts = V.verify([claim], [])
    assert judgements == []
    assert verdicts[0].verdict == UNCORROBORATED and verdicts[0].confidence is None
    assert verdicts[0].supporting == verdicts[0].contradicting == ()
    no_text = _record("doi:10.1/empty", None)
    j = V.judge(claim, no_text)
    assert (j.label, j.confidence, j.rationale) == (NOT_ENOUGH_INFO, 0.0, ())


# --------------------------------------------------------------------------- VER-05, VER-06


@pytest.mark.parametrize("case_id", ["VER-05", "VER-06"])
def test_numbers_negation_and_antonyms(cases, case_id):
    case = cases[case_id]
    for pair in case["input"]["pairs"]:
        record = _record(f"doi:10.1/{pair['id']}", pair["evidence"])
        j = V.judge(_claim(pair["claim"]), record)
        _check_invariants(j, record)
        assert j.label == EXPECTED[case["expected"][pair["id"]]], (pair["id"], j)
        # the single evidence sentence is the rationale
        assert [e.text for e in j.rationale] == [pair["evidence"]], pair["id"]
        assert j.confidence >= 0.5, pair["id"]


def test_number_rules_beyond_the_cases():
    j = V.judge_text
    # a transposed or substring number is not equal
    assert j("Accuracy reached 45% on the test set.", ["Accuracy reached 54% on the test set."])[0] == CONTRADICTS
    assert j("The BERT model has 15 layers in total.", ["The BERT model has 150 layers in total."])[0] == CONTRADICTS
    # rounding: the claim's precision decides
    assert j("Accuracy reached 45% on the test set.", ["Accuracy reached 45.3% on the test set."])[0] == SUPPORTS
    # a point inside a reported interval is not the reported value
    assert j("The intervention reduced relapse by 45%.",
             ["The intervention reduced relapse (95% CI 40-66)."])[0] == NOT_ENOUGH_INFO
    # multipliers: 10M == 10 million == 10,000,000
    assert j("The model was trained on 10M tokens of text.",
             ["The model was trained on 10,000,000 tokens of text."])[0] == SUPPORTS


def test_hedged_evidence_cannot_strongly_support():
    label, conf, _ = V.judge_text("Drug Y improves overall survival.", ["Drug Y may improve overall survival."])
    assert label in (SUPPORTS, NOT_ENOUGH_INFO)
    assert conf <= V.HEDGED_SUPPORT_MAX
    label2, conf2, _ = V.judge_text("Drug Y improves overall survival.", ["Drug Y improved overall survival."])
    assert label2 == SUPPORTS and conf2 > conf
    # a hedged claim is fine with hedged evidence
    assert V.judge_text("Drug Y may improve overall survival.",
                        ["Drug Y may improve overall survival."])[1] == pytest.approx(1.0)


def test_unrelated_and_partial_overlap_is_not_support():
    sents = T.sentences("We study heat pumps in Nordic homes. Tariffs affect district heating uptake.")
    assert V.judge_text("Transformers outperform LSTMs on machine translation.", sents)[0] == NOT_ENOUGH_INFO


# --------------------------------------------------------------------------- VER-07


def test_ver07_validation_and_aggregation(cases, caplog):
    items = {it["claim_id"]: it for it in cases["VER-07"]["input"]["items"]}
    caplog.set_level(logging.WARNING, logger="generator.verification")

    c1 = items["c1"]
    j1 = Judgement(claim_id="c1", record_id=c1["doc_id"], label=CONTRADICTS, confidence=c1["confidence"])
    out1 = V.validate_judgement(j1, _record(c1["doc_id"], None))
    assert out1.label == NOT_ENOUGH_INFO and out1.rationale == ()
    assert "c1" in caplog.text and "without an evidence sentence" in caplog.text

    c2 = items["c2"]
    doc2 = _record(c2["doc_id"], c2["doc_text"])
    sentence = c2["evidence_sentence"]
    j2 = Judgement(claim_id="c2", record_id=c2["doc_id"], label=SUPPORTS, confidence=c2["confidence"],
                   rationale=(Evidence(c2["doc_id"], 0, sentence, 0, len(sentence), 0.9),))
    out2 = V.validate_judgement(j2, doc2)
    assert out2.label == NOT_ENOUGH_INFO and out2.confidence == 0.0
    assert "not in the record's text" in caplog.text

    c3 = items["c3"]
    j3 = Judgement(claim_id="c3", record_id="", label=NOT_ENOUGH_INFO, confidence=c3["confidence"])
    assert V.validate_judgement(j3, None) == j3

    agg = cases["VER-07"]["input"]["aggregation"]
    (doc,) = agg["per_document"]
    rec5 = _record(doc["doc"], f"We followed 300 households. {doc['sentence']}")
    start = rec5.abstract.index(doc["sentence"])
    j4 = Judgement(claim_id="c4", record_id=doc["doc"], label=EXPECTED[doc["label"]], confidence=0.7,
                   rationale=(Evidence(doc["doc"], 1, doc["sentence"], start, start + len(doc["sentence"]), 0.7),))
    assert V.validate_judgement(j4, rec5) == j4
    verdict = V.aggregate(_claim("Heat pumps cut emissions by 38%.", "doi:10.1/other"), [j4])
    assert verdict.verdict == CONTRADICTED  # one contradicting document is enough
    assert verdict.confidence == pytest.approx(0.7)
    assert verdict.contradicting == (doc["doc"],)


def test_validation_clamps_and_repairs():
    rec = _record("doi:10.1/v", "First sentence here. Second sentence here.")
    ev = Evidence(rec.id, 1, "Second sentence here.", 0, 5, 0.5)  # wrong offsets
    j = Judgement("c", rec.id, SUPPORTS, 1.7, (ev,))
    out = V.validate_judgement(j, rec)
    assert out.confidence == 1.0
    assert rec.abstract[out.rationale[0].start:out.rationale[0].end] == "Second sentence here."
    assert V.validate_judgement(Judgement("c", rec.id, NOT_ENOUGH_INFO, math.nan), rec).confidence == 0.0
    assert V.validate_judgement(Judgement("c", rec.id, "VERIFIED", 0.2, (ev,)), rec).label == NOT_ENOUGH_INFO
    with pytest.raises(ValueError):
        V.validate_judgement(j, _record("doi:10.1/other", "x"))


# --------------------------------------------------------------------------- judge / rank


def test_judge_offsets_are_verbatim_on_raw_abstract_with_line_breaks():
    abstract = ("Heat pumps are\nwidely studied. In our trial, heat pumps cut household\n"
                "heating emissions by 38% in cold climates. Costs fell too.")
    rec = _record("doi:10.1/raw", abstract)
    j = V.judge(_claim("Heat pumps cut household heating emissions by 38% in cold climates."), rec)
    _check_invariants(j, rec)
    assert j.label == SUPPORTS
    assert "\n" in j.rationale[0].text and j.rationale[0].sentence_index == 1
    assert V.validate_judgement(j, rec) == j


def test_rank_sentences_scores_and_order():
    sents = ["Background on pumps.", "Heat pumps cut heating emissions by 38%.", "Unrelated words only."]
    ranked = V.rank_sentences("Heat pumps cut household heating emissions by 38%.", sents)
    assert [i for i, _ in ranked] == [1, 0, 2]
    assert all(0.0 <= s <= 1.0 for _, s in ranked)
    assert ranked[-1][1] == 0.0


def test_score_pair_is_monotone_in_overlap():
    claim = "Retrieval augmentation reduces hallucination in long-form question answering."
    weak = V.score_pair(claim, "Retrieval is popular.")
    mid = V.score_pair(claim, "Retrieval augmentation reduces hallucination.")
    full = V.score_pair(claim, "Retrieval augmentation reduces hallucination in long-form question answering.")
    assert weak.coverage < mid.coverage < full.coverage == pytest.approx(1.0)


# --------------------------------------------------------------------------- aggregate


def _j(rid: str, label: str, conf: float, kind: str = "corroboration") -> Judgement:
    ev = (Evidence(rid, 0, "S.", 0, 2, conf),) if label != NOT_ENOUGH_INFO else ()
    return Judgement("c-test", rid, label, conf, ev, "lexical", V.METHOD_VERSION, kind)


def test_aggregate_rules():
    claim = _claim("X improves Y.")
    v = V.aggregate(claim, [_j("r1", SUPPORTS, 0.9), _j("r2", SUPPORTS, 0.7), _j("r3", NOT_ENOUGH_INFO, 0.0)])
    assert (v.verdict, v.confidence, v.supporting) == (CORROBORATED, 0.9, ("r1", "r2"))
    assert v.reason == "Supported by 2 independent records; none contradicts."

    v = V.aggregate(claim, [_j("r1", SUPPORTS, 0.9), _j("r2", CONTRADICTS, 0.75)])
    assert v.verdict == CONTESTED and v.confidence == 0.9  # 0.75 >= 0.8 * 0.9

    v = V.aggregate(claim, [_j("r1", SUPPORTS, 0.9), _j("r2", CONTRADICTS, 0.5)])
    assert v.verdict == CORROBORATED and v.contradicting == ("r2",)
    assert "clearly lower confidence" in v.reason

    v = V.aggregate(claim, [_j("r1", SUPPORTS, 0.4), _j("r2", CONTRADICTS, 0.9)])
    assert v.verdict == CONTRADICTED and v.confidence == 0.9

    v = V.aggregate(claim, [_j("r1", NOT_ENOUGH_INFO, 0.0), _j("r2", NOT_ENOUGH_INFO, 0.0)])
    assert (v.verdict, v.confidence) == (UNCORROBORATED, None)
    assert "2 independent records" in v.reason

    curated = curated_claim("X improves Y.", ("arXiv:2309.06256",))
    v = V.aggregate(curated, [_j("arxiv:2309.06256", NOT_ENOUGH_INFO, 0.0, "citation")], source_has_text=False)
    assert (v.verdict, v.confidence, v.citation_label) == (UNVERIFIABLE, None, NOT_ENOUGH_INFO)
    # The cited record is the claim's source: its support alone corroborates nothing...
    v = V.aggregate(curated, [_j("arxiv:2309.06256", SUPPORTS, 0.8, "citation"), _j("r2", NOT_ENOUGH_INFO, 0.0)])
    assert (v.verdict, v.citation_label, v.supporting, v.confidence) == (UNCORROBORATED, SUPPORTS, (), None)
    assert v.reason == ("Stated by its cited source only: the 1 other independent record checked was not "
                        "found to support or contradict it. The cited record supports it.")
    # ...another record's does, and the cited record is not counted as a second one.
    v = V.aggregate(curated, [_j("arxiv:2309.06256", SUPPORTS, 0.8, "citation"), _j("r2", SUPPORTS, 0.6)])
    assert (v.verdict, v.supporting, v.confidence) == (CORROBORATED, ("r2",), 0.6)
    assert v.reason == "Supported by 1 independent record; none contradicts. The cited record supports it."
    # A cited record that contradicts the claim does count: the claim misstates its source.
    v = V.aggregate(curated, [_j("arxiv:2309.06256", CONTRADICTS, 0.7, "citation")])
    assert (v.verdict, v.contradicting, v.citation_label) == (CONTRADICTED, ("arxiv:2309.06256",), CONTRADICTS)


# --------------------------------------------------------------------------- verify


ABSTRACTS = {
    "arxiv:2309.06256": ("Reinforcement learning from human feedback causes an alignment tax. "
                         "We find that model averaging reduces the alignment tax of RLHF on "
                         "knowledge benchmarks."),
    "arxiv:2401.00002": ("Model averaging reduces the alignment tax of RLHF in our replication. "
                         "The effect holds for three model sizes."),
    "arxiv:2401.00003": "Model averaging does not reduce the alignment tax of RLHF in our experiments.",
    "arxiv:2401.00004": "We describe a new tokenizer for Finnish morphology.",
}


def _records(**overrides) -> list[Record]:
    recs = []
    for i, (rid, abstract) in enumerate(ABSTRACTS.items()):
        arx = rid.split(":", 1)[1]
        recs.append(Record(id=rid, title=f"Distinct paper title number {i}", ids=Identifiers(arxiv=arx),
                           authors=(f"Author{i}",), abstract=overrides.get(rid, abstract)))
    return group_versions(recs)


def test_verify_curated_claim_citation_and_corroboration():
    claim = curated_claim("Model averaging reduces the alignment tax of RLHF.", ("arXiv:2309.06256",))
    judgements, (verdict,) = V.verify([claim], _records())
    kinds = [(j.record_id, j.kind, j.label) for j in judgements]
    assert kinds[0] == ("arxiv:2309.06256", "citation", SUPPORTS)
    assert ("arxiv:2401.00002", "corroboration", SUPPORTS) in kinds
    assert ("arxiv:2401.00003", "corroboration", CONTRADICTS) in kinds
    assert all(j.record_id != "arxiv:2401.00004" for j in judgements)  # NEI left out
    assert sum(1 for j in judgements if j.record_id == "arxiv:2309.06256") == 1
    assert verdict.citation_label == SUPPORTS
    assert verdict.verdict == CONTESTED
    assert verdict.supporting == ("arxiv:2401.00002",)  # the cited record is the source, not a corroboration
    assert verdict.contradicting == ("arxiv:2401.00003",)


def test_verify_curated_claim_whose_cited_record_has_no_text():
    claim = curated_claim("Model averaging improves Finnish tokenizers.", ("arXiv:2309.06256",))
    judgements, (verdict,) = V.verify([claim], _records(**{"arxiv:2309.06256": None}))
    assert verdict.verdict == UNVERIFIABLE and verdict.confidence is None
    assert [(j.kind, j.label) for j in judgements] == [("citation", NOT_ENOUGH_INFO)]


def test_verify_curated_claim_whose_cited_record_is_not_included_says_so():
    claim = curated_claim("Model averaging improves Finnish tokenizers.", ("doi:10.9999/bogus",))
    judgements, (verdict,) = V.verify([claim], _records())
    assert verdict.verdict == UNVERIFIABLE and judgements == []
    assert verdict.reason.startswith("The cited record (doi:10.9999/bogus) is not among the included records")
    assert "no text available" not in verdict.reason


def test_verify_extracted_claims_is_deterministic_and_excludes_own_record():
    records = _records()
    claims = [c for r in records for c in extract_claims(r)]
    assert claims
    first = V.verify(claims, records)
    second = V.verify(list(claims), list(records))
    assert first == second
    judgements, verdicts = first
    assert [v.claim_id for v in verdicts] == [c.id for c in claims]
    own = {c.id: c.record_id for c in claims}
    assert all(j.record_id != own[j.claim_id] for j in judgements)
    assert all(j.label != NOT_ENOUGH_INFO for j in judgements)
    assert V.verify(claims, records, candidates_per_claim=0)[0] == []


# --------------------------------------------------------------------------- SciFact


def test_scifact_train_oracle_label_f1():
    """The shipped thresholds on the first 200 SciFact *train* claims, oracle setting:
    abstract-level label-only F1 (the full-train figure is in benchmarks/tune_lexical.py)."""
    folder = shared_path("scifact")
    corpus = {}
    with open(folder / "corpus.jsonl", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["doc_id"]] = d["abstract"]
    idf = V.idf_table(" ".join(s) for s in corpus.values())
    to_sf = {SUPPORTS: "SUPPORT", CONTRADICTS: "CONTRADICT"}
    gold, preds = {}, {}
    with open(folder / "claims_train.jsonl", encoding="utf-8") as f:
        claims = [json.loads(line) for _, line in zip(range(200), f)]
    for c in claims:
        for doc, sets in (c.get("evidence") or {}).items():
            gold[(c["id"], int(doc))] = sets[0]["label"]
        for doc in c["cited_doc_ids"]:
            label, conf, rationale = V.judge_text(c["claim"], corpus[doc], idf=idf)
            assert 0.0 <= conf <= 1.0 and bool(rationale) == (label != NOT_ENOUGH_INFO)
            if label in to_sf:
                preds[(c["id"], doc)] = to_sf[label]
    correct = sum(1 for k, v in preds.items() if gold.get(k) == v)
    p, r = correct / len(preds), correct / len(gold)
    f1 = 2 * p * r / (p + r)
    assert f1 >= 0.50, (p, r, f1)


# --------------------------------------------------------------------------- cross-paper honesty


def test_boilerplate_overlap_is_not_evidence():
    claim = "These results demonstrate the effectiveness of our proposed method."
    sents = ["Extensive experimental results demonstrate the effectiveness of the proposed method."]
    assert V.score_pair(claim, sents[0]).coverage == 0.0
    assert V.judge_text(claim, sents)[0] == NOT_ENOUGH_INFO


def test_another_papers_method_is_not_evidence_about_a_named_one():
    claim = "Empirically, Ross3D achieves state-of-the-art performance across 3D scene understanding benchmarks."
    other = ["Empirical evaluations show that OmniV-Med achieves state-of-the-art performance on 3D "
             "scene understanding benchmarks."]
    assert V.judge_text(claim, other)[0] == NOT_ENOUGH_INFO
    same = ["Ross3D achieves state-of-the-art performance across 3D scene understanding benchmarks."]
    assert V.judge_text(claim, same)[0] == SUPPORTS


def test_own_unnamed_method_sentences_only_count_in_a_citation_check():
    claim = "Model averaging reduces the alignment tax of RLHF on knowledge benchmarks."
    sents = ["Our method, model averaging, reduces the alignment tax of RLHF on knowledge benchmarks."]
    assert V.judge_text(claim, sents)[0] == NOT_ENOUGH_INFO
    assert V.judge_text(claim, sents, citation=True)[0] == SUPPORTS


def test_verify_does_not_corroborate_self_referential_claims():
    records = _records(**{"arxiv:2401.00004": "Our approach significantly reduces the alignment tax of RLHF on knowledge benchmarks."})
    claims = [c for c in extract_claims(records[3])]
    assert claims and all(T.self_reference(c.text) for c in claims)
    judgements, verdicts = V.verify(claims, records)
    assert judgements == []
    assert all(v.verdict == UNCORROBORATED and "own unnamed contribution" in v.reason for v in verdicts)


def test_a_direction_word_is_anchored_within_its_own_contrast_clause():
    # The pattern of one SciFact-train abstract (lexical-3 said SUPPORTS, gold CONTRADICT):
    # "higher risk" belongs to the juice clause, so it must not pair with the claim's
    # "increases the risk" on the words of the whole-fruit clause.
    claim = "Consumption of whole fruit increases the risk of gout."
    sentence = ("Greater consumption of whole fruit is associated with a lower risk of gout, whereas "
                "greater consumption of fruit juice is associated with a higher risk.")
    assert V.judge_text(claim, [sentence])[0] == CONTRADICTS
    assert V.judge_text("Consumption of whole fruit lowers the risk of gout.", [sentence])[0] == SUPPORTS


@pytest.mark.parametrize("claim,framing,finding,label", [
    # the aim, repeating the question in the claim's words
    ("Screening older people for impaired vision leads to improved vision.",
     "OBJECTIVE To assess whether screening older people for impaired vision leads to improved vision.",
     "RESULTS Screening older people for impaired vision did not lead to improved vision.", CONTRADICTS),
    # the field's background (a fresh-user trial: "Chatbot Arena has emerged as …" corroborated a finding)
    ("Game-based rankings of language models align closely with Chatbot Arena rankings.",
     "Chatbot Arena has emerged as the leaderboard whose rankings of language models align closely with users.",
     "We find that game-based rankings of language models align closely with Chatbot Arena rankings.", SUPPORTS),
])
def test_a_sentence_stating_the_aim_or_the_background_is_not_evidence(claim, framing, finding, label):
    assert V.judge_text(claim, [framing])[0] == NOT_ENOUGH_INFO
    got, _, rationale = V.judge_text(claim, [framing, finding])
    assert got == label and rationale[0][0] == 1


def test_opposite_words_on_different_axes_need_two_shared_anchor_words():
    # Found on the example site: "tics accumulate over multi-turn conversations" does not
    # contradict "multi-turn interactions degrade performance" through one shared word.
    claim = ("Our experiments reveal the conversation tax, where multi-turn interactions consistently "
             "degrade performance when compared to single-shot baselines.")
    sentence = ("We further demonstrate that verbal tics accumulate over multi-turn conversations, are "
                "amplified in subjective tasks, and show distinct cross-lingual patterns.")
    assert not V.score_pair(claim, sentence).direction  # one shared anchor ("multi-turn")
    assert V.judge_text(claim, [sentence])[0] != CONTRADICTS
    # Across axes with the object shared, and on one axis, opposites still contradict.
    assert V.judge_text("Fine-tuning reduces accuracy on MMLU.", ["Fine-tuning improves accuracy on MMLU."])[0] == CONTRADICTS
    assert V.judge_text("Metformin increases tumour growth in mice.", ["Metformin reduced tumour growth in mice."])[0] == CONTRADICTS


def test_an_amount_word_does_not_contradict_a_property_word():
    # Found on the example site: reducing a cost is not the opposite of being more efficient.
    claim = "Model averaging reduces the alignment tax of RLHF."
    sentence = ("In light of the above pressing issue in aligning LLMs, in this paper we explore model "
                "averaging, which interpolates between pre and post RLHF model weights, to achieve a "
                "more efficient reward-tax Pareto front.")
    label, _, _ = V.judge_text(claim, [sentence])
    assert label != CONTRADICTS
    # ...while opposite directions on one property still contradict (VER-06 g1).
    label, _, _ = V.judge_text(
        "Hierarchical softmax is less efficient than the full softmax.",
        ["Hierarchical softmax is a computationally more efficient alternative to the full softmax."])
    assert label == CONTRADICTS


def test_a_record_with_the_same_abstract_text_is_no_independent_evidence():
    # Real data: two arXiv records of the shared corpus, different papers by their titles,
    # carry the same abstract. A seventh trial saw such a copy CORROBORATE its original.
    wanted = {"arxiv:2508.02621", "arxiv:2508.04915"}
    found = {r.id: r for r in read_corpus(shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"),
                                          lambda message: None) if r.id in wanted}
    assert found["arxiv:2508.02621"].title != found["arxiv:2508.04915"].title
    assert found["arxiv:2508.02621"].abstract == found["arxiv:2508.04915"].abstract
    records = group_versions([found["arxiv:2508.02621"], found["arxiv:2508.04915"]])
    assert records[0].group != records[1].group  # not versions of one work
    claims = extract_claims(records[0])
    assert claims
    judgements, verdicts = V.verify(claims, records)
    assert judgements == [] and all(v.checked == () for v in verdicts)

    # The same text in another case and spacing is still the same text.
    shouted = dataclasses.replace(records[1], abstract="  " + records[1].abstract.upper().replace(" ", "  "))
    assert V.verify(claims, [records[0], shouted]) == (judgements, verdicts)
    # What the rule prevents: a sentence added makes it another text, and the copy then
    # corroborates the claims it repeats.
    other = dataclasses.replace(records[1], abstract=records[1].abstract + " We release our code.")
    _, naive = V.verify(claims, [records[0], other])
    assert any(v.verdict == CORROBORATED and v.supporting == (other.id,) for v in naive)
