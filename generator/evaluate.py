"""``litsynth eval scifact``: run the project's verifier on SciFact claims and score it.

Two settings (issue 8):

* ``oracle``: each claim is judged against its ``cited_doc_ids`` abstracts;
* ``open``: each claim retrieves its candidate abstracts from the whole corpus with BM25
  (bm25s, PyStemmer English stemmer, English stop words) over title + abstract: of the top
  ``retrieval_k`` abstracts with a positive score, those scoring at least
  ``retrieval_ratio`` × the best one (:data:`RETRIEVAL_RATIO`).

Every (claim, abstract) pair goes to a *judge*
``judge(claim_text, sentences) -> (label, confidence, [(sentence_index, score), ...])``
with labels ``SUPPORTS`` / ``CONTRADICTS`` / ``NOT ENOUGH INFO`` (the default judge is
:func:`generator.verification.judge_text`). Predictions are written in the official
SciFact format and scored by :mod:`generator.scifact`.
"""

from __future__ import annotations

import argparse
import json
import numbers
import sys
import time
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from generator import __version__, clock, scifact
from generator.errors import CorpusError, LitsynthError
from generator.models import CONTRADICTS, NOT_ENOUGH_INFO, SUPPORTS, is_json_int

SETTINGS = ("oracle", "open")

RUN_SCHEMA = "litsynth/scifact-run/1"
"""``schema`` of the run record :func:`run` returns and ``--out`` writes; the site's
Method page shows every run record in ``content/verifier/`` (:func:`check_run`)."""

Judge = Callable[[str, list[str]], tuple[str, float, list[tuple[int, float]]]]
"""``(claim_text, abstract_sentences) -> (label, confidence in [0, 1], ranked rationale)``."""

_TO_SCIFACT = {SUPPORTS: scifact.SUPPORT, CONTRADICTS: scifact.CONTRADICT}

RETRIEVAL_RATIO = 0.9
"""Open setting: a retrieved abstract is judged only when its BM25 score is at least this
fraction of the claim's best score (the best one is always judged).

Why: 70 % of the gold evidence abstracts of SciFact train claims are BM25's first hit and
8 % its second, so judging the top 3 alike adds more wrong abstracts than right ones (the
judges call some of them SUPPORTS). Our measurement on SciFact train (809 claims, judged
against their top 10 abstracts once, policies over (k ≤ 1, 2, 3, 5, 10) × (ratio 0, 0.5 …
0.9) × (at most 1, 2, 3 abstracts)): the default judge picked k 5 / ratio 0.9 / at most
3 on four of five claim folds (``training.data.claim_folds``), and label-only F1 on all
of train went 0.409 → 0.426 (default judge; its model saw these claims in training) and
0.353 → 0.414 (lexical judge, ``LITSYNTH_VERIFIER=lexical``) against plain top 3. With
``retrieval_k`` 3 the same ratio scores 0.423 / 0.413. ``--retrieval-ratio 0`` restores
plain top-k."""


class CorpusIndex:
    """BM25 index over ``title + " " + abstract`` of every corpus document.

    Tokenisation: bm25s's default word pattern, lower-cased, English stop words, Snowball
    English stemmer (PyStemmer); scoring: bm25s defaults (Lucene BM25, k1=1.5, b=0.75).
    Building over the 5,183 SciFact abstracts takes about a second.
    """

    def __init__(self, corpus: Mapping[int, Mapping[str, Any]]):
        import bm25s
        import Stemmer

        self._bm25s = bm25s
        self._stemmer = Stemmer.Stemmer("english")
        self._doc_ids = list(corpus)
        texts = [f"{doc['title']} {' '.join(doc['abstract'])}" for doc in corpus.values()]
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=self._stemmer, show_progress=False)
        self._index = bm25s.BM25()
        self._index.index(tokens, show_progress=False)

    def search(self, queries: Sequence[str], k: int) -> list[list[tuple[int, float]]]:
        """Top ``k`` ``(doc_id, score)`` per query, best first; documents scoring 0 (no
        shared term) are dropped, so a list may be shorter than ``k``."""
        if not queries or not self._doc_ids or k <= 0:
            return [[] for _ in queries]
        # String tokens are mapped through the index's own vocabulary; unseen words drop out.
        tokens = self._bm25s.tokenize(
            list(queries), stopwords="en", stemmer=self._stemmer, return_ids=False, show_progress=False
        )
        docs, scores = self._index.retrieve(tokens, k=min(k, len(self._doc_ids)), show_progress=False)
        return [
            [(self._doc_ids[int(d)], float(s)) for d, s in zip(row_docs, row_scores) if s > 0]
            for row_docs, row_scores in zip(docs, scores)
        ]


_RUN_KEYS = ("schema", "generated_at", "verifier", "claims_file", "corpus_file", "setting", "claims",
             "retrieval_k", *scifact.METRIC_KEYS)


def check_run(data: Any) -> None:
    """Raise ``ValueError`` (one line) unless ``data`` is a run record of :func:`run`: an
    object with ``schema`` = :data:`RUN_SCHEMA`, ``generated_at``, ``verifier``
    (``{"method", "version", "thresholds": {name: number}}``), ``claims_file``,
    ``corpus_file``, ``setting`` (one of :data:`SETTINGS`), ``claims`` (int),
    ``retrieval_k`` and the 12 metrics of :data:`generator.scifact.METRIC_KEYS` as numbers
    in [0, 1]."""
    if not isinstance(data, dict):
        raise ValueError("a run record must be a JSON object")
    missing = [k for k in _RUN_KEYS if k not in data]
    if missing:
        raise ValueError(f"the run record lacks {', '.join(missing)}")
    if data["schema"] != RUN_SCHEMA:
        raise ValueError(f"schema is {data['schema']!r}, expected {RUN_SCHEMA!r}")
    if data["setting"] not in SETTINGS:
        raise ValueError(f"setting is {data['setting']!r}, expected one of {', '.join(SETTINGS)}")
    if not is_json_int(data["claims"]) or data["claims"] < 1:
        raise ValueError(f"claims is {data['claims']!r}, expected a positive integer")
    verifier = data["verifier"]
    if (not isinstance(verifier, dict) or not all(isinstance(verifier.get(k), str) for k in ("method", "version"))
            or not isinstance(verifier.get("thresholds"), dict)
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool)
                       for v in verifier["thresholds"].values())):
        raise ValueError("verifier must be {\"method\": str, \"version\": str, \"thresholds\": {name: number}}")
    for key in scifact.METRIC_KEYS:
        value = data[key]
        if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0.0 <= value <= 1.0:
            raise ValueError(f"{key} is {value!r}, expected a number in [0, 1]")


def _default_judge() -> Judge:
    # The verifier the site uses (hybrid when the shipped model loads, else lexical), so the
    # numbers printed here are the numbers of the verdicts on the pages.
    try:
        from generator.verification import judge_document
    except ImportError as exc:
        raise LitsynthError(f"the default verifier (generator.verification.judge_document) cannot be loaded: {exc}") from exc
    return judge_document


def _candidates(
    claims: Sequence[Mapping[str, Any]],
    corpus: Mapping[int, Mapping[str, Any]],
    setting: str,
    retrieval_k: int,
    retrieval_ratio: float = RETRIEVAL_RATIO,
) -> list[list[int]]:
    if setting == "oracle":
        out = []
        for claim in claims:
            missing = [d for d in claim.get("cited_doc_ids", []) if d not in corpus]
            if missing:
                raise CorpusError(f"claim {claim['id']}: cited doc(s) {missing} not in the corpus")
            out.append(list(dict.fromkeys(claim.get("cited_doc_ids", []))))
        return out
    if setting == "open":
        hits = CorpusIndex(corpus).search([c["claim"] for c in claims], retrieval_k)
        return [[doc_id for doc_id, score in row if score >= retrieval_ratio * row[0][1]] for row in hits]
    raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")


def _judged_entry(result: Any, n_sentences: int, where: str) -> dict[str, Any] | None:
    """Official-format evidence entry from a judge result, or ``None`` for NEI."""
    try:
        label, confidence, rationale = result
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}: judge must return (label, confidence, rationale), got {result!r}") from exc
    if label == NOT_ENOUGH_INFO:
        return None
    if label not in _TO_SCIFACT:
        raise ValueError(f"{where}: judge returned unknown label {label!r}")
    sentences: list[int] = []
    for item in rationale:
        ix = item[0]
        # numbers.Integral admits numpy integers, which array-based judges return.
        if isinstance(ix, bool) or not isinstance(ix, numbers.Integral) or not 0 <= ix < n_sentences:
            raise ValueError(f"{where}: judge returned sentence index {ix!r} outside 0..{n_sentences - 1}")
        ix = int(ix)
        if ix not in sentences:
            sentences.append(ix)
    return {
        "label": _TO_SCIFACT[label],
        "sentences": sentences[: scifact.MAX_ABSTRACT_SENTS],
        "confidence": float(confidence),
    }


def _predict(claims, corpus, setting, judge, retrieval_k, retrieval_ratio) -> tuple[list[dict[str, Any]], int]:
    if not 0.0 <= retrieval_ratio <= 1.0:
        raise ValueError(f"retrieval_ratio must be in [0, 1], got {retrieval_ratio!r}")
    judge = judge or _default_judge()
    candidates = _candidates(claims, corpus, setting, retrieval_k, retrieval_ratio)
    predictions = []
    pairs = 0
    for claim, doc_ids in zip(claims, candidates):
        evidence = {}
        for doc_id in doc_ids:
            sentences = list(corpus[doc_id]["abstract"])
            pairs += 1
            entry = _judged_entry(
                judge(claim["claim"], sentences), len(sentences), f"claim {claim['id']}, doc {doc_id}"
            )
            if entry is not None:
                evidence[str(doc_id)] = entry
        predictions.append({"id": claim["id"], "evidence": evidence})
    return predictions, pairs


def predict(
    claims: Sequence[Mapping[str, Any]],
    corpus: Mapping[int, Mapping[str, Any]],
    *,
    setting: str = "oracle",
    judge: Judge | None = None,
    retrieval_k: int = 3,
    retrieval_ratio: float = RETRIEVAL_RATIO,
) -> list[dict[str, Any]]:
    """Official-format SciFact predictions, one per claim in order.

    ``claims`` as :func:`generator.scifact.load_claims` returns them, ``corpus`` as
    :func:`generator.scifact.load_corpus`. ``setting`` picks the candidate abstracts
    (module docstring); ``judge`` defaults to :func:`generator.verification.judge_text`.
    Each entry is ``{"id": claim_id, "evidence": {str(doc_id): {"label": "SUPPORT" |
    "CONTRADICT", "sentences": [...], "confidence": float}}}``: SUPPORTS/CONTRADICTS map to
    SciFact's SUPPORT/CONTRADICT, NOT ENOUGH INFO leaves the abstract out (how SciFact
    expresses NEI), sentences are the judge's rationale indices in its order, deduplicated,
    at most :data:`generator.scifact.MAX_ABSTRACT_SENTS`. ``confidence`` is extra (the
    scorer ignores it) and kept for calibration studies.

    Raises ``ValueError`` for an unknown setting, a ``retrieval_ratio`` outside [0, 1] or
    a judge result that is malformed (unknown label, sentence index out of range),
    ``CorpusError`` when a cited doc is not in the corpus (oracle), ``LitsynthError`` when
    the default judge cannot be imported.
    """
    return _predict(claims, corpus, setting, judge, retrieval_k, retrieval_ratio)[0]


def run(
    claims_path: str | Path,
    corpus_path: str | Path,
    setting: str = "oracle",
    *,
    judge: Judge | None = None,
    limit: int | None = None,
    retrieval_k: int = 3,
    retrieval_ratio: float = RETRIEVAL_RATIO,
) -> dict[str, Any]:
    """Load, predict and score; returns metrics plus run facts.

    Keys: every metric of :func:`generator.scifact.metrics` (floats in [0, 1]);
    ``schema`` (:data:`RUN_SCHEMA`); ``litsynth`` (version); ``generated_at`` (ISO 8601
    UTC; from ``SOURCE_DATE_EPOCH`` when set); ``verifier`` (``{"method", "version",
    "thresholds"}`` of the default judge — :func:`generator.verification.active_method`
    and :func:`generator.verification.thresholds` —, ``method="custom"`` for another
    judge); ``claims_file``, ``corpus_file`` (file names), ``corpus_docs``; ``limit``;
    ``setting``; ``claims`` (number scored: the first ``limit`` claims of the file when
    ``limit`` is given); ``pairs_judged`` ((claim, abstract) judge calls); ``predicted_docs``
    (non-NEI predictions); ``counts`` (the scorer's raw counts, a dict);
    ``seconds`` (wall time of prediction, including the BM25 index in ``open``; loading
    excluded); ``retrieval_k``, ``retrieval_ratio``. Raises ``CorpusError`` for unreadable or empty files,
    ``ScoringError`` for unscorable claims, ``ValueError`` as :func:`predict`.
    """
    if setting not in SETTINGS:
        raise ValueError(f"setting must be one of {SETTINGS}, got {setting!r}")
    claims = scifact.load_claims(claims_path)
    if not claims:
        raise CorpusError(f"{claims_path}: no claims in the file — expected SciFact claims, one JSON object "
                          f"per line (e.g. claims_train.jsonl)")
    if limit is not None:
        claims = claims[:limit]
    corpus = scifact.load_corpus(corpus_path)
    if not corpus:
        raise CorpusError(f"{corpus_path}: no documents in the file — expected the SciFact corpus, one JSON "
                          f"object per line (corpus.jsonl)")
    start = time.perf_counter()
    predictions, pairs = _predict(claims, corpus, setting, judge, retrieval_k, retrieval_ratio)
    seconds = time.perf_counter() - start
    counts = scifact.count(claims, predictions)
    result: dict[str, Any] = dict(scifact.metrics(counts))
    if judge is None:
        from generator import verification
        method, version = verification.active_method()
        verifier = {"method": method, "version": version, "thresholds": verification.thresholds()}
    else:
        verifier = {"method": "custom", "version": getattr(judge, "__name__", repr(judge)), "thresholds": {}}
    result.update(
        schema=RUN_SCHEMA,
        litsynth=__version__,
        generated_at=clock.now_iso(),
        verifier=verifier,
        claims_file=Path(claims_path).name,
        corpus_file=Path(corpus_path).name,
        corpus_docs=len(corpus),
        limit=limit,
        setting=setting,
        claims=len(claims),
        pairs_judged=pairs,
        predicted_docs=sum(len(p["evidence"]) for p in predictions),
        counts=counts.to_dict(),
        seconds=round(seconds, 3),
        retrieval_k=retrieval_k,
        retrieval_ratio=retrieval_ratio,
    )
    return result


# --------------------------------------------------------------------------- command line

_TABLE_ROWS = (
    ("abstract label-only", "abstract_label_only"),
    ("abstract label+rationale", "abstract_label_rationale"),
    ("sentence selection", "sentence_selection"),
    ("sentence selection+label", "sentence_selection_label"),
)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _ratio(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def add_eval_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the arguments of ``litsynth eval scifact`` on ``parser`` (a subparser):
    ``--claims PATH`` and ``--corpus PATH`` (required), ``--setting oracle|open``
    (default oracle), ``--json``, ``--limit N``, ``--retrieval-k K`` (default 3),
    ``--retrieval-ratio R`` (default :data:`RETRIEVAL_RATIO`) and ``--out PATH`` (also
    write the full run record as JSON)."""
    parser.add_argument("--claims", required=True, metavar="PATH", help="SciFact claims JSONL (e.g. claims_train.jsonl)")
    parser.add_argument("--corpus", required=True, metavar="PATH", help="SciFact corpus.jsonl")
    parser.add_argument("--setting", choices=SETTINGS, default="oracle",
                        help="oracle: judge the cited abstracts; open: retrieve from the whole corpus (default: oracle)")
    parser.add_argument("--json", action="store_true", help="print one JSON object of metrics instead of a table")
    parser.add_argument("--limit", type=_positive_int, metavar="N", help="score only the first N claims")
    parser.add_argument("--retrieval-k", type=_positive_int, default=3, metavar="K",
                        help="abstracts retrieved per claim in the open setting (default: 3)")
    parser.add_argument("--retrieval-ratio", type=_ratio, default=RETRIEVAL_RATIO, metavar="R",
                        help="open setting: judge only retrieved abstracts whose BM25 score is at least R times "
                             f"the best one's; 0 judges all top K (default: {RETRIEVAL_RATIO})")
    parser.add_argument("--out", metavar="PATH", help="also write the full run record (metrics, counts, timing) as JSON")


def format_table(result: Mapping[str, Any]) -> str:
    """A plain-text table (metric, P, R, F1) of a :func:`run` result, with a header line."""
    lines = [
        f"SciFact, {result.get('setting', '?')} setting: {result.get('claims', '?')} claims, "
        f"{result.get('pairs_judged', '?')} pairs judged in {result.get('seconds', '?')} s",
        f"{'metric':<26}{'P':>8}{'R':>8}{'F1':>8}",
    ]
    for title, key in _TABLE_ROWS:
        p, r, f = (result[f"{key}_{part}"] for part in ("precision", "recall", "f1"))
        lines.append(f"{title:<26}{p:>8.3f}{r:>8.3f}{f:>8.3f}")
    return "\n".join(lines)


SMALL_RUN = 100
"""Fewer scored claims than this: the run is flagged as too small for stable numbers (with
about 100 claims, one abstract more or less found moves label-only F1 by about 0.01–0.02)."""


def caveats(result: Mapping[str, Any]) -> dict[str, bool]:
    """What limits a :func:`run` result: ``in_sample`` (a SciFact *train* claims file —
    every threshold was chosen on it), ``model_trained`` (in sample, and the hybrid
    verifier's model was fine-tuned on it too) and ``small`` (fewer claims than
    :data:`SMALL_RUN`). :func:`notes` words them for ``litsynth eval``; the Method page
    shows the same flags from each run record."""
    in_sample = "train" in str(result.get("claims_file", ""))
    claims = result.get("claims")
    return {"in_sample": in_sample,
            "model_trained": in_sample and result.get("verifier", {}).get("method") == "hybrid",
            "small": isinstance(claims, int) and claims < SMALL_RUN}


def notes(result: Mapping[str, Any]) -> list[str]:
    """:func:`caveats` as sentences, for ``litsynth eval`` to print on stderr."""
    flags = caveats(result)
    out = []
    if flags["in_sample"]:
        trained = "the model was fine-tuned and " if flags["model_trained"] else ""
        out.append(f"in-sample: {trained}the thresholds were chosen on SciFact train, so these numbers "
                   "overstate what the verifier does on unseen claims (cross-validated numbers: "
                   "generator/model/MODEL_CARD.md)")
    if flags["small"]:
        out.append(f"only {result['claims']} claims scored: too few for stable numbers")
    return out


def _check_out(path: Path) -> None:
    """Raise ``LitsynthError`` when ``path`` holds something other than a run record: an
    ``--out README.md`` typo would otherwise replace the file (found by a trial user)."""
    if not path.exists():
        return
    try:
        check_run(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise LitsynthError(f"{path}: exists and is not a litsynth eval run record — not overwritten; "
                            "give --out a new file or an earlier run record") from exc


def main_eval(args: argparse.Namespace) -> int:
    """Run ``litsynth eval scifact`` from parsed arguments (see :func:`add_eval_arguments`).

    Prints the table, or with ``--json`` exactly one JSON object on stdout holding the 18
    metric keys of :func:`generator.scifact.metrics` (floats in [0, 1]); :func:`notes` go
    to stderr. Returns 0; errors
    propagate as ``LitsynthError`` subclasses (``CorpusError``, ``ScoringError``) for
    ``generator.cli`` to report.
    """
    out = getattr(args, "out", None)
    if out:
        _check_out(Path(out))
    try:
        result = run(
            args.claims,
            args.corpus,
            getattr(args, "setting", "oracle") or "oracle",
            limit=getattr(args, "limit", None),
            retrieval_k=getattr(args, "retrieval_k", 3) or 3,
            retrieval_ratio=getattr(args, "retrieval_ratio", RETRIEVAL_RATIO),
        )
    except ValueError as exc:
        # A malformed judge result is a verifier bug, but the CLI reports it like any failure.
        raise LitsynthError(str(exc)) from exc
    if out:
        try:
            Path(out).write_text(json.dumps(result, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        except OSError as exc:
            raise LitsynthError(f"{out}: cannot write the run record: {exc.strerror or exc}") from exc
    for note in notes(result):
        print(f"note: {note}", file=sys.stderr)
    if getattr(args, "json", False):
        keys = dict.fromkeys(scifact.OFFICIAL_METRIC_KEYS + scifact.METRIC_KEYS)
        print(json.dumps({k: result[k] for k in keys}, sort_keys=True))
    else:
        print(format_table(result))
    return 0
