"""The neural judge: a MiniLM cross-encoder scoring (claim, sentence) pairs, run with
onnxruntime + tokenizers (no torch at inference).

Model: all-MiniLM-L6-v2 (Apache-2.0) with a mean-pooled 3-way head, pre-trained on the
NLI / fact-verification sets of ``../shared/nli`` and fine-tuned on SciFact train, then
exported to ONNX and int8-quantised (``training/train_verifier.py`` reproduces it; data,
licences, metrics and thresholds in ``generator/model/MODEL_CARD.md``).

Each (claim, sentence) pair gets probabilities over :data:`CLASSES` — SUPPORTS,
CONTRADICTS, NOT ENOUGH INFO — from ``softmax(logits / temperature)``; the temperature and
the decision thresholds live in ``generator/model/config.json`` beside the model and were
chosen on SciFact-train cross-validation folds. How one abstract is judged
(:meth:`NeuralJudge.judge_text`, same contract as :func:`generator.verification.judge_text`):

1. every sentence is scored; its *evidence score* is ``P(SUPPORTS) + P(CONTRADICTS)``;
2. sentences are ranked by evidence score (ties: lower index first);
3. if the best evidence score is below ``evidence_threshold`` the abstract holds no
   evidence: NOT ENOUGH INFO with an empty rationale;
4. otherwise the label is the larger of the summed SUPPORTS and CONTRADICTS probability
   over the rationale sentences (the best sentence plus those whose evidence score
   reaches ``rationale_threshold``, at most ``top_k``); confidence is that label's
   probability on the best sentence;
5. hybrid (``contradiction_rules`` in the config, on for the shipped model): a SUPPORTS
   label is switched to CONTRADICTS when the lexical rules
   (:func:`generator.verification.judge_text`: negation, antonyms, conflicting numbers)
   judge the *rationale sentences* a contradiction; confidence is then the best
   sentence's evidence score times the rules' confidence. The small model detects
   evidence well but misses negation; cross-validation on SciFact train chose this
   hybrid (model card).

:meth:`NeuralJudge.judge_candidates` judges all candidate abstracts of one claim and
keeps only the one with the highest evidence score (thresholds ``keep1_*``): the
cross-abstract reranking that cross-validation found best in the open setting.

Gate mode (``rules_label`` in the config): the label and confidence come from the lexical
judge on the whole abstract; the model only decides whether the abstract holds evidence
(step 3) and orders the rationale (steps 2 and 4).

Deterministic: onnxruntime runs with fixed thread counts and sequential execution, each
pair is scored on its own (no padding, no batch effects), and all sorts are stable.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator.models import CONTRADICTS, NOT_ENOUGH_INFO, SUPPORTS

__all__ = [
    "CLASSES",
    "MAX_LENGTH",
    "MODEL_DIR",
    "MODEL_VERSION",
    "NeuralJudge",
    "encode_pairs",
    "judge_text",
    "load_tokenizer",
]

CLASSES = (SUPPORTS, CONTRADICTS, NOT_ENOUGH_INFO)
"""Order of the model's output columns."""

MAX_LENGTH = 128
"""Tokens per (claim, sentence) pair, truncating the longer side first; training used the same."""

MODEL_DIR = Path(__file__).resolve().parent / "model"
"""Default folder of ``verifier.int8.onnx``, ``tokenizer.json`` and ``config.json``."""

MODEL_FILE = "verifier.int8.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "config.json"

MODEL_VERSION = "minilm-nli-scifact-1"
"""Changes whenever the shipped weights, tokenisation or decision rule change; part of
judgement cache keys."""

_BATCH = 1
"""Pairs per onnxruntime call. Dynamic int8 quantisation scales activations per tensor, so
in a padded batch a pair's score would depend on its neighbours (logits moved by up to
0.4 on SciFact); one pair per call keeps every score a function of its own text (cacheable
by (claim, sentence, MODEL_VERSION)) and is also the fastest on one thread (no padding)."""


def load_tokenizer(path: str | os.PathLike[str]):
    """A ``tokenizers.Tokenizer`` from ``tokenizer.json`` set to truncate pairs to
    :data:`MAX_LENGTH` (longest side first) and pad each batch to its longest member.
    Raises ``OSError``/``Exception`` from tokenizers when the file is unreadable."""
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(path))
    tok.enable_truncation(max_length=MAX_LENGTH, strategy="longest_first")
    tok.enable_padding(pad_id=0, pad_token="[PAD]")
    return tok


def encode_pairs(tokenizer, claims: Sequence[str], sentences: Sequence[str]) -> dict[str, np.ndarray]:
    """Encode ``(claim_i, sentence_i)`` pairs as the model's inputs: ``input_ids``,
    ``attention_mask``, ``token_type_ids``, each int64 of shape ``(n, length)`` with
    ``length <= MAX_LENGTH``. The claim is segment A, the sentence segment B (the order
    used in training). Training and inference both call this function."""
    if len(claims) != len(sentences):
        raise ValueError(f"{len(claims)} claims but {len(sentences)} sentences")
    encs = tokenizer.encode_batch(list(zip(claims, sentences)))
    return {
        "input_ids": np.array([e.ids for e in encs], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64),
    }


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


@dataclass(frozen=True)
class DecisionConfig:
    """Calibration and thresholds of the shipped model (``config.json``).

    ``temperature``: logits are divided by it before the softmax (temperature scaling,
    Guo et al. 2017, fitted on held-out SciFact-train folds). ``evidence_threshold``:
    minimum best-sentence ``P(SUPPORTS)+P(CONTRADICTS)`` for an abstract to count as
    evidence. ``rationale_threshold``: evidence score for a further sentence to join the
    rationale. Both thresholds were chosen by cross-validation on SciFact train (model card).
    """

    temperature: float = 1.0
    evidence_threshold: float = 0.5
    rationale_threshold: float = 0.5
    contradiction_rules: bool = False
    rules_label: bool = False
    keep1_evidence_threshold: float = 0.5
    keep1_rationale_threshold: float = 0.5

    @classmethod
    def from_file(cls, path: Path) -> "DecisionConfig":
        """Read ``config.json``; missing keys keep their defaults."""
        data = json.loads(path.read_text(encoding="utf-8"))
        known: dict = {
            k: float(data[k])
            for k in ("temperature", "evidence_threshold", "rationale_threshold",
                      "keep1_evidence_threshold", "keep1_rationale_threshold")
            if k in data
        }
        for flag in ("contradiction_rules", "rules_label"):
            if flag in data:
                known[flag] = bool(data[flag])
        return cls(**known)

    def keep1(self) -> "DecisionConfig":
        """The thresholds tuned for keeping one abstract per claim."""
        return dataclasses.replace(self, evidence_threshold=self.keep1_evidence_threshold,
                                   rationale_threshold=self.keep1_rationale_threshold)


class NeuralJudge:
    """The (claim, sentence) cross-encoder behind :meth:`judge_text`.

    Build with :meth:`load`. One onnxruntime session, one intra-op thread by default
    (``threads``), sequential execution: results do not depend on batch scheduling.
    Thread-safe for concurrent calls (onnxruntime sessions are).
    """

    def __init__(self, session, tokenizer, config: DecisionConfig, model_path: Path):
        self._session = session
        self._tokenizer = tokenizer
        self._input_names = {i.name for i in session.get_inputs()}
        self.config = config
        self.model_path = model_path

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None, *, threads: int = 1) -> "NeuralJudge":
        """Load the model folder ``path`` (default :data:`MODEL_DIR`): ``verifier.int8.onnx``
        (or ``path`` itself when it names an ``.onnx`` file, with the tokenizer and config
        beside it), ``tokenizer.json``, ``config.json`` (optional). Cached per
        ``(path, threads)``. Raises ``FileNotFoundError`` when the model or tokenizer is
        missing."""
        return _load_cached(str(Path(path) if path is not None else MODEL_DIR), threads)

    def logits(self, claims: Sequence[str], sentences: Sequence[str]) -> np.ndarray:
        """Raw logits, float32 of shape ``(n, 3)`` in :data:`CLASSES` order, for pairs
        ``(claims[i], sentences[i])``; each pair is run on its own (see ``_BATCH``)."""
        out = []
        for start in range(0, len(claims), _BATCH):
            feed = encode_pairs(self._tokenizer, claims[start:start + _BATCH], sentences[start:start + _BATCH])
            feed = {k: v for k, v in feed.items() if k in self._input_names}
            out.append(self._session.run(["logits"], feed)[0].astype(np.float32))
        if not out:
            return np.zeros((0, len(CLASSES)), dtype=np.float32)
        return np.concatenate(out, axis=0)

    def score_pairs(self, claim: str, sentences: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, float64 of shape ``(len(sentences), 3)`` (columns in
        :data:`CLASSES` order, rows sum to 1) of ``claim`` against each sentence."""
        if not sentences:
            return np.zeros((0, len(CLASSES)))
        logits = self.logits([claim] * len(sentences), list(sentences)).astype(np.float64)
        return _softmax(logits / self.config.temperature)

    def judge_text(
        self, claim_text: str, sentences: Sequence[str], *, top_k: int = 3
    ) -> tuple[str, float, list[tuple[int, float]]]:
        """Judge a claim against one document given as its sentences.

        Same contract as :func:`generator.verification.judge_text`: returns
        ``(label, confidence, rationale)`` with label in :data:`generator.models.LABELS`,
        confidence in [0, 1] (the label's calibrated probability on the deciding sentence;
        for NOT ENOUGH INFO, ``1 - best evidence score``), rationale ``[(sentence_index,
        evidence_score), ...]`` best first, at most ``top_k`` entries, empty for NOT
        ENOUGH INFO. Rule: module docstring. Empty claim or document gives NOT ENOUGH INFO
        with confidence 0.0. Never raises on text input.
        """
        return self._judge(claim_text, sentences, self.config, top_k)

    def __call__(self, claim_text: str, sentences: Sequence[str], *, top_k: int = 3):
        """Same as :meth:`judge_text`, so a loaded judge can be passed wherever a
        ``judge(claim_text, sentences)`` callable is expected (e.g. :func:`generator.evaluate.run`)."""
        return self.judge_text(claim_text, sentences, top_k=top_k)

    def judge_candidates(
        self, claim_text: str, documents: Sequence[Sequence[str]], *, top_k: int = 3
    ) -> list[tuple[str, float, list[tuple[int, float]]]]:
        """Judge one claim against several candidate documents (each a list of sentences)
        and keep at most one: the non-NEI judgement whose best sentence has the highest
        evidence score (ties: earlier document); every other document gets
        ``(NOT ENOUGH INFO, 0.0, [])``. Uses the ``keep1_*`` thresholds. Returns one
        result per document, in input order."""
        cfg = self.config.keep1()
        results = [self._judge(claim_text, doc, cfg, top_k) for doc in documents]
        best = None
        for i, (label, _, rationale) in enumerate(results):
            if label != NOT_ENOUGH_INFO and (best is None or rationale[0][1] > results[best][2][0][1]):
                best = i
        return [r if i == best else (NOT_ENOUGH_INFO, 0.0, []) for i, r in enumerate(results)]

    def _judge(self, claim_text, sentences, cfg: DecisionConfig, top_k: int):
        if not sentences or not claim_text.strip():
            return NOT_ENOUGH_INFO, 0.0, []
        sentences = list(sentences)
        probs = self.score_pairs(claim_text, sentences)
        check = functools.partial(_rules_contradict, claim_text, sentences) if cfg.contradiction_rules else None
        rules = functools.partial(_rules_label, claim_text, sentences) if cfg.rules_label else None
        return decide(probs, cfg, top_k=top_k, contradiction_check=check, rules_label=rules)


def _rules_label(claim_text: str, sentences: Sequence[str]) -> tuple[str, float]:
    """The lexical judge's label and confidence for the whole document."""
    from generator.verification import judge_text as lexical_judge

    label, confidence, _ = lexical_judge(claim_text, list(sentences))
    return label, float(confidence)


def _rules_contradict(claim_text: str, sentences: Sequence[str], chosen: Sequence[int]) -> float | None:
    """The lexical rules' confidence that ``sentences[chosen]`` contradict the claim, or
    ``None`` when they do not call it a contradiction."""
    from generator.verification import judge_text as lexical_judge

    label, confidence, _ = lexical_judge(claim_text, [sentences[i] for i in chosen])
    return float(confidence) if label == CONTRADICTS else None


def decide(
    probs: np.ndarray,
    config: DecisionConfig,
    *,
    top_k: int = 3,
    contradiction_check: Callable[[list[int]], float | None] | None = None,
    rules_label: Callable[[], tuple[str, float]] | None = None,
) -> tuple[str, float, list[tuple[int, float]]]:
    """The abstract-level decision of :meth:`NeuralJudge.judge_text` on sentence
    probabilities ``probs`` (shape ``(n, 3)``, :data:`CLASSES` order); rules in the module
    docstring. ``contradiction_check(rationale_indices)`` returns the rules' confidence
    in a contradiction or ``None`` (step 5; ignored unless SUPPORTS). ``rules_label()``
    returns the lexical judge's ``(label, confidence)`` for the whole document: when
    given, it replaces steps 4-5 (the model only gates and orders the rationale; the
    rules' NOT ENOUGH INFO stands). Used by the
    training script's cross-validation, so the measured rule is the shipped one."""
    if probs.shape[0] == 0 or top_k < 1:
        return NOT_ENOUGH_INFO, 0.0, []
    evidence = probs[:, 0] + probs[:, 1]
    order = np.argsort(-evidence, kind="stable")
    best = int(order[0])
    if evidence[best] < config.evidence_threshold:
        return NOT_ENOUGH_INFO, float(1.0 - evidence[best]), []
    chosen = [best] + [int(i) for i in order[1:] if evidence[i] >= config.rationale_threshold]
    chosen = chosen[:top_k]
    rationale = [(i, float(evidence[i])) for i in chosen]
    if rules_label is not None:
        label, confidence = rules_label()
        if label == NOT_ENOUGH_INFO:
            return NOT_ENOUGH_INFO, min(max(confidence, 0.0), 1.0), []
        return label, min(max(confidence, 0.0), 1.0), rationale
    support = float(probs[chosen, 0].sum())
    contradict = float(probs[chosen, 1].sum())
    if contradict > support:
        label, confidence = CONTRADICTS, float(probs[best, 1])
    else:
        label, confidence = SUPPORTS, float(probs[best, 0])
        rules = contradiction_check(chosen) if contradiction_check is not None else None
        if rules is not None:
            label, confidence = CONTRADICTS, float(evidence[best]) * rules
    return label, min(max(confidence, 0.0), 1.0), rationale


@functools.lru_cache(maxsize=4)
def _load_cached(path: str, threads: int) -> NeuralJudge:
    import onnxruntime as ort

    p = Path(path)
    model_file = p if p.suffix == ".onnx" else p / MODEL_FILE
    folder = model_file.parent
    for needed in (model_file, folder / TOKENIZER_FILE):
        if not needed.is_file():
            raise FileNotFoundError(f"neural verifier file missing: {needed}")
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.log_severity_level = 3
    session = ort.InferenceSession(str(model_file), sess_options=opts, providers=["CPUExecutionProvider"])
    config_path = folder / CONFIG_FILE
    config = DecisionConfig.from_file(config_path) if config_path.is_file() else DecisionConfig()
    return NeuralJudge(session, load_tokenizer(folder / TOKENIZER_FILE), config, model_file)


_lock = threading.Lock()


def judge_text(claim_text: str, sentences: Sequence[str], *, top_k: int = 3) -> tuple[str, float, list[tuple[int, float]]]:
    """:meth:`NeuralJudge.judge_text` of the default shipped model (loaded once, lazily).
    A drop-in for :func:`generator.verification.judge_text` (e.g. as the ``judge`` of
    :func:`generator.evaluate.run`). Raises ``FileNotFoundError`` if the model is missing."""
    with _lock:
        judge = NeuralJudge.load()
    return judge.judge_text(claim_text, sentences, top_k=top_k)
