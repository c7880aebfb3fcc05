"""A killed build loses nothing (generator/site.py, generator/snapshots.py, generator/cache.py).

``python -m generator build`` runs as a child process and is killed (SIGKILL or SIGINT) at
chosen points — inside retrieval, mid snapshot write, during synthesis, mid cache write,
while mkdocs runs, between mkdocs and the swap, between the two swaps, before the state
is recorded — and at fractions of a measured build time. Afterwards:

* every snapshot that existed is byte-identical, and a new one is absent or complete;
* ``site/`` is byte-identical either to the previous site or to the complete new one;
* the next build succeeds, gives the new site, and leaves no ``*.new``/``*.old``/``*.tmp``
  (checked with a full build at four points, with :func:`generator.site.recover` at the
  others, to keep this file under half a minute).

The previous state ("A") is the three example questions built from the shared seed
CSL-JSON corpus; the new state ("B") changes one question and adds one that must be
retrieved. ``SOURCE_DATE_EPOCH`` makes both builds reproducible byte for byte, so "the
new site" is one known tree.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import pipeline, site, snapshots

EPOCH = "1790000000"
SLUGS = ["alignment-tax", "multimodal-llama2-self-invoking-code", "reasoning-modes-cost"]
NEW_SLUG = "reasoning-budget"

# Runs the CLI with one hook that sends the signal to this very process at a chosen point.
RUNNER = textwrap.dedent("""
    import os, signal, subprocess, sys, threading, time
    point, sig, argv = sys.argv[1], getattr(signal, sys.argv[2]), sys.argv[3:]
    # A shell that runs the tests in the background hands its children SIGINT ignored;
    # restore what a foreground process gets, as Ctrl-C in a terminal finds it.
    signal.signal(signal.SIGINT, signal.default_int_handler)

    def die():
        os.kill(os.getpid(), sig)
        if sig == signal.SIGKILL:
            threading.Event().wait()
        elif threading.current_thread() is threading.main_thread():
            # The handler runs at the interpreter's next check, which a hook's return and a
            # call into C can race past; sleep is interrupted by the signal, so it runs here.
            time.sleep(30)

    from generator import site
    from generator.providers.library import Library
    import generator.synthesis as synthesis
    real_replace, real_install = os.replace, site.install
    real_run, real_exchange = subprocess.run, site.exchange

    def replace(src, dst, *a, **k):
        dst = str(dst)
        if (point == "snapshot-write" and "/content/snapshots/" in dst
                or point == "cache-write" and "/.litsynth/cache/" in dst
                or point == "fallback-swap" and str(src).endswith("site.new")):
            die()
        return real_replace(src, dst, *a, **k)

    def search(self, *a, **k):
        die()

    def synthesise(*a, **k):
        die()

    def run(*a, **k):
        threading.Timer(0.3, die).start()
        return real_run(*a, **k)

    def install(new, final, stem):
        real_install(new, final, stem)
        if point == "between-swaps":
            die()

    def exchange(a, b):
        if point == "fallback-swap":
            return False
        done = real_exchange(a, b)
        if point == "after-exchange" and str(b).endswith("site"):
            die()
        return done

    os.replace = replace
    if point == "retrieval":
        Library.search = search
    if point == "synthesis":
        synthesis.synthesise = synthesise
    if point == "mkdocs":
        subprocess.run = run
    site.install, site.exchange = install, exchange
    from generator.cli import main
    sys.exit(main(argv))
""")


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def make_b(root: Path) -> None:
    """Turn state A into B: one question changed, one new question without a snapshot."""
    questions = root / "content" / "questions"
    path = questions / "alignment-tax.yaml"
    path.write_text(path.read_text().replace("tags: [alignment, evaluation]", "tags: [alignment, cost]"))
    text = (questions / "reasoning-modes-cost.yaml").read_text()
    (questions / f"{NEW_SLUG}.yaml").write_text(
        text.replace("title: What do reasoning modes buy, and what do they cost?",
                     "title: Can a reasoning budget be controlled?"))


def library_args() -> list[str]:
    return ["--library", str(shared_path("corpus", "seed-topic.csl.json"))]


@pytest.fixture(scope="module")
def states(tmp_path_factory):
    """(root of A, A's site, reference root of B, B's site, seconds of a child build of B)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        a = tmp_path_factory.mktemp("a")
        shutil.copy(PROJECT_ROOT / "mkdocs.yml", a / "mkdocs.yml")
        copy_example_questions(a / "content" / "questions")
        opts = dict(libraries=[shared_path("corpus", "seed-topic.csl.json")], offline=True)
        assert pipeline.build(pipeline.Options(root=a, **opts)).failed == {}
        b = tmp_path_factory.mktemp("b")
        shutil.copytree(a, b, dirs_exist_ok=True)
        make_b(b)
        started = time.perf_counter()
        proc = subprocess.run(child_command(b, "none", "SIGKILL"), env=child_env(), capture_output=True)
        seconds = time.perf_counter() - started
        assert proc.returncode == 0, proc.stderr.decode()
    return a, tree(a / "site"), b, tree(b / "site"), seconds


def child_env() -> dict[str, str]:
    # PYTHONHASHSEED: verification sums floats over sets, so the last bit of a confidence can
    # depend on the hash seed (reported); a fixed seed keeps "the new site" one known tree.
    return {**os.environ, "SOURCE_DATE_EPOCH": EPOCH, "PYTHONHASHSEED": "0", "PYTHONPATH": str(PROJECT_ROOT)}


def child_command(root: Path, point: str, sig: str) -> list[str]:
    # The synthesis hook is in this process; with workers it may compute nothing itself.
    jobs = ["--jobs", "1"] if point == "synthesis" else []
    return [sys.executable, "-c", RUNNER, point, sig, "--root", str(root), "build", "--offline", *jobs,
            *library_args()]


@pytest.fixture
def victim(states, tmp_path):
    root = tmp_path / "victim"
    shutil.copytree(states[0], root, symlinks=True)
    make_b(root)
    return root


def assert_nothing_lost(root: Path, states) -> str:
    """The invariants right after a kill; returns which site is in place ("A" or "B")."""
    a, site_a, _, site_b, _ = states
    for slug in SLUGS:
        rel = f"content/snapshots/{slug}.json"
        assert (root / rel).read_bytes() == (a / rel).read_bytes(), rel
        assert snapshots.read(root / rel) is not None
    new = root / "content" / "snapshots" / f"{NEW_SLUG}.json"
    if new.exists():
        assert new.read_bytes() == (states[2] / "content" / "snapshots" / new.name).read_bytes()
    now = tree(root / "site")
    assert now in (site_a, site_b), "site/ is neither the previous nor the complete new site"
    return "A" if now == site_a else "B"


def wait_for_lock(root: Path) -> None:
    # An mkdocs child orphaned by SIGKILL holds the lock until it exits.
    with site.lock(root, timeout=60):
        pass


def assert_next_build_recovers(root: Path, states) -> None:
    proc = subprocess.run(child_command(root, "none", "SIGKILL"), env=child_env(), capture_output=True)
    assert proc.returncode == 0, proc.stderr.decode()
    assert tree(root / "site") == states[3]
    assert sorted(p.name for p in (root / ".litsynth").iterdir()) == [
        "cache", "docs", "library", "lock", "mkdocs.build.yml", "pages", "state.json"]
    # One saved library index (the current key), no half-written one.
    assert [len(p.name) for p in (root / ".litsynth" / "library").iterdir()] == [64]
    assert not [p for p in (root / "content" / "snapshots").iterdir() if p.name.startswith(".")]
    assert not [p for p in (root / ".litsynth" / "cache").iterdir() if p.name.startswith(".")]
    for slug in SLUGS + [NEW_SLUG]:
        assert snapshots.read(root / "content" / "snapshots" / f"{slug}.json") is not None


HOOKS = [
    # (point, signal, which site must be in place right after the kill)
    ("retrieval", "SIGKILL", "A"),
    ("retrieval", "SIGINT", "A"),
    ("snapshot-write", "SIGKILL", "A"),
    ("synthesis", "SIGKILL", "A"),
    ("cache-write", "SIGINT", "A"),
    ("mkdocs", "SIGKILL", "A"),
    ("mkdocs", "SIGINT", "A"),
    ("between-swaps", "SIGKILL", "A"),  # mkdocs done, docs swapped, site not yet
    ("after-exchange", "SIGKILL", "B"),  # site swapped, previous one not yet deleted
]


@pytest.mark.parametrize("point, sig, expected", HOOKS, ids=[f"{p}-{s}" for p, s, _ in HOOKS])
def test_kill_at_a_chosen_point(victim, states, point, sig, expected):
    proc = subprocess.run(child_command(victim, point, sig), env=child_env(), capture_output=True, text=True)
    if sig == "SIGKILL":
        assert proc.returncode == -signal.SIGKILL, proc.stderr
    else:
        assert proc.returncode == 130, proc.stderr
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip().endswith("never half-written.")
    assert assert_nothing_lost(victim, states) == expected
    if point == "snapshot-write":
        leftovers = list((victim / "content" / "snapshots").glob(f".{NEW_SLUG}.json.*.tmp"))
        assert len(leftovers) == 1 and not (victim / "content" / "snapshots" / f"{NEW_SLUG}.json").exists()
    wait_for_lock(victim)
    if (point, sig) in (("snapshot-write", "SIGKILL"), ("mkdocs", "SIGKILL"), ("after-exchange", "SIGKILL")):
        assert_next_build_recovers(victim, states)
    else:  # the same recovery code runs; a full build at three points keeps this file fast
        assert site.recover(victim) is not None
        assert not [p for p in (victim / ".litsynth").iterdir() if p.suffix in (".new", ".old", ".trash")]


def test_fallback_swap_is_recovered(victim, states):
    # Without renameat2 the swap is two renames; a kill between them leaves no site/ but a
    # complete site.old, which the next run puts back before doing anything else.
    proc = subprocess.run(child_command(victim, "fallback-swap", "SIGKILL"), env=child_env(), capture_output=True)
    assert proc.returncode == -signal.SIGKILL
    assert not (victim / "site").exists()
    assert tree(victim / ".litsynth" / "site.old") == states[1]
    with site.lock(victim):
        assert "restored site from site.old" in site.recover(victim)
    assert assert_nothing_lost(victim, states) == "A"
    # No state.json: it is removed before a swap, so the next build cannot skip mkdocs.
    assert sorted(p.name for p in (victim / ".litsynth").iterdir()) == ["cache", "docs", "library", "lock", "mkdocs.build.yml", "pages"]


def test_kill_after_delays(victim, states):
    # Kill points not chosen by us: fractions of a measured build, one build after another.
    for fraction in (0.25, 0.5, 0.8):
        proc = subprocess.Popen(child_command(victim, "none", "SIGKILL"), env=child_env(),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(states[4] * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert_nothing_lost(victim, states)
        wait_for_lock(victim)
    assert_next_build_recovers(victim, states)


def test_sigterm_after_a_delay(victim, states):
    proc = subprocess.Popen(child_command(victim, "none", "SIGKILL"), env=child_env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(states[4] * 0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    # 130 once the CLI handles SIGTERM; before that (interpreter start-up) the default
    # action ends the process, and a build that already finished exits 0.
    assert proc.returncode in (130, -signal.SIGTERM, 0), err
    assert "Traceback" not in err
    assert_nothing_lost(victim, states)
    wait_for_lock(victim)
