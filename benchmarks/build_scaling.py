"""Build time against the number of questions, split by step, and the speed-up of a second process.

Usage::

    python benchmarks/build_scaling.py [--sizes 1,10,50] [--speedup-sizes 10,50] [--repeat 2] [--json OUT]
    python benchmarks/build_scaling.py --write-questions DIR --count 50   # only write question files

For each size N a temporary project gets ``mkdocs.yml`` and N question files: the
repository's example questions first, then questions generated from real topics of the
shared arXiv corpus (:func:`topics`, :func:`question_yaml`). Builds run the CLI as a child
process (``python -m generator -v --root <tmp> build --offline --library …`` with the two
shared corpora, as ``benchmarks/rebuild.py`` does), so wall time includes interpreter
start-up; the split comes from the ``timings:`` line of ``-v`` (``Report.timings``).
Per size, in this order:

1. ``full`` — no snapshot, cache or site: library load, retrieval, synthesis (default
   ``--jobs``: one process per CPU), rendering, mkdocs; then ``full_saved``, the same
   build again after deleting snapshots, claim-set and page caches and site but not the
   library index the first build saved in ``.litsynth/library/`` (what any later build that
   retrieves finds); the pair ``--repeat`` times, the fastest run of each shown (with every
   run's generator and mkdocs seconds);
2. steps — a child process calls :func:`generator.screening.screen`,
   :func:`generator.extraction.extract_claims` (through ``synthesis._claims_for``, which
   also tags each claim with its facets) and :func:`generator.verification.verify` on the
   snapshots the full build wrote, serially, timing each, and then splits every included
   abstract into sentences once more past the cache (the splitter's share of extraction, which is
   the first step to split them); a second child times
   :func:`generator.synthesis.synthesise` on the same snapshots, and "assessment +
   assembly" is its time minus those three;
3. ``forced --jobs 1`` and ``forced --jobs 2`` (sizes in ``--speedup-sizes``), interleaved,
   ``--repeat`` times each, the fastest shown (other load on a shared machine only ever
   slows a run): every claim set recomputed from the snapshots, mkdocs rerun — the
   speed-up of a second process. Before and after each pair, :func:`cpu_capacity`
   measures how much of a second core other programs leave free, the bound on that
   speed-up;
4. ``no-op`` (nothing changed) and ``one changed`` (one question's tags edited) — the
   scenarios of ``benchmarks/rebuild.py``, whose helpers are reused.

Prints four tables: the full build by step, the synthesis split, the speed-up, and the
rebuilds. "generator" is the wall time of a build minus mkdocs' own time. Must show
(issue 7): at 50 questions, generator time ≤ mkdocs time; a no-op rebuild ≤ 10% of a
full build.
"""

from __future__ import annotations

import argparse
import collections
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import rebuild  # noqa: E402  (benchmarks/rebuild.py: run_build, edit_question)

CORPUS = ROOT.parent / "shared" / "corpus" / "arxiv-cscl-2025-2026.jsonl.gz"
LIBRARIES = [CORPUS, ROOT.parent / "shared" / "corpus" / "seed-topic.csl.json"]
EXAMPLES = ROOT / "content" / "questions"
EPOCH = "1790000000"

# Title words too broad to make a topic of their own (they head half of all cs.CL titles)
# or that name a paper's genre rather than its subject.
GENERIC = frozenset("""
    language languages model models large llm llms evaluating evaluation evaluations framework
    frameworks comprehensive benchmark benchmarks benchmarking comparative analysis technical
    report task tasks shared semeval-2025 semeval-2026 natural processing towards via study
    novel approach approaches using based new survey systematic review case dataset datasets
    empirical efficient effective improving enhancing understanding learning ai generative
    multi-agent agent agents system systems method methods data
""".split())
_WORD = re.compile(r"[a-z][a-z0-9\-]+")


def _title_words(title: str) -> list[str]:
    from generator.text import STOPWORDS
    return [w for w in _WORD.findall(title.lower()) if w not in STOPWORDS]


def topics(corpus: Path = CORPUS, count: int = 50) -> list[dict]:
    """``count`` topics of the corpus, most frequent first: ``{"phrase", "docs", "related"}``.

    A topic is a title bigram of two non-stopwords, neither in :data:`GENERIC`, ranked by
    the number of titles holding it (ties: alphabetical). A bigram is skipped when more
    than half of its titles already hold a chosen topic ("entity recognition" after
    "named entity"), or when its word stems (hyphenated words split) are a subset or
    superset of a chosen topic's ("knowledge graphs", "retrieval augmented"). ``related``: the four words that occur most often in its titles
    besides its own (the facets and extra query terms of its question). Deterministic.
    """
    titles = []
    with gzip.open(corpus, "rt", encoding="utf-8") as f:
        for line in f:
            titles.append(_title_words(json.loads(line)["title"]))
    holders: dict[tuple[str, str], set[int]] = collections.defaultdict(set)
    for i, words in enumerate(titles):
        for a, b in zip(words, words[1:]):
            if a not in GENERIC and b not in GENERIC and a != b:
                holders[(a, b)].add(i)
    from generator.text import stem

    chosen: list[dict] = []
    taken: list[set[int]] = []
    keys: list[frozenset[str]] = []
    for (a, b), docs in sorted(holders.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        if len(chosen) == count:
            break
        key = frozenset(stem(w) for w in f"{a}-{b}".split("-") if w)
        if any(len(docs & other) > len(docs) / 2 for other in taken) or any(key <= k or k <= key for k in keys):
            continue
        keys.append(key)
        near = collections.Counter(w for i in docs for w in set(titles[i])
                                   if w not in (a, b) and w not in GENERIC)
        related = [w for w, _ in sorted(near.items(), key=lambda kv: (-kv[1], kv[0]))[:4]]
        chosen.append({"phrase": f"{a} {b}", "docs": len(docs), "related": related})
        taken.append(docs)
    return chosen


def question_yaml(topic: dict) -> str:
    """A question file (DESIGN §2) about ``topic`` (from :func:`topics`)."""
    phrase, rel = topic["phrase"], topic["related"]
    facets = [phrase, *rel[:3]]
    queries = [phrase, f"{phrase} {' '.join(rel[:2])}", f"{phrase} {' '.join(rel[2:4])}"]
    return (f"# Generated by benchmarks/build_scaling.py from {topic['docs']} corpus titles.\n"
            f"title: What does recent work report on {phrase}?\n"
            f"question: >\n  What do recent papers find about {phrase}, in particular about "
            f"{', '.join(rel[:3])}, and how well do their findings agree?\n"
            f"facets: {json.dumps(facets)}\n"
            f"search:\n  queries: {json.dumps(queries)}\n  since: 2025\n  max_records: 100\n"
            f"tags: [generated, {json.dumps(phrase)}]\n")


def write_questions(folder: Path, count: int) -> list[str]:
    """The example questions, then generated ones, ``count`` in all, into ``folder``;
    returns their slugs in that order."""
    folder.mkdir(parents=True, exist_ok=True)
    examples = sorted(EXAMPLES.glob("*.yaml"))[:count]
    for path in examples:
        shutil.copy(path, folder / path.name)
    slugs = [p.stem for p in examples]
    for topic in topics(count=max(0, count - len(examples))):
        slug = "topic-" + re.sub(r"[^a-z0-9]+", "-", topic["phrase"]).strip("-")
        (folder / f"{slug}.yaml").write_text(question_yaml(topic), encoding="utf-8")
        slugs.append(slug)
    return slugs


def steps(project: Path) -> dict[str, float]:
    """Serial seconds of screening, extraction and verification over every question of
    ``project`` (snapshots already written), in this process."""
    from generator import snapshots, verification
    from generator.questions import load_questions
    from generator.screening import screen
    from generator.synthesis import _claims_for

    from generator import text

    out = {"screening": 0.0, "extraction": 0.0, "verification": 0.0, "claims": 0, "records": 0}
    distinct: set[str] = set()
    included: set[str] = set()
    for q in load_questions(project / "content" / "questions", root=project):
        snap = snapshots.read(snapshots.snapshot_path(project / "content" / "snapshots", q.slug))
        t0 = time.perf_counter()
        result = screen(q, snap)
        t1 = time.perf_counter()
        claims = _claims_for(q, result)
        t2 = time.perf_counter()
        verification.verify(claims, list(result.included))
        t3 = time.perf_counter()
        out["screening"] += t1 - t0
        out["extraction"] += t2 - t1
        out["verification"] += t3 - t2
        out["claims"] += len(claims)
        out["records"] += len(snap.records)
        distinct.update(r.abstract or r.id for r in snap.records)
        included.update(r.abstract for r in result.included if r.text_available and r.abstract)
    out["distinct_abstracts"] = len(distinct)
    # What sentence splitting alone costs: every included abstract split once more, past the cache.
    started = time.perf_counter()
    for abstract in included:
        text._sentence_spans_cached.__wrapped__(abstract)
    out["splitting"] = time.perf_counter() - started
    out["split_abstracts"] = len(included)
    return out


def synthesis_seconds(project: Path) -> float:
    """Serial seconds of :func:`generator.synthesis.synthesise` over every question of
    ``project`` (snapshots already written), in this process."""
    from generator import snapshots
    from generator.questions import load_questions
    from generator.synthesis import synthesise

    work = [(q, snapshots.read(snapshots.snapshot_path(project / "content" / "snapshots", q.slug)))
            for q in load_questions(project / "content" / "questions", root=project)]
    started = time.perf_counter()
    for q, snap in work:
        synthesise(q, snap)
    return time.perf_counter() - started


def _burn(seconds: float) -> float:
    """Loop iterations per second of pure-Python work over ``seconds``."""
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for i in range(10_000):
            count += i & 1
    return count / (time.perf_counter() - started)


def cpu_capacity(seconds: float = 1.0) -> float:
    """How many CPUs' worth of pure-Python work two processes get right now, in [0, 2]:
    the summed rate of two concurrent busy loops over one loop's rate alone. About 2 on an
    idle 2-core machine; about 1 when another program keeps one core busy — the most a
    second worker can then add."""
    from concurrent.futures import ProcessPoolExecutor

    alone = _burn(seconds)
    with ProcessPoolExecutor(2) as pool:
        both = sum(pool.map(_burn, [seconds, seconds]))
    return both / alone


def _child(flag: str, project: Path):
    proc = subprocess.run([sys.executable, __file__, flag, str(project)], capture_output=True, text=True, cwd=ROOT,
                          env=rebuild.build_env())
    if proc.returncode != 0:
        raise SystemExit(f"{flag} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(n: int, tmp: Path, speedup: bool, repeat: int) -> dict:
    project = tmp / f"n{n}"
    project.mkdir()
    shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
    slugs = write_questions(project / "content" / "questions", n)
    out: dict = {"n": n, "slugs": slugs, "processes": min(n, os.cpu_count() or 1)}
    # `repeat` times each, interleaved, the fastest (by wall time) shown with every run's
    # generator and mkdocs seconds: on a shared VM the same build took 15.2–20.3 s (our
    # measurement), and other load only ever slows a run.
    runs: dict[str, list[dict]] = {"full": [], "full_saved": []}
    for _ in range(repeat):
        for leftover in (project / "content" / "snapshots", project / ".litsynth", project / "site"):
            shutil.rmtree(leftover, ignore_errors=True)
        runs["full"].append(rebuild.run_build(project, LIBRARIES))
        # The same full build again, but with the library read and indexed by the first one
        # saved in .litsynth/library/ (what every later build that retrieves finds there).
        for leftover in (project / "content" / "snapshots", project / ".litsynth" / "cache",
                         project / ".litsynth" / "pages", project / "site"):
            shutil.rmtree(leftover, ignore_errors=True)
        runs["full_saved"].append(rebuild.run_build(project, LIBRARIES))
    for key, found in runs.items():
        out[key] = dict(min(found, key=lambda t: t["wall"]))
        out[key]["runs"] = [[round(t["wall"] - t.get("mkdocs", 0.0), 2), round(t.get("mkdocs", 0.0), 2)]
                            for t in found]
    out["steps"] = _child("--steps", project)
    out["steps"]["synthesis"] = _child("--synthesis", project)
    if speedup:
        # Interleaved and best of `repeat`: other load on the machine slows single runs, never speeds them up.
        runs = {"forced1": [], "forced2": []}
        capacity = [cpu_capacity()]
        for _ in range(repeat):
            runs["forced1"].append(rebuild.run_build(project, LIBRARIES, "--force", "--jobs", "1"))
            runs["forced2"].append(rebuild.run_build(project, LIBRARIES, "--force", "--jobs", "2"))
            capacity.append(cpu_capacity())
        out["capacity"] = capacity
        for key, found in runs.items():
            out[key] = min(found, key=lambda t: t["synthesis"])
            out[key]["runs"] = [round(t["synthesis"], 2) for t in found]
    out["noop"] = rebuild.run_build(project, LIBRARIES)
    if rebuild.CHANGED in slugs:
        rebuild.edit_question(project, 0)
        out["changed"] = rebuild.run_build(project, LIBRARIES)
    out["questions_bytes"] = sum(p.stat().st_size for p in (project / "content" / "questions").iterdir())
    out["pages"] = len(list((project / "site").rglob("index.html")))
    shutil.rmtree(project)
    return out


def _f(x: float) -> str:
    return f"{x:.1f}"


def tables(results: list[dict]) -> dict[str, dict]:
    """The four tables as ``{id: {"columns", "rows"}}`` (cells are strings)."""
    full = {"columns": ["questions", "library", "wall (s)", "start-up", "library load", "retrieval (rest)", "synthesis",
                        "render", "site write", "mkdocs", "generator", "generator ÷ mkdocs",
                        "wall per question", "wall per added question"], "rows": []}
    split = {"columns": ["questions", "records", "distinct abstracts", "claims", "screening (s)", "extraction (s)",
                         "of which sentence splitting (s)", "verification (s)", "assessment + assembly (s)",
                         "serial synthesis (s)", "per question (s)"], "rows": []}
    speed = {"columns": ["questions", "synthesis, 1 process (s)", "synthesis, 2 processes (s)", "speed-up",
                         "wall, 1 process (s)", "wall, 2 processes (s)", "CPU capacity (cores)"], "rows": []}
    rebuilds = {"columns": ["questions", "full (s)", "no-op (s)", "no-op ÷ full", "one changed (s)",
                            "one changed ÷ full", "one changed: generator (s)", "one changed: mkdocs (s)"],
                "rows": []}
    previous = None
    for r in results:
        added = (f"{(r['full']['wall'] - previous['full']['wall']) / (r['n'] - previous['n']):.2f}"
                 if previous and r["n"] > previous["n"] else "–")
        previous = r
        for kind, t in (("read + indexed", r["full"]), ("saved index", r.get("full_saved"))):
            if t is None:
                continue
            generator = t["wall"] - t.get("mkdocs", 0.0)
            lib = t.get("library", 0.0)
            full["rows"].append([str(r["n"]), kind, _f(t["wall"]), _f(t["start-up"]), _f(lib),
                                 _f(t.get("retrieval", 0.0) - lib), _f(t.get("synthesis", 0.0)),
                                 _f(t.get("render", 0.0)), _f(t.get("site", 0.0) - t.get("mkdocs", 0.0)),
                                 _f(t.get("mkdocs", 0.0)), _f(generator),
                                 f"{generator / t['mkdocs']:.2f}" if t.get("mkdocs") else "–",
                                 f"{t['wall'] / r['n']:.2f}", added if kind == "read + indexed" else "–"])
        t = r["full"]
        s = r["steps"]
        serial = s.get("synthesis")
        parts = s["screening"] + s["extraction"] + s["verification"]
        rest = max(0.0, serial - parts) if serial is not None else None
        split["rows"].append([str(r["n"]), str(s["records"]), str(s.get("distinct_abstracts", "–")),
                              str(s["claims"]), _f(s["screening"]),
                              _f(s["extraction"]), _f(s["splitting"]) if "splitting" in s else "–",
                              _f(s["verification"]),
                              ("≈ 0" if rest < 0.05 else _f(rest)) if rest is not None else "–",
                              _f(serial) if serial is not None else f"≥ {parts:.1f}",
                              f"{(serial if serial is not None else parts) / r['n']:.2f}"])
        if "forced1" in r:
            a, b = r["forced1"], r["forced2"]
            cap = r.get("capacity") or []
            speed["rows"].append([str(r["n"]), _f(a["synthesis"]), _f(b["synthesis"]),
                                  f"{a['synthesis'] / b['synthesis']:.2f}×", _f(a["wall"]), _f(b["wall"]),
                                  f"{min(cap):.2f}–{max(cap):.2f}" if cap else "–"])
        if "changed" in r:
            rebuilds["rows"].append([str(r["n"]), _f(t["wall"]), _f(r["noop"]["wall"]),
                                     f"{r['noop']['wall'] / t['wall']:.1%}", _f(r["changed"]["wall"]),
                                     f"{r['changed']['wall'] / t['wall']:.1%}",
                                     _f(r["changed"]["wall"] - r["changed"].get("mkdocs", 0.0)),
                                     _f(r["changed"].get("mkdocs", 0.0))])
    return {"full": full, "split": split, "speedup": speed, "rebuilds": rebuilds}


TITLES = {
    "full": "Full build by step (seconds; synthesis with the default one process per CPU)",
    "split": "Synthesis split, one process (seconds, serial)",
    "speedup": "Synthesis on 1 and 2 processes (forced rebuilds: every claim set recomputed, mkdocs rerun; "
               "fastest of the runs)",
    "rebuilds": "Rebuilds against the full build",
}


def print_tables(built: dict[str, dict]) -> None:
    from library_search import print_table
    for key, table in built.items():
        if table["rows"]:
            print(f"\n{TITLES[key]}")
            print_table(table["columns"], table["rows"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1,10,50", help="question counts, comma-separated")
    parser.add_argument("--speedup-sizes", default="10,50", help="sizes at which to time --jobs 1 and 2")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--repeat", type=int, default=2,
                        help="runs of each full and forced build; the fastest is shown")
    parser.add_argument("--steps", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--synthesis", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--write-questions", type=Path, metavar="DIR", help="only write question files to DIR")
    parser.add_argument("--count", type=int, default=50)
    args = parser.parse_args(argv)
    if args.steps or args.synthesis:
        from generator.parallel import collect_garbage_rarely

        collect_garbage_rarely()  # the children time steps as a build's processes run them
    if args.steps:
        print(json.dumps(steps(args.steps)))
        return
    if args.synthesis:
        print(json.dumps(synthesis_seconds(args.synthesis)))
        return
    if args.write_questions:
        for slug in write_questions(args.write_questions, args.count):
            print(slug)
        return
    for lib in LIBRARIES:
        if not lib.exists():
            raise SystemExit(f"{lib} not found")
    sizes = [int(x) for x in args.sizes.split(",") if x]
    speedup = {int(x) for x in args.speedup_sizes.split(",") if x}
    os.environ.setdefault("SOURCE_DATE_EPOCH", EPOCH)
    results = []
    with tempfile.TemporaryDirectory(prefix="litsynth-scaling-") as tmp:
        for n in sizes:
            started = time.perf_counter()
            results.append(measure(n, Path(tmp), n in speedup, args.repeat))
            print(f"[{n} questions measured in {time.perf_counter() - started:.0f} s]", file=sys.stderr)
    built = tables(results)
    print(f"Build scaling: {', '.join(map(str, sizes))} questions; libraries: "
          f"{', '.join(p.name for p in LIBRARIES)}; {os.cpu_count()} CPUs")
    print_tables(built)
    if args.json:
        args.json.write_text(json.dumps({"tables": built, "titles": TITLES, "results": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
