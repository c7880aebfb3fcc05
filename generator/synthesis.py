"""Assemble the synthesis of one question: screening → extraction → verification → assessment.

Pure: :func:`synthesise` takes a validated question and its snapshot and returns the
claim set as a JSON-able ``dict`` (written as ``<slug>.json`` beside the page). The
shape is documented in ``site_templates/claim-set-schema.md`` and versioned by
:data:`SCHEMA`.
"""

from __future__ import annotations

import dataclasses

from generator import __version__, assessment, jsontext, verification
from generator.extraction import curated_claim, extract_claims
from generator.models import Claim, Question, Record, Snapshot
from generator.records import identity_keys
from generator.screening import ScreeningResult, content_terms, idf_weights, matched_facets, relevance, screen
from generator.snapshots import dumps, matches_question, text_digest

SCHEMA = "litsynth/claim-set/1"

MAX_CLAIMS_PER_RECORD = 6
"""Cap on claims extracted from one abstract, so no single record floods the claim set."""


def snapshot_digest(snapshot: Snapshot) -> str:
    """SHA-256 (first 16 hex digits) of the snapshot's canonical JSON
    (:func:`generator.snapshots.dumps`)."""
    return text_digest(dumps(snapshot).encode("utf-8"))


def _claims_for(question: Question, result: ScreeningResult) -> list[Claim]:
    claims: list[Claim] = []
    for rec in result.included:
        if rec.text_available:
            claims.extend(extract_claims(rec, max_claims=MAX_CLAIMS_PER_RECORD))
    for cc in question.claims:
        claims.append(curated_claim(cc.text, tuple(cc.cites)))
    idf = result.idf or idf_weights(list(result.records))
    out = []
    for claim in claims:
        terms = set(content_terms(claim.text))
        score, _ = relevance(question, terms, idf)
        out.append(dataclasses.replace(
            claim, facets=matched_facets(question.facets, terms, claim.text), relevance=score))
    return out


def _resolve_cites(claim: Claim, records: tuple[Record, ...]) -> list[str]:
    keys = set(claim.cites)
    return [r.id for r in records if keys & set(identity_keys(r))]


def facet_coverage(question: Question, result: ScreeningResult, claims: list[Claim]) -> list[dict]:
    """Per facet: the included records and the claims that address it.

    Returns ``[{"facet", "records": [record ids], "claims": [claim ids]}]`` in facet order.
    A record addresses a facet when screening matched it; a claim when its own sentence
    contains all of the facet's terms or uses its acronym (:func:`generator.screening.facet_acronyms`).
    """
    decided = {d.record_id: d for d in result.decisions}
    included = {r.id for r in result.included}
    out = []
    for facet in question.facets:
        recs = [rid for rid in included if facet in decided[rid].facets_matched]
        recs.sort(key=lambda rid: [r.id for r in result.included].index(rid))
        out.append({
            "facet": facet,
            "records": recs,
            "claims": [c.id for c in claims if facet in c.facets],
        })
    return out


def synthesise(question: Question, snapshot: Snapshot, *, digest: str | None = None) -> dict:
    """Build the claim set of ``question`` from ``snapshot``. ``digest``:
    :func:`snapshot_digest` of ``snapshot`` when the caller has it already (a build that
    has just written the snapshot: :func:`generator.snapshots.text_digest` of that text),
    else computed here (0.15 s of CPU at 50 questions).

    Returns a dict with keys ``schema``, ``question``, ``snapshot``, ``prisma``,
    ``records`` (every screened record with its screening decision; abstracts omitted),
    ``claims`` (each with ``verdict``, ``judgements``, ``source``), ``facet_coverage``,
    ``assessment`` and ``build``. Deterministic: the same inputs give the same dict.
    """
    result = screen(question, snapshot)
    claims = _claims_for(question, result)
    included = list(result.included)
    judgements, verdicts = verification.verify(claims, included)
    by_claim: dict[str, list] = {}
    for j in judgements:
        by_claim.setdefault(j.claim_id, []).append(j.to_dict())
    verdict_of = {v.claim_id: v for v in verdicts}
    records_by_id = {r.id: r for r in result.records}

    claim_dicts = []
    for claim in claims:
        entry = claim.to_dict()
        entry["verdict"] = verdict_of[claim.id].to_dict()
        entry["judgements"] = sorted(
            by_claim.get(claim.id, []), key=lambda j: (-j["confidence"], j["record_id"]))
        if claim.origin == "curated":
            entry["cited_records"] = _resolve_cites(claim, result.records)
        source = records_by_id.get(claim.record_id) if claim.record_id else None
        entry["source_group"] = source.group if source else None
        claim_dicts.append(entry)

    decisions = {d.record_id: d for d in result.decisions}
    record_dicts = []
    for rec in result.records:
        data = rec.to_dict()
        data.pop("abstract", None)
        data["screening"] = decisions[rec.id].to_dict()
        data["claims"] = sum(1 for c in claims if c.record_id == rec.id)
        record_dicts.append(data)
    duplicates = [d.to_dict() for d in result.decisions if d.duplicate_of]

    data = {
        "schema": SCHEMA,
        "slug": question.slug,
        "question": question.to_dict(),
        "snapshot": {
            "digest": digest or snapshot_digest(snapshot),
            "retrieved_at": snapshot.retrieved_at,
            "providers": list(snapshot.providers),
            "queries": list(snapshot.queries),
            "since": snapshot.since,
            "max_records": snapshot.max_records,
            "provider_counts": dict(snapshot.provider_counts),
            "provider_errors": dict(snapshot.provider_errors),
            "unresolved_includes": list(snapshot.unresolved_includes),
            # False when the question file's search settings changed after this retrieval:
            # the page then says that it shows an older search (a fourth trial's since: 2099).
            "matches_question": matches_question(snapshot, question),
        },
        "prisma": result.prisma,
        "records": record_dicts,
        "duplicates": duplicates,
        "claims": claim_dicts,
        "facet_coverage": facet_coverage(question, result, claims),
        "build": {
            "litsynth_version": __version__,
            "verifier": dict(zip(("method", "version"), verification.active_method())),
            "max_claims_per_record": MAX_CLAIMS_PER_RECORD,
            "candidates_per_claim": verification.CANDIDATES_PER_CLAIM,
        },
    }
    data["assessment"] = assessment.assess(data)
    # Round-trip through JSON so that what the page renders is exactly what is downloaded.
    return jsontext.plain(data)
