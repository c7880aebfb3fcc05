"""Tests of the question-file loader (generator/questions.py).

The YAML-* and MD-06 cases come from ../shared/cases/acceptance.yaml (real bug reports);
they are driven from the case's ``input`` and ``expected`` where our schema allows (the
cases use an ``id`` key and no ``title``, which our schema treats as errors — tested too).
"""

from __future__ import annotations

import gzip
import re
import tempfile
import time
import unicodedata
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE_QUESTIONS, PROJECT_ROOT, shared_path
from generator import questions as qmod
from generator.errors import InputError, Problem
from generator.models import CuratedClaim, Question
from generator.providers import NETWORK_PROVIDERS
from generator.questions import (
    MAX_BYTES,
    load_question,
    load_questions,
    scaffold,
    scaffold_slug,
    slugify,
)

LOADERS = [pytest.param(yaml.SafeLoader, id="SafeLoader")]
if hasattr(yaml, "CSafeLoader"):
    LOADERS.insert(0, pytest.param(yaml.CSafeLoader, id="CSafeLoader"))


# --------------------------------------------------------------------------- helpers


@pytest.fixture(scope="module")
def cases() -> dict[str, dict]:
    data = yaml.safe_load(shared_path("cases", "acceptance.yaml").read_text(encoding="utf-8"))
    return {case["id"]: case for case in data}


@pytest.fixture
def work(tmp_path, monkeypatch) -> Path:
    """A working dir, so messages show paths like ``questions/dup.yaml`` as the cases do."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "questions").mkdir()
    return tmp_path


@pytest.fixture(params=LOADERS)
def loader(request, monkeypatch):
    """Run a test with libyaml's loader and with the pure-Python fallback."""
    monkeypatch.setattr(qmod, "_LOADER", request.param)
    return request.param


def write(rel: str, content: str | bytes) -> Path:
    path = Path(rel)
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, str):
        content = content.encode("utf-8")
    path.write_bytes(content)
    return path


def problems_of(path: Path) -> list[Problem]:
    with pytest.raises(InputError) as info:
        load_question(path)
    assert info.value.problems, "an InputError must carry its problems"
    return info.value.problems


def split_expected(error: str) -> tuple[str, int, str]:
    """``'questions/dup.yaml:4: msg'`` or ``'…:4:1: msg'`` → (path, line, msg); the case
    file writes ``--`` where our messages use an em dash."""
    m = re.fullmatch(r"(.+?\.yaml):(\d+)(?::\d+)?: (.*)", error)
    assert m, error
    return m.group(1), int(m.group(2)), m.group(3).replace(" -- ", " — ")


VALID = "title: Heat pumps\nquestion: Do heat pumps save money?\n"


# --------------------------------------------------------------------------- acceptance cases


def test_yaml01_norway_problem_unknown_keys_are_errors(cases, work, loader):
    case = cases["YAML-01-norway-problem"]
    path = write(case["input"]["path"], case["input"]["content"])
    problems = problems_of(path)
    assert [(p.line, p.column, p.message.split(" — ")[0]) for p in problems] == [
        (1, 1, "unknown key 'id'"),
        (1, 1, "missing required key 'title'"),
        (3, 1, "unknown key 'countries'"),
        (4, 1, "unknown key 'require_open_access'"),
    ]
    assert "the page slug comes from the file name" in problems[0].message
    assert all(p.path == "questions/nordic-heat.yaml" for p in problems)
    # Unknown keys are not read at all, so nothing about booleans can be reported.
    assert not any("boolean" in p.message or "False" in p.message for p in problems)


def test_yaml01_norway_problem_list_of_strings_stays_strings(cases, work, loader):
    case = cases["YAML-01-norway-problem"]
    content = case["input"]["content"]
    countries_line = next(line for line in content.splitlines() if line.startswith("countries:"))
    flow = countries_line.split(":", 1)[1].strip()
    path = write("questions/nordic-heat.yaml",
                 f"title: Nordic heat\nquestion: Does district heating lower household emissions?\n"
                 f"facets: {flow}\ntags: {flow}\nsearch:\n  queries: {flow}\n")
    q = load_question(path)
    expected = tuple(case["expected"]["preferred"]["countries"])
    assert expected == ("SE", "NO", "DK", "FI")
    assert q.facets == expected and q.tags == expected and q.queries == expected
    assert all(type(v) is str for v in q.facets)


def test_yaml03_duplicate_keys(cases, work, loader):
    case = cases["YAML-03-duplicate-keys"]
    path = write(case["input"]["path"], case["input"]["content"])
    exp_path, exp_line, exp_msg = split_expected(case["expected"]["error"])
    problems = problems_of(path)
    dup = [p for p in problems if p.message.startswith("duplicate key")]
    assert dup == [Problem(exp_path, exp_line, 1, exp_msg)]
    assert str(dup[0]).startswith(f"{exp_path}:{exp_line}:1: duplicate key 'question'")


def test_duplicate_keys_nested_and_only_problem(work, loader):
    path = write("questions/dup2.yaml", VALID + "search:\n  since: 2020\n  queries: [a]\n  since: 2021\n"
                 "title: Again\n")
    assert problems_of(path) == [
        Problem("questions/dup2.yaml", 6, 3, "search: duplicate key 'since' (first defined at line 4)"),
        Problem("questions/dup2.yaml", 7, 1, "duplicate key 'title' (first defined at line 1)"),
    ]


def test_a_curated_claim_given_twice_is_a_problem(work, loader):
    """Two equal claims would be one claim id: the page showed two headings with one anchor."""
    path = write("questions/twice.yaml", VALID + "claims:\n  - text: Heat pumps save money.\n    cites: []\n"
                 "  - text: \"heat pumps  save money.\"\n  - text: Heat pumps cost more.\n")
    assert problems_of(path) == [
        Problem("questions/twice.yaml", 6, 5, "claims[1]: repeats claims[0] (line 4) — give each claim "
                                             "(with all the sources it cites) once"),
    ]


def test_yaml04_leading_bom_is_ignored(cases, work, loader):
    case = cases["YAML-04-byte-order-mark"]
    content = case["input"]["content_escaped"]
    assert content.startswith("\ufeff")
    path = write(case["input"]["path"], content)
    problems = problems_of(path)
    # Only our schema's objections: the key is read as 'id', not '\ufeffid'.
    assert [(p.line, p.message.split(" — ")[0]) for p in problems] == [
        (2, "unknown key 'id'"), (2, "missing required key 'title'")]
    # With the schema's key name the same bytes load, BOM and all.
    path = write(case["input"]["path"], content.replace("id:", "title:"))
    q = load_question(path)
    assert q.question == case["expected"]["parsed"]["question"]
    assert q.title == case["expected"]["parsed"]["id"]


def test_yaml04_bom_after_newline_is_reported_with_its_line(cases, work, loader):
    case = cases["YAML-04-byte-order-mark"]
    path = write("questions/bom.yaml", case["input"]["variant_concatenated"])
    problems = problems_of(path)
    bom = [p for p in problems if "byte order mark" in p.message]
    assert [(p.path, p.line, p.column) for p in bom] == [("questions/bom.yaml", 4, 1)]
    assert (3, 1) in [(p.line, p.column) for p in problems if "second YAML document" in p.message]
    assert not any("\ufeff" in p.message or "\\ufeff" in p.message for p in problems)
    # The second document is reported once, not half-read: its key never shows up.
    assert [p.message.split(" — ")[0] for p in problems if p.message.startswith("unknown")] == ["unknown key 'id'"]


def test_yaml05_tab_indentation(cases, work, loader):
    case = cases["YAML-05-tab-indentation"]
    path = write(case["input"]["path"], case["input"]["content"])
    exp_path, exp_line, exp_msg = split_expected(case["expected"]["error"])
    problems = problems_of(path)
    assert problems == [Problem(exp_path, exp_line, 1, exp_msg)]
    assert str(problems[0]) == "questions/tab.yaml:4:1: tab character used for indentation — YAML needs spaces"
    assert "\t" not in str(problems[0])


def test_tab_after_spaces_is_located_at_the_tab(work):
    path = write("questions/tab2.yaml", VALID + "search:\n  \tqueries: [a]\nfacets:\n\t- x\n")
    assert [(p.line, p.column) for p in problems_of(path)] == [(4, 3), (6, 1)]


def _recipe_claims(n: int, cites_per_claim: int) -> str:
    lines = [VALID, "claims:\n"]
    for i in range(1, n + 1):
        cites = ", ".join(f"10.5555/{i}.{j}" for j in range(1, cites_per_claim + 1))
        lines.append(f"- {{text: Q{i:04d} holds., cites: [{cites}]}}\n")
    return "".join(lines)


@pytest.mark.parametrize("loader_cls", [p.values[0] for p in LOADERS], ids=[p.id for p in LOADERS])
def test_yaml07_five_thousand_entries_load_and_validate(work, monkeypatch, loader_cls, capsys):
    monkeypatch.setattr(qmod, "_LOADER", loader_cls)
    # The recipe's 5000 mappings, each citing 3 DOIs, do not fit in MAX_BYTES; with one
    # cite each they do, so both sides of the limit are exercised.
    text = _recipe_claims(5000, 1)
    assert len(text.encode()) <= MAX_BYTES
    path = write("questions/bulk.yaml", text)
    start = time.perf_counter()
    q = load_question(path)
    elapsed = time.perf_counter() - start
    assert len(q.claims) == 5000
    assert q.claims[4320] == CuratedClaim("Q4321 holds.", ("doi:10.5555/4321.1",))

    # Errors in a large file still name the file and the line.
    bad = text.replace("10.5555/4321.1", "10.5555")
    path = write("questions/bulk.yaml", bad)
    start = time.perf_counter()
    problems = problems_of(path)
    bad_elapsed = time.perf_counter() - start
    assert problems == [Problem("questions/bulk.yaml", 4324, 32,
                                "claims[4320].cites[0]: '10.5555' is not an arXiv id or DOI — "
                                "write e.g. 'arXiv:2309.06256' or 'doi:10.1234/x'")]

    big = _recipe_claims(5000, 3)
    path = write("questions/bulk.yaml", big)
    start = time.perf_counter()
    problems = problems_of(path)
    big_elapsed = time.perf_counter() - start
    assert problems == [Problem("questions/bulk.yaml", None, None,
                                f"file is {len(big.encode())} bytes — the limit is 262144")]
    with capsys.disabled():
        print(f"\n[YAML-07 {loader_cls.__name__}] 5000 claims ({len(text.encode())} B): {elapsed:.3f} s; "
              f"with one error: {bad_elapsed:.3f} s; 3 cites each ({len(big.encode())} B) rejected in "
              f"{big_elapsed * 1000:.2f} ms")


def test_yaml07_pathological_braces(cases, work, loader, capsys):
    pathological = cases["YAML-07-very-large-file"]["input"]["pathological"]
    assert pathological == "'{' * 102400"
    path = write("questions/braces.yaml", "{" * 102400)
    start = time.perf_counter()
    problems = problems_of(path)
    elapsed = time.perf_counter() - start
    assert len(problems) == 1
    assert problems[0].path == "questions/braces.yaml" and problems[0].line == 1
    assert "nesting" in problems[0].message
    with capsys.disabled():
        print(f"\n[YAML-07 {loader.__name__}] '{{' * 102400 rejected in {elapsed * 1000:.2f} ms: {problems[0]}")


def test_deep_block_nesting_is_a_located_problem(work, loader):
    path = write("questions/deep.yaml", VALID + "facets:\n" + "- " * 20000 + "x\n")
    (problem,) = problems_of(path)
    assert problem.line == 4 and "nesting" in problem.message


def test_recursion_error_in_composer_becomes_a_problem(work, monkeypatch):
    # Past the depth check (lifted here), the pure-Python composer recurses per level.
    monkeypatch.setattr(qmod, "_LOADER", yaml.SafeLoader)
    monkeypatch.setattr(qmod, "MAX_DEPTH", 10**6)
    path = write("questions/deep.yaml", VALID + "facets: " + "[" * 1500 + "]" * 1500 + "\n")
    (problem,) = problems_of(path)
    assert problem.path == "questions/deep.yaml"
    assert problem.message == "YAML nesting too deep to parse"
    assert problem.line == 3 and 9 < problem.column <= 1509  # somewhere inside the brackets


def test_md06_slug_collision(cases, work):
    case = cases["MD-06-duplicate-page-names"]
    for rel, content in case["input"]["files"].items():
        write(rel, content)
    with pytest.raises(InputError) as info:
        load_questions(Path("questions"))
    text = str(info.value)
    for mention in case["expected"]["error_mentions"]:
        assert mention in text
    collisions = [p for p in info.value.problems if "also produced by" in p.message]
    assert collisions == [Problem("questions/covid_19.yaml", None, None,
                                  "slug 'covid-19' is also produced by questions/covid-19.yaml — rename one file")]


def test_md06_slug_collision_is_the_only_problem_of_valid_files(cases, work):
    case = cases["MD-06-duplicate-page-names"]
    for rel, content in case["input"]["files"].items():
        # Our schema: the slug comes from the file name, 'id' becomes the title.
        write(rel, content.replace("id:", "title:"))
    with pytest.raises(InputError) as info:
        load_questions(Path("questions"))
    assert [str(p) for p in info.value.problems] == [
        "questions/covid_19.yaml: slug 'covid-19' is also produced by questions/covid-19.yaml — rename one file"]
    Path("questions/covid_19.yaml").unlink()
    loaded = load_questions(Path("questions"))
    assert [q.slug for q in loaded] == ["c-plus-plus", "c-sharp", "covid-19"]
    assert [q.title for q in loaded] == ["C++", "C#", "COVID-19"]


def test_a_question_file_in_a_subfolder_is_a_problem_unless_the_folder_is_hidden(work):
    write("questions/top.yaml", VALID)
    write("questions/topic/nested.yaml", VALID)
    write("questions/topic/notes.txt", "not a question")
    write("questions/.drafts/draft.yaml", VALID)
    with pytest.raises(InputError) as info:
        load_questions(Path("questions"))
    assert [str(p) for p in info.value.problems] == [
        "questions/topic/nested.yaml: question files must be directly in questions/, not in a subfolder — "
        "move it up to build it, or into a folder whose name starts with '.' (e.g. .drafts/) to keep it unbuilt"]
    Path("questions/topic/nested.yaml").rename("questions/.drafts/nested.yaml")
    assert [q.slug for q in load_questions(Path("questions"))] == ["top"]


def test_slug_collision_is_case_insensitive_and_catches_cplusplus(work):
    write("questions/c++.yaml", VALID)
    write("questions/c-plus-plus.yaml", VALID)
    write("questions/Heat.yaml", VALID)
    write("questions/heat.yml", VALID)
    with pytest.raises(InputError) as info:
        load_questions(Path("questions"))
    assert sorted(str(p) for p in info.value.problems) == [
        "questions/c-plus-plus.yaml: slug 'c-plus-plus' is also produced by questions/c++.yaml — rename one file",
        "questions/heat.yml: slug 'heat' is also produced by questions/Heat.yaml — rename one file",
    ]


# --------------------------------------------------------------------------- typing by schema


def test_implicit_types_stay_strings(work, loader):
    path = write("questions/implicit.yaml",
                 "title: 10:00\nquestion: yes\n"
                 "facets: [NO, 1.10, '10:00', 10:00, 2024-12-19, yes, off, 0x1F, 1e3, .inf, 012]\n"
                 "tags:\n  - NO\n  - 1.10\nsearch:\n  queries: [NO, 2024-12-19]\n  since: '2022'\n"
                 "claims:\n  - text: NO is no.\n")
    q = load_question(path)
    assert q.title == "10:00" and q.question == "yes"
    # A question without a letter is not a question, whatever YAML would make of it.
    bad = write("questions/dated.yaml", "title: T\nquestion: 2024-12-19\n")
    assert [str(p) for p in problems_of(bad)] == [
        "questions/dated.yaml:2:11: question: expected a string in words, got '2024-12-19'"]
    assert q.facets == ("NO", "1.10", "10:00", "2024-12-19", "yes", "off", "0x1F", "1e3", ".inf", "012")
    assert q.tags == ("NO", "1.10")
    assert q.queries == ("NO", "2024-12-19")
    assert q.since == 2022 and type(q.since) is int
    assert q.claims == (CuratedClaim("NO is no."),)


def test_wrong_types_all_reported_and_located(work, loader):
    path = write("questions/types.yaml",
                 "title: T\n"                        # 1
                 "question: Q\n"                     # 2
                 "facets: 5\n"                       # 3
                 "search:\n"                         # 4
                 "  since: soon\n"                   # 5
                 "  max_records: -1\n"               # 6
                 "  providers: [arxiv, pubmed]\n"    # 7
                 "  queries: []\n"                   # 8
                 "tags: {a: b}\n"                    # 9
                 "claims:\n"                         # 10
                 "  - text: It is ok.\n"             # 11
                 "    cites: [arXiv:2309.06256, 'arXiv:abc']\n"  # 12
                 "  - cites: []\n"                   # 13
                 "include: [doi:nope]\n")            # 14
    assert [str(p) for p in problems_of(path)] == [
        "questions/types.yaml:3:9: facets: expected a list of strings, e.g. [RLHF, DPO], got '5'",
        "questions/types.yaml:5:10: search.since: expected a year (integer 1900–2100), got 'soon'",
        "questions/types.yaml:6:16: search.max_records: expected an integer 1–10000, got '-1'",
        "questions/types.yaml:7:22: search.providers[1]: unknown provider 'pubmed' — allowed: "
        "arxiv, openalex, crossref, semantic_scholar, europepmc, library",
        "questions/types.yaml:8:12: search.queries: empty list — remove the key to use the default "
        "(the title as the only query)",
        "questions/types.yaml:9:7: tags: expected a list of strings, e.g. [alignment, evaluation], got a mapping",
        "questions/types.yaml:12:31: claims[0].cites[1]: 'arXiv:abc' is not an arXiv id or DOI — "
        "write e.g. 'arXiv:2309.06256' or 'doi:10.1234/x'",
        "questions/types.yaml:13:5: claims[1]: missing required key 'text'",
        "questions/types.yaml:14:11: include[0]: 'doi:nope' is not an arXiv id or DOI — "
        "write e.g. 'arXiv:2309.06256' or 'doi:10.1234/x'",
    ]


@pytest.mark.parametrize("value, ok", [
    ("1900", True), ("2100", True), ("+2022", True), ("1899", False), ("2101", False), ("2022.0", False),
    ("20x2", False), ("2_022", False), ("'٢٠٢٢'", False), ("9" * 5000, False), ("[2022]", False),
])
def test_since_parsing(work, value, ok):
    path = write("questions/since.yaml", VALID + f"search:\n  since: {value}\n")
    if ok:
        assert load_question(path).since == int(value)
    else:
        (problem,) = problems_of(path)
        assert problem.message.startswith("search.since: expected a year (integer 1900–2100), got ")
        assert len(problem.message) < 200


def test_null_and_blank_strings_are_errors(work, loader):
    path = write("questions/blank.yaml", "title: ~\nquestion:\nfacets: [a, '  ', null]\n")
    assert [(p.line, p.message) for p in problems_of(path)] == [
        (1, "title: expected a string, got null ('~')"),
        (2, "question: expected a string, got an empty value"),
        (3, "facets[1]: expected a string, got an empty string"),
        (3, "facets[2]: expected a string, got null ('null')"),
    ]


def test_unknown_keys_suggest_and_list_allowed(work, loader):
    path = write("questions/keys.yaml", VALID + "facet: [a]\nQuestion: again\nsearch:\n  provider: [arxiv]\n"
                 "since: 2020\n")
    messages = [p.message for p in problems_of(path)]
    top = "Allowed keys: title, question, facets, search, include, claims, tags"
    assert messages == [
        f"unknown key 'facet' — did you mean 'facets'? {top}",
        f"unknown key 'Question' — did you mean 'question'? {top}",
        "search: unknown key 'provider' — did you mean 'providers'? Allowed keys: queries, providers, since, "
        "max_records",
        f"unknown key 'since' — 'since' belongs under 'search:'. {top}",
    ]


@pytest.mark.parametrize("content", ["", "# just a comment\n", "\n\n", "---\n", "\ufeff"])
def test_empty_file(work, content):
    (problem,) = problems_of(write("questions/empty.yaml", content))
    assert problem.message == "empty file — a question file needs at least 'title' and 'question'"
    assert problem.path == "questions/empty.yaml"


@pytest.mark.parametrize("content, got", [("- a\n- b\n", "a list"), ("just text\n", "'just text'")])
def test_top_level_not_a_mapping(work, content, got):
    (problem,) = problems_of(write("questions/top.yaml", content))
    assert (problem.line, problem.column) == (1, 1)
    assert problem.message.endswith(f"got {got}")


def test_yaml_syntax_error_is_located(work, loader):
    (problem,) = problems_of(write("questions/syntax.yaml", "title: [a, b\nquestion: x\n"))
    assert problem.message.startswith("YAML syntax error:")
    assert problem.line in (1, 2)  # libyaml and PyYAML notice the missing ']' at different tokens
    assert "line 1, column 8" in problem.message


def test_multiple_documents(work, loader):
    problems = problems_of(write("questions/two.yaml", VALID + "---\n" + VALID))
    assert problems == [Problem("questions/two.yaml", 3, 1,
                                "a second YAML document starts here — write one question per file")]


def test_size_limit(work):
    path = write("questions/big.yaml", VALID + "#" * (MAX_BYTES - len(VALID)))
    assert load_question(path).title == "Heat pumps"
    path = write("questions/big.yaml", VALID + "#" * (MAX_BYTES + 1 - len(VALID)))
    assert problems_of(path) == [Problem("questions/big.yaml", None, None,
                                         "file is 262145 bytes — the limit is 262144")]


def test_not_utf8_and_control_characters(work):
    (problem,) = problems_of(write("questions/latin1.yaml", VALID.encode() + "facets: [Zürich]\n".encode("latin-1")))
    assert (problem.line, problem.column) == (3, 11)
    assert problem.message == "file is not UTF-8 text (byte 0xfc) — save it as UTF-8"
    (problem,) = problems_of(write("questions/bell.yaml", VALID + "facets: [a\x07b]\n"))
    assert (problem.line, problem.column, problem.message) == (
        3, 11, "control character U+0007 is not allowed in YAML — delete it")


def test_unsupported_tags(work, loader):
    problems = problems_of(write("questions/tagged.yaml", VALID + "facets: [!!python/name:os.system x, !!str ok]\n"))
    assert [p.message for p in problems] == [
        "facets[0]: unsupported YAML tag 'tag:yaml.org,2002:python/name:os.system' — remove the tag"]


def test_aliases_cannot_blow_up(work, loader, capsys):
    # A "billion laughs" shape: each level references the previous one ten times.
    lines = [VALID, "a0: &a0 {text: X holds., cites: [arXiv:2309.06256]}\n"]
    for i in range(1, 9):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]\n")
    lines.append("claims: [" + ", ".join(["*a0"] * 50000) + "]\n")
    path = write("questions/laughs.yaml", "".join(lines))
    start = time.perf_counter()
    problems = problems_of(path)
    elapsed = time.perf_counter() - start
    assert {p.message.split(" — ")[0] for p in problems} == {f"unknown key 'a{i}'" for i in range(9)} | {
        "claims[1]: repeats claims[0] (line 3)"}
    with capsys.disabled():
        print(f"\n[aliases {loader.__name__}] 50000 aliased claims checked in {elapsed:.3f} s")


@pytest.mark.parametrize("raw, value", [
    ("yes", True), ("No", False), ("TRUE", True), ("false", False), ("'no'", False), ("on", None), ("1", None),
    ("~", None), ("[true]", None),
])
def test_bool_conversion_for_future_switches(raw, value, loader):
    # No key is boolean yet; the converter must still read one by the schema, not by YAML.
    node = yaml.compose(f"flag: {raw}\n", Loader=loader).value[0][1]
    conv = qmod._Converter("q.yaml")
    got = conv.convert(node, qmod._Bool(), "flag")
    if value is None:
        assert got is qmod._BAD
        assert [(p.line, p.column) for p in conv.problems] == [(1, 7)]
        assert conv.problems[0].message.startswith("flag: expected true or false, got ")
    else:
        assert got is value and conv.problems == []


# --------------------------------------------------------------------------- values and defaults


def test_defaults_and_normalisation(work, loader):
    path = write("questions/defaults.yaml",
                 "title: '  Heat   pumps  '\nquestion: |\n  Do heat pumps\n  save money?\n"
                 "include:\n  - arXiv:2309.06256v2\n  - doi:10.48550/arXiv.2203.02155\n"
                 "  - https://doi.org/10.1128/MCB.01478-14\n  - 2309.06256\n"
                 "search:\n  providers: [Arxiv, library, arxiv]\n")
    q = load_question(path)
    assert q == Question(
        slug="defaults", path="questions/defaults.yaml", title="Heat pumps",
        question="Do heat pumps\nsave money?", facets=(), queries=("Heat pumps",),
        providers=("arxiv", "library"), since=None, max_records=100,
        include=("arxiv:2309.06256", "arxiv:2203.02155", "doi:10.1128/mcb.01478-14"), claims=(), tags=())
    q = load_question(write("questions/defaults.yaml", VALID + "tags:\nsearch:\n"))
    assert q.providers == NETWORK_PROVIDERS and q.tags == () and q.max_records == 100


def test_design_example_loads(work):
    design_yaml = """\
title: Does preference alignment cost capability?        # required, shown as page title
question: >                                              # required, full research question
  Does RLHF or DPO alignment reduce performance on knowledge and reasoning
  benchmarks, and can the loss be mitigated?
facets: [RLHF, DPO, alignment tax, benchmark performance, mitigation]   # what an answer must cover
search:
  queries: ["alignment tax RLHF", "preference optimization capability loss"]
  providers: [arxiv, openalex, crossref, semantic_scholar, europepmc]   # default: all keyless ones
  since: 2022
  max_records: 100
include: ["arXiv:2309.06256", "doi:10.48550/arXiv.2203.02155"]   # always retrieved and screened in
claims:                                                 # optional curated claims to check
  - text: Model averaging reduces the alignment tax of RLHF.
    cites: ["arXiv:2309.06256"]
tags: [alignment, evaluation]
"""
    q = load_question(write("content/questions/alignment-tax.yaml", design_yaml))
    assert q.slug == "alignment-tax" and q.path == "content/questions/alignment-tax.yaml"
    assert q.include == ("arxiv:2309.06256", "arxiv:2203.02155")
    assert q.claims == (CuratedClaim("Model averaging reduces the alignment tax of RLHF.", ("arxiv:2309.06256",)),)
    assert q.question.endswith("can the loss be mitigated?") and "\n" not in q.question


def test_paths_relative_to_root_or_as_given(work, tmp_path_factory):
    path = write("content/questions/heat.yaml", VALID)
    assert load_question(path.resolve()).path == "content/questions/heat.yaml"
    assert load_question(path, root=Path("content")).path == "questions/heat.yaml"
    assert load_question(path, root=Path("elsewhere")).path == "content/questions/heat.yaml"
    outside = tmp_path_factory.mktemp("elsewhere") / "heat.yaml"
    outside.write_text(VALID, encoding="utf-8")
    assert load_question(outside).path == str(outside)


def test_all_problems_of_all_files_in_one_error(work):
    write("questions/a.yaml", "title: A\nquestion: Q\nfacets: 5\nsince: 2020\n")
    write("questions/b.yml", "title: B\nquestion: [x]\n")
    write("questions/c.yaml", "search:\n\tsince: 1\n")
    write("questions/index.yaml", VALID)
    write("questions/ok.yaml", VALID)
    write("questions/notes.txt", "not a question file")
    write("questions/.draft.yaml", "broken: [")
    with pytest.raises(InputError) as info:
        load_questions(Path("questions"))
    located = [(p.path, p.line) for p in info.value.problems]
    assert located == [
        ("questions/a.yaml", 3), ("questions/a.yaml", 4),
        ("questions/b.yml", 2),
        ("questions/c.yaml", 2),
        ("questions/index.yaml", None),
    ]
    assert "slug 'index' is reserved" in info.value.problems[-1].message


def test_load_questions_sorted_by_slug_and_missing_folder(work):
    write("questions/b-question.yaml", VALID)
    write("questions/A_Question.yml", VALID)
    assert [q.slug for q in load_questions(Path("questions"))] == ["a-question", "b-question"]
    with pytest.raises(InputError) as info:
        load_questions(Path("nowhere"))
    assert str(info.value) == "nowhere: question folder not found"


@pytest.mark.parametrize("stem, slug", [
    ("covid-19", "covid-19"), ("covid_19", "covid-19"), ("COVID 19", "covid-19"), ("c++", "c-plus-plus"),
    ("C#", "c-sharp"), ("Café--Ünïcode", "cafe-unicode"), ("__x__", "x"), ("量子", ""), ("404", "404"),
])
def test_slugify(stem, slug):
    assert slugify(stem) == slug


def test_empty_and_reserved_slugs(work):
    assert [p.message for p in problems_of(write("questions/量子.yaml", VALID))] == [
        "the file name gives an empty page slug — name the file with letters a–z or digits, e.g. alignment-tax.yaml"]
    (problem,) = problems_of(write("questions/Search.yaml", VALID))
    assert problem.message.startswith("slug 'search' is reserved")


# --------------------------------------------------------------------------- scaffold


LONG_Q = ("How does the alignment of multimodal Llama-2 models affect their performance on self-invoking "
          "code generation tasks in HumanEval Pro and MBPP Pro, as measured by the trade-off between "
          "inference efficiency and solution quality?")


def test_scaffold_loads_cleanly(work):
    text = scaffold(LONG_Q, year=2026)
    q = load_question(write(f"questions/{scaffold_slug(LONG_Q)}.yaml", text))
    assert q.slug == "alignment-multimodal-llama-2-models-affect-performance"
    assert q.question == LONG_Q
    assert len(q.title) <= 80 and q.title.endswith("performance…")
    assert LONG_Q.startswith(q.title[:-1])
    assert q.queries == ("alignment multimodal Llama-2 models affect performance self-invoking code",)
    assert q.since == 2021 and q.max_records == 100 and q.facets == ()
    assert "facets: []  " not in text and "facets: []" in text


def test_scaffold_quotes_awkward_text(work):
    awkward = '  - "NO": 10:00 # not a comment\t{x} \u2028 & *a '
    q = load_question(write("questions/awkward.yaml", scaffold(awkward, year=2030)))
    assert q.question == q.title == '- "NO": 10:00 # not a comment {x} & *a'
    assert scaffold_slug(awkward) == "10-00-comment-x"  # "NO", "not", "a" are stop words


@pytest.mark.parametrize("text, slug", [
    ("What is the index?", "index-question"), ("量子计算?", None), ("   Tags   ", "tags-question"),
])
def test_scaffold_slug_fallbacks(text, slug):
    got = scaffold_slug(text)
    if slug is None:
        assert re.fullmatch(r"question-[0-9a-f]{8}", got) and got == scaffold_slug(text)
    else:
        assert got == slug


def test_scaffold_rejects_empty_question():
    with pytest.raises(InputError):
        scaffold(" \n\t")
    with pytest.raises(InputError):
        scaffold("\ufeff\x00")
    with pytest.raises(InputError):
        scaffold_slug("")


# --------------------------------------------------------------------------- shipped question files


SHIPPED = PROJECT_ROOT / "content" / "questions"


def _shipped() -> list:
    # Only the example files: a question a researcher adds is checked by `litsynth check`.
    return [load_question(SHIPPED / name, root=PROJECT_ROOT) for name in EXAMPLE_QUESTIONS]


def test_shipped_question_files_load():
    loaded = {q.slug: q for q in _shipped()}
    assert {"multimodal-llama2-self-invoking-code", "alignment-tax", "reasoning-modes-cost"} <= set(loaded)
    mm = loaded["multimodal-llama2-self-invoking-code"]
    assert mm.include == ("arxiv:2412.21199", "arxiv:2307.09288")
    assert mm.providers == ("arxiv", "openalex", "semantic_scholar") and mm.since == 2021
    tax = loaded["alignment-tax"]
    assert tax.include == ("arxiv:2309.06256", "arxiv:2203.02155") and tax.since == 2022
    assert tax.claims == (CuratedClaim("Model averaging reduces the alignment tax of RLHF.", ("arxiv:2309.06256",)),)
    assert loaded["reasoning-modes-cost"].include == ("arxiv:2505.09388",)
    assert all(q.path.startswith("content/questions/") for q in loaded.values())


def test_shipped_includes_exist_in_shared_corpus():
    wanted = {key for q in _shipped() for key in q.include}
    csl = yaml.safe_load(shared_path("corpus", "seed-topic.csl.json").read_text(encoding="utf-8"))
    found = {"arxiv:" + item["URL"].rsplit("/", 1)[1] for item in csl if "arxiv.org/abs/" in item.get("URL", "")}
    id_field = re.compile(rb'^\{"id": "([^"]+)"')
    with gzip.open(shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), "rb") as handle:
        for line in handle:
            m = id_field.match(line)
            if m and "arxiv:" + m.group(1).decode() in wanted:
                found.add("arxiv:" + m.group(1).decode())
    assert wanted <= found, wanted - found


# --------------------------------------------------------------------------- properties


_TMP = Path(tempfile.mkdtemp(prefix="litsynth-questions-"))

_FRAGMENTS = st.sampled_from([
    "title: ", "question: ", "facets: ", "search:\n", "  since: ", "  max_records: ", "  queries: ",
    "  providers: ", "include: ", "claims:\n", "  - text: ", "    cites: ", "tags: ", "[", "]", "{", "}",
    ", ", "- ", "\n", "  ", "\t", "NO", "~", "2022", "-1", "'q'", '"x\\u2028"', "&a ", "*a", "!!str ",
    "!foo ", "---\n", "...\n", "# c\n", "arXiv:2309.06256", "doi:10.1/x", "\ufeff", ": ", "? ", "|\n",
    ">\n", "\x00", "\r\n", "\x85", "<<: ", "%YAML 1.1\n",
])


def _check_load(data: bytes) -> None:
    path = _TMP / "prop.yaml"
    path.write_bytes(data)
    try:
        q = load_question(path)
    except InputError as exc:
        assert exc.problems and all(isinstance(p, Problem) for p in exc.problems)
        assert all(p.line is None or p.line >= 1 for p in exc.problems)
        assert all(p.column is None or p.column >= 1 for p in exc.problems)
    else:
        assert isinstance(q, Question) and q.title and q.question


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_property_arbitrary_text(text):
    _check_load(text.encode("utf-8", "surrogatepass"))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_property_arbitrary_bytes(data):
    _check_load(data)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_FRAGMENTS | st.text(max_size=5), max_size=40), st.sampled_from([p.values[0] for p in LOADERS]))
def test_property_yaml_like_text(parts, loader_cls):
    original = qmod._LOADER
    qmod._LOADER = loader_cls
    try:
        _check_load("".join(parts).encode("utf-8", "surrogatepass"))
    finally:
        qmod._LOADER = original


def _visible(text: str) -> str:
    """What scaffold keeps of a question: no BOM or control characters, whitespace collapsed."""
    text = text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")
    return " ".join("".join(" " if ch == "\ufeff" or unicodedata.category(ch) == "Cc" else ch
                            for ch in text).split())


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1).filter(_visible))
def test_property_scaffold_always_loads(text):
    if not re.search(r"[^\W\d_]", _visible(text)):  # no letter: "???", "42"
        with pytest.raises(InputError, match="the question has no words"):
            scaffold(text, year=2026)
        return
    path = _TMP / "scaffold.yaml"
    path.write_text(scaffold(text, year=2026), encoding="utf-8")
    q = load_question(path)
    assert q.question == _visible(text)
    assert len(q.title) <= 80
    assert re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", scaffold_slug(text))


def test_a_curated_claim_must_be_a_complete_sentence(work, loader):
    # A fragment cannot be checked as a claim, and the page would show it as one.
    problems = problems_of(write("questions/fragment.yaml",
                                 "title: T\nquestion: Q?\nclaims:\n  - text: model averaging\n"
                                 "  - text: Model averaging reduces the alignment tax of RLHF.\n"))
    assert [str(p) for p in problems] == [
        "questions/fragment.yaml:4:11: claims[0].text: expected a claim written as one complete "
        "sentence ending with '.', '!' or '?', got 'model averaging'"]


def test_facets_that_differ_only_in_case_or_spacing_are_one_facet(work):
    path = write("questions/q.yaml", VALID + "facets: [reasoning, Reasoning, 'reasoning ', chain-of-thought, reasoning]\n")
    assert load_question(path).facets == ("reasoning", "chain-of-thought")
