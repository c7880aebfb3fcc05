"""Incremental builds: the synthesis cache and the mkdocs no-op skip (generator/cache.py,
generator/pipeline.py, generator/site.py).

The project is the repository's three example questions built offline from the shared
seed CSL-JSON corpus (12 real records); one build is made per module and copied per test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import re
import shutil
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import cache, pipeline, site, snapshots
from generator.errors import BuildError

EPOCH = "1790000000"  # 2026-09-21T14:13:20Z: SOURCE_DATE_EPOCH makes retrieval times reproducible
SLUGS = ["alignment-tax", "multimodal-llama2-self-invoking-code", "reasoning-modes-cost"]


def tree(folder: Path) -> dict[str, str]:
    """``{relative path: sha256}`` of every file under ``folder``."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def options(root: Path, **kw) -> pipeline.Options:
    return pipeline.Options(root=root, libraries=[shared_path("corpus", "seed-topic.csl.json")],
                            offline=True, **kw)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A project after one full build: (root, report)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SOURCE_DATE_EPOCH", EPOCH)
        root = tmp_path_factory.mktemp("built")
        shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
        copy_example_questions(root / "content" / "questions")
        report = pipeline.build(options(root))
    return root, report


@pytest.fixture
def project(built, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    root = tmp_path / "p"
    shutil.copytree(built[0], root, symlinks=True)
    return root


def test_first_build_computes_and_caches_everything(built):
    root, report = built
    assert report.failed == {}
    assert sorted(report.recomputed) == SLUGS and report.cached == []
    assert sorted(report.retrieved) == SLUGS
    assert report.mkdocs_ran is True
    assert sorted(p.name for p in (root / ".litsynth" / "cache").iterdir()) == [f"{s}.json" for s in SLUGS]
    snap = snapshots.read(root / "content" / "snapshots" / "alignment-tax.json")
    assert snap.retrieved_at == "2026-09-21T14:13:20+00:00"  # from SOURCE_DATE_EPOCH
    # Each claim set names its snapshot by the digest of its canonical JSON, which this build
    # took from the text it had just written rather than computing it again.
    from generator.synthesis import snapshot_digest
    for slug in SLUGS:
        data = json.loads((root / ".litsynth" / "docs" / "questions" / f"{slug}.json").read_text(encoding="utf-8"))
        assert data["snapshot"]["digest"] == snapshot_digest(snapshots.read(root / "content" / "snapshots" / f"{slug}.json"))


def test_noop_rebuild_skips_synthesis_and_mkdocs(project, built):
    before = tree(project / "site")
    docs_before = tree(project / ".litsynth" / "docs")
    report = pipeline.build(options(project))
    assert sorted(report.cached) == SLUGS and report.recomputed == []
    assert report.retrieved == []
    assert report.mkdocs_ran is False and report.timings["mkdocs"] == 0.0
    assert tree(project / "site") == before
    assert tree(project / ".litsynth" / "docs") == docs_before
    # Served from the cache, the claim sets are exactly what was computed.
    for slug in SLUGS:
        cached = json.loads((project / ".litsynth" / "docs" / "questions" / f"{slug}.json").read_text())
        fresh = json.loads((built[0] / ".litsynth" / "docs" / "questions" / f"{slug}.json").read_text())
        assert cached == fresh


def test_changing_a_question_or_a_snapshot_recomputes_only_that_one(project):
    path = project / "content" / "questions" / "alignment-tax.yaml"
    path.write_text(path.read_text().replace("tags: [alignment, evaluation]",
                                             "tags: [alignment, evaluation, cost]"))
    snap_path = project / "content" / "snapshots" / "reasoning-modes-cost.json"
    snap = snapshots.read(snap_path)
    snapshots.write(snap_path, dataclasses.replace(snap, records=snap.records[:-1]))
    report = pipeline.build(options(project))
    assert sorted(report.recomputed) == ["alignment-tax", "reasoning-modes-cost"]
    assert report.cached == ["multimodal-llama2-self-invoking-code"]
    assert report.mkdocs_ran is True
    data = json.loads((project / "site" / "questions" / "alignment-tax.json").read_text())
    assert data["question"]["tags"] == ["alignment", "evaluation", "cost"]
    data = json.loads((project / "site" / "questions" / "reasoning-modes-cost.json").read_text())
    assert data["prisma"]["identified"] == len(snap.records) - 1


def test_force_recomputes_all_and_reruns_mkdocs(project):
    before = tree(project / "site")
    report = pipeline.build(options(project, force=True))
    assert sorted(report.recomputed) == SLUGS and report.cached == []
    assert report.mkdocs_ran is True
    assert tree(project / "site") == before  # deterministic: the same bytes again


def test_code_change_invalidates_every_entry(project, monkeypatch):
    monkeypatch.setattr(cache, "code_digest", lambda package=cache.PACKAGE: "0" * 64)
    report = pipeline.build(options(project))
    assert sorted(report.recomputed) == SLUGS
    assert report.mkdocs_ran is False  # same claim sets, same pages: mkdocs still skipped


def test_corrupt_cache_entries_are_recomputed(project, caplog):
    folder = project / ".litsynth" / "cache"
    (folder / "alignment-tax.json").write_bytes(b'{"format": "litsynth/synth')  # truncated
    (folder / "reasoning-modes-cost.json").write_text('{"format": "litsynth/synthesis-cache/1", "key": 1}')
    good = (project / "site" / "questions" / "alignment-tax.json").read_bytes()
    with caplog.at_level(logging.DEBUG, logger="generator.cache"):
        report = pipeline.build(options(project))
    assert sorted(report.recomputed) == ["alignment-tax", "reasoning-modes-cost"]
    assert report.cached == ["multimodal-llama2-self-invoking-code"]
    assert (project / "site" / "questions" / "alignment-tax.json").read_bytes() == good
    assert any("unusable cache entry" in r.getMessage() for r in caplog.records)
    # Rewritten whole, so the next build is a no-op again.
    assert sorted(pipeline.build(options(project)).cached) == SLUGS


def test_cache_key_covers_question_snapshot_and_versions(project, monkeypatch):
    q = pipeline.load_questions(project / "content" / "questions", root=project)[0]
    base = cache.synthesis_key(q, b"question", b"snapshot")
    assert len(base) == 64 and base == cache.synthesis_key(q, b"question", b"snapshot")
    assert cache.synthesis_key(q, b"question ", b"snapshot") != base
    assert cache.synthesis_key(q, b"question", b"snapshot ") != base
    monkeypatch.setattr(cache, "__version__", "9.9.9")
    newer = cache.synthesis_key(q, b"question", b"snapshot")
    assert newer != base
    monkeypatch.setattr(cache, "_verifier", lambda: ("lexical", "lexical-999"))
    assert cache.synthesis_key(q, b"question", b"snapshot") not in (base, newer)


def test_verifier_constants_read_without_import_match_the_module():
    from generator import verification
    found = cache._constants(cache.PACKAGE / "verification.py", ("METHOD", "METHOD_VERSION"))
    assert found == {"METHOD": verification.METHOD, "METHOD_VERSION": verification.METHOD_VERSION}


def test_code_digest_follows_sources_and_model_files(tmp_path):
    pkg = tmp_path / "generator"
    pkg.mkdir()
    for name in cache.CODE_MODULES:
        src = cache.PACKAGE / f"{name}.py"
        if src.exists():
            shutil.copy(src, pkg / src.name)
    if (cache.PACKAGE / "model").is_dir():
        shutil.copytree(cache.PACKAGE / "model", pkg / "model")
    digest = cache.code_digest.__wrapped__  # uncached: the files change under it here
    first = digest(pkg)
    assert first == digest(cache.PACKAGE)  # same bytes, same digest
    with open(pkg / "screening.py", "a") as fh:
        fh.write("\n# a comment is a change too\n")
    second = digest(pkg)
    assert second != first
    (pkg / "model").mkdir(exist_ok=True)
    (pkg / "model" / "config.json").write_text("{}")
    third = digest(pkg)
    assert third != second
    (pkg / "model" / "config.json").write_text('{"temperature": 1.5}')
    assert digest(pkg) != third


def test_removed_question_drops_its_page_and_cache_entry(project):
    (project / "content" / "questions" / "reasoning-modes-cost.yaml").unlink()
    report = pipeline.build(options(project))
    assert sorted(report.built) == SLUGS[:2]
    assert not (project / ".litsynth" / "cache" / "reasoning-modes-cost.json").exists()
    assert not (project / "site" / "questions" / "reasoning-modes-cost").exists()
    assert not (project / ".litsynth" / "docs" / "questions" / "reasoning-modes-cost.md").exists()
    nav = (project / ".litsynth" / "mkdocs.build.yml").read_text()
    assert "reasoning-modes-cost" not in nav
    # The snapshot is kept: deleting a question file must not lose retrieved data.
    assert (project / "content" / "snapshots" / "reasoning-modes-cost.json").exists()
    # ...and the build says where it is.
    (warning,) = [w for w in report.warnings if "no question file" in w]
    assert warning.startswith("content/snapshots/reasoning-modes-cost.json: no question file has the slug "
                              "'reasoning-modes-cost' — the snapshot is kept")


def test_tampered_site_is_rebuilt_not_skipped(project):
    page = project / "site" / "index.html"
    original = page.read_bytes()
    page.write_bytes(b"<p>defaced</p>")
    report = pipeline.build(options(project))
    assert report.mkdocs_ran is True and page.read_bytes() == original
    assert report.recomputed == []
    (project / "site" / "questions" / "extra.html").write_text("stray")
    shutil.rmtree(project / "site" / "method")
    assert pipeline.build(options(project)).mkdocs_ran is True
    assert not (project / "site" / "questions" / "extra.html").exists()
    assert (project / "site" / "method" / "index.html").is_file()


def test_mkdocs_inputs_outside_the_docs_rerun_mkdocs(project, monkeypatch):
    config = project / "mkdocs.yml"
    # An !ENV variable changes what mkdocs writes although no file changed.
    monkeypatch.setenv("SITE_URL", "https://acme.github.io/lit-review/")
    assert pipeline.build(options(project)).mkdocs_ran is True
    assert "https://acme.github.io/lit-review/" in (project / "site" / "sitemap.xml").read_text()
    assert pipeline.build(options(project)).mkdocs_ran is False
    config.write_text(config.read_text().replace("site_name: ", "site_name: Renamed "))
    report = pipeline.build(options(project))
    assert report.mkdocs_ran is True and report.cached  # claim sets do not depend on mkdocs.yml
    assert "Renamed" in (project / "site" / "index.html").read_text()


def test_stale_snapshot_warns_and_unreadable_snapshot_fails_only_its_question(project):
    path = project / "content" / "questions" / "reasoning-modes-cost.yaml"
    path.write_text(re.sub(r'\n *- "reasoning token budget control"', "", path.read_text()))
    broken = project / "content" / "snapshots" / "alignment-tax.json"
    page = project / "site" / "questions" / "alignment-tax" / "index.html"
    claim_set = (project / "site" / "questions" / "alignment-tax.json").read_text()
    assert "Not rebuilt" not in page.read_text()
    good = broken.read_bytes()
    broken.write_text('{"slug": "alignment-tax", "records": [')
    report = pipeline.build(options(project))
    (warning,) = [w for w in report.warnings if "other search settings" in w]
    assert warning.startswith("content/questions/reasoning-modes-cost.yaml: ")
    # The page says so too, not only the console (a fourth trial saw "0 sources included"
    # after changing since: with nothing on the page to explain it).
    stale = json.loads((project / "site" / "questions" / "reasoning-modes-cost.json").read_text())
    assert stale["snapshot"]["matches_question"] is False
    assert "This page shows an older search" in (project / "site" / "questions" / "reasoning-modes-cost"
                                                  / "index.html").read_text()
    fresh = json.loads((project / "site" / "questions" / "multimodal-llama2-self-invoking-code.json").read_text())
    assert fresh["snapshot"]["matches_question"] is True
    # the suggested command works where this build did: offline, with the same library
    library = shared_path("corpus", "seed-topic.csl.json")
    assert f"'litsynth refresh --offline --library {library} reasoning-modes-cost'" in warning
    assert list(report.failed) == ["alignment-tax"]
    assert "not a valid litsynth snapshot" in report.failed["alignment-tax"]
    assert sorted(report.built) == SLUGS[1:]
    assert broken.read_text() == '{"slug": "alignment-tax", "records": ['  # never overwritten
    assert "alignment-tax" in (project / "site" / "index.html").read_text()
    # Nothing already built is lost: the last good page stays, saying why it was not rebuilt.
    assert report.kept == ["alignment-tax"]
    assert "Not rebuilt: this page is from an earlier build" in page.read_text()
    assert "not a valid litsynth snapshot" in page.read_text()
    kept = json.loads((project / "site" / "questions" / "alignment-tax.json").read_text())
    assert "not a valid litsynth snapshot" in kept.pop("not_rebuilt")["reason"]
    assert kept == json.loads(claim_set)  # the last good claim set, flagged
    assert "the page of its last successful build is kept" in (project / "site" / "index.html").read_text()
    # Once the snapshot is good again the page is rebuilt without the notice.
    broken.write_bytes(good)
    report = pipeline.build(options(project))
    assert not report.failed and not report.kept and "Not rebuilt" not in page.read_text()


def test_mkdocs_failure_leaves_everything_as_it_was(project):
    before = tree(project / "site"), tree(project / ".litsynth" / "docs")
    config = project / "mkdocs.yml"
    config.write_text(config.read_text().replace("- admonition", "- no_such_markdown_extension"))
    question = project / "content" / "questions" / "alignment-tax.yaml"
    question.write_text(question.read_text().replace("tags: [alignment, evaluation]", "tags: [changed]"))
    with pytest.raises(BuildError, match="mkdocs build --strict failed; the previous site is unchanged"):
        pipeline.build(options(project))
    assert (tree(project / "site"), tree(project / ".litsynth" / "docs")) == before
    # state.json still describes the site that is there, so the next build may skip mkdocs.
    assert sorted(p.name for p in (project / ".litsynth").iterdir()) == [
        "cache", "docs", "library", "lock", "mkdocs.build.yml", "pages", "state.json"]


def test_interrupted_leftovers_are_cleaned_before_the_next_build(project):
    work = project / ".litsynth"
    for name in ("site.new", "docs.new", "site.trash", "docs.old"):
        (work / name / "x").mkdir(parents=True)
    (project / "content" / "snapshots" / ".alignment-tax.json.abc123.tmp").write_text('{"slug": "alig')
    (work / "cache" / ".alignment-tax.json.abc123.tmp").write_text("{")
    (work / ".state.json.zz.tmp").write_text("")
    pipeline.build(options(project))
    assert sorted(p.name for p in work.iterdir()) == ["cache", "docs", "library", "lock", "mkdocs.build.yml", "pages", "state.json"]
    assert not list((project / "content" / "snapshots").glob(".*"))
    assert not list((work / "cache").glob(".*"))


def test_lock_excludes_a_second_process(project):
    with site.lock(project):
        with pytest.raises(BuildError, match="another litsynth process"):
            with site.lock(project, timeout=0.2):
                pass
    with site.lock(project, timeout=0.2):
        pass  # released


def test_a_build_that_retrieves_uses_the_saved_library(project, monkeypatch):
    before = {slug: (project / "content" / "snapshots" / f"{slug}.json").read_bytes() for slug in SLUGS}
    for slug in SLUGS:
        (project / "content" / "snapshots" / f"{slug}.json").unlink()

    def no_reading(*args, **kwargs):
        raise AssertionError("the library was read again although the first build saved it")

    monkeypatch.setattr("generator.providers.library.Library.load", no_reading)
    report = pipeline.build(options(project))
    assert report.failed == {} and sorted(report.retrieved) == SLUGS
    # The same records, so the same snapshots, byte for byte.
    assert {slug: (project / "content" / "snapshots" / f"{slug}.json").read_bytes() for slug in SLUGS} == before
    assert "library" in report.timings


def test_run_records_in_content_verifier_reach_the_method_page(project):
    from generator import evaluate

    record = evaluate.run(shared_path("scifact", "claims_train.jsonl"), shared_path("scifact", "corpus.jsonl"),
                          "oracle", limit=10)
    folder = project / "content" / "verifier"
    folder.mkdir()
    (folder / "a-oracle.json").write_text(json.dumps(record), encoding="utf-8")
    (folder / "b-broken.json").write_text(json.dumps({**record, "setting": "closed"}), encoding="utf-8")
    report = pipeline.build(options(project))
    assert report.failed == {} and report.mkdocs_ran is True
    assert [w for w in report.warnings if "b-broken.json" in w] == [
        f"{folder / 'b-broken.json'}: setting is 'closed', expected one of oracle, open — left out of the "
        "Method page; rewrite it with 'litsynth eval scifact … --out'"]
    page = (project / ".litsynth" / "docs" / "method.md").read_text(encoding="utf-8")
    assert "Oracle setting — 10 claims of claims\\_train\\.jsonl" in page and "b-broken" not in page
    assert f"{record['abstract_label_only_f1']:.3f}" in page
    # The held-out numbers come from the training script's cv_metrics.json, not from the template.
    cv = json.loads((PROJECT_ROOT / "generator" / "model" / "cv_metrics.json").read_text(encoding="utf-8"))
    site = cv["site_verifier"]  # the shipped verifier's own cross-validation (training sitecv)
    assert site["version"] == record["verifier"]["version"]
    assert (f"label-only F1\n{site['oracle']['abstract_label_only_f1']:.3f} with the cited abstracts given and\n"
            f"{site['open']['abstract_label_only_f1']:.3f} retrieving them itself") in page


def test_unchanged_claim_sets_reuse_their_rendered_pages(project, monkeypatch):
    from generator import render

    docs_before = tree(project / ".litsynth" / "docs")
    real = render.question_files
    rendered: list[str] = []

    def counting(data, env, *, site_name):
        rendered.append(data["slug"])
        return real(data, env, site_name=site_name)

    monkeypatch.setattr(render, "question_files", counting)
    pipeline.build(options(project))
    assert rendered == []  # nothing changed: every page from .litsynth/pages
    assert tree(project / ".litsynth" / "docs") == docs_before

    # A damaged entry, or another site name, is rendered again — to the same files.
    (project / ".litsynth" / "pages" / f"{SLUGS[0]}.json").write_text("{", encoding="utf-8")
    pipeline.build(options(project))
    assert rendered == [SLUGS[0]]
    assert tree(project / ".litsynth" / "docs") == docs_before
    text = (project / "mkdocs.yml").read_text(encoding="utf-8")
    (project / "mkdocs.yml").write_text(text.replace("site_name:", "site_name: Renamed", 1), encoding="utf-8")
    rendered.clear()
    pipeline.build(options(project))
    assert sorted(rendered) == SLUGS
    rendered.clear()
    # --force renders everything: here, as claim sets are computed in this process with one job.
    pipeline.build(options(project, force=True, jobs=1))
    assert sorted(rendered) == SLUGS


def test_a_file_where_the_work_folder_goes_is_a_clear_error(project):
    shutil.rmtree(project / ".litsynth")
    (project / ".litsynth").write_text("not a folder", encoding="utf-8")
    site_before = tree(project / "site")
    with pytest.raises(BuildError, match=r"\.litsynth is a file, not litsynth's work folder"):
        pipeline.build(options(project))
    assert tree(project / "site") == site_before


def test_atomic_writes_get_the_mode_of_a_plain_write(tmp_path):
    from generator.snapshots import write_atomic

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "sub" / "atomic.json"
    write_atomic(atomic, "{}\n")
    assert atomic.read_text() == "{}\n"
    assert atomic.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777  # not mkstemp's 0600
    # Bytes are written as they are, text as UTF-8; not durable, it is written alike.
    write_atomic(atomic, "Zoë ∑\n".encode("utf-8"), durable=False)
    assert atomic.read_text(encoding="utf-8") == "Zoë ∑\n"
    write_atomic(atomic, "Zoë ∑\n")
    assert atomic.read_bytes() == "Zoë ∑\n".encode("utf-8")
    assert sorted(p.name for p in atomic.parent.iterdir()) == ["atomic.json"]  # no temporary left


def test_an_unresolved_include_names_the_providers_that_failed(tmp_path):
    from generator.models import Snapshot
    from generator.questions import load_question

    text = "title: T\nquestion: Does X help?\ninclude: ['arXiv:2401.99999']\n"
    path = tmp_path / "t.yaml"
    path.write_text(text)
    question = load_question(path)
    snap = Snapshot(slug="t", queries=("T",), providers=("arxiv", "library"), since=None, max_records=10,
                    records=(), provider_counts={"arxiv": 0, "library": 0},
                    provider_errors={"arxiv": "network error (ConnectError)"}, retrieved_at="2026-12-05T00:00:00Z",
                    litsynth_version="0", query_digest="d", unresolved_includes=("arxiv:2401.99999",))
    (line,) = pipeline.identifier_problems(question, snap, text)
    assert ":3:" in line and "not found by any provider that answered (library; arxiv failed and may have it)" in line
    assert line.endswith("with a provider that has it")
    # Offline, the advice names what can help: a local corpus file, in a command that runs offline.
    offline = pipeline.Options(root=tmp_path, libraries=[tmp_path / "corpus.jsonl"], offline=True)
    (line,) = pipeline.identifier_problems(question, snap, text, offline)
    assert line.endswith(f"'litsynth refresh --offline --library {tmp_path / 'corpus.jsonl'} t' "
                         "with a --library file that holds it")


def test_the_refresh_hint_works_where_the_build_ran(tmp_path):
    # A fifth trial ran "litsynth refresh --offline SLUG" as a build without --library
    # suggested it: offline and without a library, a refresh has nothing to retrieve from.
    assert pipeline.refresh_command("tax", pipeline.Options(root=tmp_path, offline=True)) == "litsynth refresh tax"
    lib = tmp_path / "my corpus.jsonl"
    assert (pipeline.refresh_command("tax", pipeline.Options(root=tmp_path, offline=True, libraries=[lib]))
            == f"litsynth refresh --offline --library '{lib}' tax")
    assert pipeline.refresh_command("tax", pipeline.Options(root=tmp_path, libraries=[lib])) == f"litsynth refresh --library '{lib}' tax"
