"""Crossref: ``/works`` search with cursor paging and DOI lookups.

Fetch: ``query`` + ``filter=from-pub-date:<since>`` + ``cursor`` paging (``cursor=*``,
then ``next-cursor``), ``mailto`` as a query parameter for the polite pool. Parse (pure):
JATS abstracts become plain text with paragraph breaks. Reference:
https://api.crossref.org/swagger-ui/index.html and
https://www.crossref.org/documentation/retrieve-metadata/rest-api/tips-for-using-the-crossref-rest-api/
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from generator.providers.base import NetworkProvider
from generator.http import NotFoundError, paginate, search_queries
from generator.models import Record
from generator.normalise import (build_record, clean_abstract, clean_title, identifiers, iso_utc,
                                 lookup_target, names, year_month)

NAME = "crossref"
PAGE_SIZE = 100
MAX_PAGES = 10
# "created" is the deposit date, not publication: a 2003 proceedings paper deposited in 2004.
_DATE_FIELDS = ("issued", "published", "published-print", "published-online", "posted")


def _first(value) -> str | None:
    if isinstance(value, list):
        return next((v for v in value if isinstance(v, str) and v.strip()), None)
    return value if isinstance(value, str) else None


def _author(author: Mapping[str, Any]) -> str | None:
    if not isinstance(author, Mapping):
        return None
    person = " ".join(p for p in (author.get("given"), author.get("family")) if isinstance(p, str) and p.strip())
    return person or author.get("name")


def parse_work(item: Mapping[str, Any] | None, *, retrieved_at: str = "") -> Record | None:
    """One Crossref work (``message`` of ``/works/{doi}`` or an ``items`` entry) → Record.

    ``None`` (logged) without a DOI or title. Authors are ``"Given Family"`` (or the
    organisation ``name``); year and month come from ``issued`` (then ``published``…).
    """
    if not isinstance(item, Mapping):
        return None
    ids = identifiers(doi=item.get("DOI"))
    year = month = None
    for field in _DATE_FIELDS:
        year, month = year_month(item.get(field))
        if year:
            break
    return build_record(
        provider=NAME,
        title=clean_title(_first(item.get("title"))),
        ids=ids,
        fallback_id=None,
        authors=names(_author(a) for a in item.get("author") or ()),
        year=year,
        month=month,
        venue=clean_title(_first(item.get("container-title"))),
        abstract=clean_abstract(item.get("abstract")),
        url=f"https://doi.org/{ids.doi}" if ids.doi else item.get("URL"),
        retrieved_at=retrieved_at,
    )


def parse_search(payload: Mapping[str, Any], *, retrieved_at: str = "") -> list[Record]:
    """The records of a ``work-list`` response (``message.items``)."""
    items = ((payload or {}).get("message") or {}).get("items") or []
    return [r for r in (parse_work(i, retrieved_at=retrieved_at) for i in items) if r is not None]


def next_cursor(payload: Mapping[str, Any]) -> str | None:
    """``message.next-cursor`` of a work-list response, or ``None``."""
    return ((payload or {}).get("message") or {}).get("next-cursor") or None


class Provider(NetworkProvider):
    """Crossref search and DOI lookup. ``now`` returns the retrieval time (tests inject it)."""

    name = NAME

    def _polite(self) -> dict[str, str]:
        return {"mailto": self.settings.mailto} if self.settings.mailto else {}

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Relevance-ranked works for each query, at most ``max_records`` in all.
        Raises :class:`~generator.http.ProviderError` when a request fails."""
        stamp = iso_utc(self.now())

        def run(query: str, budget: int) -> list[Record]:
            def fetch(cursor: str):
                params = {"query": query, "rows": min(PAGE_SIZE, budget), "cursor": cursor, **self._polite()}
                if since:
                    params["filter"] = f"from-pub-date:{since}"
                payload = self.client.get_json(f"{self.base}/works", params=params)
                return parse_search(payload, retrieved_at=stamp), next_cursor(payload)

            return paginate(fetch, "*", limit=budget, max_pages=MAX_PAGES)

        return search_queries(queries, max_records, run)

    def lookup(self, key: str) -> Record | None:
        """The work with DOI ``doi:…``; ``None`` for other keys (Crossref does not hold
        arXiv's DataCite DOIs) and for DOIs Crossref does not know (HTTP 404)."""
        target = lookup_target(key)
        if not target or target[0] != "doi":
            return None
        try:
            payload = self.client.get_json(f"{self.base}/works/{quote(target[1], safe='/')}",
                                           params=self._polite() or None)
        except NotFoundError:
            return None
        return parse_work((payload or {}).get("message"), retrieved_at=iso_utc(self.now()))
