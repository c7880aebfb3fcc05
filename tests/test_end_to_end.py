"""The main job end to end on the real ../shared corpora: question files → site/.

Builds the project's own example questions offline from the arXiv cs.CL corpus and the
seed CSL-JSON file into a temporary copy of the project, then checks the produced pages
and claim sets against the snapshots they came from.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import pipeline, snapshots
from generator.models import CORROBORATED, CONTESTED, CONTRADICTED, UNCORROBORATED, UNVERIFIABLE, VERDICTS
from generator.records import normalise_title

NOW = "2026-11-30T00:00:00+00:00"


def _copy_project(dest: Path) -> None:
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", dest / "mkdocs.yml")
    copy_example_questions(dest / "content" / "questions")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    corpus = shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz")
    csl = shared_path("corpus", "seed-topic.csl.json")
    root = tmp_path_factory.mktemp("project")
    _copy_project(root)
    options = pipeline.Options(root=root, libraries=[corpus, csl], offline=True, now=NOW)
    report = pipeline.build(options)
    return root, report, options


def _claim_sets(root: Path) -> dict[str, dict]:
    folder = root / ".litsynth" / "docs" / "questions"
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs: list[str] = []
        self.ids: set[str] = set()
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if attrs.get("id"):
            self.ids.add(attrs["id"])


def test_builds_index_and_three_pages(built):
    root, report, _ = built
    questions = sorted(p.stem for p in (root / "content" / "questions").glob("*.yaml"))
    assert len(questions) == 3
    assert report.failed == {}
    assert sorted(report.built) == questions
    assert (root / "site" / "index.html").is_file()
    for slug in questions:
        assert (root / "site" / "questions" / slug / "index.html").is_file()
        assert (root / "site" / "questions" / f"{slug}.json").is_file()
        assert (root / "content" / "snapshots" / f"{slug}.json").is_file()
    index = (root / "site" / "index.html").read_text()
    for slug in questions:
        assert f'href="questions/{slug}/"' in index


def test_each_page_links_a_claim_to_arxiv(built):
    root, _, _ = built
    for slug, data in _claim_sets(root).items():
        page = (root / "site" / "questions" / slug / "index.html").read_text()
        table = page.split('class="ls-claims"', 1)
        assert len(table) == 2, f"{slug}: no claims table"
        rows = table[1].split("</table>", 1)[0]
        assert re.search(r'href="https://arxiv\.org/abs/\d{4}\.\d{4,5}"', rows), slug
        parser = _Links()
        parser.feed(page)
        for href in parser.hrefs:
            if href.startswith("http"):
                assert re.match(r"https://(arxiv\.org/abs/[\w./-]+|doi\.org/10\.\S+|openalex\.org/W\d+|"
                                r"pubmed\.ncbi\.nlm\.nih\.gov/\d+/|squidfunk\.github\.io/\S*|www\.mkdocs\.org/\S*)$",
                                href), href
            elif href.startswith("#"):
                assert href[1:] in parser.ids or href == "#", f"{slug}: dangling anchor {href}"
        for claim in data["claims"]:
            assert claim["id"] in parser.ids
            assert f"detail-{claim['id']}" in parser.ids


def test_counts_match_snapshot(built):
    root, _, _ = built
    for slug, data in _claim_sets(root).items():
        snap = snapshots.read(root / "content" / "snapshots" / f"{slug}.json")
        p = data["prisma"]
        assert p["identified"] == len(snap.records)
        assert p["identified_by_provider"] == snap.provider_counts
        assert sum(p["identified_by_provider"].values()) == p["identified"]
        assert p["identified"] == p["duplicates"] + p["screened"]
        assert p["screened"] == p["excluded"] + p["included"] == len(data["records"])
        assert sum(p["excluded_by_reason"].values()) == p["excluded"]
        included = {r["id"] for r in data["records"] if r["screening"]["included"]}
        assert len(included) == p["included"]
        for claim in data["claims"]:
            if claim["origin"] == "extracted":
                assert claim["record_id"] in included
        assert data["assessment"]["count_problems"] == []
        assert data["snapshot"]["digest"]


def _dollars(text: str) -> int:
    return re.sub(r"\\\$", "", text).count("$")  # \$ is a literal dollar


def test_claims_are_complete_sentences_of_their_source(built):
    root, _, _ = built
    for slug, data in _claim_sets(root).items():
        snap = snapshots.read(root / "content" / "snapshots" / f"{slug}.json")
        abstracts = {r.id: r.abstract for r in snap.records}
        extracted = [c for c in data["claims"] if c["origin"] == "extracted"]
        assert extracted, slug
        for claim in extracted:
            text = claim["text"]
            assert re.search(r"[.!?][\"')\]]*$", text), f"cut claim: {text!r}"
            assert text[0].isupper() or text[0].isdigit() or text[0] in "$\"'(", text
            source = " ".join(abstracts[claim["record_id"]].split())
            assert text in source, text
            if _dollars(source) % 2 == 0:  # "$62 million" alone is a currency, not cut math
                assert _dollars(text) % 2 == 0, f"claim splits a $…$ span: {text!r}"


def test_no_claim_judged_against_its_own_work(built):
    root, _, _ = built
    for slug, data in _claim_sets(root).items():
        records = {r["id"]: r for r in data["records"]}
        groups = {rid: (r.get("work_id") or rid) for rid, r in records.items()}
        titles = {rid: normalise_title(r["title"]) for rid, r in records.items()}
        for claim in data["claims"]:
            if claim["origin"] != "extracted":
                continue
            own_group = groups[claim["record_id"]]
            for j in claim["judgements"]:
                assert j["record_id"] != claim["record_id"]
                assert groups[j["record_id"]] != own_group
                # Another version of the same work has the same title.
                assert titles[j["record_id"]] != titles[claim["record_id"]]


def test_verdicts_consistent_with_judgements(built):
    root, _, _ = built
    seen = set()
    for slug, data in _claim_sets(root).items():
        for claim in data["claims"]:
            v = claim["verdict"]
            seen.add(v["verdict"])
            assert v["verdict"] in VERDICTS
            labels = {j["record_id"]: j["label"] for j in claim["judgements"] if j["kind"] != "citation"}
            for j in claim["judgements"]:
                assert 0.0 <= j["confidence"] <= 1.0
                if j["label"] != "NOT ENOUGH INFO":
                    assert j["rationale"], "a SUPPORTS/CONTRADICTS label needs an evidence sentence"
            if v["verdict"] == CORROBORATED:
                assert v["supporting"] and 0 < v["confidence"] <= 1
                assert all(labels.get(r, "SUPPORTS") == "SUPPORTS" for r in v["supporting"])
            elif v["verdict"] == CONTESTED:
                assert v["supporting"] and v["contradicting"]
            elif v["verdict"] == CONTRADICTED:
                assert v["contradicting"] and not v["supporting"]
            elif v["verdict"] in (UNCORROBORATED, UNVERIFIABLE):
                assert v["confidence"] is None
                assert not v["supporting"] and not v["contradicting"]
    assert UNCORROBORATED in seen


def test_seed_question_page_is_honest(built):
    root, _, _ = built
    data = _claim_sets(root)["multimodal-llama2-self-invoking-code"]
    page = (root / "site" / "questions" / "multimodal-llama2-self-invoking-code" / "index.html").read_text()
    missing = [c["facet"] for c in data["facet_coverage"] if not c["records"]]
    per_record = {}
    for c in data["facet_coverage"]:
        for rid in c["records"]:
            per_record[rid] = per_record.get(rid, 0) + 1
    assert max(per_record.values()) < len(data["facet_coverage"]), "corpus has no record covering every facet"
    assert "does not answer the question directly" in page
    for facet in missing:
        assert f"No included source addresses \u201c{facet}\u201d" in page
    qwen = [r for r in data["records"] if r["title"].startswith("Qwen3 Technical Report")]
    for r in qwen:
        assert not r["screening"]["included"] and r["screening"]["reason"].startswith("off-topic"), r


def test_rebuild_is_reproducible(built, tmp_path):
    root, _, options = built
    before = {p: p.read_bytes() for p in (root / ".litsynth" / "docs").rglob("*") if p.is_file()}
    pipeline.build(options)
    after = {p: p.read_bytes() for p in (root / ".litsynth" / "docs").rglob("*") if p.is_file()}
    assert before == after


def test_rebuild_in_another_process_gives_identical_claim_sets(built, tmp_path):
    """Same question files + snapshots, another interpreter with another hash seed."""
    import os
    import subprocess
    import sys

    root, _, options = built
    other = tmp_path / "other"
    other.mkdir()
    _copy_project(other)
    shutil.copytree(root / "content" / "snapshots", other / "content" / "snapshots")
    env = dict(os.environ, PYTHONHASHSEED="12345")
    args = [sys.executable, "-m", "generator", "--root", str(other), "build", "--offline"]
    for lib in options.libraries:
        args += ["--library", str(lib)]
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    mine = _claim_sets(root)
    theirs = _claim_sets(other)
    assert mine.keys() == theirs.keys()
    for slug in mine:
        assert mine[slug] == theirs[slug], slug
