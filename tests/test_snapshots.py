"""A hand-edited or damaged snapshot is refused with the key at fault, never a traceback."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conftest import shared_path
from generator import snapshots
from generator.models import Question
from generator.providers.library import Library
from generator.retrieval import retrieve

SNAPSHOT = "content/snapshots/tax.json"


@pytest.fixture(scope="module")
def snapshot_text() -> str:
    """A snapshot of real records (the seed-topic corpus of ../shared), as a build writes it."""
    question = Question(slug="tax", path="q.yaml", title="Alignment tax", question="Does RLHF cost capability?",
                        facets=("alignment tax",), queries=("alignment tax", "RLHF"), providers=("library",))
    snap = retrieve(question, [Library.load([shared_path("corpus", "seed-topic.csl.json")])],
                    now="2026-12-05T00:00:00+00:00")
    assert len(snap.records) >= 3
    return snapshots.dumps(snap)


def test_a_written_snapshot_reads_back_unchanged(snapshot_text):
    snap = snapshots.parse(snapshot_text.encode(), Path(SNAPSHOT))
    assert snapshots.dumps(snap) == snapshot_text


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
def test_a_value_of_the_wrong_type_names_its_key(snapshot_text, edit, message):
    path = Path(SNAPSHOT)
    data = json.loads(snapshot_text)
    edit(data)
    with pytest.raises(snapshots.SnapshotError) as err:
        snapshots.parse(json.dumps(data).encode(), path)
    assert str(err.value).startswith(f"{path}: not a valid litsynth snapshot (")
    assert message in str(err.value)
    assert "litsynth refresh" in str(err.value)


def test_a_snapshot_that_could_not_be_read_back_is_never_written(snapshot_text, tmp_path):
    snap = snapshots.parse(snapshot_text.encode(), Path(SNAPSHOT))
    bad = dataclasses.replace(snap, records=(dataclasses.replace(snap.records[0], year="2024"),) + snap.records[1:])
    target = tmp_path / "x.json"
    with pytest.raises(ValueError, match=r"records\[0\]\.year"):
        snapshots.write(target, bad)
    assert not target.exists()
    assert snapshots.write(target, snap) == snapshot_text
