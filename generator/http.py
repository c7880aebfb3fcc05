"""The one HTTP client every network provider uses, and the paging loop they share.

What it guarantees (issue 3, DESIGN §8):

* explicit timeouts; redirects followed (OpenAlex answers merged ids with a 301);
* a minimum interval between request starts per provider, and one request in flight per
  provider (so arXiv gets one connection) — see :data:`MIN_INTERVAL`;
* retries with exponential backoff and jitter (``tenacity``) on HTTP 429, 5xx, timeouts and
  transport errors, honouring ``Retry-After`` in both RFC 9110 §10.2.3 forms
  (delay-seconds and HTTP-date), clamped to ``max_retry_after``;
* failures raise :class:`ProviderError` with a one-line message naming the source; API
  keys and the contact e-mail never appear in messages, logs or exceptions.
"""

from __future__ import annotations

import email.utils
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
import tenacity

from generator import __version__
from generator.config import DEFAULT_BASE_URLS, Settings
from generator.errors import RetrievalError

log = logging.getLogger(__name__)

#: Minimum seconds between request starts, per provider, with the documentation behind each.
MIN_INTERVAL: dict[str, float] = {
    # "no more than 1 request every 3 seconds, ... a single connection at a time"
    # https://info.arxiv.org/help/api/tou.html
    "arxiv": 3.0,
    # polite pool: 3 requests/s for list (search) queries
    # https://www.crossref.org/documentation/retrieve-metadata/rest-api/access-and-authentication/
    "crossref": 1.0 / 3.0,
    # "1 request per second" for API-key holders; the keyless pool is shared and throttled
    # https://www.semanticscholar.org/product/api
    "semantic_scholar": 1.0,
    # "max 100 requests per second"; 10/s leaves a wide margin
    # https://docs.openalex.org/how-to-use-the-api/rate-limits-and-authentication
    "openalex": 0.1,
    # no published per-second limit; 10/s is a conservative choice
    # https://europepmc.org/RestfulWebService
    "europepmc": 0.1,
}

#: Names used in messages, and the variable that raises each provider's limits.
DISPLAY_NAMES = {
    "arxiv": "arXiv",
    "openalex": "OpenAlex",
    "crossref": "Crossref",
    "semantic_scholar": "Semantic Scholar",
    "europepmc": "Europe PMC",
}
_KEY_HINT = {
    "openalex": "set OPENALEX_API_KEY or retry later",
    "semantic_scholar": "set S2_API_KEY or retry later",
    "crossref": "set LITSYNTH_MAILTO (polite pool) or retry later",
}

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})
_SECRET_PARAMS = re.compile(r"([?&;](?:api_key|apikey|api-key|key|mailto|email)=)[^&#\s\"']*", re.I)


class ProviderError(RetrievalError):
    """A provider request failed. ``str(err)`` is one key-free line naming the source.

    ``provider`` is the provider module name (or the host when the URL matches no
    configured provider); ``status`` the last HTTP status, or ``None`` for network errors.
    """

    def __init__(self, provider: str, message: str, *, status: int | None = None):
        self.provider = provider
        self.message = message
        self.status = status
        super().__init__(message)


class NotFoundError(ProviderError):
    """HTTP 404 (or arXiv's "no such id"): the identifier is unknown to the provider."""


def scrub_url(url: str) -> str:
    """``url`` with the values of ``api_key``/``mailto``-like query parameters removed."""
    return _SECRET_PARAMS.sub(r"\1<redacted>", str(url))


class _RedactFilter(logging.Filter):
    """Rewrites log records from ``httpx``/``httpcore``, which log full request URLs."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = scrub_url(message)
        for secret in _REGISTERED_SECRETS:
            clean = clean.replace(secret, "<redacted>")
        if clean != message:
            record.msg, record.args = clean, ()
        return True


_REGISTERED_SECRETS: set[str] = set()
_FILTER = _RedactFilter()
# Logger filters do not apply to child loggers' records, so each logger is listed.
for _name in ("httpx", "httpcore", "httpcore.connection", "httpcore.http11", "httpcore.http2",
              "httpcore.proxy"):
    logging.getLogger(_name).addFilter(_FILTER)


class _Retry(Exception):
    """Internal: a retryable failure; carries what the final message needs."""

    def __init__(self, kind: str, *, status: int | None = None, retry_after: float | None = None,
                 detail: str = ""):
        super().__init__(kind)
        self.kind = kind
        self.status = status
        self.retry_after = retry_after
        self.detail = detail


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header value (RFC 9110 §10.2.3).

    Accepts delay-seconds (``"3"``) and an HTTP-date (``"Wed, 21 Oct 2026 07:28:00 GMT"``),
    the latter measured against ``now`` (POSIX seconds). Returns ``None`` when absent or
    unparseable; a date in the past gives ``0.0``. Not clamped here.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    if re.fullmatch(r"\d+(?:\.\d+)?", text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    return max(0.0, when.timestamp() - now)


T = TypeVar("T")


class HttpClient:
    """A polite, retrying ``httpx`` client shared by the network providers.

    ``transport`` replaces the network (tests pass ``httpx.MockTransport``); ``sleep`` and
    ``clock`` (monotonic seconds) and ``wall_clock`` (POSIX seconds, for HTTP-date
    ``Retry-After``) are injectable so tests never wait. ``max_attempts`` counts the first
    try; ``max_retry_after`` caps a server-requested wait in seconds; ``backoff_max`` caps
    the exponential backoff (1 s, 2 s, 4 s … plus up to 1 s jitter) used when the server
    gives no ``Retry-After``.
    """

    def __init__(self, settings: Settings, *, transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time,
                 max_attempts: int = 5, max_retry_after: float = 60.0, backoff_max: float = 30.0,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT):
        self.settings = settings
        self.max_attempts = max(1, int(max_attempts))
        self.max_retry_after = float(max_retry_after)
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._backoff = tenacity.wait_exponential_jitter(initial=1.0, max=backoff_max, jitter=1.0)
        self._secrets = settings.secrets()
        _REGISTERED_SECRETS.update(self._secrets)
        # Providers that could not be connected to at all in this run: later requests fail
        # at once instead of waiting out the backoff again (a machine without network
        # would otherwise spend minutes per question).
        self._unreachable: dict[str, str] = {}
        self._last_start: dict[str, float] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._locks_guard = threading.Lock()
        names = {**dict.fromkeys(DEFAULT_BASE_URLS), **dict.fromkeys(settings.base_urls)}
        self._prefixes = sorted((((settings.base_urls.get(n) or DEFAULT_BASE_URLS[n]).rstrip("/"), n)
                                 for n in names), key=lambda item: -len(item[0]))
        self._client = httpx.Client(
            transport=transport, timeout=timeout, follow_redirects=True, max_redirects=5,
            headers={"User-Agent": f"litsynth/{__version__} (literature synthesis; python-httpx)"})

    # -- public API -------------------------------------------------------------------

    def get_json(self, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, *, host_interval: float | None = None) -> Any:
        """GET ``url`` and decode a JSON body. Raises :class:`NotFoundError` on 404 and
        :class:`ProviderError` on any other failure (after retries where retryable)."""
        response = self._get(url, params, headers, host_interval)
        try:
            return response.json()
        except ValueError:
            kind = response.headers.get("content-type", "unknown type").split(";")[0]
            raise self._error(url, f"response is not JSON (HTTP {response.status_code}, {kind})",
                              status=response.status_code) from None

    def get_text(self, url: str, params: Mapping[str, Any] | None = None,
                 headers: Mapping[str, str] | None = None, *, host_interval: float | None = None) -> str:
        """GET ``url`` and return the decoded body text; errors as :meth:`get_json`."""
        return self._get(url, params, headers, host_interval).text

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def provider_for(self, url: str) -> str:
        """The configured provider whose base URL is the longest prefix of ``url``,
        else the URL's host."""
        for prefix, name in self._prefixes:
            if url == prefix or url.startswith(prefix + "/") or url.startswith(prefix + "?"):
                return name
        return urlsplit(url).netloc or url

    # -- internals --------------------------------------------------------------------

    def _get(self, url: str, params, headers, host_interval) -> httpx.Response:
        provider = self.provider_for(url)
        interval = MIN_INTERVAL.get(provider, 0.0) if host_interval is None else host_interval
        if provider in self._unreachable:
            raise ProviderError(provider, self._unreachable[provider])
        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.max_attempts) | _stop_on_repeated_connect_error,
            wait=self._wait,
            retry=tenacity.retry_if_exception_type(_Retry),
            sleep=self._sleep,
            before_sleep=lambda state: self._log_retry(provider, url, state),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    response = self._send(provider, interval, url, params, headers)
        except _Retry as exc:
            error = self._exhausted(provider, url, exc)
            if exc.kind == "connect":
                self._unreachable[provider] = f"{error} (not retried again in this run)"
            raise error from None
        if response.status_code == 404:
            raise NotFoundError(provider, self._redact(f"{self._name(provider)}: HTTP 404 for {_where(url)}"),
                                status=404)
        if response.status_code >= 400:
            raise self._error(url, f"HTTP {response.status_code}{_hint_for(provider, response.status_code)}",
                              status=response.status_code)
        return response

    def _lock(self, provider: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(provider, threading.Lock())

    def _send(self, provider, interval, url, params, headers) -> httpx.Response:
        with self._lock(provider):
            last = self._last_start.get(provider)
            if last is not None and interval > 0:
                wait = last + interval - self._clock()
                if wait > 0:
                    self._sleep(wait)
            self._last_start[provider] = self._clock()
            try:
                response = self._client.get(url, params=params, headers=headers)
            except httpx.TimeoutException:
                raise _Retry("timeout") from None
            except httpx.ConnectError as exc:
                raise _Retry("connect", detail=type(exc).__name__) from None
            except httpx.TransportError as exc:
                raise _Retry("transport", detail=type(exc).__name__) from None
            except httpx.TooManyRedirects:
                raise self._error(url, "too many redirects") from None
        if response.status_code in _RETRY_STATUS:
            retry_after = parse_retry_after(response.headers.get("retry-after"), now=self._wall_clock())
            raise _Retry("status", status=response.status_code, retry_after=retry_after)
        return response

    def _wait(self, state: tenacity.RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        requested = getattr(exc, "retry_after", None)
        if requested is not None and requested > 0:
            return min(requested, self.max_retry_after)
        return float(self._backoff(state))

    def _log_retry(self, provider: str, url: str, state: tenacity.RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        what = f"HTTP {exc.status}" if getattr(exc, "status", None) else getattr(exc, "kind", "error")
        delay = state.next_action.sleep if state.next_action else 0.0
        log.warning("%s: %s for %s, retrying in %.1f s (attempt %d of %d)", self._name(provider), what,
                    _where(url), delay, state.attempt_number, self._attempts_for(exc))

    def _attempts_for(self, exc) -> int:
        """Attempts allowed for the error ``exc``: fewer for a refused connection
        (:data:`CONNECT_ATTEMPTS`), so the retry message and the final one agree."""
        if getattr(exc, "kind", None) == "connect":
            return min(self.max_attempts, CONNECT_ATTEMPTS)
        return self.max_attempts

    def _exhausted(self, provider: str, url: str, exc: _Retry) -> ProviderError:
        name, n = self._name(provider), self._attempts_for(exc)
        if exc.kind == "status" and exc.status == 429:
            hint = _KEY_HINT.get(provider, "retry later")
            message = f"{name} rate-limited (HTTP 429) after {n} attempts — {hint}"
        elif exc.kind == "status":
            message = f"{name}: HTTP {exc.status} after {n} attempts for {_where(url)} — retry later"
        elif exc.kind == "timeout":
            message = f"{name}: timed out after {n} attempts for {_where(url)}"
        else:
            message = f"{name}: network error ({exc.detail}) after {n} attempts for {_where(url)}"
        return ProviderError(provider, self._redact(message), status=exc.status)

    def _error(self, url: str, what: str, *, status: int | None = None) -> ProviderError:
        provider = self.provider_for(url)
        return ProviderError(provider, self._redact(f"{self._name(provider)}: {what} for {_where(url)}"),
                             status=status)

    def _name(self, provider: str) -> str:
        return DISPLAY_NAMES.get(provider, provider)

    def _redact(self, text: str) -> str:
        text = scrub_url(text)
        for secret in self._secrets:
            text = text.replace(secret, "<redacted>")
        return text


CONNECT_ATTEMPTS = 2
"""Attempts when the connection itself fails (DNS failure, refused): a host that cannot be
reached at all rarely becomes reachable within the backoff window, so give up early (our
own choice; rate limits and 5xx keep the full ``max_attempts``)."""


def _stop_on_repeated_connect_error(state: tenacity.RetryCallState) -> bool:
    exc = state.outcome.exception() if state.outcome else None
    return getattr(exc, "kind", None) == "connect" and state.attempt_number >= CONNECT_ATTEMPTS


def _where(url: str) -> str:
    """The path of ``url`` (no query string, so no parameters), shortened for messages."""
    path = urlsplit(str(url)).path or "/"
    return path if len(path) <= 80 else path[:77] + "…"


def _hint_for(provider: str, status: int) -> str:
    if status in (401, 403):
        hint = {"openalex": "check OPENALEX_API_KEY", "semantic_scholar": "check S2_API_KEY"}.get(provider)
        return f" (not authorised{'; ' + hint if hint else ''})"
    return ""


# -- paging -----------------------------------------------------------------------------

Page = tuple[list[T], Any]


def paginate(fetch: Callable[[Any], Page], first: Any, *, limit: int, max_pages: int = 50,
             key: Callable[[T], str] = lambda item: getattr(item, "id")) -> list[T]:
    """Collect up to ``limit`` distinct items from a paged API.

    ``fetch(cursor)`` returns ``(items, next_cursor)``; ``next_cursor`` is ``None`` at the
    end. Stops on an empty page, a missing or repeated cursor (Europe PMC repeats its last
    ``cursorMark``), ``limit`` items, or ``max_pages`` pages — every loop is bounded.
    Items with a ``key`` already seen are skipped.
    """
    out: list[T] = []
    seen_items: set[str] = set()
    seen_cursors = {repr(first)}
    cursor = first
    for _ in range(max(1, max_pages)):
        if len(out) >= limit:
            break
        items, nxt = fetch(cursor)
        if not items:
            break
        for item in items:
            k = key(item)
            if k not in seen_items:
                seen_items.add(k)
                out.append(item)
        if nxt is None or repr(nxt) in seen_cursors:
            break
        seen_cursors.add(repr(nxt))
        cursor = nxt
    return out[:limit]


def search_queries(queries: Iterable[str], max_records: int,
                   run: Callable[[str, int], list[T]],
                   key: Callable[[T], str] = lambda item: getattr(item, "id")) -> list[T]:
    """Run ``run(query, budget)`` for each query and merge the results, at most ``max_records``.

    The budget is shared fairly: each query may fill ``ceil(remaining / queries left)``,
    and what one query does not use passes to the next. Items are kept in query order and
    deduplicated by ``key``.
    """
    todo = [q for q in (q.strip() for q in queries if isinstance(q, str)) if q]
    out: list[T] = []
    seen: set[str] = set()
    for i, query in enumerate(todo):
        remaining = max_records - len(out)
        if remaining <= 0:
            break
        budget = -(-remaining // (len(todo) - i))
        added = 0
        for item in run(query, budget):
            k = key(item)
            if k in seen or added >= budget:
                continue
            seen.add(k)
            out.append(item)
            added += 1
    return out[:max_records]
