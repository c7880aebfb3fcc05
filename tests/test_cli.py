"""The command line end to end (generator/cli.py through generator/pipeline.py):
located input errors with nothing written, corpus faults, unresolved identifiers, exit
codes and progress lines.

The project is the repository's three example questions after one offline build from the
shared seed CSL-JSON corpus; each test works on a copy. The loader's own messages are
tested in test_questions.py; here the point is that ``check`` and ``build`` report every
problem of every file at once and leave every output tree byte-identical.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import cli, pipeline, snapshots
from generator.questions import MAX_BYTES

EPOCH = "1790000000"


def tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        root = tmp_path_factory.mktemp("built")
        shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
        copy_example_questions(root / "content" / "questions")
        report = pipeline.build(pipeline.Options(
            root=root, libraries=[shared_path("corpus", "seed-topic.csl.json")], offline=True))
        assert report.failed == {}
    return root


@pytest.fixture
def project(built, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "p"
    shutil.copytree(built, root, symlinks=True)
    return root


def run(capsys, root: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["--root", str(root), *args])
    out, err = capsys.readouterr()
    return code, out, err


def build_args(*extra: str) -> list[str]:
    return ["build", "--offline", "--library", str(shared_path("corpus", "seed-topic.csl.json")), *extra]


# --------------------------------------------------------------------------- malformed question files

VALID = "title: Heat pumps\nquestion: Do heat pumps save money?\n"

# file name → (content, [(line, column, start of message)]); line/column None = whole file.
BAD_FILES = {
    "syntax.yaml": (VALID + "facets: [a, b\ntags: [x]\n",
                    [(4, 5, "YAML syntax error: did not find expected ',' or ']'")]),
    "tabs.yaml": (VALID + "search:\n\tqueries: [heat]\n",
                  [(4, 1, "tab character used for indentation — YAML needs spaces")]),
    "bom.yaml": (VALID + "\ufefftags: [x]\n",
                 [(3, 1, "byte order mark (U+FEFF) inside the file")]),
    "dup.yaml": (VALID + "question: Again?\n",
                 [(3, 1, "duplicate key 'question' (first defined at line 2)")]),
    "types.yaml": (VALID + "facets: 5\nsearch:\n  since: 2022.0\n  max_records: 1e3\n",
                   [(3, 9, "facets: expected a list of strings"),
                    (5, 10, "search.since: expected a year (integer 1900–2100), got '2022.0'"),
                    (6, 16, "search.max_records: expected an integer 1–10000, got '1e3'")]),
    "unknown.yaml": (VALID + "facet: [a]\n",
                     [(3, 1, "unknown key 'facet' — did you mean 'facets'?")]),
    "empty.yaml": ("", [(None, None, "empty file — a question file needs at least 'title' and 'question'")]),
    "idents.yaml": (VALID + "include: ['arXiv:abc']\nclaims:\n  - text: X holds.\n    cites: ['doi:nope']\n",
                    [(3, 11, "include[0]: 'arXiv:abc' is not an arXiv id or DOI"),
                     (6, 13, "claims[0].cites[0]: 'doi:nope' is not an arXiv id or DOI")]),
    "big.yaml": (VALID + "# " + "x" * MAX_BYTES + "\n", [(None, None, "file is ")]),
    "index.yaml": (VALID, [(None, None, "slug 'index' is reserved for a page the site generates")]),
    "covid-19.yaml": (VALID, []),
    "covid_19.yaml": (VALID, [(None, None, "slug 'covid-19' is also produced by content/questions/covid-19.yaml")]),
}


def test_every_problem_of_every_file_is_reported_and_nothing_written(project, capsys):
    folder = project / "content" / "questions"
    for name, (content, _) in BAD_FILES.items():
        (folder / name).write_bytes(content.encode("utf-8"))
    before = tree(project)
    outputs = []
    for args in (["check"], build_args(), build_args("--strict", "--force")):
        code, out, err = run(capsys, project, *args)
        assert code == 1, args
        assert out == ""
        lines = err.splitlines()
        expected = [(name, *loc) for name, (_, locs) in BAD_FILES.items() for loc in locs]
        assert lines[-1] == f"{len(expected)} problem(s) found; nothing was written."
        assert len(lines) == len(expected) + 1
        for name, line, col, start in expected:
            where = f"content/questions/{name}" + (f":{line}:{col}" if line else "")
            assert any(x.startswith(f"{where}: {start}") for x in lines), (where, start, err)
        assert "Traceback" not in err
        outputs.append(err)
        assert tree(project) == before, f"{args} wrote files"
    assert outputs[0] == outputs[1] == outputs[2]


def test_problem_messages_say_what_is_allowed(project, capsys):
    (project / "content" / "questions" / "keys.yaml").write_text(VALID + "serach:\n  queries: [x]\n")
    code, _, err = run(capsys, project, "check")
    assert code == 1
    assert err.splitlines()[0] == (
        "content/questions/keys.yaml:3:1: unknown key 'serach' — did you mean 'search'? "
        "Allowed keys: title, question, facets, search, include, claims, tags")


def test_check_accepts_the_example_questions(project, capsys):
    before = tree(project)
    code, out, err = run(capsys, project, "check")
    assert (code, out, err) == (0, "3 question file(s) OK.\n", "")
    assert tree(project) == before


# --------------------------------------------------------------------------- corpus faults


def test_missing_library_file_is_one_line_and_nothing_written(project, capsys):
    before = tree(project)
    code, out, err = run(capsys, project, "build", "--offline", "--library", str(project / "nope.jsonl"))
    assert code == 1 and out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"litsynth: {project / 'nope.jsonl'}: corpus file not found (allowed formats: ")
    assert tree(project) == before


def test_unknown_library_format_is_one_line_and_nothing_written(project, capsys):
    corpus = project / "corpus.txt"
    corpus.write_text("Title: a paper\n")
    before = tree(project)
    code, _, err = run(capsys, project, "build", "--offline", "--library", str(corpus))
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"litsynth: {corpus}: unknown corpus format '.txt'; allowed: ")
    assert tree(project) == before


def test_the_same_library_given_twice_is_read_once(project, capsys):
    seed = shared_path("corpus", "seed-topic.csl.json")
    local = project / "seed.csl.json"
    shutil.copyfile(seed, local)
    code, out, err = run(capsys, project, "refresh", "--offline", "--library", str(local),
                         "--library", str(project / "." / "seed.csl.json"), "alignment-tax")
    assert code == 0, err
    assert "refreshed alignment-tax" in out and "no records loaded" not in err
    assert pipeline.distinct_files([local, project / "x" / ".." / "seed.csl.json", seed]) == [local, seed]


def _damaged_gzip(path: Path) -> None:
    """Real arXiv lines with bad lines among them, gzipped."""
    with gzip.open(shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), "rt", encoding="utf-8") as fh:
        real = [next(fh) for _ in range(400)]
    first = json.loads(real[0])
    bad = ['{"id": "2503.00001", "title": "cut off\n', "[1, 2, 3]\n",
           json.dumps({**first, "id": "2503.00002", "title": None}) + "\n",
           json.dumps({**first, "id": "2503.00003", "abstract": "x" * 1_000_000}) + "\n"]
    bad += [f'{{"id": "2503.1{i:04d}", oops}}\n' for i in range(20)]
    data = gzip.compress("".join(real[:1] + bad + real[1:]).encode("utf-8"))
    path.write_bytes(data)


def test_damaged_corpus_lines_are_warnings_and_the_build_goes_on(project, capsys):
    damaged = project / "damaged.jsonl.gz"
    _damaged_gzip(damaged)
    (project / "content" / "snapshots" / "reasoning-modes-cost.json").unlink()
    code, out, err = run(capsys, project, "-v", "build", "--offline", "--library", str(damaged),
                         "--library", str(shared_path("corpus", "seed-topic.csl.json")))
    assert code == 0, err
    assert "built reasoning-modes-cost" in out.splitlines()
    warnings = [line for line in err.splitlines() if line.startswith("warning: ")]
    assert f"warning: {damaged}:2:" in warnings[0] and "malformed JSON" in warnings[0]
    assert any(f"{damaged}:3: line is a JSON list, not an object — skipped" in w for w in warnings)
    assert any(f"{damaged}:4: record has no title — skipped" in w for w in warnings)
    assert any(f"{damaged}:5: abstract of 1,000,000 characters exceeds" in w for w in warnings)
    assert len(warnings) >= 24  # -v shows every one
    snap = snapshots.read(project / "content" / "snapshots" / "reasoning-modes-cost.json")
    assert snap.records  # the readable lines of the damaged file and the CSL file were used


def test_a_truncated_corpus_fails_the_build_and_writes_no_snapshot(project, capsys):
    damaged = project / "damaged.jsonl.gz"
    _damaged_gzip(damaged)
    damaged.write_bytes(damaged.read_bytes()[: damaged.stat().st_size * 2 // 3])
    missing = project / "content" / "snapshots" / "reasoning-modes-cost.json"
    missing.unlink()
    before = tree(project)
    code, _, err = run(capsys, project, "build", "--offline", "--library", str(damaged),
                       "--library", str(shared_path("corpus", "seed-topic.csl.json")))
    assert code == 1
    assert re.search(rf"{re.escape(str(damaged))}:\d+: file is truncated or corrupt after line \d+ .*— a search "
                     r"of the first \d+ lines would miss the rest; download or export the file again", err), err
    assert not missing.exists() and "Traceback" not in err
    after = tree(project)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing built before was touched


def test_warnings_beyond_the_cap_are_summarised(capsys):
    warnings = [f"corpus.jsonl:{i}: malformed JSON — skipped" for i in range(1, 31)]
    cli._print_warnings(warnings, verbose=False)
    lines = capsys.readouterr().err.splitlines()
    assert lines[:cli.MAX_WARNINGS_SHOWN] == [f"warning: {w}" for w in warnings[:cli.MAX_WARNINGS_SHOWN]]
    assert lines[cli.MAX_WARNINGS_SHOWN:] == ["warning: … and 10 more warning(s); run with -v to see them all"]


def test_corrupt_csl_json_needed_for_retrieval_fails_in_one_line(project, capsys):
    bad = project / "broken.json"
    bad.write_text('[{"title": "A", "abstract": ')
    (project / "content" / "snapshots" / "alignment-tax.json").unlink()
    before = tree(project / "site")
    code, _, err = run(capsys, project, "build", "--offline", "--library", str(bad))
    assert code == 1 and err.count("\n") == 1
    assert err.startswith(f"litsynth: {bad}: not valid JSON (")
    assert tree(project / "site") == before
    assert not (project / "content" / "snapshots" / "alignment-tax.json").exists()


# --------------------------------------------------------------------------- unresolved identifiers


def _add_unfindable(project: Path) -> Path:
    path = project / "content" / "questions" / "alignment-tax.yaml"
    text = path.read_text()
    text = text.replace('include: ["arXiv:2309.06256",', 'include: ["arXiv:2401.99999", "arXiv:2309.06256",')
    text = text.replace('cites: ["arXiv:2309.06256"]', 'cites: ["arXiv:2309.06256", "doi:10.9999/Not-There"]')
    path.write_text(text)
    (project / "content" / "snapshots" / "alignment-tax.json").unlink()
    return path


def test_unresolved_identifiers_are_warnings_in_cli_and_page(project, capsys):
    path = _add_unfindable(project)
    code, _, err = run(capsys, project, *build_args())
    assert code == 0, err
    lines = path.read_text().splitlines()
    inc_line = next(i for i, x in enumerate(lines, 1) if x.startswith("include:"))
    cite_line = next(i for i, x in enumerate(lines, 1) if "Not-There" in x)
    assert (f"warning: content/questions/alignment-tax.yaml:{inc_line}:{lines[inc_line - 1].index('2401') + 1}: "
            "include 'arxiv:2401.99999' was not found by any provider that answered (library) — ") in err
    assert (f"warning: content/questions/alignment-tax.yaml:{cite_line}:"
            f"{lines[cite_line - 1].index('10.9999') + 1}: claims[0].cites 'doi:10.9999/not-there' is not "
            "among the retrieved records — add it to 'include:'") in err
    page = (project / "site" / "questions" / "alignment-tax" / "index.html").read_text()
    assert "arxiv:2401.99999 could not be found by any provider" in page
    snap = snapshots.read(project / "content" / "snapshots" / "alignment-tax.json")
    assert snap.unresolved_includes == ("arxiv:2401.99999",)


def test_strict_makes_unresolved_identifiers_an_error(project, capsys):
    _add_unfindable(project)
    before = tree(project / "site"), tree(project / ".litsynth" / "docs")
    code, out, err = run(capsys, project, *build_args("--strict"))
    assert code == 1 and out == ""
    assert err.startswith("litsynth: --strict: 2 problem(s); the site was not changed:\n")
    assert "include 'arxiv:2401.99999' was not found" in err
    assert "claims[0].cites 'doi:10.9999/not-there'" in err
    assert (tree(project / "site"), tree(project / ".litsynth" / "docs")) == before


# --------------------------------------------------------------------------- exit codes and progress


def test_build_exits_1_when_a_question_fails_but_builds_the_others(project, capsys):
    (project / "content" / "snapshots" / "alignment-tax.json").unlink()
    code, out, err = run(capsys, project, "build", "--offline")
    assert code == 1
    assert out.splitlines()[:2] == ["built multimodal-llama2-self-invoking-code (unchanged)",
                                    "built reasoning-modes-cost (unchanged)"]
    assert re.search(r"^failed alignment-tax: content/questions/alignment-tax\.yaml: no snapshot and no "
                     r"provider to retrieve from \(--offline given\).*\(the page of its last successful build "
                     r"is kept, marked as such\)$", err, re.M)
    index = (project / "site" / "index.html").read_text()
    assert "alignment-tax" in index
    page = (project / "site" / "questions" / "alignment-tax" / "index.html").read_text()
    assert "Not rebuilt: this page is from an earlier build" in page
    code, out, _ = run(capsys, project, *build_args())
    # Retrieved again from the same corpus at the same SOURCE_DATE_EPOCH: the same
    # snapshot bytes, so the cached claim set is used.
    assert code == 0 and "built alignment-tax (unchanged)" in out.splitlines()


def test_refresh_exit_codes(project, capsys):
    before = snapshots.read(project / "content" / "snapshots" / "alignment-tax.json")
    code, out, err = run(capsys, project, "refresh", "--offline", "--library",
                         str(shared_path("corpus", "seed-topic.csl.json")), "alignment-tax")
    assert (code, out) == (0, "refreshed alignment-tax\n")
    assert snapshots.read(project / "content" / "snapshots" / "alignment-tax.json").records == before.records
    code, out, err = run(capsys, project, "refresh", "--offline", "no-such-question")
    assert code == 1 and "failed no-such-question: no question file for slug 'no-such-question'" in err


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_lines_only_on_a_terminal(project, capsys, monkeypatch):
    code, _, err = run(capsys, project, *build_args())
    assert code == 0 and "[1/3]" not in err
    terminal = _Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    (project / "content" / "snapshots" / "reasoning-modes-cost.json").unlink()
    assert cli.main(["--root", str(project), *build_args()]) == 0
    assert terminal.getvalue().splitlines() == [
        "[1/3] alignment-tax: unchanged (cached)",
        "[2/3] multimodal-llama2-self-invoking-code: unchanged (cached)",
        "[3/3] reasoning-modes-cost: retrieving",
        "[3/3] reasoning-modes-cost: unchanged (cached)",
        "rendering pages",
        "building the site",
        "site unchanged: mkdocs not needed",
    ]


def test_build_options_reach_the_pipeline(project, monkeypatch, capsys):
    seen = {}

    def fake_build(options):
        seen.update(vars(options))
        return pipeline.Report(built=["x"], site=project / "site", mkdocs_ran=True)

    monkeypatch.setattr(pipeline, "build", fake_build)
    code, out, _ = run(capsys, project, *build_args("--force", "--strict"))
    assert code == 0 and out == f"built x\nSite written to {project / 'site'}\n"
    assert seen["force"] is True and seen["strict"] is True and seen["offline"] is True
    assert seen["progress"] is None  # not a terminal


def test_verbose_is_accepted_after_the_command_too(project, capsys):
    for args in (("-v", "build", "--offline"), ("build", "--offline", "-v"), ("build", "-v", "--offline")):
        code, _, err = run(capsys, project, *args)
        assert code == 0 and "timings: " in err, (args, err)
    code, _, err = run(capsys, project, "build", "--offline")
    assert code == 0 and "timings: " not in err


def test_a_build_behind_another_says_it_is_waiting(project, capsys):
    import subprocess
    import sys
    import threading

    from generator import site

    locked, release = threading.Event(), threading.Event()

    def hold():
        with site.lock(project):
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert locked.wait(30)
    try:
        proc = subprocess.Popen([sys.executable, "-m", "generator", "--root", str(project), "build", "--offline"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)})
        first = proc.stderr.readline()  # the build blocks on the lock until released
        release.set()
        _, rest = proc.communicate(timeout=120)
    finally:
        release.set()
        holder.join()
    assert f"waiting for another litsynth process working in {project} to finish" in first, first + rest
    assert proc.returncode == 0, rest


def test_a_question_without_facets_builds_with_a_warning_that_says_what_is_lost(tmp_path, capsys):
    """`litsynth new` writes `facets: []`: the build says what that costs (an eighth trial's
    page kept 99 of 100 records and could not say what it covered)."""
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    code, out, err = run(capsys, tmp_path, "new", "Does RLHF reduce benchmark performance?")
    assert code == 0, err
    code, out, err = run(capsys, tmp_path, *build_args())
    assert code == 0, err
    assert "no facets — screening keeps every record that shares enough of the question's words" in err
    assert "content/questions/" in err.split("no facets")[0].splitlines()[-1]
