"""Cross-validated evaluation of the neural verifier from out-of-fold sentence logits.

Reads ``cv_fold*.pkl`` written by ``train_verifier cv`` (logits of each held-out claim
against its cited abstracts and its BM25 top-5 abstracts), then, fold by fold, fits on
the *other* four folds and measures on the held-out one:

* the softmax temperature (minimum NLL on gold sentence labels; Guo et al. 2017),
* the evidence / rationale thresholds of :func:`generator.neural.decide`
  (grid search maximising open-setting abstract label-only F1),

and scores all 809 train claims with the official SciFact metrics
(:mod:`generator.scifact`). Also scores the lexical judge (:func:`generator.verification.judge_text`)
and the hybrid / gate variants of :func:`generator.neural.decide` on the same candidates, the expected calibration error (15 equal-width
bins) and writes a reliability diagram (SVG). Results: ``cv_results.json`` and
``config.json`` (temperature + thresholds fitted on all folds) in the work dir.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from generator import neural, scifact
from generator.models import CONTRADICTS, NOT_ENOUGH_INFO, SUPPORTS
from training import data as D

GRID_EVIDENCE = [round(x, 2) for x in np.arange(0.2, 0.96, 0.05)]
GRID_RATIONALE = [0.5, 0.7, 0.9]
MODES = {"per_abstract": None, "keep1": 1}
SHIP_VARIANT = "hybrid"
"""The decision variant written to ``config.json``. In the CV run of 2026-11-30 (model
card) "gate" had a slightly higher open-setting F1 (0.372 vs 0.366 at k=3) but a much
lower oracle F1 (0.478 vs 0.528) and a worse abstract-level ECE (0.145 vs 0.103), so the
hybrid ships."""
OPEN_KS = (3, 5)
_TO = {SUPPORTS: scifact.SUPPORT, CONTRADICTS: scifact.CONTRADICT}


def softmax(z: np.ndarray, t: float = 1.0) -> np.ndarray:
    z = z / t
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def sentence_labels(claim: Mapping[str, Any], doc_id: int, n: int) -> np.ndarray:
    gold = D.rationale_labels(claim)
    label, rationale = gold.get(doc_id, (D.NEI, set()))
    return np.array([label if i in rationale else D.NEI for i in range(n)])


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the mean NLL, by golden-section search on log T in [-2, 2]."""
    def nll(log_t: float) -> float:
        p = softmax(logits, float(np.exp(log_t)))
        return float(-np.log(p[np.arange(len(labels)), labels] + 1e-12).mean())

    lo, hi = -2.0, 2.0
    g = (np.sqrt(5) - 1) / 2
    for _ in range(60):
        a, b = hi - g * (hi - lo), lo + g * (hi - lo)
        if nll(a) < nll(b):
            hi = b
        else:
            lo = a
    return float(np.exp((lo + hi) / 2))


def ece(confidence: np.ndarray, correct: np.ndarray, bins: int = 15) -> tuple[float, list[dict[str, float]]]:
    """Expected calibration error (Naeini et al. 2015; Guo et al. 2017): bin-size-weighted
    mean |accuracy − mean confidence| over ``bins`` equal-width confidence bins."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    rows, total = [], 0.0
    for i in range(bins):
        hi_ok = confidence <= edges[i + 1] if i == bins - 1 else confidence < edges[i + 1]
        m = (confidence >= edges[i]) & hi_ok
        if m.any():
            acc, conf = float(correct[m].mean()), float(confidence[m].mean())
            total += m.sum() / len(confidence) * abs(acc - conf)
            rows.append({"lo": float(edges[i]), "hi": float(edges[i + 1]), "n": int(m.sum()), "accuracy": acc, "confidence": conf})
    return float(total), rows


def predictions(
    claims: Sequence[Mapping[str, Any]],
    docs: Mapping[int, Sequence[int]],
    judge: Callable[[Mapping[str, Any], int], tuple[str, float, list[tuple[int, float]]]],
    *,
    keep: int | None = None,
) -> list[dict[str, Any]]:
    """Official-format predictions; ``keep`` limits each claim to the ``keep`` non-NEI
    abstracts whose best sentence has the highest evidence score (cross-abstract
    reranking, as :meth:`generator.neural.NeuralJudge.judge_candidates`)."""
    out = []
    for c in claims:
        ev = {}
        for d in docs[c["id"]]:
            label, conf, rationale = judge(c, d)
            if label != NOT_ENOUGH_INFO and rationale:
                ev[str(d)] = {"label": _TO[label], "sentences": [int(i) for i, _ in rationale][:3],
                             "confidence": conf, "rank": float(rationale[0][1])}
        if keep is not None and len(ev) > keep:
            ev = dict(sorted(ev.items(), key=lambda kv: -kv[1]["rank"])[:keep])
        out.append({"id": c["id"], "evidence": ev})
    return out


def score(claims, preds) -> dict[str, float]:
    return scifact.metrics(scifact.count(claims, preds))


def _svg(rows: list[dict[str, float]], title: str, value: float) -> str:
    """A small reliability diagram: bars of accuracy per confidence bin, the diagonal."""
    w, h, m = 320, 320, 40
    px = lambda x: m + x * (w - 2 * m)  # noqa: E731
    py = lambda y: h - m - y * (h - 2 * m)  # noqa: E731
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">',
        '<rect width="100%" height="100%" fill="white"/>',
        f'<text x="{w / 2}" y="16" text-anchor="middle" font-size="12">{title} (ECE {value:.3f})</text>',
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(1)}" stroke="#888" stroke-dasharray="4 3"/>',
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(1)}" y2="{py(0)}" stroke="black"/>',
        f'<line x1="{px(0)}" y1="{py(0)}" x2="{px(0)}" y2="{py(1)}" stroke="black"/>',
    ]
    for r in rows:
        x0, x1 = px(r["lo"]), px(r["hi"])
        parts.append(f'<rect x="{x0 + 1:.1f}" y="{py(r["accuracy"]):.1f}" width="{x1 - x0 - 2:.1f}" '
                     f'height="{py(0) - py(r["accuracy"]):.1f}" fill="#4a78b5"><title>n={r["n"]}</title></rect>')
        parts.append(f'<circle cx="{px(r["confidence"]):.1f}" cy="{py(r["confidence"]):.1f}" r="2" fill="#d62728"/>')
    for t in (0, 0.5, 1):
        parts.append(f'<text x="{px(t)}" y="{h - m + 14}" text-anchor="middle">{t:g}</text>')
        parts.append(f'<text x="{m - 6}" y="{py(t) + 4}" text-anchor="end">{t:g}</text>')
    parts.append(f'<text x="{w / 2}" y="{h - 8}" text-anchor="middle">confidence</text>')
    parts.append(f'<text x="12" y="{h / 2}" text-anchor="middle" transform="rotate(-90 12 {h / 2})">accuracy</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def load_fold_logits(workdir: Path) -> tuple[dict[int, dict[int, np.ndarray]], dict[int, int]]:
    """``({claim id: {doc id: sentence logits (n, 3)}}, {claim id: fold})`` from the
    ``cv_fold*.pkl`` files ``train_verifier cv`` writes in ``workdir`` (empty when none)."""
    logits: dict[int, dict[int, np.ndarray]] = {}
    fold_of: dict[int, int] = {}
    for path in sorted(Path(workdir).glob("cv_fold*.pkl")):
        with path.open("rb") as fh:
            blob = pickle.load(fh)
        logits.update(blob["logits"])
        fold_of.update({cid: blob["fold"] for cid in blob["claims"]})
    return logits, fold_of


def main(args) -> dict[str, Any]:
    from generator import verification
    from training.train_verifier import OPEN_K, bm25_candidates, load_scifact

    claims, corpus = load_scifact(args.shared)
    by_id = {c["id"]: c for c in claims}
    logits, fold_of = load_fold_logits(args.workdir)
    claims = [c for c in claims if c["id"] in fold_of]
    folds = sorted(set(fold_of.values()))
    retrieved = {cid: [d for d, _ in row] for cid, row in bm25_candidates(claims, corpus, OPEN_K).items()}
    oracle_docs = {c["id"]: list(dict.fromkeys(c.get("cited_doc_ids", []))) for c in claims}
    open_docs = {k: {c["id"]: retrieved[c["id"]][:k] for c in claims} for k in OPEN_KS}
    tune_docs = open_docs[args_k(args)]

    def sent_data(cids):
        zs, ys = [], []
        for cid in cids:
            for d in oracle_docs[cid]:
                z = logits[cid][d]
                zs.append(z)
                ys.append(sentence_labels(by_id[cid], d, len(z)))
        return np.concatenate(zs), np.concatenate(ys)

    rules_cache: dict[tuple[int, int, tuple[int, ...]], float | None] = {}

    def rules(c, d):
        def check(chosen):
            key = (c["id"], d, tuple(chosen))
            if key not in rules_cache:
                rules_cache[key] = neural._rules_contradict(c["claim"], corpus[d]["abstract"], chosen)
            return rules_cache[key]
        return check

    lex_cache: dict[tuple[int, int], Any] = {}

    def lexical(c, d):
        key = (c["id"], d)
        if key not in lex_cache:
            lex_cache[key] = verification.judge_text(c["claim"], list(corpus[d]["abstract"]))
        return lex_cache[key]

    def judge_with(cfg, variant):
        def judge(c, d):
            probs = softmax(logits[c["id"]][d], cfg.temperature)
            return neural.decide(
                probs, cfg,
                contradiction_check=rules(c, d) if variant == "hybrid" else None,
                rules_label=(lambda: lexical(c, d)[:2]) if variant == "gate" else None,
            )
        return judge

    # Per held-out fold, fitted on the other folds (key -1: all folds, what ships):
    # the temperature, then for each variant (model label only / hybrid) and mode
    # (per abstract: the judge_text contract; keep1: only the claim's best abstract,
    # the judge_candidates hook) the thresholds maximising open-setting label-only F1.
    variants = ("neural", "hybrid", "gate")
    per_fold: dict[str, dict[int, dict[str, float]]] = {}
    for f in folds + [None]:
        key = f if f is not None else -1
        train_ids = [c["id"] for c in claims if fold_of[c["id"]] != f]
        t = fit_temperature(*sent_data(train_ids))
        tr_claims = [by_id[i] for i in train_ids]
        for vname in variants:
            for mode, keep in MODES.items():
                best = None
                for et in GRID_EVIDENCE:
                    for rt in GRID_RATIONALE:
                        cfg = neural.DecisionConfig(t, et, rt)
                        preds = predictions(tr_claims, tune_docs, judge_with(cfg, vname), keep=keep)
                        s = score(tr_claims, preds)["abstract_label_only_f1"]
                        if best is None or s > best[0] + 1e-12:
                            best = (s, et, rt)
                per_fold.setdefault(f"{vname}_{mode}", {})[key] = {
                    "temperature": t, "evidence_threshold": best[1], "rationale_threshold": best[2],
                    "train_folds_f1": best[0]}
                print("fold", f, vname, mode, per_fold[f"{vname}_{mode}"][key], flush=True)

    def fold_judge(vname, mode):
        def judge(c, d):
            p = per_fold[f"{vname}_{mode}"][fold_of[c["id"]]]
            cfg = neural.DecisionConfig(p["temperature"], p["evidence_threshold"], p["rationale_threshold"])
            return judge_with(cfg, vname)(c, d)
        return judge

    judges = {
        "lexical": (lexical, None),
        "lexical_keep1": (lexical, 1),
        "neural": (fold_judge("neural", "per_abstract"), None),
        "neural_keep1": (fold_judge("neural", "keep1"), 1),
        "hybrid": (fold_judge("hybrid", "per_abstract"), None),
        "hybrid_keep1": (fold_judge("hybrid", "keep1"), 1),
        "gate": (fold_judge("gate", "per_abstract"), None),
        "gate_keep1": (fold_judge("gate", "keep1"), 1),
    }
    results: dict[str, Any] = {"model_version": neural.MODEL_VERSION, "per_fold": per_fold,
                               "claims": len(claims), "folds": len(folds), "tuned_for_open_k": args_k(args),
                               "judges": {}}
    keys = ("abstract_label_only", "abstract_label_rationale", "sentence_selection", "sentence_selection_label")
    for name, (judge, keep) in judges.items():
        res = {"oracle": score(claims, predictions(claims, oracle_docs, judge))}
        for k in OPEN_KS:
            res[f"open_k{k}"] = score(claims, predictions(claims, open_docs[k], judge, keep=keep))
        results["judges"][name] = res
        for setting, m in res.items():
            print(f"{name:16s} {setting:8s} " + " ".join(f"{k[:22]}={m[k + '_f1']:.3f}" for k in keys), flush=True)

    # Calibration on held-out folds: sentence level (3-way argmax, before and after
    # temperature scaling) and abstract level (the shipped variant's confidence that its
    # label for a cited abstract is right, NOT ENOUGH INFO included).
    ship = fold_judge(SHIP_VARIANT, "per_abstract")
    sconf, scorr, rconf, rcorr, aconf, acorr = [], [], [], [], [], []
    for c in claims:
        t = per_fold[f"{SHIP_VARIANT}_per_abstract"][fold_of[c["id"]]]["temperature"]
        gold = D.rationale_labels(c)
        for d in oracle_docs[c["id"]]:
            z = logits[c["id"]][d]
            y = sentence_labels(c, d, len(z))
            p, p1 = softmax(z, t), softmax(z)
            sconf.extend(p.max(1))
            scorr.extend(p.argmax(1) == y)
            rconf.extend(p1.max(1))
            rcorr.extend(p1.argmax(1) == y)
            label, conf, _ = ship(c, d)
            want = {D.SUP: SUPPORTS, D.CON: CONTRADICTS}.get(gold.get(d, (D.NEI, set()))[0], NOT_ENOUGH_INFO)
            aconf.append(conf)
            acorr.append(label == want)
    s_ece, s_rows = ece(np.array(sconf), np.array(scorr, dtype=float))
    r_ece, _ = ece(np.array(rconf), np.array(rcorr, dtype=float))
    a_ece, a_rows = ece(np.array(aconf), np.array(acorr, dtype=float))
    results["calibration"] = {"variant": SHIP_VARIANT,
        "sentence_ece_temperature": s_ece, "sentence_ece_uncalibrated": r_ece,
        "abstract_ece": a_ece, "sentence_bins": s_rows, "abstract_bins": a_rows,
        "sentence_accuracy": float(np.mean(scorr)), "abstract_accuracy": float(np.mean(acorr)),
    }
    print("calibration", {k: v for k, v in results["calibration"].items() if "bins" not in k})
    (args.workdir / "reliability_sentence.svg").write_text(_svg(s_rows, "sentence level, held-out folds", s_ece))
    (args.workdir / "reliability_abstract.svg").write_text(_svg(a_rows, "abstract level (oracle), held-out folds", a_ece))
    final, final_keep1 = per_fold[f"{SHIP_VARIANT}_per_abstract"][-1], per_fold[f"{SHIP_VARIANT}_keep1"][-1]
    config = {"model_version": neural.MODEL_VERSION, "temperature": final["temperature"],
              "evidence_threshold": final["evidence_threshold"], "rationale_threshold": final["rationale_threshold"],
              "variant": SHIP_VARIANT,
              "contradiction_rules": SHIP_VARIANT == "hybrid", "rules_label": SHIP_VARIANT == "gate",
              "keep1_evidence_threshold": final_keep1["evidence_threshold"],
              "keep1_rationale_threshold": final_keep1["rationale_threshold"],
              "chosen_on": f"SciFact train, {len(folds)}-fold CV out-of-fold logits (all folds pooled), "
                           f"max open-setting abstract label-only F1 at BM25 k={args_k(args)}"}
    (args.workdir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    (args.workdir / "cv_results.json").write_text(json.dumps(results, indent=1) + "\n")
    return results


def args_k(args) -> int:
    """BM25 depth the thresholds are tuned for (``--tune-k``; 3 = ``litsynth eval`` default)."""
    return int(getattr(args, "tune_k", 3) or 3)
