"""Throughput of claim extraction + verification on a realistic workload (prints only).

Workload: 3 questions; for each, the ~100 records of the arXiv cs.CL corpus
(shared/corpus) that BM25 ranks highest for the question's queries, versions grouped,
claims extracted (up to 8 per record, the first 300 per question), then
:func:`generator.verification.verify` with the default 10 candidates per claim.

Prints, per question and in total: records, claims, judged (claim, record) pairs, wall
time, pairs/s, and the process's peak RSS. Single process, single thread
(BLAS threads pinned to 1).

Usage: ``python benchmarks/verifier_throughput.py [--corpus PATH] [--records 100]``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import sys
import time
from pathlib import Path

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import bm25s  # noqa: E402

from generator import text as T  # noqa: E402
from generator import verification as V  # noqa: E402
from generator.extraction import extract_claims  # noqa: E402
from generator.models import Identifiers, Record  # noqa: E402
from generator.records import group_versions  # noqa: E402

QUESTIONS = {
    "alignment-tax": "alignment tax RLHF DPO preference optimization capability loss benchmark",
    "code-generation": "code generation benchmark HumanEval MBPP pass@1 large language models",
    "multimodal": "vision-language models multimodal LLM image understanding visual instruction tuning",
}


def load_corpus(path: Path) -> list[Record]:
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            authors = tuple(a.strip() for a in (d.get("authors") or "").split(",") if a.strip())
            out.append(Record(
                id=f"arxiv:{d['id']}", title=" ".join(d["title"].split()),
                ids=Identifiers(arxiv=d["id"]), authors=authors[:3],
                abstract=" ".join((d.get("abstract") or "").split()), provider="library",
            ))
    return out


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path,
                    default=ROOT.parent / "shared" / "corpus" / "arxiv-cscl-2025-2026.jsonl.gz")
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--claims", type=int, default=300)
    args = ap.parse_args()

    t0 = time.perf_counter()
    corpus = load_corpus(args.corpus)
    retriever = bm25s.BM25()
    retriever.index([T.stems(r.title + " " + (r.abstract or "")) or [""] for r in corpus],
                    show_progress=False)
    print(f"corpus {len(corpus)} records loaded and indexed in {time.perf_counter() - t0:.1f}s; "
          f"peak RSS {peak_rss_mb():.0f} MB")

    calls = {"n": 0}
    real_judge = V.judge

    def counting_judge(*a, **kw):
        calls["n"] += 1
        return real_judge(*a, **kw)

    V.judge = counting_judge
    totals = {"pairs": 0, "seconds": 0.0, "claims": 0}
    for slug, query in QUESTIONS.items():
        scores = retriever.get_scores(T.stems(query))
        top = sorted(range(len(corpus)), key=lambda i: (-scores[i], i))[:args.records]
        records = group_versions([corpus[i] for i in top])
        t1 = time.perf_counter()
        claims = [c for r in records for c in extract_claims(r)][:args.claims]
        t_extract = time.perf_counter() - t1
        calls["n"] = 0
        t2 = time.perf_counter()
        judgements, verdicts = V.verify(claims, records)
        t_verify = time.perf_counter() - t2
        mix: dict[str, int] = {}
        for v in verdicts:
            mix[v.verdict] = mix.get(v.verdict, 0) + 1
        print(f"[{slug}] records {len(records)}, claims {len(claims)} (extracted in {t_extract:.1f}s), "
              f"judged pairs {calls['n']}, verify {t_verify:.1f}s = {calls['n'] / t_verify:.0f} pairs/s; "
              f"kept judgements {len(judgements)}; verdicts {mix}")
        totals["pairs"] += calls["n"]
        totals["seconds"] += t_extract + t_verify
        totals["claims"] += len(claims)
    print(f"total: {totals['claims']} claims, {totals['pairs']} judged pairs, extraction+verification "
          f"{totals['seconds']:.1f}s on one core = {totals['pairs'] / totals['seconds']:.0f} pairs/s; "
          f"peak RSS {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
