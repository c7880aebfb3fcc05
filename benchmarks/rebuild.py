"""Time full, forced, no-op and one-question-changed builds of the example questions.

Usage::

    python benchmarks/rebuild.py [--repeat N] [--library PATH ...]

Copies ``mkdocs.yml`` and ``content/questions/`` into a temporary project and runs
``python -m generator -v --root <tmp> build --offline --library …`` as a child process, so
each wall time includes interpreter start-up and imports, as a user sees it. Libraries
default to the two shared corpora (``../shared/corpus/arxiv-cscl-2025-2026.jsonl.gz``,
``../shared/corpus/seed-topic.csl.json``). Scenarios, in this order, each repeated ``N``
times (median reported):

* ``cold`` — no snapshot, no cache, no site: retrieval + synthesis + render + mkdocs;
* ``forced`` — snapshots present, ``--force``: every claim set recomputed, mkdocs rerun;
* ``no-op`` — nothing changed: claim sets from the cache, mkdocs skipped;
* ``one changed`` — one question's tags edited: that claim set recomputed, mkdocs rerun.

The split comes from the ``timings:`` line ``-v`` prints (``Report.timings``); the
``start-up`` column is wall time minus the pipeline's own ``total``.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "corpus"
DEFAULT_LIBRARIES = [SHARED / "arxiv-cscl-2025-2026.jsonl.gz", SHARED / "seed-topic.csl.json"]
PHASES = ("load", "retrieval", "synthesis", "render", "site", "mkdocs", "total")
CHANGED = "alignment-tax"


def build_env() -> dict[str, str]:
    """This process's environment for a build, without ``PYTHONDONTWRITEBYTECODE``: a build
    runs as a researcher's does, Python keeping the compiled bytecode of litsynth's
    modules in ``__pycache__`` as it does unless told not to. The reference machine sets
    that variable, and every build process then compiled litsynth's 40 modules from source
    (0.08 s each; mkdocs' modules, installed by pip, come compiled): a fifth of a no-op
    rebuild (our measurement)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def run_build(project: Path, libraries: list[Path], *extra: str) -> dict[str, float]:
    cmd = [sys.executable, "-m", "generator", "-v", "--root", str(project), "build", "--offline"]
    for lib in libraries:
        cmd += ["--library", str(lib)]
    started = time.perf_counter()
    proc = subprocess.run([*cmd, *extra], capture_output=True, text=True, cwd=ROOT, env=build_env())
    wall = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"build failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stderr.splitlines() if x.startswith("timings: "))
    timings = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+) s", line)}
    timings["wall"] = wall
    timings["start-up"] = wall - timings.get("total", 0.0)
    return timings


def edit_question(project: Path, n: int) -> None:
    path = project / "content" / "questions" / f"{CHANGED}.yaml"
    text = re.sub(r"^tags: \[(.*)\]$", lambda m: f"tags: [{m.group(1)}, edit{n}]",
                  path.read_text(encoding="utf-8"), flags=re.M)
    path.write_text(text, encoding="utf-8")


def scenarios(project: Path, libraries: list[Path], repeat: int) -> dict[str, list[dict[str, float]]]:
    results: dict[str, list[dict[str, float]]] = {k: [] for k in ("cold", "forced", "no-op", "one changed")}
    for n in range(repeat):
        for name in ("site", ".litsynth", "content/snapshots"):
            shutil.rmtree(project / name, ignore_errors=True)
        results["cold"].append(run_build(project, libraries))
        results["forced"].append(run_build(project, libraries, "--force"))
        results["no-op"].append(run_build(project, libraries))
        edit_question(project, n)
        results["one changed"].append(run_build(project, libraries))
    return results


def table(results: dict[str, list[dict[str, float]]]) -> str:
    cols = ["wall", "start-up", *PHASES]
    med = {name: {c: statistics.median(r.get(c, 0.0) for r in runs) for c in cols} for name, runs in results.items()}
    cold, forced = med["cold"]["wall"], med["forced"]["wall"]
    head = f"{'scenario':<12}" + "".join(f"{c:>10}" for c in cols) + f"{'÷cold':>8}{'÷forced':>9}"
    lines = [head, "-" * len(head)]
    for name, row in med.items():
        lines.append(f"{name:<12}" + "".join(f"{row[c]:>10.2f}" for c in cols)
                     + f"{row['wall'] / cold:>7.1%}{row['wall'] / forced:>9.1%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--library", type=Path, action="append", default=None)
    args = parser.parse_args()
    libraries = args.library or DEFAULT_LIBRARIES
    for lib in libraries:
        if not lib.exists():
            sys.exit(f"{lib} not found; pass --library PATH")
    with tempfile.TemporaryDirectory(prefix="litsynth-rebuild-") as tmp:
        project = Path(tmp)
        shutil.copy(ROOT / "mkdocs.yml", project / "mkdocs.yml")
        shutil.copytree(ROOT / "content" / "questions", project / "content" / "questions")
        os.environ.setdefault("SOURCE_DATE_EPOCH", "1790000000")
        results = scenarios(project, libraries, args.repeat)
    print(f"Median of {args.repeat} run(s), seconds; {len(list((ROOT / 'content' / 'questions').glob('*.yaml')))} "
          f"questions; libraries: {', '.join(p.name for p in libraries)}")
    print("(site = writing, checking and swapping the site, of which mkdocs = the mkdocs child process)")
    print(table(results))


if __name__ == "__main__":
    main()
