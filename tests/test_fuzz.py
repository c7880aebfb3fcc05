"""Property-based tests (hypothesis): no input crashes the identifier normalisers, the
library readers or the question loader with anything but their documented outcome.

* ``records.normalise_doi`` / ``normalise_arxiv`` / ``parse_identifier`` never raise and are
  idempotent where they return a value;
* the library readers yield records or raise :class:`CorpusError` (problems with single
  entries are warnings) for arbitrary ``.jsonl``, ``.jsonl.gz``, ``.json`` and ``.bib`` content;
* ``litsynth check`` exits 0 or 1 with located messages, never a traceback.

Example counts are modest so the file runs in well under 30 s (``LITSYNTH_FUZZ_SCALE=20``
multiplies them for a deeper search); the strategies mix random text with fragments of
the real formats so that the parsers get past their first line.
"""

from __future__ import annotations

import gzip
import json
import os
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from generator import cli, snapshots
from generator.errors import CorpusError
from generator.models import Record
from generator.providers.library_readers import read_corpus
from generator.records import normalise_arxiv, normalise_doi, parse_identifier

SCALE = float(os.environ.get("LITSYNTH_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    return settings(max_examples=max(1, int(examples * SCALE)), deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


FUZZ = fuzz(150)

# --------------------------------------------------------------------------- identifiers

DOI_LIKE = st.from_regex(
    r"\s?(https?://(dx\.)?doi\.org/|doi:\s?|DOI:|info:doi/)?10\.[0-9]{4,9}/[\x21-\x7e]{1,30}[.,;]?\s?", fullmatch=True)
ARXIV_LIKE = st.from_regex(
    r"\s?(arXiv:|arxiv:|https?://arxiv\.org/(abs|pdf)/|10\.48550/arXiv\.|doi:10\.48550/ARXIV\.)?"
    r"([0-9]{4}\.[0-9]{4,5}|[a-z]{2,8}(-[a-z]{2,5})?(\.[A-Z]{2})?/[0-9]{7})(v[0-9]{1,2})?(\.pdf)?\s?",
    fullmatch=True)
OPENALEX_LIKE = st.from_regex(r"(openalex|OpenAlex|OPENALEX):\s?[Ww][0-9]{1,12}", fullmatch=True)
IDENTIFIER_TEXT = st.one_of(st.text(), DOI_LIKE, ARXIV_LIKE, OPENALEX_LIKE)
ANYTHING = st.one_of(st.none(), st.integers(), st.floats(), st.binary(), st.lists(st.text(max_size=5)))


@FUZZ
@given(st.one_of(IDENTIFIER_TEXT, ANYTHING))
def test_normalise_doi_never_raises_and_is_idempotent(raw):
    doi = normalise_doi(raw)
    if doi is not None:
        assert doi == doi.strip().lower() and doi.startswith("10.")
        assert normalise_doi(doi) == doi
        assert normalise_doi(f"https://doi.org/{doi}") == doi


@FUZZ
@given(st.one_of(IDENTIFIER_TEXT, ANYTHING))
def test_normalise_arxiv_never_raises_and_is_idempotent(raw):
    found = normalise_arxiv(raw)
    if found is not None:
        arxiv_id, version = found
        assert version is None or (version.startswith("v") and version[1:].isdigit())
        assert normalise_arxiv(arxiv_id) == (arxiv_id, None)
        assert normalise_arxiv(arxiv_id + (version or "")) == (arxiv_id, version)
        assert normalise_arxiv(f"arXiv:{arxiv_id}") == (arxiv_id, None)


@FUZZ
@given(st.one_of(IDENTIFIER_TEXT, ANYTHING))
def test_parse_identifier_never_raises_and_is_idempotent(raw):
    key = parse_identifier(raw)
    if key is not None:
        scheme, _, value = key.partition(":")
        assert scheme in ("doi", "arxiv", "openalex") and value and value == value.strip()
        assert parse_identifier(key) == key


# --------------------------------------------------------------------------- library readers


def _consume(path: Path) -> tuple[list[Record], list[str]]:
    warnings: list[str] = []
    try:
        records = list(read_corpus(path, warnings.append))
    except CorpusError as exc:
        assert str(path) in str(exc) and "\n" not in str(exc)
        return [], warnings
    for rec in records:
        assert isinstance(rec, Record) and rec.title and rec.title == " ".join(rec.title.split())
        rec.to_dict()
        json.dumps(rec.to_dict(), ensure_ascii=False).encode("utf-8")  # writable as a snapshot
    for message in warnings:
        assert message.startswith(str(path))
    return records, warnings


JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=30))
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)), max_leaves=12)
ARXIV_KEYS = ["id", "title", "abstract", "authors", "doi", "journal-ref", "versions", "update_date"]
ARXIV_OBJECTS = st.dictionaries(st.sampled_from(ARXIV_KEYS), st.one_of(
    JSON_VALUES, ARXIV_LIKE, st.just([{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}])), max_size=8)
JSONL_LINES = st.lists(st.one_of(
    ARXIV_OBJECTS.map(json.dumps), JSON_VALUES.map(json.dumps), st.text(max_size=60),
    st.just('{"id": "2501.00001", "title": "A real-looking title", "abstract": "Text."}')), max_size=8)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@FUZZ
@given(JSONL_LINES, st.sampled_from(["\n", "\r\n"]), st.binary(max_size=20))
def test_jsonl_reader_only_warns_or_raises_corpus_error(scratch, lines, newline, junk):
    path = scratch / "corpus.jsonl"
    path.write_bytes(newline.join(lines).encode("utf-8", "surrogatepass") + junk)
    records, _ = _consume(path)
    assert len(records) <= len(lines) + 1


@fuzz(60)
@given(JSONL_LINES, st.integers(min_value=0, max_value=400), st.binary(max_size=30))
def test_gzip_reader_survives_truncation_and_garbage(scratch, lines, cut, junk):
    path = scratch / "corpus.jsonl.gz"
    data = gzip.compress("\n".join(lines).encode("utf-8", "surrogatepass"))
    path.write_bytes(data[: max(0, len(data) - cut)] + junk)
    _consume(path)


CSL_KEYS = ["id", "type", "title", "abstract", "author", "issued", "DOI", "URL", "container-title",
            "number", "archive_location", "note"]
CSL_ITEMS = st.dictionaries(st.sampled_from(CSL_KEYS), st.one_of(
    JSON_VALUES, DOI_LIKE, ARXIV_LIKE,
    st.lists(st.dictionaries(st.sampled_from(["given", "family", "literal", "suffix"]), JSON_VALUES), max_size=3),
    st.dictionaries(st.sampled_from(["date-parts", "raw", "literal"]), JSON_VALUES)), max_size=8)


@FUZZ
@given(st.one_of(JSON_VALUES, st.lists(st.one_of(CSL_ITEMS, JSON_VALUES), max_size=6)))
def test_csl_json_reader_only_warns_or_raises_corpus_error(scratch, value):
    path = scratch / "corpus.json"
    path.write_text(json.dumps(value), encoding="utf-8")
    _consume(path)


BIB_FRAGMENTS = st.sampled_from([
    "@article{", "@inproceedings{", "@misc{", "@string{", "@comment{", "@preamble{", "key1,", "key2,",
    "title = {", "title = \"", "author = {", "abstract = {", "doi = {", "eprint = {", "year = {", "month = jan,",
    "archivePrefix = {arXiv},", "url = {https://arxiv.org/abs/2501.00001v2},", "}", "},", "\",", "{", "\\\"o",
    "$O(n)$", " and ", "\n", "%", "#", "=", ",", "10.1234/x", "2501.00001", "Jane Doe", "{\\'e}"])
BIB_TEXT = st.one_of(st.text(max_size=200), st.lists(st.one_of(BIB_FRAGMENTS, st.text(max_size=8)), max_size=40)
                     .map("".join))


@fuzz(80)
@given(BIB_TEXT)
def test_bibtex_reader_only_warns_or_raises_corpus_error(scratch, text):
    path = scratch / "corpus.bib"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    _consume(path)


SNAPSHOT_LIKE = st.fixed_dictionaries(
    {"slug": JSON_VALUES, "records": st.one_of(JSON_VALUES, st.lists(st.one_of(JSON_VALUES, st.fixed_dictionaries(
        {"id": st.text(max_size=10), "title": st.text(max_size=10)}, optional={"ids": JSON_VALUES})), max_size=3))},
    optional={k: JSON_VALUES for k in ("queries", "providers", "since", "max_records", "provider_counts")})


@FUZZ
@given(st.one_of(JSON_VALUES.map(json.dumps), SNAPSHOT_LIKE.map(json.dumps), st.binary(max_size=40)))
def test_snapshot_parse_returns_a_snapshot_or_raises_snapshot_error(text):
    data = text if isinstance(text, bytes) else text.encode("utf-8", "surrogatepass")
    try:
        snap = snapshots.parse(data, Path("content/snapshots/x.json"))
    except snapshots.SnapshotError as exc:
        assert str(exc).startswith("content/snapshots/x.json: not a valid litsynth snapshot")
        return
    assert all(isinstance(r, Record) and isinstance(r.title, str) for r in snap.records)


# --------------------------------------------------------------------------- question loader via the CLI

KEYS = ["title", "question", "facets", "search", "queries", "providers", "since", "max_records", "include",
        "claims", "text", "cites", "tags", "id", "Title"]
YAML_BITS = st.sampled_from([
    ": ", "- ", "\n", "\n  ", "\n    ", "[", "]", "{", "}", ", ", "'", '"', "#", "&a ", "*a", "!!str ", "!!binary ",
    "|\n  ", ">\n  ", "---\n", "...\n", "? ", "\t", "\ufeff", "NO", "yes", "10:00", "2024-12-19", "1.10", "0x1F",
    "~", "null", "arXiv:2309.06256", "doi:10.1234/x", "arxiv", "library", "2022", "\\", "%YAML 1.1\n", "<<: ",
    "\x00", "\x85", "\u2028", "é"])
YAML_TEXT = st.lists(st.one_of(st.sampled_from(KEYS), YAML_BITS, st.text(max_size=6)), max_size=40).map("".join)
VALID_HEAD = "title: T\nquestion: Q?\n"


@FUZZ
@given(st.one_of(YAML_TEXT, YAML_TEXT.map(lambda t: VALID_HEAD + t), st.binary(max_size=80)))
def test_check_exits_0_or_1_with_located_messages(scratch, capsys, content):
    root = scratch / "project"
    folder = root / "content" / "questions"
    folder.mkdir(parents=True, exist_ok=True)
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    (folder / "q.yaml").write_bytes(data)
    code = cli.main(["--root", str(root), "check"])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    if code == 0:
        assert out == "1 question file(s) OK.\n" and err == ""
    else:
        assert code == 1 and out == ""
        lines = err.splitlines()
        assert lines[-1].endswith("problem(s) found; nothing was written.")
        assert lines[:-1] and all(line.startswith("content/questions/q.yaml") for line in lines[:-1])
        assert len(lines) - 1 == int(lines[-1].split()[0])


@fuzz(40)
@given(st.text(alphabet=string.printable + "é\u202e/\\.", min_size=1, max_size=20))
def test_check_with_any_file_name(scratch, capsys, stem):
    assume("/" not in stem and stem not in (".", "..") and "\x00" not in stem and not stem.startswith("."))
    assume(len(stem.encode()) < 200)
    root = scratch / "names"
    folder = root / "content" / "questions"
    if folder.exists():
        for old in folder.iterdir():
            old.unlink()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        (folder / f"{stem}.yaml").write_text(VALID_HEAD, encoding="utf-8")
    except OSError:
        assume(False)
    code = cli.main(["--root", str(root), "check"])
    out, err = capsys.readouterr()
    assert code in (0, 1) and "Traceback" not in out + err
