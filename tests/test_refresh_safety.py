"""A refresh never swaps a good snapshot for a worse one (found by a fresh-user trial)."""

from __future__ import annotations

import gzip
import json
import shutil

from conftest import PROJECT_ROOT
from generator import cli

QUESTION = """\
title: Alignment tax
question: Does RLHF reduce benchmark performance?
facets: [RLHF, benchmark]
search:
  queries: ["RLHF benchmark performance"]
  max_records: 10
"""


def _record(i: int) -> dict:
    return {"id": f"2501.{i:05d}", "title": f"RLHF benchmark study {i}", "authors": "A. Author",
            "abstract": f"We find that RLHF reduces benchmark performance by {i}% on reasoning tasks."}


def _project(tmp_path):
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "tax.yaml").write_text(QUESTION)
    good = tmp_path / "good.jsonl"
    good.write_text("".join(json.dumps(_record(i)) + "\n" for i in range(1, 6)))
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(good)]) == 0
    snap = tmp_path / "content" / "snapshots" / "tax.json"
    return snap, snap.read_bytes()


def test_a_damaged_library_does_not_replace_a_snapshot(tmp_path, capsys):
    snap, before = _project(tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(_record(7)) + "\n{not json\n")
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(bad)]) == 1
    assert snap.read_bytes() == before
    # The count is of the problems printed, not of a different thing ("skipped 4 entries"
    # after 3 skip warnings, seen in a fresh-user trial).
    worse = tmp_path / "worse.jsonl"
    worse.write_text("{not json\n{\"id\": \"x\"}\n")
    capsys.readouterr()
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(worse)]) == 1
    err = capsys.readouterr().err
    printed = [line for line in err.splitlines() if line.startswith("warning: ")]
    skipped = [line for line in printed if line.endswith("— skipped")]
    assert f"the library files have {len(skipped)} skipped entries" in err, err
    # The one other warning: the file gave no record (not an entry of its own).
    assert [line for line in printed if line not in skipped] == [f"warning: {worse}: no records loaded from this file"]
    assert snap.read_bytes() == before
    truncated = tmp_path / "cut.jsonl.gz"
    data = gzip.compress("".join(json.dumps(_record(i)) + "\n" for i in range(1, 50)).encode())
    truncated.write_bytes(data[: len(data) // 2])
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(truncated)]) == 1
    assert snap.read_bytes() == before


def test_an_empty_retrieval_does_not_replace_a_snapshot(tmp_path):
    snap, before = _project(tmp_path)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(empty)]) == 1
    assert snap.read_bytes() == before


def test_a_first_build_from_an_empty_library_writes_no_snapshot(tmp_path, capsys):
    """An empty --library file is a failed search: no (empty) snapshot is written for later
    builds to keep, and the failure says why (an eighth trial)."""
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "tax.yaml").write_text(QUESTION)
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--library", str(empty)]) == 1
    assert not (tmp_path / "content" / "snapshots" / "tax.json").exists()
    err = capsys.readouterr().err
    assert "failed tax: every provider failed (the --library files hold no records" in err
    assert "Without network access" not in err  # it ran offline, from local files already


def test_a_build_that_needs_no_search_says_the_library_was_not_read(tmp_path, capsys):
    snap, before = _project(tmp_path)
    damaged = tmp_path / "damaged.jsonl"
    damaged.write_text("{not json\n")
    capsys.readouterr()
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--library", str(damaged)]) == 0
    err = capsys.readouterr().err
    assert "note: the --library files were not read: every question has a snapshot already" in err
    assert snap.read_bytes() == before


def test_a_record_kept_without_its_abstract_is_not_counted_as_skipped(tmp_path):
    """An oversized abstract is dropped from a record that is kept: the page's note counts
    it apart from the skipped entries (an eighth trial found it counted among them)."""
    from generator.providers.library_readers import MAX_ABSTRACT_CHARS

    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "tax.yaml").write_text(QUESTION)
    big = {**_record(9), "abstract": "RLHF benchmark " * (MAX_ABSTRACT_CHARS // 10)}
    lib = tmp_path / "mixed.jsonl"
    lib.write_text("\n".join([json.dumps(_record(1)), "{not json", json.dumps(big), json.dumps(_record(2))]) + "\n")
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--library", str(lib)]) == 0
    snap = json.loads((tmp_path / "content" / "snapshots" / "tax.json").read_text())
    assert len(snap["records"]) == 3
    assert snap["provider_errors"]["library"].startswith(
        "1 entry of the --library files was skipped and 1 record was kept without its abstract (first: mixed.jsonl:2")


def test_strict_fails_on_a_snapshot_made_with_other_search_settings(tmp_path):
    snap, before = _project(tmp_path)
    question = tmp_path / "content" / "questions" / "tax.yaml"
    question.write_text(QUESTION.replace("max_records: 10", "max_records: 20"))
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--strict"]) == 1
    assert not (tmp_path / "site").exists()
    assert cli.main(["--root", str(tmp_path), "build", "--offline"]) == 0  # a warning only
    assert snap.read_bytes() == before


def test_a_refresh_with_no_provider_says_the_snapshot_is_kept(tmp_path, capsys):
    snap, before = _project(tmp_path)
    capsys.readouterr()
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline"]) == 1
    err = capsys.readouterr().err
    assert "the snapshot is kept; no provider to retrieve from (--offline given)" in err
    assert "no snapshot" not in err
    assert snap.read_bytes() == before


def test_refresh_replaces_an_unreadable_snapshot_as_the_build_advises(tmp_path, capsys):
    snap, before = _project(tmp_path)
    good = tmp_path / "good.jsonl"
    snap.write_text("{garbage", encoding="utf-8")
    assert cli.main(["--root", str(tmp_path), "build", "--offline"]) == 1
    err = capsys.readouterr().err
    assert "run 'litsynth refresh'" in err
    # The failure is published on the index page: without the builder's local folders.
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert "content/snapshots/tax.json" in index and str(tmp_path) not in index
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(good)]) == 0
    assert "it is replaced by the new retrieval" in capsys.readouterr().err
    assert snap.read_bytes() != b"{garbage"
    assert cli.main(["--root", str(tmp_path), "build", "--offline"]) == 0


def test_a_library_only_question_without_a_library_names_the_remedy(tmp_path, capsys):
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "lib.yaml").write_text(QUESTION + "  providers: [library]\n")
    assert cli.main(["--root", str(tmp_path), "build"]) == 1
    err = capsys.readouterr().err
    assert "no snapshot and no provider to retrieve from (it lists no network provider) — pass --library PATH" in err
    assert "network access" not in err


def test_a_provider_that_failed_does_not_cost_the_records_it_gave_before(tmp_path, capsys, monkeypatch):
    import dataclasses

    from generator import pipeline

    snap, before = _project(tmp_path)
    good = tmp_path / "good.jsonl"
    real = pipeline.retrieve_one

    def library_down(question, providers, *, now):
        found = real(question, providers, now=now)
        # Another provider's records arrived, this one failed: the snapshot would lose its share.
        return dataclasses.replace(found, records=found.records[:2], provider_counts={"library": 0, "other": 2},
                                   provider_errors={"library": "connection refused"})

    monkeypatch.setattr(pipeline, "retrieve_one", library_down)
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(good)]) == 1
    err = capsys.readouterr().err
    assert "library failed (connection refused); the previous snapshot tax.json holds 5 record(s)" in err, err
    assert snap.read_bytes() == before


def test_repeated_ids_in_a_library_do_not_block_a_refresh(tmp_path, capsys):
    snap, before = _project(tmp_path)
    repeated = tmp_path / "repeated.jsonl"
    repeated.write_text("".join(json.dumps(_record(i)) + "\n" for i in (1, 2, 2, 3, 4, 5, 6)))
    assert cli.main(["--root", str(tmp_path), "refresh", "--offline", "--library", str(repeated)]) == 0
    captured = capsys.readouterr()
    assert "duplicate record id arxiv:2501.00002" in captured.err and "refreshed tax" in captured.out
    assert snap.read_bytes() != before  # record 6 is new: the refresh took effect


def test_a_first_build_from_a_damaged_library_says_so_on_the_page(tmp_path):
    # A fifth trial: the build warned once, then the committed snapshot held 19 of 20 records
    # and nothing on the page said one was skipped.
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "tax.yaml").write_text(QUESTION)
    lib = tmp_path / "partly.jsonl"
    lines = [json.dumps(_record(i)) for i in range(1, 6)]
    lib.write_text("\n".join(lines[:2] + ["{not json"] + lines[2:]) + "\n")
    assert cli.main(["--root", str(tmp_path), "build", "--offline", "--library", str(lib)]) == 0
    snap = json.loads((tmp_path / "content" / "snapshots" / "tax.json").read_text())
    assert len(snap["records"]) == 5
    note = snap["provider_errors"]["library"]
    assert note.startswith("1 entry of the --library files was skipped (first: partly.jsonl:3:2: malformed JSON")
    assert str(tmp_path) not in note  # the file's name only: the snapshot is committed
    page = (tmp_path / "site" / "questions" / "tax" / "index.html").read_text()
    # The library returned the other 5: some of its results are missing, it did not fail.
    assert "Some results from library are missing or incomplete: 1 entry of the --library files was skipped" in page
    assert "Problems: library: 1 entry of the --library files was skipped" in page
    assert "library failed" not in page
