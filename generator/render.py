"""Render claim sets into the site's Markdown pages and downloads (pure: data in, text out).

Every piece of external text (titles, author names, claim and evidence sentences) reaches
the page through Jinja2 autoescaping inside raw HTML blocks, so Markdown and HTML in it are
shown as text: Python-Markdown does not parse Markdown inside raw HTML blocks, and ``<``,
``>``, ``&`` and quotes are entity-escaped. Text placed in Markdown context (the page
heading, link texts of internal links) goes through :func:`md_inline`. Titles handed to
MkDocs itself (nav, front matter) are HTML-escaped once, because the theme's templates
print them unescaped.

Internal links between pages are written as Markdown links to ``.md`` files, so MkDocs
validates them under ``--strict`` and makes them relative (a project site under
``/<repo>/`` works); in-page links are ``#fragment`` links.

Files produced by :func:`render_site` (paths relative to the docs folder):

* ``index.md``, ``method.md``, ``tags.md``, ``claim-set-schema.md``;
* per synthesis ``questions/<slug>.md`` (the page), ``questions/<slug>.json`` (the claim
  set), and the bibliography of its included sources as ``questions/<slug>/<slug>.bib``
  (BibTeX) and ``questions/<slug>/<slug>.csl.json`` (CSL-JSON) -- in the folder the page
  is built into, so they download beside it;
* ``claim-set.schema.json`` and the static assets under ``assets/litsynth/``
  (registered in ``mkdocs.yml`` as ``extra_css`` / ``extra_javascript``);
* ``performance.md`` when benchmark results are given (``content/performance.json``,
  written by ``benchmarks/report.py``).
"""

from __future__ import annotations

import functools
import hashlib
import html
import json
import re
from collections import Counter
from pathlib import Path

import jinja2
import markupsafe

from generator import bibliography, jsontext, structured_data, svg
from generator.cache import file_digest, hash_sources
from generator.display import clean, letters, person_name, record_links
from generator.evaluate import caveats
from generator.models import CONTRADICTS, SUPPORTS, VERDICTS, Identifiers, counts_toward_verdict
from generator.records import parse_identifier

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"
ASSETS = {"assets/litsynth/litsynth.css": "assets/litsynth.css",
          "assets/litsynth/tablesort.js": "assets/tablesort.js"}
"""Docs path → file under :data:`TEMPLATES` of the static assets copied into every build."""

SCHEMA_FILE = "claim-set.schema.json"

__all__ = ["clean", "md_inline", "html_title", "record_links", "anchor", "source_anchors", "claim_anchors",
           "fmt_conf", "authors_short", "short_cite", "script_json", "environment", "verdict_mix",
           "answer_status", "gap_map", "sorted_claims", "evidence_counts", "method_counts", "page_context",
           "render_synthesis", "bibliography_files", "claim_set_schema", "render_site", "nav",
           "PERFORMANCE_SCHEMA", "check_performance", "render_performance"]

VERDICT_MEANING = {
    "CORROBORATED": "At least one independent source supports it; none contradicts it with comparable confidence.",
    "CONTESTED": "Independent sources both support and contradict it.",
    "CONTRADICTED": "Independent sources only contradict it.",
    "UNCORROBORATED": ("Stated by its own source only: no other included source checked was found to "
                       "support or contradict it."),
    "UNVERIFIABLE": "The cited source has no text available to check it against.",
}

# Python-Markdown's escapable characters with the tables extension loaded (md.ESCAPED_CHARS):
# a backslash before any other character would be shown.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()>#+\-.!|])")


def md_inline(text: str | None) -> markupsafe.Markup:
    """Escape ``text`` for a Markdown inline context (a heading, a link text).

    HTML-escapes it, then backslash-escapes the characters Python-Markdown treats as markup
    (exactly its ``ESCAPED_CHARS``), so the visible text equals :func:`clean` of the input.
    Returns :class:`markupsafe.Markup` so that template autoescaping does not escape the
    entities a second time.
    """
    escaped = html.escape(clean(text), quote=False)
    return markupsafe.Markup(_MD_SPECIAL.sub(r"\\\1", escaped))


def html_title(text: str | None) -> str:
    """A title for MkDocs' nav and front matter: cleaned, then HTML-escaped once.

    MkDocs renders theme templates without autoescaping, and Material prints nav and page
    titles as they are, so an escaped title shows as the original text.
    """
    return html.escape(clean(text), quote=True)


def anchor(record_id: str) -> str:
    """HTML id for a source: ``src-`` + the record id lower-cased, other characters as ``-``.

    ``arxiv:2505.09388`` → ``src-arxiv-2505-09388``. Ids that map to the same anchor on one
    page are told apart by :func:`source_anchors`.
    """
    return "src-" + re.sub(r"[^a-z0-9]+", "-", record_id.lower()).strip("-")


def source_anchors(record_ids: list[str]) -> dict[str, str]:
    """``{record id: anchor}`` for one page, unique and stable across rebuilds.

    Uses :func:`anchor`; when two ids collide (``doi:10.1/a.b`` and ``doi:10.1/a-b``) each
    gets ``-`` + the first 6 hex digits of the SHA-256 of its id appended, which does not
    depend on the other records.
    """
    plain = Counter(anchor(rid) for rid in record_ids)
    return {rid: anchor(rid) if plain[anchor(rid)] == 1
            else f"{anchor(rid)}-{hashlib.sha256(rid.encode()).hexdigest()[:6]}" for rid in record_ids}


def claim_anchors(claim_ids: list[str]) -> dict[str, str]:
    """``{claim id: anchor}``: the claim's permalink is its stable id itself (``c-…``).

    Claim ids hash the source record and the sentence, so the anchor survives rebuilds
    as long as the sentence does (see :func:`generator.extraction.claim_id`).
    """
    return {cid: cid for cid in claim_ids}


def fmt_conf(value: float | None) -> str:
    """Confidence as shown everywhere: two decimals in [0, 1], or an en dash when absent."""
    return "\u2013" if value is None else f"{value:.2f}"


def _first_names(authors: list[str] | None, show, most: int) -> list[str]:
    """The first ``most`` non-empty ``show(author)`` values: enough to tell one, two or
    "et al.", without cleaning every name of a 300-author paper on every mention."""
    out: list[str] = []
    for author in authors or []:
        name = show(author)
        if name:
            out.append(name)
            if len(out) == most:
                break
    return out


def authors_short(authors: list[str]) -> str:
    """``A``, ``A and B``, or ``A et al.``, each name given-name first (:func:`person_name`)."""
    names = _first_names(authors, person_name, 3)
    if not names:
        return "Unknown authors"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def _cite_name(author: str) -> str:
    """The family name a citation shows: particle and family (``van der Berg``,
    ``García Márquez``), or the whole literal name (``OpenAI Research Team``)."""
    parts = bibliography.split_name(author)
    if "family" not in parts:
        return parts.get("literal") or person_name(author)
    return " ".join(p for p in (parts.get("non-dropping-particle"), parts["family"]) if p)


def short_cite(record: dict) -> str:
    """``Family et al. 2025``, ``Family and Family 2025`` or ``Family 2025`` (``n.d.`` without year).

    Family names come from :func:`generator.bibliography.split_name`, so a ``"Family, Given"``
    author keeps a multi-word family (``García Márquez 2024``) and an organisation its whole
    name; a non-dropping particle is shown, as CSL styles show it.
    """
    authors = _first_names(record.get("authors"), clean, 3)
    if authors:
        name = _cite_name(authors[0])
        name += " et al." if len(authors) > 2 else (f" and {_cite_name(authors[1])}" if len(authors) == 2 else "")
    else:
        name = "Anonymous"
    return f"{name} {record.get('year') or 'n.d.'}"


def cite_suffixes(records: list[dict]) -> dict[str, str]:
    """``{record id: "a" | "b" | … | ""}``: the letter that tells apart records of one page
    whose :func:`short_cite` is the same (``Wang et al. 2025a``, ``Wang et al. 2025b``, in
    the order of ``records``), as author–date styles do; ``""`` for a citation that is
    unique. A sixth trial read "Wang et al. 2025; Wang et al. 2025" in a list of sources."""
    groups: dict[str, list[str]] = {}
    for r in records:
        groups.setdefault(short_cite(r), []).append(r["id"])
    out: dict[str, str] = {}
    for ids in groups.values():
        for i, rid in enumerate(ids):
            out[rid] = letters(i) if len(ids) > 1 else ""
    return out


def unjudged(claim: dict) -> list[str]:
    """Ids of the records a claim was checked against (its verdict's ``checked``) that
    gave no judgement shown with it, in checked order."""
    judged = {j["record_id"] for j in claim["judgements"]}
    return [rid for rid in claim["verdict"].get("checked") or [] if rid not in judged]


def page_cite(record: dict, suffix: str) -> str:
    """:func:`short_cite` with the page's letter ``suffix`` (:func:`cite_suffixes`):
    ``Wang et al. 2025a``, ``Anonymous n.d.-a``."""
    return short_cite(record) + ("-" if suffix and not record.get("year") else "") + suffix


def script_json(value) -> markupsafe.Markup:
    """JSON safe inside ``<script>`` and YAML front matter (see :func:`structured_data.script_json`)."""
    return markupsafe.Markup(structured_data.script_json(value))


_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(jinja2.Environment):
    """A Jinja2 environment that looks ``x.key`` up in a ``dict`` at once.

    Jinja's ``getattr`` first tries the attribute and, when that raises
    ``AttributeError``, the item: for the claim-set dicts the pages are made of, an
    exception for every ``claim.text`` (400,000 lookups at 50 questions, 0.3 s of the
    build's CPU; our measurement). A plain ``dict`` has no attribute but its class's, so
    for any other name the answer is the same: the item, else undefined."""

    def getattr(self, obj, attribute):
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja2 environment: autoescape on, strict undefined, our filters."""
    env = _Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clean=clean, md=md_inline, conf=fmt_conf, links=record_links, authors=authors_short,
                       cite=short_cite, tojson_script=script_json, html_title=html_title,
                       vclass=svg.verdict_class, lclass=lambda label: "ls-l-" + label.lower().replace(" ", "-"))
    return env


# ------------------------------------------------------------------------------ derived views


def verdict_mix(data: dict) -> dict[str, int]:
    """Claims per verdict, in the order of :data:`generator.models.VERDICTS`."""
    mix = Counter(c["verdict"]["verdict"] for c in data["claims"])
    return {v: mix.get(v, 0) for v in VERDICTS}


def answer_status(data: dict) -> dict:
    """What the included evidence covers, as facts the page states.

    Returns ``{"covered": [...], "missing": [...], "best": (n_facets, [record ids]),
    "warnings": [sentences], "facets": [rows], "summary": sentence}``. A facet row is
    ``{"facet", "sources", "claims", "corroborated", "state"}`` with ``state`` one of
    ``covered`` (an included source addresses it and so does a claim), ``sources only``
    (an included source does but no claim) and ``not covered`` (no included source does,
    whatever the claims: a curated claim alone does not cover a facet, so the table agrees
    with the summary). The warnings say plainly when the evidence is weak.
    """
    cov = data["facet_coverage"]
    covered = [c for c in cov if c["records"]]
    missing = [c["facet"] for c in cov if not c["records"]]
    per_record = Counter(rid for c in cov for rid in c["records"])
    best_n = max(per_record.values(), default=0)
    best = sorted(rid for rid, n in per_record.items() if n == best_n) if best_n else []
    p = data["prisma"]
    mix = verdict_mix(data)
    n_claims = len(data["claims"])
    verdict_of = {c["id"]: c["verdict"]["verdict"] for c in data["claims"]}
    warnings = []
    if p["included"] == 0:
        warnings.append("No sources found for this question: no retrieved record passed screening, "
                        "so there are no claims to report.")
    if cov and best_n < len(cov) and p["included"]:
        warnings.append(
            f"The evidence does not answer the question directly: no included source addresses all "
            f"{len(cov)} facets together; the closest addresses {best_n}. "
            f"The claims below bear on parts of the question only.")
    for facet in missing:
        warnings.append(f"No included source addresses \u201c{clean(facet)}\u201d.")
    if n_claims and mix["UNCORROBORATED"] == n_claims:
        warnings.append(
            f"No claim is corroborated: all {n_claims} are stated only by their own source "
            f"({p['included']} sources included).{_uncorroborated_split(data['claims'])}")
    elif n_claims and mix["UNCORROBORATED"] > n_claims / 2:
        warnings.append(
            f"Most claims are uncorroborated: {mix['UNCORROBORATED']} of {n_claims} are stated only "
            f"by their own source ({p['included']} sources included).{_uncorroborated_split(data['claims'])}")
    snap = data["snapshot"]
    if snap.get("matches_question") is False:
        since = f"records from {snap['since']} on" if snap.get("since") else "records of any year"
        warnings.append(
            f"This page shows an older search: the question file's search settings changed after the "
            f"retrieval of {snap['retrieved_at'][:10]} ({len(snap['queries'])} "
            f"quer{'y' if len(snap['queries']) == 1 else 'ies'}, {since}), and screening applied the new "
            f"ones to the records that search found. 'litsynth refresh {data['slug']}' searches again.")
    for name, msg in sorted(data["snapshot"]["provider_errors"].items()):
        # A provider that still returned records (a library file with skipped entries)
        # did not fail: some of its results are missing.
        if data["snapshot"]["provider_counts"].get(name):
            warnings.append(f"Some results from {name} are missing or incomplete: {msg}.")
        else:
            warnings.append(f"Results from {name} are missing: {msg}")
    for key in data["snapshot"].get("unresolved_includes", []):
        warnings.append(f"The listed source {key} could not be found by any provider.")
    rows = []
    for c in cov:
        corroborated = sum(1 for cid in c["claims"] if verdict_of.get(cid) == "CORROBORATED")
        state = ("not covered" if not c["records"] else "covered" if c["claims"] else "sources only")
        rows.append({"facet": c["facet"], "sources": len(c["records"]), "claims": len(c["claims"]),
                     "corroborated": corroborated, "state": state})
    n_cov = len(covered)
    if not cov:
        summary = "The question lists no facets, so coverage cannot be judged."
    elif p["included"] == 0:
        summary = f"Not answered: no source was included, so none of the {len(cov)} facets is covered."
    elif n_cov == len(cov) and best_n == len(cov):
        summary = (f"Covered: all {len(cov)} facets are addressed, and {len(best)} included "
                   f"source{'s' if len(best) != 1 else ''} address{'es' if len(best) == 1 else ''} all of them together.")
    else:
        # "Covered", not "answered": facets say what the sources are about, not whether their
        # claims settle anything — the corroboration count that follows says that.
        summary = (f"Partly covered: the included sources address {n_cov} of {len(cov)} facets, "
                   f"at most {best_n} in any one source.")
    summary += (f" {mix['CORROBORATED']} of {n_claims} claims {'is' if mix['CORROBORATED'] == 1 else 'are'} "
                "corroborated by an independent source." if n_claims else "")
    return {"covered": covered, "missing": missing, "best": (best_n, best), "warnings": warnings,
            "facets": rows, "summary": summary}


def _uncorroborated_split(claims: list[dict]) -> str:
    """What "uncorroborated" rests on, for the weak-evidence box: how many such claims were
    checked against other included sources (and found no support or contradiction: which
    the verifier can miss) and how many were checked against none. Empty when there are none."""
    uncorroborated = [c for c in claims if c["verdict"]["verdict"] == "UNCORROBORATED"]
    checked = sum(1 for c in uncorroborated if c["verdict"].get("checked"))
    unchecked = len(uncorroborated) - checked
    out = ""
    if checked:
        out += (f" {checked} {'was' if checked == 1 else 'were'} checked against other included sources and "
                "the verifier found none that supports or contradicts "
                f"{'it' if checked == 1 else 'them'}; the verifier can miss support that exists (its recall "
                "measured on SciFact is on the Method page).")
    if unchecked:
        out += (f" {unchecked} {'was' if unchecked == 1 else 'were'} not checked against any other source "
                "(the reason under each claim says why).")
    return out


def gap_map(data: dict) -> dict:
    """The facet × source coverage matrix (an evidence gap map) of the included sources.

    Returns ``{"facets": [facet], "rows": [{"record", "cells": [{"hit", "claims"}],
    "n_facets", "claims"}], "totals": [included sources per facet]}``: a cell is a hit when
    screening matched the facet in the record's title and abstract; ``claims`` counts the
    record's claims whose sentence addresses the facet. Rows are ordered by facets covered
    (most first), then by record id.
    """
    facets = [c["facet"] for c in data["facet_coverage"]]
    claims_by = Counter((c["record_id"], f) for c in data["claims"] if c.get("record_id") for f in c["facets"])
    rows = []
    for rec in data["records"]:
        if not rec["screening"]["included"]:
            continue
        matched = set(rec["screening"].get("facets_matched") or [])
        cells = [{"hit": f in matched, "claims": claims_by.get((rec["id"], f), 0)} for f in facets]
        rows.append({"record": rec, "cells": cells, "n_facets": sum(c["hit"] for c in cells),
                     "claims": rec.get("claims", 0)})
    rows.sort(key=lambda r: (-r["n_facets"], r["record"]["id"]))
    totals = [sum(1 for r in rows if r["cells"][i]["hit"]) for i in range(len(facets))]
    return {"facets": facets, "rows": rows, "totals": totals}


def sorted_claims(data: dict) -> list[dict]:
    """Claims strongest verdict first, then by confidence and relevance (the table's order)."""
    order = {v: i for i, v in enumerate(VERDICTS)}
    return sorted(data["claims"], key=lambda c: (order[c["verdict"]["verdict"]],
                                                 -(c["verdict"]["confidence"] or 0), -c["relevance"], c["id"]))


def evidence_counts(claim: dict) -> dict[str, int]:
    """``{"supports": n, "contradicts": n, "checked": n}`` over the judgements a claim's
    verdict counts (:func:`generator.models.counts_toward_verdict`)."""
    judged = [j for j in claim["judgements"] if counts_toward_verdict(j.get("kind", "corroboration"), j["label"])]
    labels = Counter(j["label"] for j in judged)
    return {"supports": labels.get(SUPPORTS, 0), "contradicts": labels.get(CONTRADICTS, 0),
            "checked": len(judged)}


def method_counts(data: dict) -> dict:
    """Counts the method-and-limitations section states, all taken from the claim set."""
    included = [r for r in data["records"] if r["screening"]["included"]]
    claims = data["claims"]
    # Judgements against other (independent) sources; citation checks are counted apart.
    judged = [j for c in claims for j in c["judgements"] if j.get("kind") != "citation"]
    return {
        "included": len(included),
        "included_without_text": sum(1 for r in included if not r.get("text_available")),
        "extracted": sum(1 for c in claims if c["origin"] == "extracted"),
        "curated": sum(1 for c in claims if c["origin"] == "curated"),
        "hedged": sum(1 for c in claims if c.get("hedged")),
        "judgements": len(judged),
        "citation_checks": sum(1 for c in claims for j in c["judgements"] if j.get("kind") == "citation"),
        # The records the verdicts rest on (a cited record that contradicts its claim counts).
        "with_evidence": sum(1 for c in claims if c["verdict"]["supporting"] or c["verdict"]["contradicting"]),
        "sources_with_claims": len({c["record_id"] for c in claims if c.get("record_id")}),
        "years": sorted({r["year"] for r in included if r.get("year")}),
    }


def listed_records(data: dict) -> set[str]:
    """Ids of the claim set's records that its question lists under ``include:`` (screened
    in whatever their relevance, so the page says why a weakly relevant one is there)."""
    wanted = {parse_identifier(k) for k in data["question"].get("include", [])} - {None}
    if not wanted:
        return set()
    return {r["id"] for r in data["records"]
            if wanted & ({r["id"]} | set(Identifiers(**r["ids"]).keys()))}


def page_context(data: dict, *, site_name: str) -> dict:
    """Everything ``synthesis.md.j2`` renders for one claim set (pure)."""
    records = {r["id"]: r for r in data["records"]}
    src = source_anchors([r["id"] for r in data["records"]])
    claims = sorted_claims(data)
    cl_anchor = claim_anchors([c["id"] for c in data["claims"]])
    mix = verdict_mix(data)
    graph = structured_data.synthesis_graph(data, claim_anchors=cl_anchor, source_anchors=src,
                                            publisher=site_name)
    # A citation check is the cited source confirming the claim made from it, not evidence
    # for another source's claim (a ninth trial saw it counted as such).
    evidence_for = Counter(j["record_id"] for c in data["claims"] for j in c["judgements"]
                           if j["label"] in (SUPPORTS, CONTRADICTS) and j.get("kind") != "citation")
    extracted = [c for c in data["claims"] if c["origin"] == "extracted"]
    suffixes = cite_suffixes(data["records"])
    cite_text = {r["id"]: page_cite(r, suffixes[r["id"]]) for r in data["records"]}
    # The citation as a link to the source's entry, escaped once (36,000 such links at 50
    # questions).
    cite_link = {rid: markupsafe.Markup('<a href="#{}">{}</a>').format(src[rid], text)
                 for rid, text in cite_text.items()}
    unjudged_of = {c["id"]: unjudged(c) for c in data["claims"]}
    return dict(
        s=data, q=data["question"], records=records, src=src, cl=cl_anchor, claims=claims,
        cite_suffix=suffixes,
        # A page cites its records about 900 times and links them about 300 times: each
        # record's citation and links are made once.
        cite_text=cite_text,
        links_of={r["id"]: record_links(r) for r in data["records"]},
        unjudged_of=unjudged_of,
        # The sources a claim was checked against without a judgement shown: a list of
        # about ten links under most claims, joined here rather than by a template loop.
        unjudged_links={cid: markupsafe.Markup("; ").join(cite_link[rid] for rid in rids)
                        for cid, rids in unjudged_of.items()},
        mix=mix, status=answer_status(data), prisma=data["prisma"], assessment=data["assessment"],
        gap=gap_map(data), counts=method_counts(data), evidence=evidence_counts,
        evidence_for=evidence_for, verdicts=VERDICTS, meaning=VERDICT_MEANING, listed=listed_records(data),
        included=[r for r in data["records"] if r["screening"]["included"]],
        excluded=[r for r in data["records"] if not r["screening"]["included"]],
        bar=markupsafe.Markup(svg.verdict_bar(mix, title="Claims per verdict")),
        flow=markupsafe.Markup(svg.prisma_flow(
            data["prisma"], claims=len(extracted), checked=sum(1 for c in extracted if c["verdict"].get("checked")))),
        unchecked=sum(1 for c in data["claims"] if not c["verdict"].get("checked")),
        jsonld=script_json(graph),
        verdict_order={v: i for i, v in enumerate(VERDICTS)},
    )


def render_synthesis(data: dict, env: jinja2.Environment, *, site_name: str = "litsynth",
                     kept: str | None = None) -> str:
    """The Markdown page of one claim set. ``kept``: why this build could not rebuild the
    question (the page then shows the claim set of an earlier build, under a warning)."""
    return env.get_template("synthesis.md.j2").render(**page_context(data, site_name=site_name), kept=kept)


def bibliography_files(data: dict) -> dict[str, str]:
    """``{"questions/<slug>/<slug>.bib": BibTeX, "questions/<slug>/<slug>.csl.json":
    CSL-JSON}`` of the included sources (see :mod:`generator.bibliography`)."""
    included = [r for r in data["records"] if r["screening"]["included"]]
    keys = bibliography.citation_keys(included)
    header = (f"Included sources of the synthesis \u201c{clean(data['question']['title'])}\u201d\n"
              f"Snapshot {data['snapshot']['digest']}, retrieved {data['snapshot']['retrieved_at'][:10]}")
    slug = data["slug"]
    return {
        f"questions/{slug}/{slug}.bib": bibliography.to_bibtex(included, keys, header=header),
        f"questions/{slug}/{slug}.csl.json": jsontext.pretty(bibliography.to_csl_json(included, keys)).decode(),
    }


def claim_set_path(slug: str) -> str:
    """Where :func:`question_files` puts the claim set's JSON, under ``docs/``."""
    return f"questions/{slug}.json"


def question_files(data: dict, env: jinja2.Environment, *, site_name: str, kept: str | None = None) -> dict[str, str]:
    """Every file of one claim set's page: ``questions/<slug>.md`` (the page),
    ``questions/<slug>.json`` (the claim set) and :func:`bibliography_files`. A function of
    ``data``, ``site_name``, ``kept`` (see :func:`render_synthesis`), the templates and this
    package's rendering code only (see :func:`question_key`, which assumes ``kept=None``)."""
    # A kept page's download says so too: {"not_rebuilt": {"reason": …}} beside the data.
    published = data if kept is None else {**data, "not_rebuilt": {"reason": kept}}
    files = {f"questions/{data['slug']}.md": render_synthesis(data, env, site_name=site_name, kept=kept),
             claim_set_path(data["slug"]): jsontext.pretty(published).decode()}
    files.update(bibliography_files(data))
    return files


RENDER_MODULES = ("render.py", "svg.py", "bibliography.py", "structured_data.py", "display.py", "models.py")
"""Sources (in ``generator/``) that decide the files of :func:`question_files`."""


@functools.lru_cache(maxsize=8)
def render_digest(templates: Path = TEMPLATES) -> str:
    """SHA-256 hex digest of :data:`RENDER_MODULES` and every file under ``templates``."""
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent
    hash_sources(h, package, RENDER_MODULES)
    for path in sorted(p for p in Path(templates).rglob("*") if p.is_file()):
        h.update(f"templates/{path.relative_to(templates).as_posix()}\0{file_digest(path)}\0".encode())
    return h.hexdigest()


def question_key(data: dict, *, site_name: str, templates: Path = TEMPLATES) -> str:
    """The cache key of :func:`question_files` for ``data``: SHA-256 over the claim set
    (canonical compact JSON), ``site_name`` and :func:`render_digest`."""
    h = hashlib.sha256()
    h.update(render_digest(templates).encode())
    h.update(b"\0" + site_name.encode("utf-8") + b"\0")
    h.update(jsontext.compact(data))
    return h.hexdigest()


def claim_set_schema() -> dict:
    """The claim set's JSON Schema (draft 2020-12), from ``site_templates/claim-set.schema.json``."""
    return json.loads((TEMPLATES / SCHEMA_FILE).read_text(encoding="utf-8"))


def _schema_sections(schema: dict) -> list[dict]:
    def type_of(spec: dict) -> str:
        if "$ref" in spec:
            return spec["$ref"].rsplit("/", 1)[-1]
        if "const" in spec:
            return json.dumps(spec["const"])
        if "enum" in spec:
            return " | ".join(json.dumps(v) for v in spec["enum"])
        kind = spec.get("type", "any")
        kinds = kind if isinstance(kind, list) else [kind]
        out = []
        for k in kinds:
            if k == "array":
                out.append(f"array of {type_of(spec.get('items', {}))}")
            elif k == "object" and "additionalProperties" in spec and isinstance(spec["additionalProperties"], dict):
                out.append(f"object of {type_of(spec['additionalProperties'])}")
            else:
                out.append(k)
        return " or ".join(out)

    def described(spec: dict) -> str:
        if spec.get("description"):
            return spec["description"]
        target = spec.get("$ref") or (spec.get("items") or {}).get("$ref")
        return schema["$defs"][target.rsplit("/", 1)[-1]].get("description", "") if target else ""

    def fields(obj: dict) -> list[dict]:
        required = set(obj.get("required", ()))
        return [{"name": name, "type": type_of(spec), "required": name in required, "description": described(spec)}
                for name, spec in obj.get("properties", {}).items()]

    sections = [{"name": "claim set", "description": schema["description"], "fields": fields(schema)}]
    for name, spec in schema["$defs"].items():
        sections.append({"name": name, "description": spec.get("description", ""), "fields": fields(spec)})
    return sections


SCIFACT_ROWS = (
    ("Abstract, label only", "abstract_label_only"),
    ("Abstract, label + rationale", "abstract_label_rationale"),
    ("Sentence selection", "sentence_selection"),
    ("Sentence selection + label", "sentence_selection_label"),
)
"""The four SciFact metrics (issue 8 names) the Method page shows, with their titles."""

PERFORMANCE_SCHEMA = "litsynth/performance/1"
"""``schema`` of the benchmark results that :func:`render_performance` renders."""

_NUMERIC_CELL = re.compile(r"^[-+≥≤~–]?\s*[\d.,]+\s*(?:%|×|[kKMG]?B)?$|^–$")


def check_performance(data) -> None:
    """Raise ``ValueError`` (one line) unless ``data`` has the shape of benchmark results:
    ``{"schema": PERFORMANCE_SCHEMA, "command", "generated_at", "seconds", "machine": {"cpu",
    "cores", "ram_gib", "python", "system", "load"}, "checks": [{"target", "measured",
    "met"}], "tables": [{"title", "command", "date", "seconds", "columns": [str],
    "rows": [[str]], "notes": [str]}], "next": [str]}`` — written by
    ``benchmarks/report.py`` as ``content/performance.json``."""
    def need(obj, keys, where):
        if not isinstance(obj, dict):
            raise ValueError(f"{where} is not an object")
        missing = [k for k in keys if k not in obj]
        if missing:
            raise ValueError(f"{where} lacks {', '.join(missing)}")

    need(data, ("schema", "command", "generated_at", "seconds", "machine", "tables"), "the results")
    if data["schema"] != PERFORMANCE_SCHEMA:
        raise ValueError(f"schema is {data['schema']!r}, expected {PERFORMANCE_SCHEMA!r}")
    need(data["machine"], ("cpu", "cores", "ram_gib", "python", "system", "load"), "machine")
    for i, check in enumerate(data.get("checks") or []):
        need(check, ("target", "measured", "met"), f"checks[{i}]")
    for i, table in enumerate(data["tables"]):
        need(table, ("title", "command", "date", "seconds", "columns", "rows"), f"tables[{i}]")
        if any(not isinstance(r, list) or len(r) != len(table["columns"]) for r in table["rows"]):
            raise ValueError(f"tables[{i}]: every row needs {len(table['columns'])} cells")


def render_performance(data: dict, env: jinja2.Environment) -> str:
    """The Performance page (``performance.md``) from benchmark results (shape: see
    :func:`check_performance`, which is applied first and may raise ``ValueError``).
    Columns whose cells are all numbers are right-aligned."""
    check_performance(data)
    tables = []
    for table in data["tables"]:
        cells = list(zip(*table["rows"])) or [()] * len(table["columns"])
        numeric = [bool(col) and all(_NUMERIC_CELL.match(str(c).strip()) for c in col) for col in cells]
        tables.append({**table, "numeric": numeric, "notes": table.get("notes") or []})
    perf = {"checks": [], "next": [], **data}
    return env.get_template("performance.md.j2").render(perf=perf, tables=tables)


def _screening_rule() -> dict[str, float]:
    """The screening constants the Method page states (read from the module, never typed)."""
    from generator import screening

    return {"min_facet_evidence": screening.MIN_FACET_EVIDENCE,
            "min_question_coverage": screening.MIN_QUESTION_COVERAGE,
            "term_saturation": screening.TERM_SATURATION,
            "lone_word_credit": screening.LONE_WORD_CREDIT}


def render_site(syntheses: list[dict], *, site_name: str, failures: dict[str, str] | None = None,
                templates: Path = TEMPLATES, performance: dict | None = None,
                verifier: dict | None = None,
                rendered: dict[str, dict[str, str]] | None = None,
                kept: dict[str, str] | None = None) -> dict[str, str]:
    """All generated files of the site: ``{relative path: text}``.

    ``syntheses`` are claim sets; ``failures`` maps question slugs that could not be built to
    a one-line reason (shown on the index). Paths are listed in the module docstring. The
    index lists the syntheses newest first (by retrieval time, then slug). ``performance``
    (benchmark results, see :func:`render_performance`) adds ``performance.md``.
    ``verifier`` (``{"method", "version", "thresholds", "runs"}``, see
    :func:`generator.pipeline._verifier_facts`) gives the Method page its verifier section:
    thresholds and the SciFact numbers of each run record. ``rendered`` maps slugs to their
    :func:`question_files` made earlier (the build keeps them between runs); the others
    are rendered here. ``kept`` maps slugs among ``failures`` whose claim set of an earlier
    build is in ``syntheses`` to the failure (their pages say so).
    """
    kept = kept or {}
    env = environment(templates)
    files: dict[str, str] = {}
    ordered = sorted(syntheses, key=lambda d: (d["snapshot"]["retrieved_at"], d["slug"]), reverse=True)
    for data in ordered:
        done = (rendered or {}).get(data["slug"])
        files.update(done if done is not None
                     else question_files(data, env, site_name=site_name, kept=kept.get(data["slug"])))
    files["index.md"] = env.get_template("index.md.j2").render(
        syntheses=ordered, mixes={d["slug"]: verdict_mix(d) for d in ordered},
        bars={d["slug"]: markupsafe.Markup(svg.verdict_bar(verdict_mix(d), width=160, height=14, labels=False,
                                                           title="Claims per verdict")) for d in ordered},
        failures=failures or {}, kept=kept, site_name=site_name, verdicts=VERDICTS)
    files["method.md"] = env.get_template("method.md.j2").render(
        syntheses=ordered, verifier=verifier, metric_rows=SCIFACT_ROWS, screening=_screening_rule(),
        caveats=caveats)
    files["tags.md"] = env.get_template("tags.md.j2").render(syntheses=ordered)
    schema = claim_set_schema()
    files[SCHEMA_FILE] = json.dumps(schema, ensure_ascii=False, indent=1) + "\n"
    files["claim-set-schema.md"] = env.get_template("claim-set-schema.md.j2").render(
        sections=_schema_sections(schema), schema_id=schema["properties"]["schema"]["const"])
    for dest, source in ASSETS.items():
        files[dest] = (templates / source).read_text(encoding="utf-8")
    if performance is not None:
        files["performance.md"] = render_performance(performance, env)
    return files


def nav(syntheses: list[dict], *, performance: bool = False) -> list:
    """The mkdocs ``nav``: home, one entry per synthesis (by title), tags, method, schema,
    and the Performance page when ``performance``."""
    items = sorted(syntheses, key=lambda d: (clean(d["question"]["title"]).lower(), d["slug"]))
    out: list = [{"Home": "index.md"}]
    if items:
        out.append({"Syntheses": [{html_title(d["question"]["title"]) or d["slug"]: f"questions/{d['slug']}.md"}
                                  for d in items]})
    out += [{"Tags": "tags.md"}, {"Method": "method.md"}, {"Claim set schema": "claim-set-schema.md"}]
    if performance:
        out.append({"Performance": "performance.md"})
    return out
