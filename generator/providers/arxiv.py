"""arXiv: the Atom API at ``export.arxiv.org/api/query``.

Fetch: ``search_query`` + ``start``/``max_results`` paging, sorted by relevance; lookups by
``id_list``. One request every 3 s on one connection (:data:`generator.http.MIN_INTERVAL`);
no key. Parse (pure): Atom XML → :class:`~generator.models.Record` with the stdlib
``xml.etree.ElementTree`` (expat ≥ 2.4.1 refuses entity-expansion bombs). Reference:
https://info.arxiv.org/help/api/user-manual.html
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from typing import NamedTuple

from generator.providers.base import NetworkProvider
from generator.http import ProviderError, paginate, search_queries
from generator.models import Record
from generator.normalise import (build_record, identifiers, iso_utc, lookup_target, plain_text,
                                 year_month)

log = logging.getLogger(__name__)

NAME = "arxiv"
PAGE_SIZE = 100
MAX_PAGES = 20
_ATOM = "{http://www.w3.org/2005/Atom}"
_ARXIV = "{http://arxiv.org/schemas/atom}"
_OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"
_ADVANCED = re.compile(r"\b(?:ti|au|abs|co|jr|cat|rn|id|all|submittedDate):|\b(?:AND|OR|ANDNOT)\b")


class Feed(NamedTuple):
    """One parsed Atom page: records, ``totalResults`` (or ``None``), raw entry count."""

    records: list[Record]
    total: int | None
    entries: int


def _text(elem: ET.Element | None) -> str | None:
    return elem.text if elem is not None and elem.text is not None else None


def parse_entry(entry: ET.Element, *, retrieved_at: str = "") -> Record | None:
    """One Atom ``<entry>`` → Record, or ``None`` for arXiv's error entries and entries
    without an id or title (logged). Title and abstract keep LaTeX and ``<`` as written;
    only whitespace is normalised."""
    raw_id = _text(entry.find(f"{_ATOM}id")) or ""
    if "/api/errors" in raw_id:
        log.warning("arxiv: the API answered with an error: %s",
                    plain_text(_text(entry.find(f"{_ATOM}summary"))) or raw_id)
        return None
    ids = identifiers(arxiv=raw_id, doi=_text(entry.find(f"{_ARXIV}doi")))
    year, month = year_month(_text(entry.find(f"{_ATOM}published")) or _text(entry.find(f"{_ATOM}updated")))
    url = None
    for link in entry.findall(f"{_ATOM}link"):
        if link.get("rel") == "alternate" and link.get("href"):
            url = link.get("href")
    if url is None and ids.arxiv:
        url = f"https://arxiv.org/abs/{ids.arxiv}{ids.arxiv_version or ''}"
    authors = tuple(a for a in (plain_text(_text(au.find(f"{_ATOM}name")))
                                for au in entry.findall(f"{_ATOM}author")) if a)
    return build_record(
        provider=NAME,
        title=plain_text(_text(entry.find(f"{_ATOM}title"))),
        ids=ids,
        fallback_id=None,
        authors=authors,
        year=year,
        month=month,
        venue=plain_text(_text(entry.find(f"{_ARXIV}journal_ref"))) or "arXiv",
        abstract=plain_text(_text(entry.find(f"{_ATOM}summary"))),
        url=url,
        retrieved_at=retrieved_at,
    )


def parse_feed(xml: str | bytes, *, retrieved_at: str = "") -> Feed:
    """Parse an arXiv Atom response (current 2025+ and legacy 2020 layouts).

    Raises ``ValueError`` when ``xml`` is not well-formed XML.
    """
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"not well-formed Atom XML: {exc}") from None
    entries = root.findall(f"{_ATOM}entry")
    records = [r for r in (parse_entry(e, retrieved_at=retrieved_at) for e in entries) if r is not None]
    total_text = _text(root.find(f"{_OPENSEARCH}totalResults"))
    total = int(total_text) if total_text and total_text.strip().isdigit() else None
    return Feed(records, total, len(entries))


def parse_search(xml: str | bytes, *, retrieved_at: str = "") -> list[Record]:
    """The records of one Atom page (see :func:`parse_feed`)."""
    return parse_feed(xml, retrieved_at=retrieved_at).records


def build_query(query: str, since: int | None, until_year: int) -> str:
    """An arXiv ``search_query`` for a free-text ``query``.

    Plain words become ``all:word`` joined by ``AND`` and ``"quoted phrases"`` stay phrases;
    a query already in arXiv syntax (``ti:``, ``AND`` …) is passed through. ``since`` adds
    ``submittedDate:[<since>01010000 TO <until_year>12312359]``.
    """
    text = query.strip()
    if not _ADVANCED.search(text):
        terms = []
        for token in re.findall(r'"[^"]+"|\S+', text):
            if token.startswith('"'):
                phrase = " ".join(re.findall(r"[\w\-.']+", token))
                if phrase:
                    terms.append(f'all:"{phrase}"')
            else:
                word = re.sub(r"[^\w\-.']", "", token).strip(".'")
                if word:
                    terms.append(f"all:{word}")
        text = " AND ".join(terms) or text
    if since:
        text = f"({text}) AND submittedDate:[{since}01010000 TO {until_year}12312359]"
    return text


class Provider(NetworkProvider):
    """arXiv search and lookup. ``now`` returns the retrieval time (tests inject it)."""

    name = NAME
    path = "/query"

    def _feed(self, params: dict, retrieved_at: str) -> Feed:
        text = self.client.get_text(self.url, params=params)
        try:
            return parse_feed(text, retrieved_at=retrieved_at)
        except ValueError:
            raise ProviderError(NAME, "arXiv: response is not Atom XML for /query") from None

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Records for each query, relevance-ranked, at most ``max_records`` in all.
        Raises :class:`~generator.http.ProviderError` when a request fails."""
        moment = self.now()
        stamp = iso_utc(moment)

        def run(query: str, budget: int) -> list[Record]:
            search_query = build_query(query, since, moment.year)

            def fetch(start: int):
                size = min(PAGE_SIZE, budget)
                feed = self._feed({"search_query": search_query, "start": start, "max_results": size,
                                   "sortBy": "relevance", "sortOrder": "descending"}, stamp)
                nxt = start + feed.entries
                done = feed.entries == 0 or (feed.total is not None and nxt >= feed.total)
                return feed.records, None if done else nxt

            found = paginate(fetch, 0, limit=budget, max_pages=MAX_PAGES)
            return [r for r in found if not (since and r.year and r.year < since)]

        return search_queries(queries, max_records, run)

    def lookup(self, key: str) -> Record | None:
        """The latest version of ``arxiv:<id>`` (or its DataCite DOI); ``None`` for other
        keys, unknown ids and ids arXiv rejects as malformed."""
        target = lookup_target(key)
        if not target or target[0] != "arxiv":
            return None
        try:
            feed = self._feed({"id_list": target[1], "start": 0, "max_results": 1}, iso_utc(self.now()))
        except ProviderError as exc:
            if exc.status in (400, 404):
                return None
            raise
        for record in feed.records:
            if record.ids.arxiv == target[1]:
                return record
        return None
