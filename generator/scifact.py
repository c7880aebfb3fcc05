"""SciFact data loading and the official SciFact metrics (pure; no model code here).

SciFact: Wadden et al., "Fact or Fiction: Verifying Scientific Claims", EMNLP 2020
(https://arxiv.org/abs/2004.14974). The metrics follow the semantics of the official
scorers: ``verisci/evaluate/lib/metrics.py`` in github.com/allenai/scifact and
``evaluator/eval.py`` in github.com/allenai/scifact-evaluator (the leaderboard scorer,
whose fixture ``../shared/scifact/evaluator_fixture/`` reproduces exactly):

* **Abstract level.** Every predicted (claim, abstract) pair counts as retrieved; every
  gold evidence abstract as relevant. *Label-only*: correct when the abstract is gold
  evidence and the label matches. *Label+rationale* ("rationalized"): additionally one
  whole gold rationale set lies within the first :data:`MAX_ABSTRACT_SENTS` predicted
  sentences (in the order predicted).
* **Sentence level.** Every predicted sentence counts as retrieved (no truncation: the
  metric already penalises over-prediction); every sentence of every gold rationale set
  as relevant. *Selection-only*: a predicted sentence is correct when its abstract is gold
  evidence, it belongs to a gold rationale set and that whole set was predicted.
  *Selection+label*: additionally the abstract's predicted label is right.
* NOT ENOUGH INFO is expressed by predicting nothing for an abstract; a prediction
  labelled NEI is skipped as in ``verisci`` (it counts neither way).
* Precision, recall and F1 are micro-averaged over all claims; a zero denominator gives 0.

File formats (JSON Lines, one object a line):

* claims (``claims_train.jsonl``): ``{"id": int, "claim": str, "evidence": {doc_id:
  [{"sentences": [int, ...], "label": "SUPPORT"|"CONTRADICT"}, ...]}, "cited_doc_ids":
  [int, ...]}``; ``doc_id`` keys are strings of ints.
* corpus (``corpus.jsonl``): ``{"doc_id": int, "title": str, "abstract": [sentence, ...],
  "structured": bool}``.
* predictions: ``{"id": claim_id, "evidence": {doc_id: {"sentences": [int, ...],
  "label": "SUPPORT"|"CONTRADICT"}}}``; extra keys (e.g. ``confidence``) are ignored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from generator.errors import CorpusError, LitsynthError, Problem
from generator.models import is_json_int

MAX_ABSTRACT_SENTS = 3
"""Predicted sentences kept for abstract-level rationale credit (official scorers)."""

SUPPORT = "SUPPORT"
CONTRADICT = "CONTRADICT"
GOLD_LABELS = (SUPPORT, CONTRADICT)
NEI_LABELS = frozenset({"NOT ENOUGH INFO", "NOT_ENOUGH_INFO", "NEI"})

# (official scorer name, name used by issue 8 / the CLI's --json output)
_GROUPS = (
    ("abstract_label_only", "abstract_label_only"),
    ("abstract_rationalized", "abstract_label_rationale"),
    ("sentence_selection", "sentence_selection"),
    ("sentence_label", "sentence_selection_label"),
)
_PARTS = ("precision", "recall", "f1")

METRIC_KEYS: tuple[str, ...] = tuple(f"{issue}_{p}" for _, issue in _GROUPS for p in _PARTS)
"""The 12 metric names of issue 8 (``abstract_label_only_f1``, ...)."""

OFFICIAL_METRIC_KEYS: tuple[str, ...] = tuple(f"{off}_{p}" for off, _ in _GROUPS for p in _PARTS)
"""The 12 metric names of the official scorer (``abstract_rationalized_f1``, ...)."""


class ScoringError(LitsynthError):
    """Predictions cannot be scored against the gold claims (unknown claim id, bad label,
    malformed entry, conflicting gold labels)."""


# --------------------------------------------------------------------------- loading


def _iter_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line; ``CorpusError`` names file:line."""
    path = str(path)
    try:
        handle = open(path, "rb")
    except OSError as exc:
        raise CorpusError(str(Problem(path, None, None, f"cannot read: {exc.strerror or exc}"))) from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            # Decoding per line (not per buffered chunk) keeps the reported line exact.
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CorpusError(str(Problem(path, number, None, f"not UTF-8: {exc.reason}"))) from exc
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CorpusError(str(Problem(path, number, exc.colno, f"invalid JSON: {exc.msg}"))) from exc
            if not isinstance(obj, dict):
                raise CorpusError(str(Problem(path, number, None, "expected a JSON object")))
            yield number, obj


def _claim_problem(obj: dict[str, Any]) -> str | None:
    if not is_json_int(obj.get("id")):
        return "'id' must be an integer"
    if not isinstance(obj.get("claim"), str) or not obj["claim"].strip():
        return "'claim' must be a non-empty string"
    cited = obj.get("cited_doc_ids", [])
    if not isinstance(cited, list) or not all(is_json_int(d) for d in cited):
        return "'cited_doc_ids' must be a list of integers"
    if "evidence" not in obj:
        return None
    evidence = obj["evidence"]
    if not isinstance(evidence, dict):
        return "'evidence' must be an object keyed by doc_id"
    for doc_id, sets in evidence.items():
        if not str(doc_id).isdigit():
            return f"evidence doc_id {doc_id!r} is not an integer"
        if not isinstance(sets, list) or not sets:
            return f"evidence for doc {doc_id} must be a non-empty list of rationale sets"
        for entry in sets:
            if not isinstance(entry, dict):
                return f"evidence for doc {doc_id}: rationale set must be an object"
            if entry.get("label") not in GOLD_LABELS:
                return f"evidence for doc {doc_id}: label must be SUPPORT or CONTRADICT, got {entry.get('label')!r}"
            sents = entry.get("sentences")
            if not isinstance(sents, list) or not sents or not all(is_json_int(s) and s >= 0 for s in sents):
                return f"evidence for doc {doc_id}: 'sentences' must be a non-empty list of sentence indices"
    return None


def load_claims(path: str | Path) -> list[dict[str, Any]]:
    """Read SciFact claims (``claims_*.jsonl``) in file order.

    Returns the parsed objects unchanged (shape in the module docstring); ``evidence`` may
    be absent (it is then unscorable, see :func:`score`) and ``cited_doc_ids`` defaults to
    ``[]``. Blank lines are skipped.

    Raises ``CorpusError`` (message ``file:line: ...``) for an unreadable file, invalid
    JSON or UTF-8, a malformed claim or a repeated claim id.
    """
    claims: list[dict[str, Any]] = []
    seen: dict[int, int] = {}
    for number, obj in _iter_jsonl(path):
        problem = _claim_problem(obj)
        if problem:
            raise CorpusError(str(Problem(str(path), number, None, problem)))
        if obj["id"] in seen:
            msg = f"claim id {obj['id']} repeats line {seen[obj['id']]}"
            raise CorpusError(str(Problem(str(path), number, None, msg)))
        seen[obj["id"]] = number
        obj.setdefault("cited_doc_ids", [])
        claims.append(obj)
    return claims


def load_corpus(path: str | Path) -> dict[int, dict[str, Any]]:
    """Read the SciFact corpus (``corpus.jsonl``) into ``{doc_id: document}``.

    Each document is the parsed object: ``doc_id`` (int), ``title`` (str), ``abstract``
    (list of sentence strings, indexed by the claims' rationale sentence numbers) and
    ``structured`` (bool, defaults to ``False``). Insertion order is file order.

    Raises ``CorpusError`` (message ``file:line: ...``) for an unreadable file, invalid
    JSON or UTF-8, a malformed document or a repeated ``doc_id``.
    """
    corpus: dict[int, dict[str, Any]] = {}
    lines: dict[int, int] = {}
    for number, obj in _iter_jsonl(path):
        problem = None
        if not is_json_int(obj.get("doc_id")):
            problem = "'doc_id' must be an integer"
        elif not isinstance(obj.get("title"), str):
            problem = "'title' must be a string"
        elif not isinstance(obj.get("abstract"), list) or not all(isinstance(s, str) for s in obj["abstract"]):
            problem = "'abstract' must be a list of sentence strings"
        elif obj["doc_id"] in corpus:
            problem = f"doc_id {obj['doc_id']} repeats line {lines[obj['doc_id']]}"
        if problem:
            raise CorpusError(str(Problem(str(path), number, None, problem)))
        obj.setdefault("structured", False)
        corpus[obj["doc_id"]] = obj
        lines[obj["doc_id"]] = number
    return corpus


def load_predictions(path: str | Path) -> list[dict[str, Any]]:
    """Read predictions in the official format (module docstring); no validation beyond
    JSON objects (:func:`score` validates). Raises ``CorpusError`` naming file:line."""
    return [obj for _, obj in _iter_jsonl(path)]


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Counts:
    """Micro-averaging counts of the official scorer.

    ``abstract_relevant``: gold evidence abstracts; ``abstract_retrieved``: predicted
    (non-NEI) abstracts; ``abstract_correct_label_only`` / ``abstract_correct_rationalized``:
    correct predicted abstracts. ``sentence_relevant``: sentences in gold rationale sets;
    ``sentence_retrieved``: predicted sentences (list length, no truncation);
    ``sentence_correct_selection`` / ``sentence_correct_label``: correct predicted sentences.
    """

    abstract_relevant: int = 0
    abstract_retrieved: int = 0
    abstract_correct_label_only: int = 0
    abstract_correct_rationalized: int = 0
    sentence_relevant: int = 0
    sentence_retrieved: int = 0
    sentence_correct_selection: int = 0
    sentence_correct_label: int = 0

    def __add__(self, other: "Counts") -> "Counts":
        return Counts(**{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)})

    def to_dict(self) -> dict[str, int]:
        """The counts as a plain dict (JSON-able)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _gold_evidence(claim: Mapping[str, Any]) -> dict[str, tuple[str, list[frozenset[int]]]]:
    """``{doc_id: (label, [rationale set, ...])}``; one label per abstract (official)."""
    if not isinstance(claim.get("evidence"), dict):
        raise ScoringError(f"gold claim {claim.get('id')!r} has no 'evidence' object: it cannot be scored")
    out = {}
    for doc_id, sets in claim["evidence"].items():
        labels = {entry["label"] for entry in sets}
        if len(labels) > 1:
            raise ScoringError(f"gold claim {claim['id']}, doc {doc_id}: conflicting labels {sorted(labels)}")
        out[str(doc_id)] = (labels.pop(), [frozenset(entry["sentences"]) for entry in sets])
    return out


def _pred_evidence(pred: Mapping[str, Any]) -> dict[str, tuple[str, list[int]]]:
    """``{doc_id: (label, sentences)}`` without NEI entries; raises ``ScoringError``."""
    evidence = pred.get("evidence", {})
    if not isinstance(evidence, dict):
        raise ScoringError(f"prediction for claim {pred.get('id')!r}: 'evidence' must be an object")
    out: dict[str, tuple[str, list[int]]] = {}
    for doc_id, entry in evidence.items():
        where = f"prediction for claim {pred.get('id')!r}, doc {doc_id}"
        if not isinstance(entry, dict):
            raise ScoringError(f"{where}: expected an object with 'label' and 'sentences'")
        label = entry.get("label")
        if label in NEI_LABELS:
            continue
        if label not in GOLD_LABELS:
            raise ScoringError(f"{where}: label must be SUPPORT or CONTRADICT, got {label!r}")
        sents = entry.get("sentences", [])
        if not isinstance(sents, list) or not all(is_json_int(s) for s in sents):
            raise ScoringError(f"{where}: 'sentences' must be a list of sentence indices")
        key = str(doc_id)
        if key in out:
            raise ScoringError(f"{where}: doc predicted twice")
        out[key] = (label, sents)
    return out


def _correct_sentences(gold_sets: list[frozenset[int]], predicted: set[int], claim_id: Any) -> int:
    """Predicted sentences in a gold rationale set whose every member was predicted."""
    n = 0
    for ix in predicted:
        containing = [s for s in gold_sets if ix in s]
        if len(containing) > 1:
            raise ScoringError(f"gold claim {claim_id}: sentence {ix} is in two rationale sets")
        if containing and containing[0] <= predicted:
            n += 1
    return n


def count_claim(gold: Mapping[str, Any], pred: Mapping[str, Any] | None) -> Counts:
    """Counts for one claim; ``pred=None`` means nothing was predicted for it.

    Raises ``ScoringError`` for malformed entries (see :func:`score`).
    """
    gold_ev = _gold_evidence(gold)
    pred_ev = _pred_evidence(pred) if pred is not None else {}
    c = dict(
        abstract_relevant=len(gold_ev),
        sentence_relevant=sum(len(s) for _, sets in gold_ev.values() for s in sets),
        abstract_retrieved=len(pred_ev),
        sentence_retrieved=sum(len(sents) for _, sents in pred_ev.values()),
        abstract_correct_label_only=0,
        abstract_correct_rationalized=0,
        sentence_correct_selection=0,
        sentence_correct_label=0,
    )
    for doc_id, (label, sents) in pred_ev.items():
        if doc_id not in gold_ev:
            continue
        gold_label, gold_sets = gold_ev[doc_id]
        n_sent = _correct_sentences(gold_sets, set(sents), gold.get("id"))
        c["sentence_correct_selection"] += n_sent
        if label != gold_label:
            continue
        c["sentence_correct_label"] += n_sent
        c["abstract_correct_label_only"] += 1
        first = set(sents[:MAX_ABSTRACT_SENTS])
        if any(s <= first for s in gold_sets):
            c["abstract_correct_rationalized"] += 1
    return Counts(**c)


def count(gold_claims: Iterable[Mapping[str, Any]], predictions: Iterable[Mapping[str, Any]]) -> Counts:
    """Sum :func:`count_claim` over all gold claims, matching predictions by claim ``id``.

    A gold claim without a prediction counts as "predicted nothing" (the official
    leaderboard scorer instead demands one prediction line per claim, in order).
    Raises ``ScoringError`` for a prediction whose id is not a gold claim, a claim predicted
    twice, a label other than SUPPORT/CONTRADICT/NEI, malformed sentence lists, or gold
    claims without evidence or with conflicting labels in one abstract.
    """
    by_id: dict[Any, Mapping[str, Any]] = {}
    for pred in predictions:
        cid = pred.get("id")
        if cid in by_id:
            raise ScoringError(f"claim {cid!r} predicted twice")
        by_id[cid] = pred
    total = Counts()
    gold_ids = set()
    for gold in gold_claims:
        gold_ids.add(gold.get("id"))
        total = total + count_claim(gold, by_id.get(gold.get("id")))
    unknown = [cid for cid in by_id if cid not in gold_ids]
    if unknown:
        raise ScoringError(f"predictions for claims not in the gold file: {unknown[:5]}")
    return total


def _safe_divide(num: float, denom: float) -> float:
    return num / denom if denom else 0.0


def _prf(correct: int, retrieved: int, relevant: int) -> tuple[float, float, float]:
    precision = _safe_divide(correct, retrieved)
    recall = _safe_divide(correct, relevant)
    return precision, recall, _safe_divide(2 * precision * recall, precision + recall)


def metrics(counts: Counts) -> dict[str, float]:
    """Precision, recall and F1 of the four SciFact evaluations from ``counts``.

    Returns 18 float keys, values in [0, 1]: the union of :data:`OFFICIAL_METRIC_KEYS`
    (the official scorer's names, e.g. ``abstract_rationalized_f1``,
    ``sentence_label_precision``) and :data:`METRIC_KEYS` (issue 8's names, e.g.
    ``abstract_label_rationale_f1``, ``sentence_selection_label_recall``); the two
    vocabularies share the label-only and selection-only names.
    """
    values = {
        "abstract_label_only": _prf(counts.abstract_correct_label_only, counts.abstract_retrieved, counts.abstract_relevant),
        "abstract_rationalized": _prf(counts.abstract_correct_rationalized, counts.abstract_retrieved, counts.abstract_relevant),
        "sentence_selection": _prf(counts.sentence_correct_selection, counts.sentence_retrieved, counts.sentence_relevant),
        "sentence_label": _prf(counts.sentence_correct_label, counts.sentence_retrieved, counts.sentence_relevant),
    }
    out: dict[str, float] = {}
    for official, issue in _GROUPS:
        for part, value in zip(_PARTS, values[official]):
            out[f"{official}_{part}"] = value
            out[f"{issue}_{part}"] = value
    return out


def score(gold_claims: Iterable[Mapping[str, Any]], predictions: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Official SciFact metrics of ``predictions`` against ``gold_claims`` (module docstring).

    ``gold_claims`` as :func:`load_claims` returns them; ``predictions`` in the official
    format. Returns the dict of :func:`metrics`. Raises ``ScoringError`` (see :func:`count`).
    """
    return metrics(count(gold_claims, predictions))
