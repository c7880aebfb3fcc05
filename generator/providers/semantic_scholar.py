"""Semantic Scholar: Academic Graph ``/paper/search`` (relevance) and ``/paper/{id}``.

Fetch: ``query`` + ``year=<since>-`` + ``offset``/``limit`` paging, following ``next``
until it is absent (the relevance endpoint serves at most 1,000 results); the key goes in
the ``x-api-key`` header. Parse (pure): entries may be papers, ``{"citedPaper": …}``
wrappers or ``null`` (batch misses); null ``externalIds``/``authors``/``year`` are handled
and entries without title or identifier are skipped with a warning (API-05). Reference:
https://api.semanticscholar.org/api-docs/graph
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

NAME = "semantic_scholar"
PAGE_SIZE = 100  # the documented maximum of limit
MAX_RESULTS = 1000  # offset + limit must stay below this on /paper/search
MAX_PAGES = 10
FIELDS = "paperId,externalIds,url,title,abstract,venue,year,publicationDate,journal,authors"
_WRAPPERS = ("citedPaper", "citingPaper", "paper")
_LOOKUP_PREFIX = {"doi": "DOI:", "arxiv": "ARXIV:", "pmid": "PMID:", "pmcid": "PMCID:", "s2": ""}


def parse_paper(paper: Mapping[str, Any] | None, *, retrieved_at: str = "") -> Record | None:
    """One paper object (or a ``citedPaper``/``citingPaper`` wrapper) → Record, or ``None``.

    ``None`` for ``null`` entries and (with a warning) for entries without title or any
    identifier. ``ids.s2`` is the ``paperId``.
    """
    if isinstance(paper, Mapping):
        for wrapper in _WRAPPERS:
            if isinstance(paper.get(wrapper), Mapping) and "title" not in paper:
                paper = paper[wrapper]
                break
    if not isinstance(paper, Mapping):
        return None
    ext = paper.get("externalIds") or {}
    ids = identifiers(doi=ext.get("DOI"), arxiv=ext.get("ArXiv"), pmid=ext.get("PubMed"),
                      pmcid=ext.get("PubMedCentral"), s2=paper.get("paperId"))
    year, month = year_month(paper.get("publicationDate"))
    if year is None:
        year, month = year_month(paper.get("year"))
    journal = paper.get("journal") or {}
    authors = names((a or {}).get("name") for a in paper.get("authors") or ())
    return build_record(
        provider=NAME,
        title=clean_title(paper.get("title")),
        ids=ids,
        fallback_id=f"s2:{ids.s2}" if ids.s2 else None,
        authors=authors,
        year=year,
        month=month,
        venue=clean_title(paper.get("venue")) or clean_title(journal.get("name") if isinstance(journal, Mapping) else None),
        abstract=clean_abstract(paper.get("abstract")),
        url=paper.get("url") or (f"https://doi.org/{ids.doi}" if ids.doi else None),
        retrieved_at=retrieved_at,
    )


def parse_search(payload: Mapping[str, Any] | list | None, *, retrieved_at: str = "") -> list[Record]:
    """Records of a search/match/references response (``data``) or a batch list."""
    items = payload.get("data") if isinstance(payload, Mapping) else payload
    return [r for r in (parse_paper(p, retrieved_at=retrieved_at) for p in items or ()) if r is not None]


def next_offset(payload: Mapping[str, Any]) -> int | None:
    """``next`` of a relevance-search page, or ``None`` at the end or past 1,000 results."""
    nxt = (payload or {}).get("next")
    return nxt if isinstance(nxt, int) and 0 < nxt < MAX_RESULTS else None


class Provider(NetworkProvider):
    """Semantic Scholar search and lookup. ``now`` returns the retrieval time (tests inject it)."""

    name = NAME

    def _headers(self) -> dict[str, str] | None:
        return {"x-api-key": self.settings.s2_api_key} if self.settings.s2_api_key else None

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Relevance-ranked papers for each query, at most ``max_records`` in all.
        Raises :class:`~generator.http.ProviderError` when a request fails."""
        stamp = iso_utc(self.now())

        def run(query: str, budget: int) -> list[Record]:
            def fetch(offset: int):
                params = {"query": query, "fields": FIELDS, "offset": offset,
                          "limit": min(PAGE_SIZE, budget, MAX_RESULTS - offset)}
                if since:
                    params["year"] = f"{since}-"
                payload = self.client.get_json(f"{self.base}/paper/search", params=params,
                                               headers=self._headers())
                return parse_search(payload, retrieved_at=stamp), next_offset(payload)

            return paginate(fetch, 0, limit=budget, max_pages=MAX_PAGES)

        return search_queries(queries, max_records, run)

    def lookup(self, key: str) -> Record | None:
        """The paper for ``doi:…``, ``arxiv:…``, ``pmid:…``, ``pmcid:…`` or ``s2:<paperId>``;
        ``None`` for other keys and papers Semantic Scholar does not know (HTTP 404)."""
        target = lookup_target(key)
        if not target or target[0] not in _LOOKUP_PREFIX:
            return None
        scheme, value = target
        if scheme == "pmcid":
            value = value[3:]  # the API's example is PMCID:2323736, without "PMC"
        ident = _LOOKUP_PREFIX[scheme] + value
        try:
            paper = self.client.get_json(f"{self.base}/paper/{quote(ident, safe='/:')}",
                                         params={"fields": FIELDS}, headers=self._headers())
        except NotFoundError:
            return None
        return parse_paper(paper, retrieved_at=iso_utc(self.now()))
