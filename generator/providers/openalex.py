"""OpenAlex: ``/works`` search with cursor paging and singleton lookups.

Fetch: ``search`` + ``filter=from_publication_date:<since>-01-01`` + ``cursor`` paging,
``api_key`` and ``mailto`` as query parameters; lookups at ``/works/W…`` and
``/works/doi:…`` (merged ids answer with a redirect, which the client follows). Parse
(pure): abstracts are rebuilt from ``abstract_inverted_index`` with every position of every
word. Reference: https://docs.openalex.org/api-entities/works
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from generator.providers.base import NetworkProvider
from generator.http import NotFoundError, paginate, search_queries
from generator.models import Record
from generator.normalise import (build_record, clean_abstract, clean_title, identifiers, iso_utc,
                                 lookup_target, names, rebuild_inverted_index, year_month)

NAME = "openalex"
PAGE_SIZE = 200  # the documented maximum of per-page
MAX_PAGES = 10
SELECT = ("id,doi,title,display_name,publication_year,publication_date,ids,authorships,"
          "primary_location,locations,abstract_inverted_index")
_ARXIV_URL = re.compile(r"arxiv\.org/(?:abs|pdf)/(.+?)(?:\.pdf)?/?$", re.I)


def _arxiv_from_locations(work: Mapping[str, Any]) -> str | None:
    for loc in work.get("locations") or ():
        for field in ("landing_page_url", "pdf_url"):
            m = _ARXIV_URL.search((loc or {}).get(field) or "")
            if m:
                return m.group(1)
    return None


def parse_work(work: Mapping[str, Any] | None, *, retrieved_at: str = "") -> Record | None:
    """One OpenAlex work object → Record, or ``None`` (logged) without title or identifier.

    ``abstract`` is :func:`~generator.normalise.rebuild_inverted_index` of
    ``abstract_inverted_index`` made plain text (a null index gives ``None``).
    """
    if not isinstance(work, Mapping):
        return None
    ext = work.get("ids") or {}
    ids = identifiers(
        doi=work.get("doi") or ext.get("doi"),
        arxiv=_arxiv_from_locations(work),
        openalex=work.get("id") or ext.get("openalex"),
        pmid=ext.get("pmid"),
        pmcid=ext.get("pmcid"),
    )
    year, month = year_month(work.get("publication_date"))
    if year is None:
        year, month = year_month(work.get("publication_year"))
    source = ((work.get("primary_location") or {}).get("source") or {})
    authors = names(((a or {}).get("author") or {}).get("display_name") or (a or {}).get("raw_author_name")
                    for a in work.get("authorships") or ())
    url = f"https://doi.org/{ids.doi}" if ids.doi else (
        (work.get("primary_location") or {}).get("landing_page_url") or work.get("id"))
    return build_record(
        provider=NAME,
        title=clean_title(work.get("title") or work.get("display_name")),
        ids=ids,
        fallback_id=f"openalex:{ids.openalex}" if ids.openalex else None,
        authors=authors,
        year=year,
        month=month,
        venue=clean_title(source.get("display_name")),
        abstract=clean_abstract(rebuild_inverted_index(work.get("abstract_inverted_index"))),
        url=url,
        retrieved_at=retrieved_at,
    )


def parse_search(payload: Mapping[str, Any], *, retrieved_at: str = "") -> list[Record]:
    """The records of a ``/works`` list response (``results``)."""
    results = (payload or {}).get("results") or []
    return [r for r in (parse_work(w, retrieved_at=retrieved_at) for w in results) if r is not None]


def next_cursor(payload: Mapping[str, Any]) -> str | None:
    """``meta.next_cursor`` of a list response, ``None`` at the end or when not paging."""
    return ((payload or {}).get("meta") or {}).get("next_cursor") or None


class Provider(NetworkProvider):
    """OpenAlex search and lookup. ``now`` returns the retrieval time (tests inject it)."""

    name = NAME

    def _auth(self) -> dict[str, str]:
        params = {}
        if self.settings.openalex_api_key:
            params["api_key"] = self.settings.openalex_api_key
        if self.settings.mailto:
            params["mailto"] = self.settings.mailto
        return params

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Relevance-ranked works for each query, at most ``max_records`` in all.
        Raises :class:`~generator.http.ProviderError` when a request fails."""
        stamp = iso_utc(self.now())

        def run(query: str, budget: int) -> list[Record]:
            def fetch(cursor: str):
                params = {"search": query, "per-page": min(PAGE_SIZE, budget), "cursor": cursor,
                          "select": SELECT, **self._auth()}
                if since:
                    params["filter"] = f"from_publication_date:{since}-01-01"
                payload = self.client.get_json(f"{self.base}/works", params=params)
                return parse_search(payload, retrieved_at=stamp), next_cursor(payload)

            return paginate(fetch, "*", limit=budget, max_pages=MAX_PAGES)

        return search_queries(queries, max_records, run)

    def lookup(self, key: str) -> Record | None:
        """The work for ``openalex:W…``, ``doi:…``, ``arxiv:…`` (its DataCite DOI),
        ``pmid:…`` or ``pmcid:…``; ``None`` when OpenAlex does not know it."""
        target = lookup_target(key)
        if not target or target[0] == "s2":
            return None
        scheme, value = target
        if scheme == "openalex":
            path = value
        elif scheme == "arxiv":
            path = f"doi:10.48550/arxiv.{value}"
        else:
            path = f"{scheme}:{value}"
        try:
            work = self.client.get_json(f"{self.base}/works/{quote(path, safe='/:')}", params=self._auth() or None)
        except NotFoundError:
            return None
        return parse_work(work, retrieved_at=iso_utc(self.now()))
