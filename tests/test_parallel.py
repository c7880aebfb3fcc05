"""Claim sets computed in parallel are the claim sets computed serially
(generator/parallel.py: ``Synthesiser``, ``synthesise_all``; ``Options.jobs``, ``--jobs``); benchmark
results in ``content/performance.json`` become the site's Performance page.

Data: the repository's three example questions, retrieved from a small library of real
records — the first 600 records of the shared arXiv cs.CL corpus that mention one of the
questions' topics, written to ``tmp_path`` — plus the shared seed CSL-JSON file (it holds
the records the questions ``include:``).
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import os
import re
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import EXAMPLE_QUESTIONS, PROJECT_ROOT, copy_example_questions, shared_path
from generator import cache, cli, parallel, pipeline, render, snapshots
from generator.providers.library import Library
from generator.questions import load_question

EPOCH = "1790000000"
NOW = "2026-09-21T14:13:20+00:00"
TOPICS = ("alignment", "RLHF", "preference optimization", "reasoning", "thinking", "code generation",
          "HumanEval", "MBPP", "multimodal", "vision-language")


# Benchmark results as benchmarks/report.py writes them (abridged: one table, one target).
PERFORMANCE = {
    "schema": "litsynth/performance/1", "command": "python benchmarks/report.py",
    "generated_at": "2026-11-30T01:47:13+00:00", "seconds": 431.0,
    "machine": {"cpu": "Intel(R) Xeon(R) Processor", "cores": 2, "ram_gib": 23.5, "python": "3.11.7",
                "system": "Linux 6.18.44 x86_64", "load": "1.40 / 1.54 / 2.49"},
    "checks": [{"target": "Peak memory under 2 GB with 250,650 records", "measured": "1.75 GB (1673 MiB)",
                "met": True}],
    "tables": [{"title": "Library search", "command": "python benchmarks/library_search.py --scale 10",
                "date": "2026-11-30T01:47:14+00:00", "seconds": 93.2,
                "columns": ["corpus", "records", "read (s)", "peak RSS (MiB)"],
                "rows": [["arxiv-cscl-2025-2026.jsonl.gz", "25,065", "1.5", "231"],
                         ["arxiv-cscl-2025-2026.jsonl.gz ×10 (fresh ids)", "250,650", "15.1", "1673"]],
                "notes": ["One child process per corpus."]}],
    "next": ["Split each record into sentences once per corpus."],
}


@pytest.fixture(scope="module")
def library_files(tmp_path_factory) -> list[Path]:
    folder = tmp_path_factory.mktemp("library")
    kept = []
    with gzip.open(shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), "rt", encoding="utf-8") as f:
        for line in f:
            record = json.loads(line)
            text = f"{record['title']} {record.get('abstract') or ''}"
            if any(topic.lower() in text.lower() for topic in TOPICS):
                kept.append(line)
                if len(kept) == 600:
                    break
    small = folder / "topics.jsonl"
    small.write_text("".join(kept), encoding="utf-8")
    return [small, shared_path("corpus", "seed-topic.csl.json")]


@pytest.fixture(scope="module")
def work(library_files) -> list:
    """``(question, snapshot)`` of the three example questions."""
    library = Library.load(library_files)
    questions = [load_question(PROJECT_ROOT / "content" / "questions" / name, root=PROJECT_ROOT)
                 for name in EXAMPLE_QUESTIONS]
    return [(q, pipeline.retrieve_one(q, [library], now=NOW)) for q in questions]


@pytest.fixture(scope="module")
def serial(work) -> dict[int, dict]:
    return {i: data for i, (data, failure, _) in parallel.synthesise_all(work, jobs=1) if failure is None}


def test_serial_path_computes_in_question_order(work, serial):
    assert sorted(serial) == [0, 1, 2]
    assert [serial[i]["slug"] for i in range(3)] == [q.slug for q, _ in work]
    assert all(serial[i]["claims"] for i in range(3))  # real claim sets, not empty shells


def test_two_processes_give_the_same_claim_sets(work, serial):
    results = [(i, data, failure) for i, (data, failure, _) in parallel.synthesise_all(work, jobs=2)]
    assert sorted(i for i, _, _ in results) == [0, 1, 2]
    assert [failure for _, _, failure in results] == [None, None, None]
    for i, data, _ in results:
        assert data == serial[i], work[i][0].slug
        assert [c["id"] for c in data["claims"]] == [c["id"] for c in serial[i]["claims"]]
        assert [c["verdict"] for c in data["claims"]] == [c["verdict"] for c in serial[i]["claims"]]


def test_pages_rendered_beside_the_claim_set_are_the_pages_rendered_here(work, serial):
    got = {i: computed for i, computed in parallel.synthesise_all(work, jobs=2, site_name="Syntheses <&>")}
    env = render.environment()
    for i, (data, failure, files) in got.items():
        assert failure is None and data == serial[i]
        assert files == render.question_files(serial[i], env, site_name="Syntheses <&>")
        assert f"questions/{data['slug']}.md" in files


def test_a_worker_sends_the_claim_set_once_inside_its_page_files(work, serial):
    """A worker's result carries the claim set only as the JSON file of its page; this
    process reads it back from there, the same claim set. Without page files the claim
    set itself is sent."""
    import pickle
    import zlib

    question, snapshot = work[0]
    packed = parallel._compute_packed(question, snapshot, "site", None)
    sent = pickle.loads(zlib.decompress(packed))
    assert sent.data is None and sent.failure is None and render.claim_set_path(question.slug) in sent.files
    got = parallel._unpacked(packed, question.slug)
    assert got.data == serial[0] and got.files == sent.files
    bare = parallel._compute_packed(question, snapshot, None, None)
    assert pickle.loads(zlib.decompress(bare)).data == serial[0] == parallel._unpacked(bare, question.slug).data


def test_items_added_while_others_are_computed_give_the_serial_claim_sets(work, serial):
    # As a build does: the first items are being computed while later ones are still
    # being retrieved (here: a pause before each add).
    with parallel.Synthesiser(2, len(work)) as synth:
        for i, (question, snap) in enumerate(work):
            synth.add(i, question, snap)
            time.sleep(0.3)
        got = {i: data for i, (data, _, _) in synth.results()}
        with pytest.raises(RuntimeError, match="after results"):
            synth.add(9, *work[0])
    assert got == serial


def test_a_worker_stopped_mid_build_costs_only_time(work, serial):
    # SIGTERM to a worker (as `kill` or an OOM killer's first step would send): what it
    # held is computed in this process, and every claim set is still the serial one.
    items = work * 4
    with parallel.Synthesiser(2, len(items)) as synth:
        for i, (question, snap) in enumerate(items):
            synth.add(i, question, snap)
        deadline = time.monotonic() + 30
        while not synth._pool._processes and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(1.0)  # warm-up done, items under way
        (pid,) = list(synth._pool._processes)
        os.kill(pid, signal.SIGTERM)
        got = {i: data for i, (data, failure, _) in synth.results()}
    assert sorted(got) == list(range(len(items)))
    assert all(got[i] == serial[i % 3] for i in got)


def test_order_of_the_work_does_not_change_a_claim_set(work, serial):
    reordered = list(reversed(work))
    got = {2 - i: data for i, (data, _, _) in parallel.synthesise_all(reordered, jobs=2)}
    assert got == serial


def test_a_failing_item_is_reported_and_the_others_are_built(work, serial):
    question, snap = work[0]
    # An abstract given as a list of sentences (as SciFact stores them) instead of text: a
    # bug on one question's data, which makes synthesise raise wherever it runs.
    records = list(snap.records)
    records[0] = dataclasses.replace(records[0], abstract=records[0].abstract.split(". "))
    broken = [(question, dataclasses.replace(snap, records=tuple(records))), work[1], work[2]]
    results = {i: (data, failure) for i, (data, failure, _) in parallel.synthesise_all(broken, jobs=2)}
    # Which step trips over the list first (a cache keyed by the text, a string method)
    # does not matter; that the failure is this question's, with its exception, does.
    assert results[0][0] is None
    assert re.match(r"(AttributeError|TypeError): ", results[0][1].splitlines()[-1]), results[0][1]
    assert results[1][0] == serial[1] and results[2][0] == serial[2]


def test_build_with_two_jobs_writes_the_serial_claim_sets(work, serial, library_files, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "p"
    (root / "content").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_example_questions(root / "content" / "questions")
    for question, snap in work:
        snapshots.write(snapshots.snapshot_path(root / "content" / "snapshots", question.slug), snap)
    (root / "content" / "performance.json").write_text(json.dumps(PERFORMANCE), encoding="utf-8")
    report = pipeline.build(pipeline.Options(root=root, libraries=library_files, offline=True, jobs=2))
    slugs = [q.slug for q, _ in work]
    assert report.failed == {} and report.built == slugs and report.recomputed == slugs
    # The benchmark results became the Performance page, linked from the nav.
    page = (root / "site" / "performance" / "index.html").read_text(encoding="utf-8")
    assert "Intel(R) Xeon(R) Processor" in page and "python benchmarks/library_search.py --scale 10" in page
    assert "Peak memory under 2 GB with 250,650 records" in page and 'href="performance/"' in (
        root / "site" / "index.html").read_text(encoding="utf-8")
    for i, slug in enumerate(slugs):
        page_json = json.loads((root / ".litsynth" / "docs" / "questions" / f"{slug}.json").read_text())
        assert page_json == serial[i]
        entry = json.loads((root / ".litsynth" / "cache" / f"{slug}.json").read_text())
        assert entry["format"] == cache.FORMAT and entry["synthesis"] == serial[i]


def test_unusable_benchmark_results_leave_the_page_out_with_a_warning(tmp_path):
    report = pipeline.Report()
    options = pipeline.Options(root=tmp_path)
    assert pipeline._performance(options, report) is None and report.warnings == []  # no file: no page
    (tmp_path / "content").mkdir()
    broken = {**PERFORMANCE, "tables": [{**PERFORMANCE["tables"][0], "rows": [["25,065", "1.5"]]}]}
    (tmp_path / "content" / "performance.json").write_text(json.dumps(broken), encoding="utf-8")
    assert pipeline._performance(options, report) is None
    assert report.warnings and "every row needs 4 cells" in report.warnings[0]
    assert "the Performance page was left out" in report.warnings[0]
    (tmp_path / "content" / "performance.json").write_text('{"schema": "litsynth/perf', encoding="utf-8")
    assert pipeline._performance(options, report) is None and len(report.warnings) == 2


def test_processes_is_bounded_by_jobs_and_items():
    assert parallel.processes(2, 50) == 2
    assert parallel.processes(8, 3) == 3
    assert parallel.processes(1, 50) == 1
    assert parallel.processes(None, 1) == 1
    assert parallel.processes(None, 1000) == parallel.usable_cpus()
    assert parallel.usable_cpus() <= (os.cpu_count() or 1)


def test_cli_passes_jobs_and_rejects_zero(tmp_path, monkeypatch, capsys):
    seen = {}

    def fake_build(options):
        seen["jobs"] = options.jobs
        return pipeline.Report(built=[], site=tmp_path / "site", mkdocs_ran=False)

    monkeypatch.setattr(pipeline, "build", fake_build)
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--jobs", "2"]) == 0
    assert seen["jobs"] == 2
    assert cli.main(["--root", str(tmp_path), "build", "--offline"]) == 0
    assert seen["jobs"] is None
    with pytest.raises(SystemExit) as exc:
        cli.main(["--root", str(tmp_path), "build", "--jobs", "0"])
    assert exc.value.code == 2
    assert "at least 1" in capsys.readouterr().err


def _send_half_a_result_then_wait() -> None:
    """In a pool worker: put the first bytes of a 1 MB result into the result pipe, as a
    worker stopped while sending one leaves it, then wait to be stopped."""
    import struct
    import sys

    frame = sys._getframe()
    while frame is not None and "result_queue" not in frame.f_locals:
        frame = frame.f_back
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1_000_000) + b"\x80" * 100)
    time.sleep(120)


def test_stopping_a_pool_whose_worker_left_half_a_result_does_not_hang():
    # A seventh trial's Ctrl-C 2 s into a first library build hung for good (3 of 7): the
    # executor's reading thread waited for the rest of a result the stopped tokenising
    # helper had half-sent, and stopping the pool waited for that thread.
    import threading

    pool = parallel.helper_pool()
    pool.submit(_send_half_a_result_then_wait)
    deadline = time.monotonic() + 30
    while not pool._processes and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(2.0)  # the worker has started and written its half message
    stopper = threading.Thread(target=parallel.stop_pool, args=(pool,), daemon=True)
    started = time.monotonic()
    stopper.start()
    stopper.join(timeout=20)
    hung = stopper.is_alive()
    if hung:  # unblock it by hand, so that this test fails rather than the run hanging
        pool._result_queue._writer.close()
        stopper.join(timeout=20)
    assert not hung, "stop_pool did not return within 20 s"
    assert time.monotonic() - started < 10


def test_the_last_items_are_not_queued_ahead_for_a_worker():
    """While this process only retrieves, a worker gets its next item queued ahead; once it
    computes too, the last few items are handed out one at a time, so that none waits in a
    worker's queue while this process idles."""
    synth = parallel.Synthesiser(2, 10)
    synth._left = [(-1, i) for i in range(parallel.LAST_ONE_AT_A_TIME)]
    assert synth._queued_per_worker() == parallel.QUEUED_PER_WORKER == 2
    synth._closed = True
    assert synth._queued_per_worker() == parallel.QUEUED_PER_WORKER
    synth._left.pop()
    assert synth._queued_per_worker() == 1


def test_workers_collect_garbage_rarely():
    """A worker runs with the build's garbage-collector thresholds (GC_THRESHOLDS), not
    Python's defaults, which made synthesis and rendering 15% slower."""
    import gc

    pool = parallel.helper_pool()
    try:
        assert pool.submit(gc.get_threshold).result(timeout=60) == parallel.GC_THRESHOLDS
    finally:
        pool.shutdown()
