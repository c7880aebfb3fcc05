"""Retrieval from all five network providers through a local server replaying real responses.

The ``LITSYNTH_<PROVIDER>_URL`` variables point the real clients (with their documented
pacing: arXiv waits 3 s between requests, so this test takes about half a minute) at a
loopback HTTP server that answers with the recorded responses in ``../shared/api``.
"""

from __future__ import annotations

import html
import re
import shutil
import socket
import threading

import pytest

from conftest import PROJECT_ROOT, shared_path
from generator import pipeline, snapshots
from generator.config import BASE_URL_VARIABLES
from generator.providers import NETWORK_PROVIDERS
from replay_server import serve

QUESTION = """\
title: Natural language processing methods
question: Which natural language processing methods are evaluated, and on what tasks?
facets: [natural language processing, evaluation]
search:
  queries: ["natural language processing"]
  providers: [arxiv, openalex, crossref, semantic_scholar, europepmc]
  max_records: 20
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    api = shared_path("api")
    port = _free_port()
    server = serve(api, "127.0.0.1", port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    root = tmp_path_factory.mktemp("replay")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    (root / "content" / "questions").mkdir(parents=True)
    (root / "content" / "questions" / "nlp.yaml").write_text(QUESTION)
    mp = pytest.MonkeyPatch()
    for name, variable in BASE_URL_VARIABLES.items():
        mp.setenv(variable, f"http://127.0.0.1:{port}/{name}")
    try:
        report = pipeline.build(pipeline.Options(root=root, now="2026-11-30T00:00:00+00:00"))
    finally:
        mp.undo()
        server.shutdown()
    return root, report


def test_snapshot_has_records_from_every_provider(replayed):
    root, report = replayed
    assert report.failed == {}
    snap = snapshots.read(root / "content" / "snapshots" / "nlp.json")
    assert set(snap.providers) == set(NETWORK_PROVIDERS)
    providers_seen = {r.provider for r in snap.records}
    assert providers_seen == set(NETWORK_PROVIDERS), providers_seen
    for name in NETWORK_PROVIDERS:
        assert snap.provider_counts[name] > 0, name
    assert snap.provider_errors == {}


def test_abstracts_are_plain_text(replayed):
    root, _ = replayed
    snap = snapshots.read(root / "content" / "snapshots" / "nlp.json")
    abstracts = [r.abstract for r in snap.records if r.abstract]
    assert len(abstracts) > 20
    for text in abstracts:
        assert "<jats:" not in text
        # Entities left after one decoding layer come only from sources that escaped twice.
        assert not re.search(r"&(amp|lt|gt|quot|#\d+);", html.unescape(text)), text[:200]


def test_the_page_is_built_from_the_replayed_records(replayed):
    root, report = replayed
    assert report.built == ["nlp"]
    page = (root / "site" / "questions" / "nlp" / "index.html").read_text()
    for name in NETWORK_PROVIDERS:
        assert name in page


def test_a_failing_provider_is_reported_and_the_others_are_used(tmp_path, monkeypatch):
    api = shared_path("api")
    port = _free_port()
    server = serve(api, "127.0.0.1", port)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "nlp.yaml").write_text(
        QUESTION.replace("[arxiv, openalex, crossref, semantic_scholar, europepmc]", "[openalex, crossref]"))
    monkeypatch.setenv(BASE_URL_VARIABLES["openalex"], f"http://127.0.0.1:{port}/openalex")
    # Nothing listens on port 9 (discard) on loopback: every Crossref request fails to connect.
    monkeypatch.setenv(BASE_URL_VARIABLES["crossref"], "http://127.0.0.1:9/crossref")
    try:
        report = pipeline.build(pipeline.Options(root=tmp_path, now="2026-11-30T00:00:00+00:00"))
    finally:
        server.shutdown()
    snap = snapshots.read(tmp_path / "content" / "snapshots" / "nlp.json")
    assert "crossref" in snap.provider_errors
    assert snap.provider_counts["crossref"] == 0
    assert snap.provider_counts["openalex"] > 0
    assert report.built == ["nlp"]
    page = (tmp_path / "site" / "questions" / "nlp" / "index.html").read_text()
    visible = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert "Results from crossref are missing: Crossref: network error" in visible
    assert "Problems: crossref failed: Crossref: network error" in " ".join(visible.split())


def test_without_network_the_failure_says_what_to_do(tmp_path, monkeypatch):
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    for slug in ("one", "two"):
        (tmp_path / "content" / "questions" / f"{slug}.yaml").write_text(QUESTION)
    for variable in BASE_URL_VARIABLES.values():
        # Port 9 on loopback refuses connections: what a machine without network sees.
        monkeypatch.setenv(variable, "http://127.0.0.1:9/api")
    report = pipeline.build(pipeline.Options(root=tmp_path, now="2026-11-30T00:00:00+00:00"))
    assert set(report.failed) == {"one", "two"}
    for reason in report.failed.values():
        assert "every provider failed" in reason
        assert "--offline --library PATH" in reason
    # Each provider was given up on once, then failed fast for the second question.
    assert "not retried again in this run" in report.failed["two"]
    assert not (tmp_path / "content" / "snapshots" / "one.json").exists()
