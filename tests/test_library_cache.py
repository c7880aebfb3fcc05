"""The saved library index (generator/providers/library_cache.py): a build that retrieves
loads the records and BM25 index an earlier build saved, and gets exactly what reading
and indexing the files would give.

Real data: the shared arXiv cs.CL corpus (25,065 records) and the seed CSL-JSON file
(whose 3 records repeat arXiv ids, so the copy must carry the readers' warnings too).
"""

from __future__ import annotations

import gzip
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import shared_path
from generator.errors import CorpusError
from generator.providers import library_cache
from generator.providers.library import Library

QUERIES = (
    ("alignment tax reinforcement learning from human feedback",),
    ("retrieval-augmented generation hallucination", "RAG faithfulness evaluation"),
    ("self-invoking code generation benchmark",),
)


@pytest.fixture(scope="module")
def paths() -> list[Path]:
    return [shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), shared_path("corpus", "seed-topic.csl.json")]


@pytest.fixture(scope="module")
def fresh(paths) -> Library:
    return Library.load(paths)


@pytest.fixture
def saved(fresh, paths, tmp_path) -> Path:
    folder = tmp_path / "library"
    where = library_cache.save(fresh, paths, folder)
    assert where is not None and where.parent == folder
    return folder


def test_the_saved_copy_is_the_library(fresh, paths, saved):
    copy = library_cache.load(paths, saved)
    assert copy is not None
    assert tuple(copy.records) == fresh.records and len(copy) == 25_065 + 12 - 3
    assert copy.warnings == fresh.warnings and len(fresh.warnings) == 1  # one line for the 3 repeated ids
    for queries in QUERIES:
        assert [r.id for r in copy.search(queries, 2025, 60)] == [r.id for r in fresh.search(queries, 2025, 60)]
        assert np.array_equal(copy._scores(queries[0]), fresh._scores(queries[0]))
    assert copy.lookup("arxiv:2505.09388") == fresh.lookup("arxiv:2505.09388")
    assert copy._scores("zzzqqq unseenword") is None


def test_another_file_or_order_is_another_key(paths, saved, tmp_path):
    assert library_cache.cache_key(paths) != library_cache.cache_key(list(reversed(paths)))
    assert library_cache.load(list(reversed(paths)), saved) is None
    # One record less in the corpus file: the copy must not be used.
    with gzip.open(paths[0], "rt", encoding="utf-8") as src:
        lines = src.readlines()
    edited = tmp_path / paths[0].name
    with gzip.open(edited, "wt", encoding="utf-8") as out:
        out.writelines(lines[:-1])
    assert library_cache.cache_key([edited, paths[1]]) != library_cache.cache_key(paths)
    assert library_cache.load([edited, paths[1]], saved) is None


@pytest.mark.parametrize("damage", ["truncated records", "bad meta", "missing index", "other format",
                                    "other records, same count", "extra file", "meta not an object",
                                    "warnings not a list", "catalogue out of range"])
def test_a_damaged_copy_is_ignored_not_trusted(paths, saved, damage):
    (where,) = list(saved.iterdir())
    if damage == "truncated records":
        text = (where / "records.jsonl").read_text(encoding="utf-8")
        (where / "records.jsonl").write_text(text[: len(text) // 2], encoding="utf-8")
    elif damage == "bad meta":
        (where / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "missing index":
        for npy in where.glob("*.npy"):
            npy.unlink()
    elif damage == "other records, same count":
        # Valid records, but not the ones the index was built from: search would return
        # the wrong records, so the copy must not be used.
        lines = (where / "records.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
        (where / "records.jsonl").write_text("".join(lines[1:] + lines[:1]), encoding="utf-8")
    elif damage == "extra file":
        (where / "stray.npy").write_bytes(b"")
    elif damage == "meta not an object":
        (where / "meta.json").write_text("[1, 2]", encoding="utf-8")
    elif damage in ("warnings not a list", "catalogue out of range"):
        # Edited consistently (checksums updated), as only a deliberate edit could be.
        meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        if damage == "warnings not a list":
            meta["warnings"] = "abc"
        else:
            catalogue = json.loads((where / "catalogue.json").read_text(encoding="utf-8"))
            catalogue["arxiv:2505.09388"] = meta["records"]
            (where / "catalogue.json").write_text(json.dumps(catalogue), encoding="utf-8")
            meta["sha256"]["catalogue.json"] = library_cache.file_digest(where / "catalogue.json")
        (where / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    else:
        meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        meta["format"] = library_cache.FORMAT + 1
        (where / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    assert library_cache.load(paths, saved) is None


def test_a_record_edited_out_of_shape_is_reported_when_read(paths, saved):
    # Checksums updated too: only a deliberate edit does this. Records are parsed when first
    # read, so the copy loads; reading that record names the line and the folder to delete.
    (where,) = list(saved.iterdir())
    lines = (where / "records.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    second = json.loads(lines[1])
    second["ids"] = [1]
    lines[1] = json.dumps(second) + "\n"
    (where / "records.jsonl").write_text("".join(lines), encoding="utf-8")
    meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
    meta["sha256"]["records.jsonl"] = library_cache.file_digest(where / "records.jsonl")
    (where / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
    copy = library_cache.load(paths, saved)
    assert copy is not None and copy.records[0].id == json.loads(lines[0])["id"]
    with pytest.raises(CorpusError, match=rf"records\.jsonl:2: the saved library index holds no record here .*"
                                          rf"delete {re.escape(str(where))} and build again"):
        copy.records[1]


def test_records_are_parsed_only_when_read(fresh, paths, saved):
    copy = library_cache.load(paths, saved)
    hits = copy.search(QUERIES[0], 2025, 60)
    parsed = sum(r is not None for r in copy.records._parsed)
    assert len(hits) == 60 and parsed == 60
    assert copy.records[-1] == fresh.records[-1] and copy.records[5:8] == list(fresh.records[5:8])


def test_saving_keeps_only_the_latest_copy(fresh, paths, saved, tmp_path):
    stale = saved / ("0" * 64)
    shutil.copytree(next(saved.iterdir()), stale)
    (saved / ".tmp-killed").mkdir()  # a save killed half-way
    library_cache.save(fresh, paths, saved)
    assert [p.name for p in saved.iterdir()] == [library_cache.cache_key(paths)]


def test_an_unwritable_folder_only_loses_the_speed_up(fresh, paths, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    assert library_cache.save(fresh, paths, blocker / "library") is None


def test_warnings_name_the_files_as_this_build_names_them(fresh, paths, saved, tmp_path):
    # The same bytes under another path: the copy is used, and its warnings say the new path.
    moved = [tmp_path / "elsewhere" / p.name for p in paths]
    moved[0].parent.mkdir()
    for src, dst in zip(paths, moved):
        shutil.copy(src, dst)
    copy = library_cache.load(moved, saved)
    assert copy is not None and len(copy.warnings) == 1
    assert copy.warnings[0].startswith(f"{moved[1]}: 3 records with a duplicate record id loaded before "
                                       "(3 distinct: arxiv:")
    assert [w.replace(str(moved[1]), str(paths[1])) for w in copy.warnings] == fresh.warnings
