"""Would a learned combination of the rules, the model and the BM25 rank judge better?

An experiment, not part of the site: ``python -m training.combiner_cv --workdir DIR``
after ``python -m training.train_verifier pretrain`` and ``… cv`` (it reads the
out-of-fold sentence logits ``cv_fold*.pkl`` in ``DIR``). Prints one table row per setting.

For every SciFact-train claim and each of its candidate abstracts (the cited ones and the
BM25 top :data:`DEPTH`) it gathers features — the lexical rules' label and confidence
(:func:`generator.verification.judge_text`), the held-out fold model's sentence
probabilities (best evidence sentence, temperature :data:`TEMPERATURE`), and the
abstract's BM25 rank and score ratio to the claim's best — and fits a multinomial
logistic regression (SUPPORTS / CONTRADICTS / NOT ENOUGH INFO of the abstract) on four
folds, scoring the fifth. The label threshold and the retrieval policy (depth, ratio to
the best score, abstracts kept per claim) are chosen on the four training folds,
maximising open-setting abstract label-only F1, with :data:`FREE_THRESHOLDS` or with
the threshold fixed at 0.5.

Result of 2026-12-05 (fold models of that day, lexical-7 rules — 8 and 9 score the same —, 809 claims, 4,298
candidates, l2 = 5; 34 s):

=====================================  =================  ==========
label when P(label) ≥ τ                 open F1 (P / R)    oracle F1
=====================================  =================  ==========
τ chosen for F1 (0.15–0.2 on 5 folds)   0.477 (0.48/0.48)  0.593
τ = 0.5                                 0.366 (0.62/0.26)  0.386
site verifier (lexical-9), comparison   0.409 (0.51/0.34)  0.505
=====================================  =================  ==========

The F1 gain exists only where the combiner labels abstracts it gives a 15–20%
probability: with calibrated probabilities the F1-maximising threshold is half the
attainable F1 (Lipton, Elkan & Naryanaswamy, ECML-PKDD 2014). A site that shows such a
label as a verdict with confidence 0.2 is what litsynth exists to avoid, so the site keeps
its verifier; this script records the measurement.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generator import scifact
from generator.models import CONTRADICTS, NOT_ENOUGH_INFO, SUPPORTS

DEPTH = 5
"""BM25 candidates per claim (the depth of the logits ``train_verifier cv`` stored)."""
TEMPERATURE = 0.9
"""Softmax temperature of the fold logits (the fitted temperatures were 0.89–0.92)."""
FREE_THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7)
POLICIES = tuple((k, ratio, keep) for k in (1, 3, 5) for ratio in (0.0, 0.8, 0.9) for keep in (1, 2, 3))
"""(BM25 depth, minimum score ratio to the best, abstracts kept per claim)."""
_LABEL_INDEX = {SUPPORTS: 0, CONTRADICTS: 1, NOT_ENOUGH_INFO: 2}
_TO_SCIFACT = {0: scifact.SUPPORT, 1: scifact.CONTRADICT}


def candidate_rows(claims: Sequence[Mapping[str, Any]], corpus: Mapping[int, Mapping[str, Any]],
                   logits: Mapping[int, Mapping[int, np.ndarray]], fold_of: Mapping[int, int],
                   bm25: Mapping[int, list[tuple[int, float]]]) -> list[dict[str, Any]]:
    """One dict per (claim, candidate abstract) with the features and the gold label
    (``y``: 0 SUPPORT, 1 CONTRADICT, 2 not evidence)."""
    from generator import verification
    from training import data as D
    from training.cv_analysis import softmax

    rows = []
    for c in claims:
        gold = D.rationale_labels(c)
        top = bm25[c["id"]][:DEPTH]
        best = top[0][1] if top else 0.0
        rank = {d: (r, s) for r, (d, s) in enumerate(top)}
        cited = list(dict.fromkeys(c.get("cited_doc_ids", [])))
        for d in dict.fromkeys(cited + [d for d, _ in top]):
            if d not in logits[c["id"]]:
                continue
            label, confidence, rationale = verification.judge_text(c["claim"], list(corpus[d]["abstract"]))
            p = softmax(logits[c["id"]][d], TEMPERATURE)
            evidence = p[:, 0] + p[:, 1]
            i = int(evidence.argmax())
            r, s = rank.get(d, (DEPTH, 0.0))
            rows.append({
                "cid": c["id"], "doc": d, "fold": fold_of[c["id"]], "cited": d in cited,
                "rank": r, "ratio": s / best if best > 0 else 0.0,
                "lex": _LABEL_INDEX[label], "lex_conf": confidence,
                "sentences": [j for j, _ in rationale] if rationale else [i],
                "pS": float(p[i, 0]), "pC": float(p[i, 1]), "maxS": float(p[:, 0].max()),
                "maxC": float(p[:, 1].max()), "n_evidence": int((evidence > 0.5).sum()),
                "y": int(gold.get(d, (D.NEI, set()))[0]),
            })
    return rows


def features(row: Mapping[str, Any]) -> np.ndarray:
    """Feature vector of one row (shape ``(21,)``): bias, rules one-hot and confidence,
    model probabilities and their agreement with the rules, BM25 rank one-hot and ratio."""
    lex = np.eye(3)[row["lex"]]
    ps, pc = row["pS"], row["pC"]
    rank = row["rank"]
    return np.array([
        1.0, *lex, row["lex_conf"] * lex[0], row["lex_conf"] * lex[1],
        ps, pc, row["maxS"], row["maxC"], np.log((ps + 1e-4) / (pc + 1e-4)), min(row["n_evidence"], 5) / 5,
        lex[0] * pc, lex[1] * ps, lex[0] * ps, lex[1] * pc,
        row["ratio"], float(rank == 0), float(rank == 1), float(rank == 2), float(rank >= 3),
    ])


def fit(x: np.ndarray, y: np.ndarray, l2: float = 5.0, iterations: int = 3000, rate: float = 0.5) -> np.ndarray:
    """Multinomial logistic regression by full-batch gradient descent: weights of shape
    ``(n_features, 3)`` minimising mean cross-entropy + ``l2 / n`` · ½‖W‖²."""
    n, k = x.shape
    w = np.zeros((k, 3))
    onehot = np.eye(3)[y]
    for _ in range(iterations):
        w -= rate * (x.T @ (probabilities(w, x) - onehot) + l2 * w) / n
    return w


def probabilities(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Class probabilities, shape ``(n, 3)``."""
    z = x @ w
    z -= z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def predictions(claims, rows, probs, threshold: float, policy: tuple[int, float, int] | None):
    """Official-format predictions. ``policy`` ``None`` = oracle (cited abstracts only)."""
    by_claim: dict[int, list] = {}
    for row, p in zip(rows, probs):
        if policy is None and not row["cited"]:
            continue
        if policy is not None and (row["rank"] >= policy[0] or row["ratio"] < policy[1]):
            continue
        label = int(np.argmax(p[:2]))
        if p[label] >= threshold:
            by_claim.setdefault(row["cid"], []).append((float(p[label]), row, label))
    out = []
    for c in claims:
        chosen = sorted(by_claim.get(c["id"], []), key=lambda t: -t[0])
        if policy is not None:
            chosen = chosen[:policy[2]]
        out.append({"id": c["id"], "evidence": {str(row["doc"]): {"label": _TO_SCIFACT[label], "sentences": row["sentences"][:3]}
                                                for _, row, label in chosen}})
    return out


def f1(claims, preds) -> float:
    return scifact.metrics(scifact.count(claims, preds))["abstract_label_only_f1"]


def cross_validate(claims, rows, thresholds: Sequence[float], l2: float) -> dict[str, dict[str, float]]:
    """Pooled held-out metrics for the open (chosen policy) and oracle settings."""
    folds = sorted({r["fold"] for r in rows})
    fold_of = {r["cid"]: r["fold"] for r in rows}
    open_preds, oracle_preds, chosen = [], [], []
    for f in folds:
        train = [r for r in rows if r["fold"] != f]
        test = [r for r in rows if r["fold"] == f]
        w = fit(np.array([features(r) for r in train]), np.array([r["y"] for r in train]), l2)
        p_train = probabilities(w, np.array([features(r) for r in train]))
        p_test = probabilities(w, np.array([features(r) for r in test]))
        train_claims = [c for c in claims if fold_of[c["id"]] != f]
        test_claims = [c for c in claims if fold_of[c["id"]] == f]
        _, t, pol = max((f1(train_claims, predictions(train_claims, train, p_train, t, pol)), t, pol)
                        for t in thresholds for pol in POLICIES)
        _, t_oracle = max((f1(train_claims, predictions(train_claims, train, p_train, t, None)), t) for t in thresholds)
        chosen.append((t, pol))
        open_preds += predictions(test_claims, test, p_test, t, pol)
        oracle_preds += predictions(test_claims, test, p_test, t_oracle, None)
    return {"open": scifact.metrics(scifact.count(claims, open_preds)),
            "oracle": scifact.metrics(scifact.count(claims, oracle_preds)),
            "chosen": {"per_fold": [{"threshold": t, "depth": p[0], "ratio": p[1], "keep": p[2]} for t, p in chosen]}}


def main(argv: Sequence[str] | None = None) -> None:
    from training.cv_analysis import load_fold_logits
    from training.train_verifier import bm25_candidates, load_scifact

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--workdir", type=Path, required=True, help="folder with cv_fold*.pkl")
    ap.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[1].parent / "shared")
    ap.add_argument("--l2", type=float, default=5.0)
    args = ap.parse_args(argv)
    claims, corpus = load_scifact(args.shared)
    logits, fold_of = load_fold_logits(args.workdir)
    if not fold_of:
        raise SystemExit(f"no cv_fold*.pkl in {args.workdir}: run `python -m training.train_verifier cv` first")
    claims = [c for c in claims if c["id"] in fold_of]
    rows = candidate_rows(claims, corpus, logits, fold_of, bm25_candidates(claims, corpus, DEPTH))
    print(f"{len(claims)} claims, {len(rows)} (claim, abstract) candidates, l2 {args.l2}")
    for name, thresholds in (("threshold chosen for F1", FREE_THRESHOLDS), ("threshold 0.5", (0.5,))):
        res = cross_validate(claims, rows, thresholds, args.l2)
        o, orc = res["open"], res["oracle"]
        print(f"{name:24s} open F1 {o['abstract_label_only_f1']:.3f} (P {o['abstract_label_only_precision']:.2f} "
              f"R {o['abstract_label_only_recall']:.2f})  oracle F1 {orc['abstract_label_only_f1']:.3f}  "
              f"chosen {res['chosen']['per_fold']}", flush=True)


if __name__ == "__main__":
    main()
