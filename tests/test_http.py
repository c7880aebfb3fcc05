"""The shared HTTP client (generator.http) and settings (generator.config): pacing,
retries, Retry-After (API-10), errors, redirects, key hygiene and the paging loop.

Time is injected: ``FakeTime.sleep`` advances ``FakeTime.monotonic`` and records the
wait, so nothing here really waits.
"""

from __future__ import annotations

import json
import logging
import traceback
from datetime import datetime, timezone

import httpx
import pytest
import yaml

from conftest import shared_path
from generator.config import DEFAULT_BASE_URLS, Settings
from generator.errors import RetrievalError
from generator.http import (HttpClient, NotFoundError, ProviderError, paginate, parse_retry_after,
                            scrub_url, search_queries)
from generator.providers import semantic_scholar

OA = DEFAULT_BASE_URLS["openalex"]
ARXIV = DEFAULT_BASE_URLS["arxiv"]
S2 = DEFAULT_BASE_URLS["semantic_scholar"]
WALL = datetime(2026, 10, 21, 7, 27, 50, tzinfo=timezone.utc).timestamp()


class FakeTime:
    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


def client_for(handler, settings: Settings | None = None, **kw) -> tuple[HttpClient, FakeTime]:
    fake = FakeTime()
    client = HttpClient(settings or Settings(), transport=httpx.MockTransport(handler),
                        sleep=fake.sleep, clock=fake.monotonic, wall_clock=lambda: WALL, **kw)
    return client, fake


def sequence(*responses):
    """A handler answering with ``responses`` in turn (the last one repeats)."""
    calls = []

    def handler(request):
        calls.append(request)
        item = responses[min(len(calls) - 1, len(responses) - 1)]
        return item(request) if callable(item) else item

    handler.calls = calls
    return handler


# -- settings -----------------------------------------------------------------------------------

def test_settings_from_env_reads_keys_and_overrides():
    env = {"OPENALEX_API_KEY": "oa-key", "SEMANTIC_SCHOLAR_API_KEY": "s2-key", "LITSYNTH_MAILTO": "a@b.example",
           "LITSYNTH_ARXIV_URL": "http://127.0.0.1:8765/arxiv/", "LITSYNTH_S2_URL": "  "}
    s = Settings.from_env(env)
    assert (s.openalex_api_key, s.s2_api_key, s.mailto) == ("oa-key", "s2-key", "a@b.example")
    assert s.base_urls["arxiv"] == "http://127.0.0.1:8765/arxiv"
    assert s.base_urls["semantic_scholar"] == DEFAULT_BASE_URLS["semantic_scholar"]
    assert Settings.from_env({"S2_API_KEY": "x", "SEMANTIC_SCHOLAR_API_KEY": "y"}).s2_api_key == "x"
    assert Settings.from_env({}) == Settings()


def test_settings_repr_hides_secrets():
    s = Settings(openalex_api_key="oa-secret-1", s2_api_key="s2-secret-2", mailto="me@secret.example")
    for text in (repr(s), str(s), f"{s}"):
        assert "oa-secret-1" not in text and "s2-secret-2" not in text and "me@secret.example" not in text
        assert "openalex_api_key=<set>" in text
    assert "s2_api_key=None" in repr(Settings())


def test_settings_reject_a_base_url_that_is_not_http():
    with pytest.raises(RetrievalError, match="LITSYNTH_CROSSREF_URL"):
        Settings.from_env({"LITSYNTH_CROSSREF_URL": "ftp://mirror"})


# -- pacing -----------------------------------------------------------------------------------

def test_per_provider_minimum_interval():
    client, fake = client_for(lambda r: httpx.Response(200, text="<feed/>"))
    client.get_text(f"{ARXIV}/query")
    client.get_text(f"{ARXIV}/query")
    assert fake.sleeps == [pytest.approx(3.0)]
    fake.now += 10
    client.get_text(f"{ARXIV}/query")          # the interval has passed: no wait
    assert len(fake.sleeps) == 1


def test_providers_do_not_wait_for_each_other_and_interval_can_be_overridden():
    client, fake = client_for(lambda r: httpx.Response(200, json={}))
    client.get_json(f"{ARXIV}/query")
    client.get_json(f"{OA}/works")
    assert fake.sleeps == []
    client.get_json(f"{OA}/works", host_interval=0.5)
    assert fake.sleeps == [pytest.approx(0.5)]


def test_provider_for_uses_the_longest_base_url_prefix():
    settings = Settings(base_urls={name: f"http://127.0.0.1:9/{name}" for name in DEFAULT_BASE_URLS})
    client, _ = client_for(lambda r: httpx.Response(200), settings)
    assert client.provider_for("http://127.0.0.1:9/europepmc/search?q=1") == "europepmc"
    assert client.provider_for("http://127.0.0.1:9/arxiv/query") == "arxiv"
    assert client.provider_for("https://elsewhere.example/x") == "elsewhere.example"
    partial, _ = client_for(lambda r: httpx.Response(200), Settings(base_urls={"arxiv": "http://mirror.example/a"}))
    assert partial.provider_for(f"{OA}/works") == "openalex"          # unlisted providers keep their defaults
    assert partial.provider_for("http://mirror.example/a/query") == "arxiv"


# -- Retry-After and retries (API-10) ---------------------------------------------------------------

def test_parse_retry_after_both_forms():
    assert parse_retry_after("3", now=WALL) == 3.0
    assert parse_retry_after("Wed, 21 Oct 2026 07:28:00 GMT", now=WALL) == pytest.approx(10.0)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=WALL) == 0.0
    assert parse_retry_after("soon", now=WALL) is None
    assert parse_retry_after(None, now=WALL) is None


def _api10():
    cases = yaml.safe_load(shared_path("cases", "acceptance.yaml").read_text(encoding="utf-8"))
    return next(c for c in cases if c["id"].startswith("API-10"))


def _response(spec: dict) -> httpx.Response:
    return httpx.Response(spec["status"], headers=spec.get("headers") or {}, json=spec.get("body"))


def test_api10_retry_after_seconds_and_http_date_then_success():
    specs = _api10()["input"]["semantic_scholar"]
    handler = sequence(*[_response(s) for s in specs])
    client, fake = client_for(handler)
    provider = semantic_scholar.Provider(client, client.settings)
    records = provider.search(("first query",), None, 10)
    assert [r.id for r in records] == ["s2:p-1"] and records[0].title == "T"
    assert len(handler.calls) == 3
    # 3 s (delta-seconds), then the HTTP-date 07:28:00 measured from 07:27:50 = 10 s.
    assert fake.sleeps == [pytest.approx(3.0), pytest.approx(10.0)]


def test_api10_http_date_is_clamped():
    far = "Thu, 22 Oct 2026 07:28:00 GMT"   # one day ahead
    handler = sequence(httpx.Response(429, headers={"Retry-After": far}), httpx.Response(200, json={"data": []}))
    client, fake = client_for(handler, max_retry_after=60.0)
    client.get_json(f"{S2}/paper/search")
    assert fake.sleeps == [60.0]


def test_api10_retry_budget_exhausted_names_the_source(caplog):
    handler = sequence(httpx.Response(429))
    client, fake = client_for(handler)
    provider = semantic_scholar.Provider(client, client.settings)
    with caplog.at_level(logging.WARNING, logger="generator.http"):
        with pytest.raises(ProviderError) as info:
            provider.search(("second query",), None, 10)
    err = info.value
    assert str(err) == ("Semantic Scholar rate-limited (HTTP 429) after 5 attempts — "
                        "set S2_API_KEY or retry later")
    assert isinstance(err, RetrievalError) and err.provider == "semantic_scholar" and err.status == 429
    assert "\n" not in str(err)
    assert len(handler.calls) == 5
    # Exponential backoff with jitter when the server gives no Retry-After: never zero.
    assert len(fake.sleeps) == 4 and all(1.0 <= s <= 31.0 for s in fake.sleeps)
    assert fake.sleeps[-1] >= 8.0
    assert sum("retrying in" in r.getMessage() for r in caplog.records) == 4


def test_5xx_then_success_and_timeouts_are_retried():
    handler = sequence(httpx.Response(503), httpx.Response(502), httpx.Response(200, json={"ok": 1}))
    client, fake = client_for(handler)
    assert client.get_json(f"{OA}/works") == {"ok": 1}
    assert len(fake.sleeps) == 2

    def timeout(request):
        raise httpx.ReadTimeout("slow", request=request)

    handler = sequence(timeout, timeout, httpx.Response(200, json=[1]))
    client, fake = client_for(handler)
    assert client.get_json(f"{OA}/works") == [1]
    assert len(handler.calls) == 3


def test_transport_errors_exhaust_into_a_provider_error(caplog):
    def refuse(request):
        raise httpx.ConnectError("refused", request=request)

    client, _ = client_for(sequence(refuse), max_attempts=3)
    with pytest.raises(ProviderError, match=r"^arXiv: network error \(ConnectError\) after 2 attempts for /api/query$"):
        client.get_text(f"{ARXIV}/query", params={"search_query": "x"})
    # The retry line counts the same attempts as the final message (a trial saw "1 of 5", then "after 2").
    (retry,) = [r.getMessage() for r in caplog.records if "retrying in" in r.getMessage()]
    assert retry.endswith("(attempt 1 of 2)")


def test_an_unreachable_provider_fails_fast_for_the_rest_of_the_run():
    # Without network every question would otherwise wait out the whole backoff again.
    calls = []

    def refuse(request):
        calls.append(request.url.host)
        raise httpx.ConnectError("name resolution failed", request=request)

    client, _ = client_for(refuse, max_attempts=5)
    with pytest.raises(ProviderError):
        client.get_text(f"{ARXIV}/query", params={"search_query": "x"})
    assert len(calls) == 2
    with pytest.raises(ProviderError, match="not retried again in this run"):
        client.get_text(f"{ARXIV}/query", params={"search_query": "y"})
    assert len(calls) == 2
    # Other providers are still tried.
    with pytest.raises(ProviderError):
        client.get_json(f"{OA}/works", params={"search": "x"})
    assert len(calls) == 4


def test_a_timeout_still_gets_the_full_retry_budget():
    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    client, _ = client_for(slow, max_attempts=4)
    with pytest.raises(ProviderError, match="timed out after 4 attempts"):
        client.get_json(f"{OA}/works", params={"search": "x"})


def test_client_errors_are_not_retried():
    handler = sequence(httpx.Response(404, text="Resource not found."))
    client, fake = client_for(handler)
    with pytest.raises(NotFoundError) as info:
        client.get_json(f"{OA}/works/W1")
    assert str(info.value) == "OpenAlex: HTTP 404 for /works/W1" and info.value.status == 404
    assert len(handler.calls) == 1 and fake.sleeps == []

    client, _ = client_for(sequence(httpx.Response(403)))
    with pytest.raises(ProviderError, match="OpenAlex: HTTP 403 \\(not authorised; check OPENALEX_API_KEY\\)"):
        client.get_json(f"{OA}/works")


def test_non_json_body_is_a_provider_error():
    client, _ = client_for(sequence(httpx.Response(200, text="<html>", headers={"content-type": "text/html"})))
    with pytest.raises(ProviderError, match=r"OpenAlex: response is not JSON \(HTTP 200, text/html\) for /works"):
        client.get_json(f"{OA}/works")


def test_redirects_are_followed():
    def handler(request):
        if request.url.path == "/works/W1":
            return httpx.Response(301, headers={"Location": f"{OA}/works/W2"})
        return httpx.Response(200, json={"id": request.url.path})

    client, _ = client_for(handler)
    assert client.get_json(f"{OA}/works/W1") == {"id": "/works/W2"}


# -- keys never leak -----------------------------------------------------------------------------

def test_keys_never_appear_in_errors_or_logs(caplog):
    settings = Settings(openalex_api_key="OA-SECRET-123", s2_api_key="S2-SECRET-456", mailto="me@secret.example")
    seen = []

    def handler(request):
        seen.append(request)
        return httpx.Response(503)

    client, _ = client_for(handler, settings, max_attempts=2)
    with caplog.at_level(logging.DEBUG):
        with pytest.raises(ProviderError) as oa:
            client.get_json(f"{OA}/works", params={"search": "x", "api_key": settings.openalex_api_key,
                                                   "mailto": settings.mailto})
        with pytest.raises(ProviderError) as s2:
            client.get_json(f"{S2}/paper/search", headers={"x-api-key": settings.s2_api_key})
    assert seen[0].url.params["api_key"] == "OA-SECRET-123"        # sent as documented ...
    assert seen[-1].headers["x-api-key"] == "S2-SECRET-456"
    assert any(r.name == "httpx" for r in caplog.records)           # httpx logged the URLs ...
    for secret in settings.secrets():                               # ... but never a secret
        for err in (oa.value, s2.value):
            assert secret not in str(err) and secret not in repr(err)
            assert secret not in "".join(traceback.format_exception(err))
        assert secret not in caplog.text
    assert "api_key=<redacted>" in caplog.text


def test_scrub_url():
    url = "https://api.openalex.org/works?search=x&api_key=abc&mailto=a%40b.c&cursor=*"
    assert scrub_url(url) == "https://api.openalex.org/works?search=x&api_key=<redacted>&mailto=<redacted>&cursor=*"


# -- paging -----------------------------------------------------------------------------------

class Item:
    def __init__(self, id):
        self.id = id


def pages(*chunks, next_of=lambda i, n: i + 1 if i + 1 < n else None):
    calls = []

    def fetch(cursor):
        calls.append(cursor)
        chunk = chunks[cursor] if cursor < len(chunks) else []
        return [Item(x) for x in chunk], next_of(cursor, len(chunks))

    return fetch, calls


def test_paginate_stops_on_empty_page_and_limit_and_dedupes():
    fetch, calls = pages(["a", "b"], ["b", "c"], [], ["d"])
    assert [i.id for i in paginate(fetch, 0, limit=10)] == ["a", "b", "c"]
    assert calls == [0, 1, 2]
    fetch, calls = pages(["a", "b"], ["c", "d"], ["e"])
    assert [i.id for i in paginate(fetch, 0, limit=3)] == ["a", "b", "c"]
    assert calls == [0, 1]


def test_paginate_stops_on_repeated_cursor_and_page_bound():
    calls = []

    def same_cursor(cursor):
        calls.append(cursor)
        return [Item(f"{cursor}-{len(calls)}")], "AoIIP4"   # Europe PMC repeats its last cursorMark

    assert len(paginate(same_cursor, "*", limit=100)) == 2 and calls == ["*", "AoIIP4"]
    calls.clear()

    def endless(cursor):
        calls.append(cursor)
        return [Item(str(cursor))], cursor + 1

    assert len(paginate(endless, 0, limit=10_000, max_pages=7)) == 7 and len(calls) == 7


def test_search_queries_shares_the_budget_and_dedupes():
    asked = []

    def run(query, budget):
        asked.append((query, budget))
        pool = {"q1": ["a", "b"], "q2": ["b", "c", "d", "e", "f"], "q3": ["g", "h", "i", "j"]}[query]
        return [Item(x) for x in pool[:budget]]

    got = [i.id for i in search_queries(("q1", " ", "q2", "q3"), 7, run)]
    assert asked == [("q1", 3), ("q2", 3), ("q3", 3)]     # q1's unused budget passes on
    assert got == ["a", "b", "c", "d", "g", "h", "i"]
    assert search_queries((), 5, run) == []


def test_client_is_a_context_manager():
    with client_for(lambda r: httpx.Response(200, json=json.loads("[]")))[0] as client:
        assert client.get_json(f"{OA}/works") == []
