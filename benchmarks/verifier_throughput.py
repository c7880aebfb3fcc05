"""Throughput of claim extraction + verification on a realistic workload, beside a tokenising floor.

Workload: 3 questions; for each, the ~100 records of the arXiv cs.CL corpus
(shared/corpus) that BM25 ranks highest for the question's queries, versions grouped,
claims extracted (up to 8 per record, the first 300 per question), then
:func:`generator.verification.verify` with the default 10 candidates per claim.

Prints, per question and in total: records, claims, checked (claim, record) pairs — every
candidate pair verify() looks at, counted with its ``observe`` hook, including the many
that end at the document gate (the record does not name the claim's subject) without a
judgement —, wall time, pairs/s, and the process's peak RSS. Single process, single thread (BLAS and
onnxruntime threads pinned to 1), so pairs/s is per core.

Then the *floor* (issue 7): the time to tokenise the same text once with the verifier's own
tokeniser, uncached — for the lexical verifier, sentencex sentence splitting
(:func:`generator.text.sentence_spans` without its cache) plus :func:`generator.text.tokens`
(the default verifier is the hybrid when the model is present — lexical rules whose
SUPPORTS/CONTRADICTS the model may veto — and lexical otherwise; its floor is the lexical one)
of the claim and of every sentence. The floor is every distinct claim and abstract of the
checked pairs tokenised once; a second row adds up, per checked pair, the measured cost of
its claim and its abstract, as if no pair shared a text (what a verifier without caches
would pay). The ratio verifier ÷ floor says how much the judging costs beyond reading
the text. The verifier's time excludes the sentence splits that extraction already
cached, as in a build; the floor does not, so a ratio near 1 means judging costs about
what reading the text once costs. When the learned verifier (``generator/model/verifier.int8.onnx``,
:mod:`generator.neural`) is present, it is timed on the first ``--neural-pairs`` checked
pairs on its own (every sentence of every record scored), with its ``tokenizers`` tokeniser
(:func:`generator.neural.encode_pairs`) as floor.

Usage: ``python benchmarks/verifier_throughput.py [--corpus PATH] [--records 100]
[--claims 300] [--neural-pairs 100] [--json OUT]``.
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

COLUMNS = ["verifier", "pairs", "verifier (s)", "pairs/s per core", "floor", "floor (s)", "floor pairs/s",
           "verifier ÷ floor"]


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


def peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def _split_uncached(text: str) -> list[str]:
    spans = T._sentence_spans_cached.__wrapped__(text) if text else ()
    return [text[s:e] for s, e in spans]


def lexical_floor(pairs: list[tuple[str, str]]) -> tuple[float, float, int]:
    """``(distinct seconds, per-pair seconds, distinct texts)``: the seconds to tokenise
    every distinct claim (:func:`generator.text.tokens`) and every distinct abstract
    (uncached sentencex split, then ``tokens`` of each sentence) once; and the sum over the
    pairs of their two texts' measured costs, as if no pair shared a text."""
    cost: dict[tuple[str, str], float] = {}
    for claim, abstract in pairs:
        for kind, text in (("claim", claim), ("abstract", abstract)):
            if (kind, text) in cost:
                continue
            started = time.perf_counter()
            if kind == "claim":
                T.tokens(text)
            else:
                for sentence in _split_uncached(text):
                    T.tokens(sentence)
            cost[(kind, text)] = time.perf_counter() - started
    per_pair = sum(cost[("claim", c)] + cost[("abstract", a)] for c, a in pairs)
    return sum(cost.values()), per_pair, len(cost)


def neural_rows(pairs: list[tuple[str, str]], limit: int) -> list[list[str]] | str:
    """Rows for the learned verifier, or the reason it was not timed."""
    try:
        from generator import neural
        if not (neural.MODEL_DIR / neural.MODEL_FILE).exists():
            return f"no model at {neural.MODEL_DIR / neural.MODEL_FILE}"
        judge = neural.NeuralJudge.load(threads=1)
        tokenizer = neural.load_tokenizer(neural.MODEL_DIR / neural.TOKENIZER_FILE)
    except Exception as exc:  # a model being trained may be half-written; say so and go on
        return f"not timed ({type(exc).__name__}: {exc})"
    subset = pairs[:limit]
    split = [(claim, T.sentences(abstract)) for claim, abstract in subset]
    judge.judge_text(*split[0])  # warm-up: onnxruntime's first run allocates
    started = time.perf_counter()
    for claim, sentences in split:
        judge.judge_text(claim, sentences)
    seconds = time.perf_counter() - started
    started = time.perf_counter()
    for claim, sentences in split:
        for sentence in sentences:  # one pair per call, as the judge runs them
            neural.encode_pairs(tokenizer, [claim], [sentence])
    floor = time.perf_counter() - started
    n = len(split)
    sentence_pairs = sum(len(s) for _, s in split)
    return [[f"neural alone ({neural.MODEL_VERSION})", str(n), f"{seconds:.1f}", f"{n / seconds:.1f}",
             f"tokenizers, {sentence_pairs} (claim, sentence) pairs", f"{floor:.2f}", f"{n / floor:.0f}",
             f"{seconds / floor:.0f}×"]]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path,
                    default=ROOT.parent / "shared" / "corpus" / "arxiv-cscl-2025-2026.jsonl.gz")
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--claims", type=int, default=300)
    ap.add_argument("--neural-pairs", type=int, default=100)
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    corpus = load_corpus(args.corpus)
    retriever = bm25s.BM25()
    retriever.index([T.stems(r.title + " " + (r.abstract or "")) or [""] for r in corpus],
                    show_progress=False)
    print(f"corpus {len(corpus)} records loaded and indexed in {time.perf_counter() - t0:.1f}s; "
          f"peak RSS {peak_rss_mib():.0f} MiB")

    pairs: list[tuple[str, str]] = []

    def count(claim, record):
        pairs.append((claim.text, record.abstract or ""))
    totals = {"pairs": 0, "verify": 0.0, "extract": 0.0, "claims": 0}
    for slug, query in QUESTIONS.items():
        scores = retriever.get_scores(T.stems(query))
        top = sorted(range(len(corpus)), key=lambda i: (-scores[i], i))[:args.records]
        records = group_versions([corpus[i] for i in top])
        t1 = time.perf_counter()
        claims = [c for r in records for c in extract_claims(r)][:args.claims]
        t_extract = time.perf_counter() - t1
        before = len(pairs)
        t2 = time.perf_counter()
        judgements, verdicts = V.verify(claims, records, observe=count)
        t_verify = time.perf_counter() - t2
        judged = len(pairs) - before
        mix: dict[str, int] = {}
        for v in verdicts:
            mix[v.verdict] = mix.get(v.verdict, 0) + 1
        print(f"[{slug}] records {len(records)}, claims {len(claims)} (extracted in {t_extract:.1f}s), "
              f"judged pairs {judged}, verify {t_verify:.1f}s = {judged / t_verify:.0f} pairs/s; "
              f"kept judgements {len(judgements)}; verdicts {mix}")
        totals["pairs"] += judged
        totals["verify"] += t_verify
        totals["extract"] += t_extract
        totals["claims"] += len(claims)
    n = totals["pairs"]
    print(f"total: {totals['claims']} claims, {n} judged pairs, extraction+verification "
          f"{totals['extract'] + totals['verify']:.1f}s on one core = "
          f"{n / (totals['extract'] + totals['verify']):.0f} pairs/s; peak RSS {peak_rss_mib():.0f} MiB")

    floor_distinct, floor_pairs, distinct = lexical_floor(pairs)
    verify_s = totals["verify"]
    method, version = V.active_method() if hasattr(V, "active_method") else (V.METHOD, V.METHOD_VERSION)
    name = f"{method} ({version}, default)"
    rows = [
        [name, str(n), f"{verify_s:.1f}", f"{n / verify_s:.0f}",
         f"sentencex + text.tokens, {distinct} distinct texts once", f"{floor_distinct:.1f}",
         f"{n / floor_distinct:.0f}", f"{verify_s / floor_distinct:.2f}×"],
        [name, str(n), f"{verify_s:.1f}", f"{n / verify_s:.0f}", "sentencex + text.tokens, each pair's texts",
         f"{floor_pairs:.1f}", f"{n / floor_pairs:.0f}", f"{verify_s / floor_pairs:.2f}×"],
    ]
    neural = neural_rows(pairs, args.neural_pairs)
    if isinstance(neural, list):
        rows += neural
    print("\nVerifier throughput beside the floor (one process, one thread)")
    from library_search import print_table
    print_table(COLUMNS, rows)
    if isinstance(neural, str):
        print(f"neural verifier: {neural}")
    if args.json:
        args.json.write_text(json.dumps({
            "columns": COLUMNS, "rows": rows, "neural": neural if isinstance(neural, str) else "timed",
            "neural_pairs_s": float(neural[0][3]) if isinstance(neural, list) else None,
            "pairs": n, "claims": totals["claims"], "extract_s": totals["extract"], "verify_s": verify_s,
            "floor_pairs_s": floor_pairs, "floor_distinct_s": floor_distinct, "peak_mib": peak_rss_mib(),
        }, indent=1) + "\n")


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    main()
