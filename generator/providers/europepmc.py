"""Europe PMC: the REST ``/search`` endpoint with ``cursorMark`` paging.

Fetch: ``query`` (with ``AND PUB_YEAR:[<since> TO <next year>]``), ``resultType=core`` (for
``abstractText``), ``format=json``, ``cursorMark`` paging that stops when the cursor repeats
or a page is empty; lookups are searches on ``DOI:``, ``EXT_ID:…AND SRC:MED`` or ``PMCID:``.
Parse (pure): HTML abstracts (``<h4>`` section headings, ``<sub>``, ``<i>``) become plain
text with paragraph breaks. Reference: https://europepmc.org/RestfulWebService and
https://europepmc.org/searchsyntax
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from generator.providers.base import NetworkProvider
from generator.http import paginate, search_queries
from generator.models import Record
from generator.normalise import (build_record, clean_abstract, clean_title, identifiers, iso_utc,
                                 lookup_target, names, year_month)

NAME = "europepmc"
PAGE_SIZE = 100
MAX_PAGES = 10


def _authors(result: Mapping[str, Any]) -> tuple[str, ...]:
    listed = ((result.get("authorList") or {}).get("author")) or []
    if listed:
        return names(
            " ".join(p for p in (a.get("firstName"), a.get("lastName")) if p) or a.get("fullName")
            or a.get("collectiveName")
            for a in listed if isinstance(a, Mapping))
    out = []
    # "Schoenfeld JD, Haas-Kogan DA." (MEDLINE style: family name, then initials)
    for part in (result.get("authorString") or "").rstrip(".").split(","):
        words = part.split()
        if len(words) >= 2 and re.fullmatch(r"[A-Z]{1,4}", words[-1]):
            words = [words[-1]] + words[:-1]
        out.append(" ".join(words))
    return names(out)


def parse_result(result: Mapping[str, Any] | None, *, retrieved_at: str = "") -> Record | None:
    """One ``resultList.result`` entry (``lite`` or ``core``) → Record, or ``None`` (logged)
    without title or identifier. The fallback id is ``pmid:…``, ``pmcid:…`` or
    ``europepmc:<source>/<id>`` (preprints, patents)."""
    if not isinstance(result, Mapping):
        return None
    ids = identifiers(doi=result.get("doi"), pmid=result.get("pmid"), pmcid=result.get("pmcid"))
    if ids.pmid:
        fallback = f"pmid:{ids.pmid}"
    elif ids.pmcid:
        fallback = f"pmcid:{ids.pmcid}"
    elif result.get("id") and result.get("source"):
        fallback = f"europepmc:{result['source']}/{result['id']}"
    else:
        fallback = None
    journal = result.get("journalInfo") or {}
    year, month = year_month(result.get("firstPublicationDate"))
    if year is None:
        year, month = year_month(str(result.get("pubYear") or ""))
    venue = (journal.get("journal") or {}).get("title") or result.get("journalTitle") or (
        (result.get("bookOrReportDetails") or {}).get("publisher"))
    url = (f"https://europepmc.org/article/{result['source']}/{result['id']}"
           if result.get("source") and result.get("id") else None)
    return build_record(
        provider=NAME,
        title=clean_title(result.get("title")),
        ids=ids,
        fallback_id=fallback,
        authors=_authors(result),
        year=year,
        month=month,
        venue=clean_title(venue),
        abstract=clean_abstract(result.get("abstractText")),
        url=url,
        retrieved_at=retrieved_at,
    )


def parse_search(payload: Mapping[str, Any], *, retrieved_at: str = "") -> list[Record]:
    """The records of a ``/search`` JSON response (``resultList.result``)."""
    results = ((payload or {}).get("resultList") or {}).get("result") or []
    return [r for r in (parse_result(x, retrieved_at=retrieved_at) for x in results) if r is not None]


def next_cursor(payload: Mapping[str, Any]) -> str | None:
    """``nextCursorMark`` of a search response, or ``None``."""
    return (payload or {}).get("nextCursorMark") or None


def _quote_term(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


class Provider(NetworkProvider):
    """Europe PMC search and lookup. ``now`` returns the retrieval time (tests inject it)."""

    name = NAME
    path = "/search"

    def _page(self, query: str, cursor: str, size: int, stamp: str):
        payload = self.client.get_json(self.url, params={
            "query": query, "resultType": "core", "format": "json", "pageSize": size, "cursorMark": cursor})
        return parse_search(payload, retrieved_at=stamp), next_cursor(payload)

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Relevance-ranked results for each query, at most ``max_records`` in all.
        Raises :class:`~generator.http.ProviderError` when a request fails."""
        moment = self.now()
        stamp = iso_utc(moment)

        def run(query: str, budget: int) -> list[Record]:
            full = f"({query}) AND PUB_YEAR:[{since} TO {moment.year + 1}]" if since else query
            return paginate(lambda cursor: self._page(full, cursor, min(PAGE_SIZE, budget), stamp), "*",
                            limit=budget, max_pages=MAX_PAGES)

        return search_queries(queries, max_records, run)

    def lookup(self, key: str) -> Record | None:
        """The record for ``doi:…``, ``arxiv:…`` (DataCite DOI), ``pmid:…`` or ``pmcid:…``;
        ``None`` for other keys or when the search finds nothing."""
        target = lookup_target(key)
        if not target:
            return None
        scheme, value = target
        query = {
            "doi": lambda: f"DOI:{_quote_term(value)}",
            "arxiv": lambda: f"DOI:{_quote_term('10.48550/arxiv.' + value)}",
            "pmid": lambda: f"EXT_ID:{value} AND SRC:MED",
            "pmcid": lambda: f"PMCID:{value}",
        }.get(scheme)
        if query is None:
            return None
        records, _ = self._page(query(), "*", 5, iso_utc(self.now()))
        wanted = f"{scheme}:{value}"
        for record in records:
            if wanted in record.ids.keys() or record.id == wanted:
                return record
        return None
