"""A hand-edited or damaged snapshot is refused with the key at fault, never a traceback."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT
from generator import snapshots

COMMITTED = sorted((PROJECT_ROOT / "content" / "snapshots").glob("*.json"))


def test_every_committed_snapshot_reads_and_round_trips():
    assert COMMITTED
    for path in COMMITTED:
        snap = snapshots.read(path)
        assert snapshots.dumps(snap) == path.read_text(encoding="utf-8"), path


@pytest.mark.parametrize("edit,message", [
    (lambda d: d["records"][0].__setitem__("abstract", 5), "records[0].abstract must be a string or null, not 5"),
    (lambda d: d["records"][1].__setitem__("year", "2024"), 'records[1].year must be an integer or null, not "2024"'),
    (lambda d: d["records"][0].__setitem__("year", True), "records[0].year must be an integer or null, not true"),
    (lambda d: d["records"][0].__setitem__("authors", "Ann Bee"), 'records[0].authors must be a list of strings'),
    (lambda d: d["records"][0].__setitem__("month", 13), "records[0].month must be an integer 1–12 or null"),
    (lambda d: d["records"][2]["ids"].__setitem__("doi", 10), "records[2].ids must be an object of strings or nulls"),
    (lambda d: d["records"][0].pop("title"), "records[0].title is missing"),
    (lambda d: d["records"].__setitem__(1, "x"), "records[1] must be an object"),
    (lambda d: d.__setitem__("since", "x"), 'since must be an integer year or null, not "x"'),
    (lambda d: d.__setitem__("max_records", "100"), 'max_records must be an integer, not "100"'),
    (lambda d: d.__setitem__("queries", "rlhf"), "queries must be a list of strings"),
])
def test_a_value_of_the_wrong_type_names_its_key(edit, message):
    path = COMMITTED[0]
    data = json.loads(path.read_text(encoding="utf-8"))
    edit(data)
    with pytest.raises(snapshots.SnapshotError) as err:
        snapshots.parse(json.dumps(data).encode(), path)
    assert str(err.value).startswith(f"{path}: not a valid litsynth snapshot (")
    assert message in str(err.value)
    assert "litsynth refresh" in str(err.value)


def test_a_snapshot_that_could_not_be_read_back_is_never_written(tmp_path):
    snap = snapshots.read(COMMITTED[0])
    bad = dataclasses.replace(snap, records=(dataclasses.replace(snap.records[0], year="2024"),) + snap.records[1:])
    target = tmp_path / "x.json"
    with pytest.raises(ValueError, match=r"records\[0\]\.year"):
        snapshots.write(target, bad)
    assert not target.exists()
    assert snapshots.write(target, snap) == Path(COMMITTED[0]).read_text(encoding="utf-8")
