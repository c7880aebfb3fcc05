"""Time and size the ``library`` provider on the shared arXiv corpus and on a 10× copy of it.

Usage::

    python benchmarks/library_search.py [--corpus PATH] [--scale 10] [--repeat 5] [--json OUT]
    python benchmarks/library_search.py --child PATH     # one corpus, one process (used by the above)

For the shared corpus (``../shared/corpus/arxiv-cscl-2025-2026.jsonl.gz``, 25,065 records)
and for a corpus ``--scale`` times its size — the same records again with fresh arXiv
ids, written streaming to a temporary ``.jsonl.gz`` and deleted afterwards — a separate
child process (so the peaks do not mix):

* reads the file (:func:`generator.providers.library_readers.read_corpus`) and indexes it
  (:class:`generator.providers.library.Library`), timing each;
* runs 20 realistic one-query searches (``since=2022``, 100 hits, as a question file
  asks) ``--repeat`` times each, after one untimed warm-up search, and the 20 fused into
  one search;
* reports its peak resident set size (``getrusage(RUSAGE_SELF).ru_maxrss``, KiB on Linux).

A third child times ``Library.load`` on the shared corpus as a build calls it (reading and
indexing in one step) on one process and with a second process tokenising while the
first reads (:mod:`generator.providers.library_tokens`).

Prints one table row per corpus; ``--json OUT`` also writes the rows for
``benchmarks/report.py``. Must show (issue 7): under 100 ms per query after indexing and a
peak under 2 GB at 250k records.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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

_NEW_STYLE = re.compile(r"^\d{4}\.\d{4,5}$")

COLUMNS = ["corpus", "records", "read (s)", "index (s)", "query mean (ms)", "query p50 (ms)",
           "query p95 (ms)", "query max (ms)", "20 fused (ms)", "peak RSS (MiB)"]


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def replicate(source: Path, target: Path, copies: int) -> int:
    """Write ``source`` (arXiv JSON Lines, gzip) ``copies`` times into ``target``, streaming.

    Copy 0 is the source as it is; in copy k ≥ 1 each new-style id ``YYMM.NNNNN`` gets a
    two-digit year prefix of its own per (copy, original year), counted down from 99, so
    ids stay well-formed arXiv ids and never collide with each other or with real ids of
    the corpus (years ≤ 26). Returns the number of lines written.
    """
    ids = [json.loads(line)["id"] for line in _lines(source)]
    if not all(_NEW_STYLE.match(i) for i in ids):
        raise SystemExit(f"{source}: only new-style arXiv ids (YYMM.NNNNN) can be given fresh ids here")
    years = sorted({i[:2] for i in ids})
    prefix = {(k, yy): f"{99 - (k - 1) * len(years) - i:02d}" for k in range(1, copies) for i, yy in enumerate(years)}
    if prefix and min(int(p) for p in prefix.values()) <= max(int(y) for y in years):
        raise SystemExit(f"--scale {copies} needs more fresh id prefixes than there are")
    written = 0
    with gzip.open(target, "wt", encoding="utf-8", compresslevel=1) as out:
        for k in range(copies):
            for line in _lines(source):
                if k:
                    record = json.loads(line)
                    record["id"] = prefix[(k, record["id"][:2])] + record["id"][2:]
                    line = json.dumps(record, ensure_ascii=False) + "\n"
                out.write(line)
                written += 1
    return written


def _lines(path: Path):
    with gzip.open(path, "rt", encoding="utf-8") as f:
        yield from f


def child(path: Path, repeat: int) -> dict:
    """Measure one corpus in this process; returns the row as a dict."""
    from generator.providers.library import Library
    from generator.providers.library_readers import read_corpus

    warnings: list[str] = []
    started = time.perf_counter()
    records = list(read_corpus(path, warnings.append))
    read_s = time.perf_counter() - started
    started = time.perf_counter()
    library = Library(records, warnings)
    index_s = time.perf_counter() - started
    del records
    duplicates = sum("duplicate record id" in w for w in library.warnings)
    library.search((QUERIES[0],), 2022, 100)  # warm-up: first-call costs of numpy/bm25s
    latencies = []
    for _ in range(repeat):
        for query in QUERIES:
            started = time.perf_counter()
            library.search((query,), 2022, 100)
            latencies.append((time.perf_counter() - started) * 1000)
    started = time.perf_counter()
    library.search(QUERIES, 2022, 100)
    fused_ms = (time.perf_counter() - started) * 1000
    latencies.sort()
    return {"records": len(library), "duplicates": duplicates, "read_s": read_s, "index_s": index_s,
            "mean_ms": statistics.mean(latencies), "p50_ms": statistics.median(latencies),
            "p95_ms": latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))],
            "max_ms": latencies[-1], "fused_ms": fused_ms, "peak_mib": _peak_mib(),
            "queries": len(latencies)}


def child_load(path: Path, rounds: int = 2) -> dict:
    """Time ``Library.load`` as a build calls it — reading and indexing in one step — on one
    process and with a second tokenising while the first reads, interleaved ``rounds``
    times; the fastest of each (load from other work only slows a run)."""
    from generator.providers.library import Library

    seconds: dict[int, list[float]] = {1: [], 2: []}
    for _ in range(rounds):
        for processes in (1, 2):
            started = time.perf_counter()
            Library.load([path], processes=processes)
            seconds[processes].append(time.perf_counter() - started)
    return {"load_1_s": min(seconds[1]), "load_2_s": min(seconds[2]), "rounds": rounds}


def measure(path: Path, repeat: int) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child", str(path), "--repeat", str(repeat)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"child failed on {path}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure_load(path: Path) -> dict:
    proc = subprocess.run([sys.executable, __file__, "--child-load", str(path)],
                          capture_output=True, text=True, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"child failed on {path}:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def row(name: str, m: dict) -> list[str]:
    return [name, f"{m['records']:,}", f"{m['read_s']:.1f}", f"{m['index_s']:.1f}", f"{m['mean_ms']:.1f}",
            f"{m['p50_ms']:.1f}", f"{m['p95_ms']:.1f}", f"{m['max_ms']:.1f}", f"{m['fused_ms']:.0f}",
            f"{m['peak_mib']:.0f}"]


def print_table(columns: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.rjust(w) if i else c.ljust(w) for i, (c, w) in enumerate(zip(columns, widths))))
    for r in rows:
        print("  ".join(v.rjust(w) if i else v.ljust(w) for i, (v, w) in enumerate(zip(r, widths))))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT)
    parser.add_argument("--scale", type=int, default=10, help="size of the replicated corpus, × the corpus")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs of each of the 20 queries")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--child-load", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child or args.child_load:
        from generator.parallel import collect_garbage_rarely

        collect_garbage_rarely()  # as in a build's processes
    if args.child:
        print(json.dumps(child(args.child, args.repeat)))
        return
    if args.child_load:
        print(json.dumps(child_load(args.child_load)))
        return
    if not args.corpus.exists():
        raise SystemExit(f"{args.corpus} not found; pass --corpus PATH")
    results = {}
    results["base"] = measure(args.corpus, args.repeat)
    load = measure_load(args.corpus)
    replicate_s = None
    if args.scale > 1:
        with tempfile.TemporaryDirectory(prefix="litsynth-bench-") as tmp:
            big = Path(tmp) / f"replicated-x{args.scale}.jsonl.gz"
            started = time.perf_counter()
            replicate(args.corpus, big, args.scale)
            replicate_s = time.perf_counter() - started
            results["scaled"] = measure(big, args.repeat)
    names = {"base": args.corpus.name, "scaled": f"{args.corpus.name} ×{args.scale} (fresh ids)"}
    rows = [row(names[k], m) for k, m in results.items()]
    print(f"Library search: read + BM25 index, then {len(QUERIES)} one-query searches × {args.repeat} "
          f"(since=2022, 100 hits); one child process per corpus")
    print_table(COLUMNS, rows)
    for k, m in results.items():
        if m["duplicates"]:
            print(f"warning: {names[k]}: {m['duplicates']} duplicate ids")
    if replicate_s is not None:
        print(f"(writing the ×{args.scale} corpus took {replicate_s:.1f} s; it was deleted afterwards)")
    print(f"{names['base']}: read and indexed in one step as a build does (Library.load), fastest of "
          f"{load['rounds']}: {load['load_1_s']:.1f} s on one process, {load['load_2_s']:.1f} s with a second "
          "process tokenising while the first reads")
    if args.json:
        args.json.write_text(json.dumps({"columns": COLUMNS, "rows": rows, "results": results, "load": load,
                                         "names": names, "replicate_s": replicate_s}, indent=1) + "\n")


if __name__ == "__main__":
    main()
