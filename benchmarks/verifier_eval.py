"""The neural verifier's cross-validated SciFact-train numbers and its CPU throughput.

Prints:

1. the CV metrics stored with the shipped model (``generator/model/cv_metrics.json``,
   written by ``training/train_verifier.py analyse``: 5-fold CV inside SciFact *train*,
   folds grouped by shared abstracts; lexical vs neural vs hybrids; oracle and open);
2. throughput of the shipped int8 ONNX model on one onnxruntime thread: (claim, sentence)
   pairs per second and (claim, record) pairs per second, where a record is one SciFact
   abstract judged whole with :meth:`generator.neural.NeuralJudge.judge_text`;
3. peak resident memory of this process (``ru_maxrss``).

Usage: ``python benchmarks/verifier_eval.py [--shared ../shared] [--records 200] [--json]``.
Reads only ``scifact/claims_train.jsonl`` and ``scifact/corpus.jsonl`` (never dev/test).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator import neural, scifact  # noqa: E402

KEYS = ("abstract_label_only", "abstract_label_rationale", "sentence_selection", "sentence_selection_label")


def cv_table(path: Path) -> str:
    """A text table (judge × setting × metric F1) of ``cv_metrics.json``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    lines = [f"5-fold CV on SciFact train ({data.get('claims', '?')} claims), F1 (P/R):"]
    lines.append(f"{'judge':<24}{'setting':<14}" + "".join(f"{k:>28}" for k in KEYS))
    for judge, settings in data["judges"].items():
        for setting, m in settings.items():
            cells = "".join(
                f"{m[k + '_f1']:>10.3f} ({m[k + '_precision']:.2f}/{m[k + '_recall']:.2f})" for k in KEYS
            )
            lines.append(f"{judge:<24}{setting:<14}{cells}")
    cal = data.get("calibration", {})
    if cal:
        lines.append(
            "ECE (held-out folds, 15 bins): sentence {:.3f} (uncalibrated {:.3f}), abstract {:.3f}".format(
                cal["sentence_ece_temperature"], cal["sentence_ece_uncalibrated"], cal["abstract_ece"]
            )
        )
    return "\n".join(lines)


def throughput(shared: Path, records: int) -> dict[str, float]:
    """Time :meth:`NeuralJudge.judge_text` over the first ``records`` (claim, cited
    abstract) pairs of SciFact train, one thread, after one warm-up call."""
    claims = scifact.load_claims(shared / "scifact" / "claims_train.jsonl")
    corpus = scifact.load_corpus(shared / "scifact" / "corpus.jsonl")
    work = [(c["claim"], corpus[d]["abstract"]) for c in claims for d in c.get("cited_doc_ids", [])][:records]
    judge = neural.NeuralJudge.load(threads=1)
    judge.judge_text(work[0][0], work[0][1])
    sentences = sum(len(s) for _, s in work)
    start = time.perf_counter()
    for claim, sents in work:
        judge.judge_text(claim, sents)
    seconds = time.perf_counter() - start
    return {
        "records": len(work),
        "sentence_pairs": sentences,
        "seconds": round(seconds, 2),
        "sentence_pairs_per_s": round(sentences / seconds, 1),
        "record_pairs_per_s": round(len(work) / seconds, 2),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "model_mb": round((neural.MODEL_DIR / neural.MODEL_FILE).stat().st_size / 1e6, 1),
        "model_version": neural.MODEL_VERSION,
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--records", type=int, default=200, help="(claim, abstract) pairs to time")
    ap.add_argument("--json", action="store_true", help="print throughput as one JSON object")
    args = ap.parse_args(argv)
    metrics = neural.MODEL_DIR / "cv_metrics.json"
    if not args.json and metrics.is_file():
        print(cv_table(metrics))
    result = throughput(args.shared, args.records)
    print(json.dumps(result) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
