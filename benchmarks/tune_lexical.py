"""Choose the lexical judge's label thresholds on SciFact *train* claims.

Oracle: each claim is judged against its cited abstracts only. Metric: abstract-level
label-only micro P/R/F1 (shared/README.md): a predicted (claim, abstract, label) is
correct when the abstract is gold evidence for the claim with that label; NOT ENOUGH
INFO = predict nothing. Only ``claims_train.jsonl`` is read — never dev/test.

Besides the oracle setting it scores an *open* setting — the top-5 abstracts per claim
by BM25 over the whole corpus — because :func:`generator.verification.verify` judges
BM25-retrieved candidates, most of which hold no evidence; thresholds that only
maximise oracle F1 label nearly every retrieved abstract SUPPORTS there. The shipped
constants are the point with the best *mean* of oracle and open F1, found by coordinate
ascent over :data:`GRID` starting from the shipped constants.

IDF comes from the whole SciFact corpus, as verify takes it from all records of a
question.

Usage: ``python benchmarks/tune_lexical.py [--data ../shared/scifact]``. Prints the best
grid points by oracle, open and mean F1, the score of the module's current constants,
and a per-label breakdown. Takes a few minutes on one core.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import verification as V  # noqa: E402
from generator.models import CONTRADICTS, SUPPORTS  # noqa: E402

TO_SCIFACT = {SUPPORTS: "SUPPORT", CONTRADICTS: "CONTRADICT"}

# Candidate values per threshold; searched by coordinate ascent from the shipped
# constants (a full grid of this size takes hours in pure Python).
GRID = {
    "SUPPORT_MIN": [0.25, 0.30, 0.35, 0.40, 0.45, 0.50, 0.55, 0.60, 0.70],
    "CONTRADICT_MIN": [0.30, 0.35, 0.40, 0.45, 0.50, 0.60, 0.80, 1.01],
    "CONTRADICT_MARGIN": [0.0, 0.05, 0.10, 0.20, 0.30],
    "HEDGE_FACTOR": [0.6, 0.75, 0.9, 1.0],
    "NUMBER_BONUS": [0.0, 0.25, 0.5],
    "EVIDENCE_PRIOR": [0.0, 0.15, 0.3, 0.6],
    "KEY_MIN": [0.0, 0.34, 0.67, 1.0],
    "MIN_MATCHED": [1, 2, 3, 4],
    "NAMES_MIN": [0.0, 0.5, 1.0],
    "SUBJECT_REQUIRED": [0, 1],
}


def load(data: Path):
    corpus = {}
    with open(data / "corpus.jsonl") as f:
        for line in f:
            d = json.loads(line)
            corpus[d["doc_id"]] = d
    claims = [json.loads(line) for line in open(data / "claims_train.jsonl")]
    return corpus, claims


def gold_pairs(claims) -> dict[tuple[int, int], str]:
    gold = {}
    for c in claims:
        for doc, sets in (c.get("evidence") or {}).items():
            gold[(c["id"], int(doc))] = sets[0]["label"]
    return gold


def f1(predictions: dict[tuple[int, int], str], gold: dict[tuple[int, int], str]):
    correct = sum(1 for k, lab in predictions.items() if gold.get(k) == lab)
    p = correct / len(predictions) if predictions else 0.0
    r = correct / len(gold) if gold else 0.0
    return (2 * p * r / (p + r) if p + r else 0.0), p, r


def open_candidates(corpus, claims, k: int):
    """Top-``k`` abstracts per claim by BM25 over title + abstract stems (open setting)."""
    import bm25s
    from generator import text as T

    ids = list(corpus)
    retriever = bm25s.BM25()
    retriever.index([T.stems(corpus[d]["title"] + " " + " ".join(corpus[d]["abstract"])) or [""]
                     for d in ids], show_progress=False)
    out = {}
    for c in claims:
        scores = retriever.get_scores(T.stems(c["claim"]))
        top = sorted(range(len(ids)), key=lambda i: (-scores[i], i))[:k]
        out[c["id"]] = [ids[i] for i in top]
    return out


def evaluate(scored, gold, th):
    preds = {}
    for cid, d, doc in scored:
        label, _, _ = V.decide(doc, thresholds=th)
        if label in TO_SCIFACT:
            preds[(cid, d)] = TO_SCIFACT[label]
    return f1(preds, gold), preds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "scifact")
    ap.add_argument("--open-k", type=int, default=5,
                    help="abstracts retrieved per claim in the open setting")
    args = ap.parse_args()
    corpus, claims = load(args.data)
    gold = gold_pairs(claims)
    n_sup = sum(1 for v in gold.values() if v == "SUPPORT")
    print(f"train claims {len(claims)}; gold (claim, abstract) pairs {len(gold)} "
          f"(SUPPORT {n_sup}, CONTRADICT {len(gold) - n_sup})")
    t0 = time.perf_counter()
    idf = V.idf_table(" ".join(d["abstract"]) for d in corpus.values())
    oracle = [(c["id"], d, V.score_document(c["claim"], corpus[d]["abstract"], idf=idf))
              for c in claims for d in c["cited_doc_ids"] if d in corpus]
    retrieved = open_candidates(corpus, claims, args.open_k)
    recall = sum(1 for (cid, d) in gold if d in retrieved[cid]) / len(gold)
    opened = [(c["id"], d, V.score_document(c["claim"], corpus[d]["abstract"], idf=idf))
              for c in claims for d in retrieved[c["id"]]]
    print(f"open setting: BM25 top-{args.open_k} per claim, gold abstract recall {recall:.3f}")
    print(f"scored in {time.perf_counter() - t0:.0f}s")

    keys = list(GRID)
    start = {k: getattr(V, k) for k in keys}
    cache: dict[tuple, tuple] = {}

    def both(th):
        key = tuple(th[k] for k in keys)
        if key not in cache:
            cache[key] = (evaluate(oracle, gold, th)[0], evaluate(opened, gold, th)[0])
        return cache[key]

    objectives = {"oracle": lambda o, p: o[0], "open": lambda o, p: p[0],
                  "mean of both": lambda o, p: (o[0] + p[0]) / 2}
    for name, objective in objectives.items():
        th = dict(start)
        for _ in range(6):
            changed = False
            for k in keys:
                best_v = max(GRID[k], key=lambda v: (objective(*both({**th, k: v})), v == th[k]))
                if best_v != th[k]:
                    th[k], changed = best_v, True
            if not changed:
                break
        o, p = both(th)
        print(f"best by {name:12s}: oracle F1 {o[0]:.3f} (P {o[1]:.3f} R {o[2]:.3f}) | "
              f"open F1 {p[0]:.3f} (P {p[1]:.3f} R {p[2]:.3f}) with {th}")

    (fo, po, ro), preds = evaluate(oracle, gold, None)
    (fp, pp, rp), _ = evaluate(opened, gold, None)
    print(f"module constants {dict((k, getattr(V, k)) for k in keys)}:\n"
          f"  oracle F1 {fo:.3f} (P {po:.3f} R {ro:.3f}) | open F1 {fp:.3f} (P {pp:.3f} R {rp:.3f})")
    for lab in ("SUPPORT", "CONTRADICT"):
        g = {k: v for k, v in gold.items() if v == lab}
        pr = {k: v for k, v in preds.items() if v == lab}
        correct = sum(1 for k, v in pr.items() if gold.get(k) == v)
        print(f"  oracle {lab:10s} predicted {len(pr):4d} correct {correct:4d} gold {len(g):4d}")
    print(f"total {time.perf_counter() - t0:.0f}s")


if __name__ == "__main__":
    main()
