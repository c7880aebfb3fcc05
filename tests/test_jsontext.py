"""JSON written with orjson (:mod:`generator.jsontext`) reads back as the standard library's."""

from __future__ import annotations

import json

import numpy as np
import pytest

from conftest import PROJECT_ROOT, shared_path
from generator import jsontext, pipeline, questions, synthesis
from generator.providers.library import Library


@pytest.fixture(scope="module")
def raw_claim_set() -> dict:
    """The claim set of an example question, retrieved from the shared seed library, as
    synthesise builds it before its last step (numpy floats, tuples and all)."""
    question = next(q for q in questions.load_questions(PROJECT_ROOT / "content" / "questions", PROJECT_ROOT)
                    if q.slug == "alignment-tax")
    library = Library.load([shared_path("corpus", "seed-topic.csl.json")])
    snap = pipeline.retrieve_one(question, [library], now="2026-09-21T14:13:20+00:00")
    captured = {}
    real_plain = jsontext.plain

    def keep(value):
        captured["raw"] = value
        return real_plain(value)

    jsontext.plain = keep
    try:
        synthesis.synthesise(question, snap)
    finally:
        jsontext.plain = real_plain
    return captured["raw"]


def test_plain_is_what_the_standard_library_gives_back(raw_claim_set):
    expected = json.loads(json.dumps(raw_claim_set, ensure_ascii=False))
    got = jsontext.plain(raw_claim_set)
    assert got == expected
    assert list(got) == list(expected)  # key order kept, as json keeps it
    assert len(got["claims"]) >= 10 and len(got["records"]) >= 5


def test_compact_and_pretty_read_back_equal(raw_claim_set):
    data = jsontext.plain(raw_claim_set)
    for text in (jsontext.compact(data), jsontext.pretty(data)):
        assert json.loads(text) == data
    pretty = jsontext.pretty(data).decode()
    assert pretty.endswith("}\n") and '\n  "assessment": {' in pretty
    assert jsontext.compact({"b": 1, "a": [1, 2]}) == b'{"a":[1,2],"b":1}'


def test_numpy_floats_integer_keys_and_tuples_as_json_writes_them():
    value = {"x": np.float64(0.25), 2: "two", "t": (1, 2), "s": "é \u2028 \x00"}
    assert jsontext.plain(value) == json.loads(json.dumps(value, ensure_ascii=False))
    assert json.loads(jsontext.compact(value)) == {"2": "two", "s": "é \u2028 \x00", "t": [1, 2], "x": 0.25}
    assert jsontext.compact(value).startswith(b'{"2":"two","s":"\xc3\xa9 ')  # keys sorted, UTF-8


def test_what_json_cannot_hold_is_refused():
    with pytest.raises(TypeError, match="int64"):
        jsontext.compact({"n": np.int64(3)})
    with pytest.raises(TypeError, match="set"):
        jsontext.pretty({1, 2})
    with pytest.raises(ValueError):
        jsontext.loads(b'{"a": NaN}')
