"""The reviewers: small pure functions that each score one aspect of a synthesis.

Each reviewer takes the claim-set dict built by :func:`generator.synthesis.synthesise`
(before ``assessment`` is added) and returns ``{"name", "score", "reasons"}`` with
``score`` in [0, 1] (or ``None`` when there is nothing to score) and ``reasons`` a list of
sentences a reader can check against the page (DESIGN §6). The overall score is the plain
mean of the reviewers that gave a score; it is kept in the claim-set JSON for readers who
want it but not shown on the page, where a mean let full marks for recency and integrity
make a synthesis with 0 of 187 claims corroborated look 0.72 good (a trial reader's
finding, 2026-12-05).
"""

from __future__ import annotations

import re
from collections import Counter

from generator.models import CONTESTED, CONTRADICTED, CORROBORATED, CONTRADICTS, SUPPORTS, UNVERIFIABLE

RECENT_YEARS = 3
"""Records published in the retrieval year or the RECENT_YEARS - 1 years before count as recent."""

_COMPLETE = re.compile(r"[.!?][\"')\]]*$")


def _included(data: dict) -> list[dict]:
    return [r for r in data["records"] if r["screening"]["included"]]


def _review(name: str, score: float | None, reasons: list[str]) -> dict:
    return {"name": name, "score": None if score is None else round(score, 3), "reasons": reasons}


def relevance(data: dict) -> dict:
    """Mean screening relevance of the included records."""
    inc = _included(data)
    if not inc:
        return _review("Relevance", 0.0, ["No record passed screening."])
    scores = sorted((r["screening"]["score"], r["title"]) for r in inc)
    mean = sum(s for s, _ in scores) / len(scores)
    reasons = [f"{len(inc)} included records have mean relevance {mean:.2f} to the question."]
    low = scores[0]
    reasons.append(f"Least relevant included record: \u201c{low[1]}\u201d ({low[0]:.2f}).")
    return _review("Relevance", mean, reasons)


def facet_coverage(data: dict) -> dict:
    """Share of the question's facets addressed by at least one included record."""
    cov = data["facet_coverage"]
    if not cov:
        return _review("Facet coverage", None, ["The question lists no facets."])
    covered = [c["facet"] for c in cov if c["records"]]
    missing = [c["facet"] for c in cov if not c["records"]]
    reasons = [f"{len(covered)} of {len(cov)} facets are addressed by an included source."]
    reasons += [f"No included source addresses \u201c{f}\u201d." for f in missing]
    return _review("Facet coverage", len(covered) / len(cov), reasons)


def corroboration(data: dict) -> dict:
    """Share of claims that another independent record supports (CORROBORATED)."""
    claims = data["claims"]
    if not claims:
        return _review("Corroboration", None, ["No claims were extracted."])
    mix = Counter(c["verdict"]["verdict"] for c in claims)
    n = mix[CORROBORATED]
    reasons = [f"{n} of {len(claims)} claims {'is' if n == 1 else 'are'} corroborated by an independent record."]
    reasons += [f"{k}: {v}" for k, v in sorted(mix.items()) if k != CORROBORATED]
    return _review("Corroboration", n / len(claims), reasons)


def consistency(data: dict) -> dict:
    """1 minus the share of claims with evidence that are CONTESTED or CONTRADICTED."""
    judged = [c for c in data["claims"] if c["verdict"]["supporting"] or c["verdict"]["contradicting"]]
    if not judged:
        return _review("Consistency", None, ["No claim has evidence from another record."])
    bad = [c for c in judged if c["verdict"]["verdict"] in (CONTESTED, CONTRADICTED)]
    reasons = [f"{len(bad)} of {len(judged)} claim{'' if len(judged) == 1 else 's'} with evidence "
               f"{'is' if len(judged) == 1 else 'are'} contested or contradicted."]
    return _review("Consistency", 1 - len(bad) / len(judged), reasons)


def diversity(data: dict) -> dict:
    """How evenly claims spread over records: 1 − (largest share − 1/n) / (1 − 1/n).

    1 when every contributing record supplies the same number of claims, 0 when one record
    supplies all of them (or when only one record contributes).
    """
    per = Counter(c["record_id"] for c in data["claims"] if c["record_id"])
    if not per:
        return _review("Source diversity", None, ["No claims come from retrieved records."])
    total = sum(per.values())
    top_id, top = per.most_common(1)[0]
    n = len(per)
    title = next((r["title"] for r in data["records"] if r["id"] == top_id), top_id)
    reasons = [f"{total} extracted claims come from {n} records.",
               f"The largest share is {top} of {total} from \u201c{title}\u201d."]
    if n == 1:
        return _review("Source diversity", 0.0, reasons)
    share = top / total
    return _review("Source diversity", max(0.0, 1 - (share - 1 / n) / (1 - 1 / n)), reasons)


def recency(data: dict) -> dict:
    """Share of included records from the last RECENT_YEARS years before retrieval."""
    inc = _included(data)
    years = [r["year"] for r in inc if r.get("year")]
    stamp = data["snapshot"].get("retrieved_at") or ""
    if not years or not stamp[:4].isdigit():
        return _review("Recency", None, ["Publication years are unknown."])
    now = int(stamp[:4])
    recent = [y for y in years if y > now - RECENT_YEARS]
    reasons = [f"{len(recent)} of {len(years)} included records with a known year are from "
               f"{now - RECENT_YEARS + 1}\u2013{now}.",
               f"Years range from {min(years)} to {max(years)}." if min(years) < max(years)
               else f"All are from {min(years)}."]
    return _review("Recency", len(recent) / len(years), reasons)


def count_problems(data: dict) -> list[str]:
    """Inconsistencies between the claim set's counts; an empty list when they add up."""
    p = data["prisma"]
    problems = []
    if p["identified"] != p["duplicates"] + p["screened"]:
        problems.append(f"identified ({p['identified']}) \u2260 duplicates ({p['duplicates']}) "
                        f"+ screened ({p['screened']})")
    if p["screened"] != p["excluded"] + p["included"]:
        problems.append(f"screened ({p['screened']}) \u2260 excluded ({p['excluded']}) "
                        f"+ included ({p['included']})")
    if p["screened"] != len(data["records"]):
        problems.append(f"screened ({p['screened']}) \u2260 records listed ({len(data['records'])})")
    if sum(p["identified_by_provider"].values()) != p["identified"]:
        problems.append("records identified per provider do not add up to the total")
    included = {r["id"] for r in _included(data)}
    if len(included) != p["included"]:
        problems.append(f"included ({p['included']}) \u2260 included records listed ({len(included)})")
    for c in data["claims"]:
        if c["record_id"] and c["record_id"] not in included:
            problems.append(f"claim {c['id']} comes from {c['record_id']}, which is not included")
    return problems


def integrity(data: dict) -> dict:
    """Share of integrity checks passed: complete claims, evidence present, counts consistent."""
    claims = data["claims"]
    incomplete = [c for c in claims if not _COMPLETE.search(c["text"].strip())]
    no_evidence = [
        j for c in claims for j in c["judgements"]
        if j["label"] in (SUPPORTS, CONTRADICTS) and not j["rationale"]]
    self_judged = [
        c for c in claims for j in c["judgements"]
        if c["record_id"] and j["kind"] != "citation"
        and _group(data, j["record_id"]) == c.get("source_group")]
    counts = count_problems(data)
    checks = {
        "every claim is a complete sentence": not incomplete,
        "every SUPPORTS/CONTRADICTS judgement shows an evidence sentence": not no_evidence,
        "no claim is judged against its own record or a version of it": not self_judged,
        "PRISMA counts add up and every claim belongs to an included record": not counts,
    }
    reasons = [("Passed: " if ok else "Failed: ") + name for name, ok in checks.items()]
    reasons += counts
    return _review("Integrity", sum(checks.values()) / len(checks), reasons)


def _group(data: dict, record_id: str) -> str | None:
    for r in data["records"]:
        if r["id"] == record_id:
            return r.get("work_id") or r["id"]
    return None


REVIEWERS = (relevance, facet_coverage, corroboration, consistency, diversity, recency, integrity)


def assess(data: dict) -> dict:
    """Run every reviewer. Returns ``{"reviewers": [...], "overall": mean or None}``."""
    reviews = [reviewer(data) for reviewer in REVIEWERS]
    scored = [r["score"] for r in reviews if r["score"] is not None]
    overall = round(sum(scored) / len(scored), 3) if scored else None
    unverifiable = sum(1 for c in data["claims"] if c["verdict"]["verdict"] == UNVERIFIABLE)
    return {"reviewers": reviews, "overall": overall, "unverifiable_claims": unverifiable,
            "count_problems": count_problems(data)}
