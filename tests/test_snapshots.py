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


def test_snapshot_text_is_the_standard_librarys_canonical_json(snapshot_text):
    """dumps() writes with orjson exactly what json.dumps(…, ensure_ascii=False,
    sort_keys=True, indent=1) writes: the text of every committed snapshot and of its
    digest. Checked on real records and on one whose strings hold every code point
    (controls, quotes, backslashes, line and paragraph separators, astral characters),
    empty lists and objects, and nulls."""
    from generator.models import Identifiers, Record, Snapshot

    def standard(snap) -> str:
        return json.dumps(snap.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"

    real = snapshots.parse(snapshot_text.encode(), Path(SNAPSHOT))
    assert snapshots.dumps(real) == standard(real) == snapshot_text
    every = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    odd = Record(id="lib:x", title='"Quoted" \\ back\tslash\n\u2028\u2029 \x00\x1f\x7f 😀', authors=(every[:300], ""),
                 abstract=every, ids=Identifiers(doi="10.1/x"), year=None, venue="", provider="library")
    snap = dataclasses.replace(real, records=(odd, *real.records), provider_errors={"b": "é", "a": ""},
                               unresolved_includes=(), queries=("  spaced  ", "[", "{"))
    assert snapshots.dumps(snap) == standard(snap)
    assert snapshots.parse(snapshots.dumps(snap).encode(), Path(SNAPSHOT)) == snap


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
