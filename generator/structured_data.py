"""schema.org JSON-LD for a synthesis page: one ``ClaimReview`` per claim, one
``ScholarlyArticle`` per included source (pure: claim set in, JSON-able dict out).

Shapes follow schema.org and Google's ClaimReview guidelines
(https://developers.google.com/search/docs/appearance/structured-data/factcheck):
``claimReviewed`` is the claim sentence, ``itemReviewed`` a ``Claim`` whose ``appearance``
is the source it was stated in, and ``reviewRating.alternateName`` the verdict in words
(``CORROBORATED`` …); the verdict's reason goes to ``ratingExplanation``. No numeric
rating is invented: verdicts are categories, not points on a scale.

Identifiers are fragment IRIs (``#c-…``, ``#src-…``), which JSON-LD resolves against the
page's own URL, so the data stays right wherever the site is hosted.
"""

from __future__ import annotations

import json

from generator.display import clean as _clean
from generator.display import person_name, record_links

def scholarly_article(record: dict, anchor: str) -> dict:
    """``ScholarlyArticle`` of one record; ``@id`` is ``#<anchor>`` (the source's list entry)."""
    ids = record.get("ids") or {}
    item: dict = {"@type": "ScholarlyArticle", "@id": f"#{anchor}", "name": _clean(record.get("title"))}
    authors = [_clean(a) for a in record.get("authors") or [] if _clean(a)]
    if authors:
        item["author"] = [{"@type": "Person", "name": person_name(a)} for a in authors]
    if record.get("year"):
        item["datePublished"] = (f"{int(record['year']):04d}-{int(record['month']):02d}"
                                 if record.get("month") else f"{int(record['year']):04d}")
    if _clean(record.get("venue")):
        item["isPartOf"] = {"@type": "Periodical", "name": _clean(record["venue"])}
    identifiers = []
    for prop, key in (("DOI", "doi"), ("arXiv", "arxiv"), ("OpenAlex", "openalex"), ("PMID", "pmid")):
        if ids.get(key):
            identifiers.append({"@type": "PropertyValue", "propertyID": prop, "value": str(ids[key])})
    if identifiers:
        item["identifier"] = identifiers
    links = [url for _, url in record_links(record)]
    if links:
        item["url"] = links[0]
        if len(links) > 1:
            item["sameAs"] = links[1:]
    return item


def claim_review(claim: dict, *, anchor: str, source_anchors: list[str], date: str, publisher: str) -> dict:
    """``ClaimReview`` of one claim dict of the claim set.

    ``anchor`` is the claim's element id on the page; ``source_anchors`` the ids of the
    sources the claim appears in (its own record, or the records a curated claim cites);
    ``date`` an ISO date (``YYYY-MM-DD``) and ``publisher`` the site's name.
    """
    verdict = claim["verdict"]
    item_reviewed: dict = {"@type": "Claim", "text": _clean(claim["text"])}
    appearance = [{"@id": f"#{a}"} for a in source_anchors]
    if appearance:
        item_reviewed["appearance"] = appearance[0] if len(appearance) == 1 else appearance
    rating = {"@type": "Rating", "alternateName": verdict["verdict"],
              "ratingExplanation": _clean(verdict.get("reason"))}
    return {
        "@type": "ClaimReview",
        "@id": f"#{anchor}",
        "url": f"#{anchor}",
        "claimReviewed": _clean(claim["text"]),
        "datePublished": date,
        "author": {"@type": "Organization", "name": _clean(publisher)},
        "itemReviewed": item_reviewed,
        "reviewRating": rating,
    }


def synthesis_graph(data: dict, *, claim_anchors: dict[str, str], source_anchors: dict[str, str],
                    publisher: str) -> dict:
    """The page's JSON-LD document: ``{"@context": "https://schema.org", "@graph": [...]}``.

    ``data`` is a claim set; ``claim_anchors`` maps claim id → element id and
    ``source_anchors`` record id → element id (see :mod:`generator.render`). The graph
    holds one ClaimReview per claim, in claim-set order, then one ScholarlyArticle per
    included record (and per excluded record a curated claim cites), in record order.
    """
    date = str(data["snapshot"]["retrieved_at"])[:10]
    graph = []
    referenced: set[str] = set()
    for claim in data["claims"]:
        if claim.get("record_id"):
            sources = [claim["record_id"]]
        else:
            sources = list(claim.get("cited_records") or [])
        sources = [s for s in sources if s in source_anchors]
        referenced.update(sources)
        graph.append(claim_review(
            claim, anchor=claim_anchors[claim["id"]], source_anchors=[source_anchors[s] for s in sources],
            date=date, publisher=publisher))
    graph.extend(scholarly_article(r, source_anchors[r["id"]]) for r in data["records"]
                 if r["screening"]["included"] or r["id"] in referenced)
    return {"@context": "https://schema.org", "@graph": graph}


def script_json(value) -> str:
    """``value`` as JSON that is safe inside ``<script>`` and HTML attributes.

    ``<``, ``>`` and ``&`` become ``\\u003c``, ``\\u003e``, ``\\u0026`` (so no ``</script>``
    or ``<!--`` can appear); JSON parsers read them back unchanged.
    """
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
