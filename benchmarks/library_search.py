"""Time the ``library`` provider on the shared arXiv corpus.

Usage: ``python benchmarks/library_search.py [CORPUS ...]`` (default
``../shared/corpus/arxiv-cscl-2025-2026.jsonl.gz``). Prints read time, index time, mean and
p95 per-search latency over realistic one-query searches, and the peak resident set size
(``resource.getrusage(RUSAGE_SELF).ru_maxrss``, kilobytes on Linux).
"""

from __future__ import annotations

import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from generator.providers.library import Library  # noqa: E402
from generator.providers.library_readers import read_corpus  # noqa: E402

DEFAULT = ROOT.parent / "shared" / "corpus" / "arxiv-cscl-2025-2026.jsonl.gz"

QUERIES = (
    "alignment tax RLHF",
    "preference optimization capability loss",
    "direct preference optimization DPO",
    "reward model overoptimization",
    "HumanEval code generation benchmark",
    "MBPP program synthesis pass@1",
    "multimodal large language model visual instruction tuning",
    "chain-of-thought reasoning mathematical problems",
    "retrieval-augmented generation hallucination",
    "machine translation low-resource languages",
    "long context extrapolation positional encoding",
    "mixture of experts routing efficiency",
    "speculative decoding inference speedup",
    "LLM-as-a-judge evaluation bias",
    "jailbreak attacks safety alignment",
    "knowledge editing factual recall",
    "tokenizer vocabulary multilingual",
    "scientific claim verification fact-checking",
    "model merging catastrophic forgetting",
    "Qwen3 technical report thinking mode",
)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str]) -> None:
    paths = [Path(p) for p in argv] or [DEFAULT]
    print(f"peak RSS after imports: {_rss_mb():.0f} MB")
    start = time.perf_counter()
    warnings: list[str] = []
    records = [r for p in paths for r in read_corpus(p, warnings.append)]
    read_s = time.perf_counter() - start
    print(f"read:  {len(records):,} records in {read_s:.2f} s ({len(warnings)} warnings); "
          f"peak RSS {_rss_mb():.0f} MB")
    start = time.perf_counter()
    library = Library(records, warnings)
    index_s = time.perf_counter() - start
    del records
    print(f"index: {index_s:.2f} s; peak RSS {_rss_mb():.0f} MB")
    print(f"load + index: {read_s + index_s:.2f} s")

    latencies = []
    for query in QUERIES:
        start = time.perf_counter()
        hits = library.search((query,), 2022, 100)
        latencies.append((time.perf_counter() - start) * 1000)
        top = hits[0].title[:70] if hits else "-"
        print(f"  {latencies[-1]:6.1f} ms  {len(hits):3d} hits  {query!r}: {top}")
    start = time.perf_counter()
    library.search(QUERIES, 2022, 100)
    fused_ms = (time.perf_counter() - start) * 1000
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    print(f"per-query latency: mean {statistics.mean(latencies):.1f} ms, p95 {p95:.1f} ms "
          f"({len(latencies)} queries); all {len(QUERIES)} fused: {fused_ms:.1f} ms")
    print(f"peak RSS: {_rss_mb():.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
