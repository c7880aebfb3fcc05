"""Helpers for the rendering tests: claim sets with chosen strings, and reading built HTML.

:func:`claim_set` builds a claim set of the exact shape :func:`generator.synthesis.synthesise`
produces (the tests validate it against ``site_templates/claim-set.schema.json``, which the
real claim sets also pass), so a test can put a hostile title or a LaTeX sentence exactly
where a reader would see it. :func:`project` makes a temporary project with a copy of the
repository's ``mkdocs.yml``.
"""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

from conftest import PROJECT_ROOT
from generator.extraction import claim_id

NOW = "2026-11-30T00:00:00+00:00"


def record(rid: str, title: str, *, authors=("Ann Smith", "Bo Li"), year=2025, included=True,
           facets=(), claims=0, venue=None, doi=None, reason="off-topic: matches 0 of 2 facets") -> dict:
    """One record entry of a claim set (arXiv id taken from ``arxiv:<id>`` record ids)."""
    arxiv = rid.split(":", 1)[1] if rid.startswith("arxiv:") else None
    return {
        "id": rid, "title": title, "authors": list(authors), "year": year, "month": None, "venue": venue,
        "ids": {"doi": doi, "arxiv": arxiv, "arxiv_version": None, "openalex": None, "pmid": None,
                "pmcid": None, "s2": None},
        "url": f"https://arxiv.org/abs/{arxiv}" if arxiv else None, "provider": "library",
        "retrieved_at": "2026-11-30T00:00:00Z", "work_id": rid, "text_available": True,
        "screening": {"record_id": rid, "included": included, "score": 0.5 if included else 0.1,
                      "facets_matched": list(facets), "reason": None if included else reason,
                      "duplicate_of": None, "provider": "library"},
        "claims": claims,
    }


def evidence(rid: str, text: str, index: int = 2) -> dict:
    return {"record_id": rid, "sentence_index": index, "text": text, "start": 0, "end": len(text), "score": 0.8}


def claim(rid: str, text: str, *, verdict="UNCORROBORATED", confidence=None, judgements=(), facets=(),
          index: int = 3, hedged=False, checked=None) -> dict:
    """One extracted claim of record ``rid``; ``judgements`` are ``(record id, label,
    confidence, [evidence sentences])`` tuples; ``checked`` the records it was checked
    against (default: those of ``judgements``)."""
    cid = claim_id(rid, text)
    js = [{"claim_id": cid, "record_id": jr, "label": label, "confidence": conf,
           "rationale": [evidence(jr, s, i + 1) for i, s in enumerate(sents)], "method": "lexical",
           "method_version": "lexical-1", "kind": "corroboration"} for jr, label, conf, sents in judgements]
    supporting = [j["record_id"] for j in js if j["label"] == "SUPPORTS"]
    contradicting = [j["record_id"] for j in js if j["label"] == "CONTRADICTS"]
    return {
        "id": cid, "text": text, "origin": "extracted", "record_id": rid, "sentence_index": index,
        "hedged": hedged, "cites": [], "facets": list(facets), "relevance": 0.5, "source_group": rid,
        "verdict": {"claim_id": cid, "verdict": verdict, "confidence": confidence, "supporting": supporting,
                    "contradicting": contradicting, "reason": f"{verdict.capitalize()} by the records shown.",
                    "citation_label": None,
                    "checked": list(checked) if checked is not None else [j["record_id"] for j in js]},
        "judgements": js,
    }


def claim_set(slug: str, title: str, records: list[dict], claims: list[dict], *, facets=("alpha", "beta"),
              question="Does it work?", tags=("testing",), retrieved_at=NOW) -> dict:
    """A complete claim set; PRISMA counts, facet coverage and assessment are derived."""
    included = [r for r in records if r["screening"]["included"]]
    excluded = [r for r in records if not r["screening"]["included"]]
    for r in records:
        r["claims"] = sum(1 for c in claims if c["record_id"] == r["id"])
    return {
        "schema": "litsynth/claim-set/1",
        "slug": slug,
        "question": {"slug": slug, "path": f"content/questions/{slug}.yaml", "title": title, "question": question,
                     "facets": list(facets), "queries": [title], "providers": ["library"], "since": None,
                     "max_records": 100, "include": [], "claims": [], "tags": list(tags)},
        "snapshot": {"digest": "0123456789abcdef", "retrieved_at": retrieved_at, "providers": ["library"],
                     "queries": [title], "since": None, "max_records": 100,
                     "provider_counts": {"library": len(records)}, "provider_errors": {},
                     "unresolved_includes": []},
        "prisma": {"identified": len(records), "identified_by_provider": {"library": len(records)},
                   "duplicates": 0, "screened": len(records), "excluded": len(excluded),
                   "excluded_by_reason": {"off-topic": len(excluded)} if excluded else {},
                   "included": len(included), "included_without_text": 0},
        "records": records,
        "duplicates": [],
        "claims": claims,
        "facet_coverage": [{"facet": f, "records": [r["id"] for r in included if f in r["screening"]["facets_matched"]],
                            "claims": [c["id"] for c in claims if f in c["facets"]]} for f in facets],
        "build": {"litsynth_version": "0.1.0", "verifier": {"method": "lexical", "version": "lexical-1"},
                  "max_claims_per_record": 6},
        "assessment": {"reviewers": [{"name": "Relevance", "score": 0.5, "reasons": ["Made up for a test."]}],
                       "overall": 0.5, "unverifiable_claims": 0, "count_problems": []},
    }


def project(tmp: Path) -> Path:
    """A project folder holding a copy of the repository's ``mkdocs.yml``."""
    tmp.mkdir(parents=True, exist_ok=True)
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp / "mkdocs.yml")
    return tmp


class Page(HTMLParser):
    """A parsed HTML page: every element with its attributes, children and visible text.

    ``elements`` lists every element in document order; an element's text excludes scripts,
    styles, the ``<title>`` and heading permalinks (``a.headerlink``), and a ``<br>``
    counts as a space. ``scripts`` holds ``(attrs, text)`` of every ``<script>``.
    """

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self.scripts: list[tuple[dict, str]] = []
        self._stack: list[dict] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        el = {"tag": tag, "attrs": dict(attrs), "text": [], "children": []}
        if self._stack:
            self._stack[-1]["children"].append(el)
        self.elements.append(el)
        if tag not in self.VOID:
            self._stack.append(el)
        elif tag == "br":
            self.handle_data(" ")  # a line break separates words visually

    def handle_endtag(self, tag):
        for i in range(len(self._stack) - 1, -1, -1):
            if self._stack[i]["tag"] == tag:
                el = self._stack[i]
                del self._stack[i:]
                if tag == "script":
                    self.scripts.append((el["attrs"], "".join(el["text"])))
                return

    def handle_data(self, data):
        if any("headerlink" in (e["attrs"].get("class") or "").split() for e in self._stack):
            return  # the theme's ¶ permalink after a heading is not part of its text
        hidden = any(e["tag"] in ("script", "style", "title") for e in self._stack)
        for el in self._stack:
            if not hidden or el["tag"] in ("script", "style", "title"):
                el["text"].append(data)

    def find(self, tag: str | None = None, **attrs) -> list[dict]:
        """Elements with ``tag`` whose attributes contain ``attrs`` (``class_`` matches one class)."""
        out = []
        for el in self.elements:
            if tag and el["tag"] != tag:
                continue
            ok = True
            for key, want in attrs.items():
                if key == "class_":
                    ok = want in (el["attrs"].get("class") or "").split()
                else:
                    ok = el["attrs"].get(key) == want
                if not ok:
                    break
            if ok:
                out.append(el)
        return out

    def by_id(self, ident: str) -> dict:
        found = self.find(id=ident)
        assert len(found) == 1, f"{len(found)} elements with id {ident!r}"
        return found[0]


def text(el: dict) -> str:
    """Visible text of an element, whitespace collapsed."""
    return " ".join("".join(el["text"]).split())


def descendants(el: dict) -> list[dict]:
    out = []
    for child in el["children"]:
        out.append(child)
        out.extend(descendants(child))
    return out


def content(page: str) -> str:
    """The article part of a Material page (between ``<article`` and ``</article>`` of the
    main content), where the generated Markdown ends up."""
    m = re.search(r'<article class="md-content__inner md-typeset">(.*)</article>', page, re.S)
    assert m, "no Material article in page"
    return m.group(1)
