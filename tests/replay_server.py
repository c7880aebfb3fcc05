"""Replay the recorded scholarly-API responses in ``../shared/api``.

Two uses:

* in tests, ``Replay(api_dir).transport()`` is an ``httpx.MockTransport`` that answers the
  providers' requests with the recorded bodies (no network);
* by hand, ``python tests/replay_server.py --port 8765`` serves the same answers over
  HTTP under ``/arxiv``, ``/openalex``, ``/crossref``, ``/semantic_scholar`` and
  ``/europepmc`` and prints the ``LITSYNTH_*_URL`` variables that point litsynth at it.

Which file answers which request follows each folder's ``MANIFEST.jsonl`` / ``SOURCES.md``
(request URL, query, page). Single works are found by the identifiers in their content,
so a lookup by ``doi:…`` finds a work recorded under ``https://doi.org/…``. Where no
recording exists for a page (past the last recorded page) the answer is an empty page in
the provider's own envelope; unknown single works get the recorded 404 bodies.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx

from generator.config import DEFAULT_BASE_URLS
from generator.records import normalise_arxiv, normalise_doi

JSON = "application/json"
ATOM = "application/atom+xml; charset=utf-8"


@dataclass
class Reply:
    """A canned response."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Seen:
    """One request the replay answered."""

    provider: str
    path: str
    params: dict[str, str]
    headers: dict[str, str]


def _json(obj, status: int = 200) -> Reply:
    return Reply(status, json.dumps(obj).encode("utf-8"))


class Replay:
    """Route requests to recorded responses. ``seen`` logs every request answered."""

    def __init__(self, api_dir: Path, base_urls: dict[str, str] | None = None):
        self.api = Path(api_dir)
        self.base_urls = {k: v.rstrip("/") for k, v in (base_urls or DEFAULT_BASE_URLS).items()}
        self.seen: list[Seen] = []
        self._cache: dict[str, bytes] = {}
        self._lock = threading.Lock()

    # -- plumbing ---------------------------------------------------------------------

    def raw(self, provider_dir: str, name: str) -> bytes:
        key = f"{provider_dir}/{name}"
        if key not in self._cache:
            self._cache[key] = (self.api / provider_dir / name).read_bytes()
        return self._cache[key]

    def load(self, provider_dir: str, name: str):
        return json.loads(self.raw(provider_dir, name))

    def manifest(self, provider_dir: str) -> list[dict]:
        lines = (self.api / provider_dir / "MANIFEST.jsonl").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if line.strip()]

    def transport(self) -> httpx.MockTransport:
        """An ``httpx`` transport answering from the recordings."""
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        url = str(request.url)
        for provider, base in sorted(self.base_urls.items(), key=lambda kv: -len(kv[1])):
            if url.startswith(base):
                path = urlsplit(url).path[len(urlsplit(base).path):] or "/"
                break
        else:
            return httpx.Response(599, text=f"replay: no provider for {request.url.host}")
        reply = self.answer(provider, path, dict(request.url.params), dict(request.headers))
        return httpx.Response(reply.status, content=reply.body,
                              headers={"content-type": reply.content_type, **reply.headers})

    def answer(self, provider: str, path: str, params: dict[str, str], headers: dict[str, str]) -> Reply:
        """The reply to ``provider``'s ``path`` (relative to its base URL) with ``params``."""
        with self._lock:
            self.seen.append(Seen(provider, path, params, headers))
        route = getattr(self, f"_{provider}")
        return route(unquote(path), params)

    # -- arXiv: golden-file wrappers {url, status_code, body}; body is latin-1-decoded UTF-8 --

    def _arxiv_file(self, name: str) -> Reply:
        if name.endswith(".xml"):
            return Reply(200, self.raw("arxiv", name), ATOM)
        wrapper = self.load("arxiv", name)
        return Reply(wrapper["status_code"], wrapper["body"].encode("latin-1"), ATOM)

    def _arxiv(self, path: str, params: dict[str, str]) -> Reply:
        empty = "arxiv.py__id_0000.0000_s0_m100_8b51d9633a68.json"
        if path.rstrip("/") != "/query":
            return Reply(404, b"not found", "text/plain")
        ids = params.get("id_list", "")
        if ids:
            for entry in self.manifest("arxiv"):
                name = entry["file"]
                if not name.endswith(".json") or "__id_" not in name:
                    continue
                recorded = dict(parse_qsl(urlsplit(self.load("arxiv", name)["url"]).query))["id_list"]
                wanted = {normalise_arxiv(i) or i for i in ids.split(",")}
                if wanted == {normalise_arxiv(i) or i for i in recorded.split(",")}:
                    return self._arxiv_file(name)
            return self._arxiv_file(empty)
        start = int(params.get("start", "0") or 0)
        page = {0: "arxiv.py__q_testing_s0_m10_bc5a6c384fe9.json",
                10: "arxiv.py__q_testing_s10_m10_34e56e15aaac.json"}.get(start, empty)
        return self._arxiv_file(page)

    # -- OpenAlex ------------------------------------------------------------------------

    def _openalex_works(self) -> dict[str, str]:
        index = {}
        for entry in self.manifest("openalex"):
            name = entry["file"]
            if not name.endswith(".json") or "collection_metadata" in name:
                continue
            work = self.load("openalex", name)
            if "results" in work:
                continue
            index[work["id"].rsplit("/", 1)[-1].upper()] = name
            if work.get("doi"):
                index["doi:" + normalise_doi(work["doi"])] = name
        return index

    def _openalex(self, path: str, params: dict[str, str]) -> Reply:
        not_found = Reply(404, self.raw("openalex", "paper-qa__does_openalex_work_404__i0.html"),
                          "text/html; charset=utf-8")
        if path.rstrip("/") == "/works":
            if params.get("cursor", "*") != "*":
                return _json({"meta": {"count": 0, "next_cursor": None}, "results": []})
            title = re.match(r"title\.search:(.+)", params.get("filter", ""))
            for entry in self.manifest("openalex"):
                url = entry.get("request_url") or ""
                recorded = dict(parse_qsl(urlsplit(url).query))
                if title and recorded.get("filter", "").lower() == f"title.search:{title.group(1)}".lower():
                    return Reply(200, self.raw("openalex", entry["file"]))
            if "search" in params:
                return Reply(200, self.raw("openalex", "findpapers__works_search_nlp_50.json"))
            return _json({"meta": {"count": 0, "next_cursor": None}, "results": []})
        m = re.match(r"^/works/(.+)$", path)
        if not m:
            return not_found
        ident = m.group(1)
        doi = normalise_doi(ident)
        key = f"doi:{doi}" if doi else ident.upper()
        name = self._openalex_works().get(key)
        return Reply(200, self.raw("openalex", name)) if name else not_found

    # -- Crossref --------------------------------------------------------------------------

    def _crossref(self, path: str, params: dict[str, str]) -> Reply:
        not_found = Reply(404, self.raw("crossref", "habanero__works_bad_doi_404__i0.txt"), "text/plain")
        if path.rstrip("/") == "/works":
            first = "habanero__works_cursor_widget__i0.json"
            cursor = params.get("cursor")
            if cursor in (None, "*"):
                return Reply(200, self.raw("crossref", first))
            if cursor == self.load("crossref", first)["message"]["next-cursor"]:
                return Reply(200, self.raw("crossref", "habanero__works_query_ecology_author_boettiger__i0.json"))
            return _json({"status": "ok", "message-type": "work-list",
                          "message": {"items": [], "total-results": 0, "next-cursor": cursor}})
        m = re.match(r"^/works/(.+)$", path)
        doi = normalise_doi(m.group(1)) if m else None
        if doi:
            for entry in self.manifest("crossref"):
                name = entry["file"]
                if name.endswith(".json"):
                    message = self.load("crossref", name)["message"]
                    if "items" not in message and normalise_doi(message.get("DOI")) == doi:
                        return Reply(200, self.raw("crossref", name))
        return not_found

    # -- Semantic Scholar ----------------------------------------------------------------------

    def _semantic_scholar(self, path: str, params: dict[str, str]) -> Reply:
        path = path.rstrip("/")
        if path == "/paper/search":
            if int(params.get("offset", "0") or 0) == 0:
                return Reply(200, self.raw("semanticscholar", "findpapers__paper_search_relevance_50.json"))
            return _json({"total": 11626, "offset": int(params["offset"]), "data": []})
        if path == "/paper/search/bulk":
            return Reply(200, self.raw("semanticscholar", "findpapers__paper_search_bulk_50.json"))
        m = re.match(r"^/paper/(?:DOI:)?(.+)$", path)
        if m:
            doi = normalise_doi(m.group(1))
            for name in ("paper-qa__paper_by_doi_pnas__i0.json", "semanticscholar-py__Paper.json"):
                paper = self.load("semanticscholar", name)
                if doi and normalise_doi((paper.get("externalIds") or {}).get("DOI")) == doi:
                    return Reply(200, self.raw("semanticscholar", name))
            return _json({"error": f"Paper with id {m.group(1)} not found"}, status=404)
        return _json({"error": "Not found"}, status=404)

    # -- Europe PMC ------------------------------------------------------------------------------

    def _europepmc(self, path: str, params: dict[str, str]) -> Reply:
        if path.rstrip("/") != "/search":
            return Reply(404, b"not found", "text/plain")
        core, page2 = "pyEuropePMC__search_cancer_core.json", "pyEuropePMC__search_cancer_page2.json"
        query = params.get("query", "")
        doi = re.match(r'^DOI:"([^"]+)"$', query)
        if doi:
            payload = self.load("europepmc", core)
            hits = [r for r in payload["resultList"]["result"] if normalise_doi(r.get("doi")) == normalise_doi(doi.group(1))]
            return _json({"version": payload["version"], "hitCount": len(hits), "resultList": {"result": hits}})
        cursor = params.get("cursorMark", "*")
        if cursor == "*":
            return Reply(200, self.raw("europepmc", core))
        if cursor == self.load("europepmc", core)["nextCursorMark"]:
            return Reply(200, self.raw("europepmc", page2))
        return Reply(200, self.raw("europepmc", "pyEuropePMC__search_no_results.json"))


def serve(api_dir: Path, host: str = "127.0.0.1", port: int = 8765) -> ThreadingHTTPServer:
    """Start a threaded HTTP server replaying ``api_dir`` (not yet serving; call
    ``serve_forever``). Base URLs are ``http://host:port/<provider>``."""
    replay = Replay(api_dir, {name: f"http://{host}:{port}/{name}" for name in DEFAULT_BASE_URLS})

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server API)
            parts = urlsplit(self.path)
            provider, _, rest = parts.path.lstrip("/").partition("/")
            if provider not in DEFAULT_BASE_URLS:
                reply = Reply(404, b"unknown provider", "text/plain")
            else:
                reply = replay.answer(provider, "/" + rest, dict(parse_qsl(parts.query)),
                                      dict(self.headers.items()))
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for k, v in reply.headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, fmt, *args):  # quiet; requests carry no secrets but keep stderr clean
            pass

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--api-dir", type=Path,
                        default=Path(__file__).resolve().parent.parent.parent / "shared" / "api")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    server = serve(args.api_dir, args.host, args.port)
    from generator.config import BASE_URL_VARIABLES
    for name, variable in BASE_URL_VARIABLES.items():
        print(f"export {variable}=http://{args.host}:{args.port}/{name}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
