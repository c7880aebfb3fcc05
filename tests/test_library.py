"""The ``library`` provider: corpus readers, BM25 search and identity lookup.

Real data: the shared arXiv cs.CL corpus (25,065 records) and the seed CSL-JSON file;
edge cases on small files written to ``tmp_path``.
"""

from __future__ import annotations

import gzip
import json
import logging
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from generator.errors import CorpusError, RetrievalError
from generator.providers.library import Library
from generator.providers.library_readers import (
    MAX_ABSTRACT_CHARS,
    arxiv_year_month,
    read_arxiv_jsonl,
    read_bibtex,
    read_corpus,
    read_csl_json,
    split_authors,
)
from generator.records import deduplicate
from conftest import shared_path

ARXIV_CORPUS = ("corpus", "arxiv-cscl-2025-2026.jsonl.gz")
CSL_FILE = ("corpus", "seed-topic.csl.json")


@pytest.fixture(scope="module")
def arxiv_library() -> Library:
    return Library.load([shared_path(*ARXIV_CORPUS)])


@pytest.fixture(scope="module")
def csl_records() -> list:
    return list(read_csl_json(shared_path(*CSL_FILE)))


def _arxiv_line(**fields) -> str:
    base = {
        "id": "2401.01234", "submitter": None, "authors": "Jane Doe and Rick Roe",
        "title": "A title", "comments": None, "journal-ref": None, "doi": None,
        "report-no": None, "categories": "cs.CL", "license": None,
        "abstract": "An abstract.", "versions": [], "update_date": None,
    }
    base.update(fields)
    return json.dumps(base)


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


# ---------------------------------------------------------------- the real arXiv corpus


def test_arxiv_corpus_loads_every_record_without_warnings(arxiv_library):
    assert len(arxiv_library) == 25_065
    assert arxiv_library.warnings == []
    assert len({r.id for r in arxiv_library.records}) == 25_065
    assert all(r.provider == "library" and r.id.startswith("arxiv:") for r in arxiv_library.records)


def test_arxiv_text_is_whitespace_normalised_only(arxiv_library):
    with_latex = 0
    with gzip.open(shared_path(*ARXIV_CORPUS), "rt", encoding="utf-8") as handle:
        for line in handle:
            raw = json.loads(line)
            record = arxiv_library.lookup(f"arxiv:{raw['id']}")
            assert record.title == " ".join(raw["title"].split())
            assert record.abstract == " ".join(raw["abstract"].split())
            with_latex += "$" in raw["abstract"] and "\n" in raw["abstract"]
    assert with_latex > 100
    d2lora = arxiv_library.lookup("arxiv:2503.18089")
    assert d2lora.title.startswith("$D^2LoRA$: Data-Driven LoRA")


def test_qwen3_lookup_by_every_key_form(arxiv_library):
    qwen = arxiv_library.lookup("arxiv:2505.09388")
    assert qwen is not None and qwen.title == "Qwen3 Technical Report"
    assert (qwen.year, qwen.month) == (2025, 5)
    assert qwen.authors[:2] == ("An Yang", "Anfeng Li")
    assert qwen.url == "https://arxiv.org/abs/2505.09388"
    assert qwen.ids.arxiv == "2505.09388" and qwen.ids.doi is None
    for key in ("arXiv:2505.09388v2", "doi:10.48550/arXiv.2505.09388", " arxiv:2505.09388 "):
        assert arxiv_library.lookup(key) is qwen
    assert arxiv_library.lookup("arxiv:2505.00000") is None
    assert arxiv_library.lookup("") is None


def test_arxiv_author_strings_are_split(arxiv_library):
    gene42 = arxiv_library.lookup("arxiv:2503.16565")
    assert gene42.authors[-2:] == ("Marco Pimentel", "Shadab Khan")
    assert all(" and " not in name and not name.startswith("and ") for name in gene42.authors)
    toten = arxiv_library.lookup("arxiv:2606.19626")
    assert toten.authors[0] == "Antonio de Sousa Leitão Filho"
    assert toten.authors[-1] == "Rejani Bandeira Vieira Sousa"


def test_search_alignment_tax_finds_alignment_papers(arxiv_library):
    hits = arxiv_library.search(("alignment tax RLHF",), 2022, 20)
    assert len(hits) == 20
    texts = [f"{r.title} {r.abstract}".lower() for r in hits]
    assert all("align" in t for t in texts[:7])
    assert sum("align" in t for t in texts) >= 14
    assert "alignment tax" in texts[0]
    assert "arxiv:2604.06066" in {r.id for r in hits}  # "... The Alignment Tax of Constrained Decoding"


def test_search_since_and_max_records(arxiv_library):
    query = ("preference optimization capability loss",)
    unfiltered = arxiv_library.search(query, None, 300)
    assert {r.year for r in unfiltered} >= {2025, 2026}
    recent = arxiv_library.search(query, 2026, 300)
    assert recent and all(r.year >= 2026 for r in recent)
    assert arxiv_library.search(query, 2027, 50) == []
    assert len(arxiv_library.search(query, None, 7)) == 7
    assert arxiv_library.search(query, None, 7) == unfiltered[:7]
    assert arxiv_library.search(query, None, 0) == []


def test_search_returns_only_matching_records(arxiv_library):
    assert arxiv_library.search(("qqxyzzyplugh",), None, 10) == []
    assert arxiv_library.search(("the of and",), None, 10) == []  # stop words only
    assert arxiv_library.search((), None, 10) == []
    hits = arxiv_library.search(("HumanEval",), None, 10_000)
    assert hits and all("humaneval" in f"{r.title} {r.abstract}".lower() for r in hits)


# ---------------------------------------------------------------- arXiv JSON Lines edge cases


@pytest.mark.parametrize("query", ["alignment tax", "reinforcement learning from human feedback reward model",
                                   "retrieval augmented generation hallucination", "language", "qwen3"])
def test_search_ranks_candidates_as_a_stable_descending_sort(arxiv_library, query):
    """best_first orders real BM25 scores as numpy's stable sort does: highest first,
    equal scores (many, for a common word) in load order."""
    from generator.providers.library import best_first

    scores = arxiv_library._scores(query)
    candidates = np.flatnonzero(scores > 0)
    assert len(candidates) > 100 and scores.dtype == np.float32
    expected = candidates[np.argsort(-scores[candidates], kind="stable")]
    assert best_first(scores, candidates).tolist() == expected.tolist()
    some = candidates[::7]
    assert best_first(scores, some).tolist() == some[np.argsort(-scores[some], kind="stable")].tolist()
    tied = np.array([0.5, 2.0, 0.5, 2.0, 1e-30, 3.4e38, 0.5], dtype=np.float32)
    assert best_first(tied, np.arange(7)).tolist() == [5, 1, 3, 0, 2, 6, 4]
    assert best_first(tied.astype(np.float64), np.arange(7)).tolist() == [5, 1, 3, 0, 2, 6, 4]


def test_arxiv_fields_parsed(tmp_path):
    path = _write_lines(tmp_path / "a.jsonl", [
        _arxiv_line(id="hep-th/9901001", authors="A. Author (MIT), B. Author (CMU)", title="Old"),
        _arxiv_line(
            id="2312.12345v3", title="  New\n  style  ", abstract="Uses $\\alpha$\n and  $O(n)$.\n",
            authors="Ann Lee,\nBo Kim, and\nCy Park Jr.", doi="10.1000/ABC.1 10.2000/other",
            **{"journal-ref": "Proc. ACL\n 2024"},
        ),
        _arxiv_line(id="9901001", title="Unparseable id"),
        _arxiv_line(id="2401.00001", title=None),
    ])
    warnings: list[str] = []
    old, new = list(read_arxiv_jsonl(path, warnings.append))
    assert (old.id, old.year, old.month, old.authors) == ("arxiv:hep-th/9901001", 1999, 1, ("A. Author", "B. Author"))
    assert new.id == "arxiv:2312.12345" and new.ids.arxiv_version == "v3"
    assert (new.year, new.month) == (2023, 12)
    assert new.title == "New style"
    assert new.abstract == "Uses $\\alpha$ and $O(n)$."
    assert new.authors == ("Ann Lee", "Bo Kim", "Cy Park Jr.")
    assert new.ids.doi == "10.1000/abc.1"
    assert new.venue == "Proc. ACL 2024"
    assert new.url == "https://arxiv.org/abs/2312.12345"
    assert warnings == [
        f"{path}:3: record has no valid arXiv id ('9901001') — skipped",
        f"{path}:4: record has no title — skipped",
    ]


@pytest.mark.parametrize(("arxiv_id", "expected"), [
    ("2505.09388", (2025, 5)), ("0704.0001", (2007, 4)), ("hep-th/9901001", (1999, 1)),
    ("math.GT/0309136", (2003, 9)), ("2513.00001", (None, None)),
])
def test_arxiv_year_month(arxiv_id, expected):
    assert arxiv_year_month(arxiv_id) == expected


def test_split_authors_forms():
    assert split_authors("A, B and C") == ("A", "B", "C")
    assert split_authors("A;\nB;  C") == ("A", "B", "C")
    assert split_authors("A (1), B (2) ((1) MIT, (2) CMU)") == ("A", "B")
    assert split_authors("Anand Rao and Sandy Andrews, et al.") == ("Anand Rao", "Sandy Andrews")
    assert split_authors(None) == ()
    # Unbalanced parentheses leave the list as given; nested groups go whole.
    assert split_authors("A (1), B (2") == ("A (1)", "B (2")
    assert split_authors("A ), B (") == ("A )", "B (")
    assert split_authors("A ((x) y), B") == ("A", "B")
    assert split_authors(["X Y", " Z\nW "]) == ("X Y", "Z W")


def test_year_from_versions_when_id_has_none(tmp_path):
    path = _write_lines(tmp_path / "a.jsonl", [
        _arxiv_line(id="2599.00001", versions=[{"version": "v1", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]),
        _arxiv_line(id="2599.00002", update_date="2023-06-30"),
    ])
    first, second = read_corpus(path)
    assert (first.year, first.month, first.ids.arxiv_version) == (2007, 4, "v1")
    assert (second.year, second.month) == (2023, 6)


def test_malformed_json_line_warns_and_others_load(tmp_path, caplog):
    path = _write_lines(tmp_path / "c.jsonl", [
        _arxiv_line(id="2401.00001", title="First"),
        '{"id": "2401.00002", "title": "Broken',
        "",
        "[1, 2]",
        _arxiv_line(id="2401.00003", title="Third"),
    ])
    with caplog.at_level(logging.WARNING, logger="generator.providers.library"):
        library = Library.load([path])
    assert [r.title for r in library.records] == ["First", "Third"]
    assert len(library.warnings) == 2
    assert library.warnings[0].startswith(f"{path}:2:") and "malformed JSON" in library.warnings[0]
    assert library.warnings[1].startswith(f"{path}:4: line is a JSON list")
    assert [r.getMessage() for r in caplog.records] == library.warnings


def test_lines_orjson_refuses_are_read_as_the_standard_library_reads_them(tmp_path):
    # orjson parses the lines; these it refuses, and json accepts: each is read as before.
    path = _write_lines(tmp_path / "c.jsonl", [
        '{"id": "2401.00001", "title": "Lone \\ud800 surrogate", "abstract": "Score NaN.", "x": NaN}',
        '{"id": "2401.00002", "title": "Big number", "n": 123456789012345678901234567890}',
        '{"id": "2401.00004", "title": "Fine"}',
    ])
    library = Library.load([path])
    assert [r.title for r in library.records] == ["Lone \ufffd surrogate", "Big number", "Fine"]
    assert library.warnings == []


def test_a_malformed_line_message_is_whole(tmp_path):
    # json's own message is "Invalid control character at" (its position follows): shown
    # without the dangling "at", the position being the line:column before it.
    path = _write_lines(tmp_path / "c.jsonl", ['{"id": "2401.00001", "title": "Tab\there"}'])
    (warning,) = Library.load([path]).warnings[:1]
    assert warning == f"{path}:1:35: malformed JSON (Invalid control character) — skipped"


def test_truncated_gzip_is_a_corpus_error_naming_where_it_ends(tmp_path):
    lines = [_arxiv_line(id=f"2401.{i:05d}", title=f"Paper {i}", abstract=f"Abstract {i} " * 40) for i in range(400)]
    whole = gzip.compress(("\n".join(lines) + "\n").encode("utf-8"))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) // 2])
    warnings: list[str] = []
    read: list = []
    with pytest.raises(CorpusError) as info:
        for record in read_arxiv_jsonl(path, warnings.append):
            read.append(record)
    assert 0 < len(read) < 400 and warnings == []
    message = str(info.value)
    assert message.startswith(f"{path}:") and "truncated or corrupt" in message and "download" in message
    assert f"after line {len(read)}" in message or f"after line {len(read) + 1}" in message
    with pytest.raises(CorpusError):
        Library.load([path])


def test_gzip_unreadable_from_the_start_is_a_corpus_error(tmp_path):
    path = tmp_path / "plain.jsonl.gz"
    path.write_text(_arxiv_line() + "\n", encoding="utf-8")
    with pytest.raises(CorpusError, match="plain.jsonl.gz"):
        list(read_arxiv_jsonl(path))


def test_oversized_abstract_dropped_with_warning(tmp_path):
    path = _write_lines(tmp_path / "big.jsonl", [_arxiv_line(abstract="word " * (MAX_ABSTRACT_CHARS // 4))])
    warnings: list[str] = []
    (record,) = read_corpus(path, warnings.append)
    assert record.abstract is None and not record.text_available
    assert len(warnings) == 1 and warnings[0].startswith(f"{path}:1: abstract of")


def test_json_extension_with_json_lines_is_read_as_arxiv(tmp_path):
    path = _write_lines(tmp_path / "arxiv-metadata-oai-snapshot.json", [_arxiv_line(), _arxiv_line(id="2401.05555")])
    assert [r.id for r in read_corpus(path)] == ["arxiv:2401.01234", "arxiv:2401.05555"]


# ---------------------------------------------------------------- CSL-JSON


def test_csl_seed_file(csl_records):
    assert len(csl_records) == 12
    by_id = {r.id: r for r in csl_records}
    assert len(by_id) == 12
    qwen = by_id["arxiv:2505.09388"]
    assert qwen.title == "Qwen3 Technical Report" and qwen.year == 2025
    assert qwen.authors[0] == "Yang, An" and qwen.url == "https://arxiv.org/abs/2505.09388"
    assert "\n" not in qwen.abstract
    instructgpt = by_id["arxiv:2203.02155"]  # its DOI is the arXiv DataCite DOI
    assert instructgpt.ids.doi == "10.48550/arxiv.2203.02155"
    llava = [r for r in csl_records if r.ids.arxiv == "2304.08485"]
    assert [r.id for r in llava] == ["arxiv:2304.08485", "lib:llava-neurips2023"]
    assert llava[0].abstract != llava[1].abstract
    unique, duplicates = deduplicate(csl_records)
    assert len(unique) == 11 and duplicates == [("lib:llava-neurips2023", "arxiv:2304.08485")]


def test_csl_library_lookup_and_search():
    library = Library.load([shared_path(*CSL_FILE)])
    assert library.warnings == []
    assert library.lookup("arxiv:2505.09388").title == "Qwen3 Technical Report"
    assert library.lookup("lib:llava-neurips2023").title == "Visual Instruction Tuning"
    assert library.lookup("doi:10.48550/arXiv.2304.08485").id == "arxiv:2304.08485"
    hits = library.search(("alignment tax",), 2024, 10)
    assert hits and all("alignment" in f"{r.title} {r.abstract}".lower() for r in hits)
    assert all(r.year >= 2024 for r in hits)
    assert "arxiv:2309.06256" not in {r.id for r in hits}  # 2023: filtered by since
    assert "arxiv:2309.06256" in {r.id for r in library.search(("alignment tax",), None, 10)}


def test_library_snapshot_does_not_depend_on_the_file_mtime(tmp_path):
    """Two clones of the same corpus bytes (git sets mtimes at checkout) give one snapshot:
    a library record's retrieval time is the snapshot's own (SOURCE_DATE_EPOCH honoured)."""
    import os
    import shutil

    from generator import snapshots
    from generator.models import Question
    from generator.retrieval import retrieve

    question = Question(slug="tax", path="q.yaml", title="Alignment tax", question="Does RLHF cost capability?",
                        facets=("alignment tax",), queries=("alignment tax",), providers=("library",),
                        include=("arxiv:2203.02155",))
    texts = []
    for name, mtime in (("a", 1_000_000_000), ("b", 1_900_000_000)):
        path = tmp_path / name / "seed.csl.json"
        path.parent.mkdir()
        shutil.copyfile(shared_path(*CSL_FILE), path)
        os.utime(path, (mtime, mtime))
        snap = retrieve(question, [Library.load([path])], now="2026-01-02T03:04:05+00:00")
        assert snap.records and {r.retrieved_at for r in snap.records} == {"2026-01-02T03:04:05Z"}
        assert "arxiv:2203.02155" in {r.id for r in snap.records}  # the include: look-up is stamped too
        texts.append(snapshots.dumps(snap))
    assert texts[0] == texts[1]


def test_csl_shapes(tmp_path):
    items = [
        {"id": "a", "title": "Title with <i>markup</i>\n here", "issued": {"date-parts": [["2024", "3"]]},
         "author": [{"family": "Berg", "given": "Jan", "non-dropping-particle": "van der"}, {"literal": "WHO"}],
         "container-title": ["Journal One"], "DOI": "https://doi.org/10.1000/XYZ", "note": "ignored"},
        {"id": 7, "title": "No identifiers", "issued": {"raw": "Spring 2019"}},
        {"id": "c", "title": "  "},
        "not an object",
        {"title": "arXiv in number", "number": "arXiv:2412.21199v2"},
    ]
    path = tmp_path / "items.json"
    path.write_text(json.dumps(items), encoding="utf-8")
    warnings: list[str] = []
    a, b, e = read_corpus(path, warnings.append)
    # CSL rich text is markup (citeproc-js "Rich text markup within fields"), not text.
    assert a.id == "doi:10.1000/xyz" and a.title == "Title with markup here"
    assert (a.year, a.month, a.venue) == (2024, 3, "Journal One")
    assert a.authors == ("van der Berg, Jan", "WHO") and a.url == "https://doi.org/10.1000/xyz"
    assert (b.id, b.year, b.url) == ("lib:7", 2019, None)
    assert e.id == "arxiv:2412.21199" and e.ids.arxiv_version == "v2"
    assert warnings == [
        f"{path}: item 3 (c): record has no title — skipped",
        f"{path}: item 4: not a JSON object — skipped",
    ]


def test_csl_jats_abstract_from_zotero_is_plain_text_and_yields_claims(tmp_path):
    from generator.extraction import extract_claims

    item = {"id": "z", "title": "Blorptic <i>in vitro</i> assay of <span class=\"nocase\">latency</span>",
            "abstract": "<jats:title>Abstract</jats:title><jats:p>Blorptic assays reduce latency by 30% in "
                        "sensors.</jats:p> <jats:p>We find blorptic assays &amp; probes improve recall "
                        "(p &lt; 0.01).</jats:p>"}
    path = tmp_path / "zotero.json"
    path.write_text(json.dumps([item]), encoding="utf-8")
    (rec,) = read_corpus(path)
    assert rec.title == "Blorptic in vitro assay of latency"
    assert rec.abstract == ("Blorptic assays reduce latency by 30% in sensors. "
                            "We find blorptic assays & probes improve recall (p < 0.01).")
    assert [c.text for c in extract_claims(rec)] == [
        "Blorptic assays reduce latency by 30% in sensors.",
        "We find blorptic assays & probes improve recall (p < 0.01)."]


@pytest.mark.parametrize("content", ['{"title": "x",\n "id": "y"}', "not json", '"a string"'])
def test_csl_not_a_list_is_a_corpus_error(tmp_path, content):
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CorpusError, match="bad.json"):
        list(read_corpus(path))


# ---------------------------------------------------------------- BibTeX


BIB = r"""@article{key, title={A {Study} of $O(n)$ Sorting}, author={Doe, Jane and Roe, Rick}, year={2024}, eprint={2401.01234}, archivePrefix={arXiv}, abstract={We show X.}}

@inproceedings{pub2023,
  title     = {Caf{\'e}  Names
               Matter},
  author    = {{\"O}zt{\"u}rk, Ali and {Barnes and Noble} and van der Berg, Jan},
  booktitle = {Proceedings of ACL},
  year      = 2023, month = may,
  doi       = {10.18653/V1/2023.ACL-LONG.1},
  abstract  = {Results hold for $\alpha < 0.5$ in 50\% of cases.},
}

@misc{scholar, title={Google Scholar style}, journal={arXiv preprint arXiv:2309.06256}, year={2023}}
@misc{plain, title={Nothing to identify it}}
@misc{untitled, author={Nobody}}
@article{broken, title={unbalanced
"""


def test_bibtex_entries(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(BIB, encoding="utf-8")
    warnings: list[str] = []
    study, cafe, scholar, plain = read_corpus(path, warnings.append)
    assert study.id == "arxiv:2401.01234" and study.ids.arxiv == "2401.01234"
    assert study.title == "A Study of $O(n)$ Sorting"
    assert study.authors == ("Doe, Jane", "Roe, Rick")
    assert (study.year, study.abstract) == (2024, "We show X.")
    assert study.url == "https://arxiv.org/abs/2401.01234"
    assert cafe.id == "doi:10.18653/v1/2023.acl-long.1"
    assert cafe.title == "Café Names Matter"
    assert cafe.authors == ("Öztürk, Ali", "{Barnes and Noble}", "van der Berg, Jan")
    assert (cafe.year, cafe.month, cafe.venue) == (2023, 5, "Proceedings of ACL")
    assert cafe.abstract == r"Results hold for $\alpha < 0.5$ in 50% of cases."
    assert scholar.id == "arxiv:2309.06256"
    assert plain.id == "lib:plain" and plain.year is None
    assert warnings == [
        f"{path}:16: BibTeX block could not be parsed (Unexpectedly reached end of file.) — skipped",
        f"{path}:15: record has no title — skipped",
    ]


def test_bibtex_titles_lose_no_macro(tmp_path):
    """pylatexenc drops macros it does not know, with their name: "\\LaTeX{}" vanished from a
    title. TeX logos become their names; any other unknown macro is kept as written."""
    path = tmp_path / "macros.bib"
    path.write_text(r"""@article{inj, title={Injection attacks in \LaTeX{} templates}, year={2024}}
@article{sys, title={\sysname{} beats \TeX\ and \oursys on $\mathcal{O}(n)$ \textit{tasks}}, year={2024}}
@article{arg, title={The \newword{dual} view of \emph{BibTeX} and \BibTeX}, year={2024}}
""", encoding="utf-8")
    inj, sys_, arg = read_corpus(path)
    assert inj.title == "Injection attacks in LaTeX templates"
    assert sys_.title == r"\sysname{} beats TeX and \oursys on $\mathcal{O}(n)$ tasks"
    assert arg.title == r"The \newword{}dual view of BibTeX and BibTeX"


def test_bibtex_duplicate_key_and_repeated_identifier(tmp_path):
    path = tmp_path / "dup.bib"
    path.write_text(
        "@misc{a, title={One}}\n@misc{a, title={Two}}\n"
        "@misc{v1, title={Same paper}, eprint={2401.01234v1}}\n"
        "@misc{v2, title={Same paper}, eprint={2401.01234v2}, archivePrefix={arXiv}}\n",
        encoding="utf-8",
    )
    warnings: list[str] = []
    records = list(read_bibtex(path, warnings.append))
    assert [r.id for r in records] == ["lib:a", "arxiv:2401.01234", "lib:v2"]
    assert records[2].ids.arxiv == "2401.01234" and records[2].ids.arxiv_version == "v2"
    assert warnings == [f"{path}:2: BibTeX block could not be parsed (Duplicate entry key 'a') — skipped"]


def test_bibtex_not_utf8_is_a_corpus_error(tmp_path):
    path = tmp_path / "latin1.bib"
    path.write_bytes("@misc{a, title={Caf\u00e9}}".encode("latin-1"))
    with pytest.raises(CorpusError, match="latin1.bib"):
        list(read_bibtex(path))


# ---------------------------------------------------------------- files and the library


@pytest.mark.parametrize("name", ["refs.ris", "corpus.csv", "README"])
def test_unknown_extension_is_a_corpus_error(tmp_path, name):
    path = tmp_path / name
    path.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError) as info:
        Library.load([path])
    assert name in str(info.value) and ".jsonl.gz" in str(info.value) and ".bib" in str(info.value)


def test_missing_file_is_a_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match="not found"):
        read_corpus(tmp_path / "absent.jsonl")


def test_duplicate_ids_across_files_keep_the_first(tmp_path):
    one = _write_lines(tmp_path / "one.jsonl", [_arxiv_line(title="First copy")])
    two = _write_lines(tmp_path / "two.jsonl", [_arxiv_line(title="Second copy"), _arxiv_line(id="2401.09999")])
    library = Library.load([one, two])
    assert [r.title for r in library.records] == ["First copy", "A title"]
    assert library.lookup("arxiv:2401.01234").title == "First copy"
    assert library.warnings == [f"{two}: duplicate record id arxiv:2401.01234 — kept the first one loaded"]


def test_a_file_of_repeated_records_is_one_warning_and_no_fault(tmp_path):
    # A fifth trial: 200,000 records with one id listed that id again and again, and a file
    # whose records all repeat another file's was reported as "no records loaded" (a fault
    # that stops a refresh).
    one = _write_lines(tmp_path / "one.jsonl", [_arxiv_line(id="2401.00001"), _arxiv_line(id="2401.00002")])
    same = _write_lines(tmp_path / "same.jsonl", [_arxiv_line(id=i) for i in ("2401.00001", "2401.00002")] * 3)
    library = Library.load([one, same])
    assert len(library) == 2 and library.faults == []
    assert library.warnings == [f"{same}: 6 records with a duplicate record id loaded before (2 distinct: "
                                "arxiv:2401.00001, arxiv:2401.00002) — kept the first record of each id"]


def test_rrf_merges_queries_and_keeps_unknown_years(tmp_path):
    path = _write_lines(tmp_path / "small.jsonl", [
        _arxiv_line(id="2401.00001", title="Tokenizer study", abstract="Byte pair encoding of text."),
        _arxiv_line(id="2401.00002", title="Reward hacking", abstract="Reward models are gamed."),
        _arxiv_line(id="2401.00003", title="Reward hacking by tokenizer", abstract="Tokenizer reward."),
        _arxiv_line(id="1501.00004", title="Old tokenizer paper", abstract="Tokenizer."),
        _arxiv_line(id="2599.00005", title="Tokenizer with unknown date", abstract="Tokenizer."),
    ])
    library = Library.load([path])
    hits = library.search(("tokenizer", "reward"), 2020, 10)
    ids = [r.id for r in hits]
    assert ids[0] == "arxiv:2401.00003"  # ranked by both queries
    assert set(ids) == {"arxiv:2401.00001", "arxiv:2401.00002", "arxiv:2401.00003", "arxiv:2599.00005"}
    assert library.lookup("arxiv:2599.00005").year is None
    assert [r.id for r in library.search(("tokenizer", "reward"), 2020, 2)] == ids[:2]


def test_empty_library(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_text("", encoding="utf-8")
    library = Library.load([path])
    assert len(library) == 0
    # A failed search, not one that found nothing: a build would otherwise write (and then
    # keep) an empty snapshot (an eighth trial).
    with pytest.raises(RetrievalError, match="the --library files hold no records"):
        library.search(("anything",), None, 5)
    assert library.warnings == [f"{path}: no records loaded from this file"]
    # Said on the console, but not a skipped entry: a page would otherwise report "1 entry
    # of the --library files was skipped" (a seventh trial).
    assert library.faults == []
    malformed = tmp_path / "malformed.jsonl"
    malformed.write_text("{not json\n", encoding="utf-8")
    both = Library.load([malformed])
    assert len(both.warnings) == 2 and both.faults == [both.warnings[0]] and "malformed JSON" in both.faults[0]


# ---------------------------------------------------------------- robustness

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_arxiv_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["2401.01234", "hep-th/9901001v2", "2599.00001"]) | _json_values,
        **{key: _json_values | st.text(max_size=40) for key in
           ("authors", "title", "abstract", "doi", "journal-ref", "versions", "update_date")},
    },
).map(json.dumps)
_lines = st.lists(st.text(max_size=60) | _arxiv_like | _json_values.map(json.dumps), max_size=8)


def _read_all(name: str, data: bytes) -> list:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        try:
            return list(read_corpus(path, lambda message: None))
        except CorpusError:
            return []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_lines)
def test_arbitrary_jsonl_lines_never_raise(lines):
    for record in _read_all("x.jsonl", "\n".join(lines).encode("utf-8")):
        assert record.title and record.id.startswith("arxiv:")


@settings(max_examples=100, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=6), st.booleans())
def test_arbitrary_bytes_never_raise(chunks, compress):
    data = b"\n".join(chunks)
    _read_all("x.jsonl.gz" if compress else "x.jsonl", gzip.compress(data) if compress else data)
    _read_all("y.jsonl.gz", data)
