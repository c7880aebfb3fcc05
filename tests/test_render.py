"""The synthesis pages, downloads and structured data of the real example site.

The project's example questions are built once per module from the ../shared corpora
(offline, like ``make site``), then every synthesis page is checked section by section, its
JSON-LD, BibTeX (bibtexparser), CSL-JSON (the official CSL-JSON schema) and claim set (the
documented claim-set schema). A second build puts hostile strings into real records and
checks that they come out as text.
"""

from __future__ import annotations

import json
import re
import shutil

import bibtexparser
import jsonschema
import pytest

from claimsets import NOW, Page, content, descendants, project, text
from conftest import PROJECT_ROOT, shared_path, copy_example_questions
from generator import pipeline, render, site, snapshots, svg
from generator.models import Identifiers, Question, Record, Snapshot
from generator.questions import load_questions
from generator.synthesis import synthesise

SECTIONS = ["answer-status", "verdicts", "prisma-flow", "evidence-gap-map", "claims", "claim-details",
            "sources", "reviewers", "method-and-limitations", "downloads"]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    corpus = shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz")
    csl = shared_path("corpus", "seed-topic.csl.json")
    root = tmp_path_factory.mktemp("example")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    copy_example_questions(root / "content" / "questions")
    report = pipeline.build(pipeline.Options(root=root, libraries=[corpus, csl], offline=True, now=NOW))
    assert not report.failed
    folder = root / ".litsynth" / "docs" / "questions"
    data = {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}
    assert len(data) == 3
    pages = {slug: (root / "site" / "questions" / slug / "index.html").read_text() for slug in data}
    return root, data, pages


def _section_order(page: Page) -> list[str]:
    return [el["attrs"]["id"] for el in page.find("h2") if el["attrs"].get("id") in SECTIONS]


def _jsonld(page: Page) -> dict:
    blocks = [s for attrs, s in page.scripts if attrs.get("type") == "application/ld+json"]
    assert len(blocks) == 1
    return json.loads(blocks[0])


def test_every_page_has_the_sections_in_order(built):
    root, data, pages = built
    for slug, d in data.items():
        page = Page(pages[slug])
        assert _section_order(page) == SECTIONS, slug
        body = content(pages[slug])
        # Question and facets at the top, verdict chart and PRISMA flow as inline SVG.
        assert d["question"]["question"].split()[0] in text(page.find("div", class_="ls-question")[0])
        for facet in d["question"]["facets"]:
            assert facet in [text(el) for el in page.find("span", class_="ls-chip")]
        bar = page.find("svg", class_="ls-bar")
        assert len(bar) == 1
        mix = render.verdict_mix(d)
        assert all(f"{v} {n}" in bar[0]["attrs"]["aria-label"] for v, n in mix.items())
        flow = page.find("svg", class_="ls-prisma")
        assert len(flow) == 1
        p = d["prisma"]
        flow_text = " ".join(text(el) for el in descendants(flow[0]) if el["tag"] == "text")
        for label, n in [("Records identified", p["identified"]), ("Duplicates removed", p["duplicates"]),
                         ("Records screened", p["screened"]), ("Records excluded", p["excluded"]),
                         ("Sources included", p["included"]), ("Claims extracted", sum(c["origin"] == "extracted" for c in d["claims"]))]:
            assert f"{label} (n = {n})" in flow_text, (slug, label)
        # Answer status: one row per facet with the count of included sources addressing it.
        facet_rows = [[text(td) for td in tr["children"]] for table in page.find("table", class_="ls-facets")
                      for tr in descendants(table) if tr["tag"] == "tr" and tr["children"][0]["tag"] == "td"]
        assert [r[0] for r in facet_rows] == [c["facet"] for c in d["facet_coverage"]]
        assert [int(r[2]) for r in facet_rows] == [len(c["records"]) for c in d["facet_coverage"]]
        # Gap map: one row per included source; totals per facet.
        gap = page.find("table", class_="ls-gap")[0]
        gap_rows = [tr for tr in descendants(gap) if tr["tag"] == "tr" and tr["children"][0]["tag"] == "td"]
        assert len(gap_rows) == p["included"] + 1  # + the totals row
        totals = [text(td) for td in gap_rows[-1]["children"]][1:1 + len(d["facet_coverage"])]
        assert [int(t) for t in totals] == [len(c["records"]) for c in d["facet_coverage"]]
        # Reviewers: one row per reviewer and no average of them (it hid a weak reviewer).
        reviewers = page.find("table", class_="ls-reviewers")[0]
        names = [text(tr["children"][0]) for tr in descendants(reviewers) if tr["tag"] == "tr"][1:]
        assert names == [r["name"] for r in d["assessment"]["reviewers"]]
        assert "No overall score is given" in body
        # The status line says how many claims are corroborated, and "all" when none is.
        status = render.answer_status(d)
        n_corroborated = render.verdict_mix(d)["CORROBORATED"]
        assert f" {n_corroborated} of {len(d['claims'])} claims" in status["summary"]
        assert not status["summary"].startswith("Partly answered")
        # Method and limitations state the actual counts.
        method = text(page.find("div", class_="ls-method")[0])
        assert (f"{p['identified']} records were identified, {p['duplicates']} merged as duplicates, "
                f"{p['screened']} screened and {p['included']} included") in method
        assert f"{render.verdict_mix(d)['UNCORROBORATED']} of {len(d['claims'])} claims rest on a single source" in method
        assert "http://" not in body.replace("http://www.w3.org/2000/svg", "")


def test_claims_table_and_details_show_every_claim_and_evidence_sentence(built):
    root, data, pages = built
    for slug, d in data.items():
        page = Page(pages[slug])
        table = page.find("div", class_="ls-claims")[0]
        rows = [tr for tr in descendants(table) if tr["tag"] == "tr" and tr["children"][0]["tag"] == "td"]
        assert len(rows) == len(d["claims"])
        shown = {text(tr["children"][2]).removesuffix(" (hedged)") for tr in rows}
        assert shown == {" ".join(c["text"].split()) for c in d["claims"]}
        for tr in rows:
            assert tr["attrs"] == {}
            verdict, conf = tr["children"][0], tr["children"][1]
            assert text(verdict) in ("CORROBORATED", "CONTESTED", "CONTRADICTED", "UNCORROBORATED", "UNVERIFIABLE")
            float(conf["attrs"]["data-sort"])
        for c in d["claims"]:
            heading = page.by_id(c["id"])  # the permalink anchor is the stable claim id
            assert heading["tag"] == "h3" and text(heading) == " ".join(c["text"].split())
            detail = page.by_id(f"detail-{c['id']}")
            items = [el for el in descendants(detail) if el["tag"] == "li"]
            assert len(items) == len(c["judgements"])
            for li, j in zip(items, c["judgements"]):
                label = [el for el in descendants(li) if "ls-label" in el["attrs"].get("class", "")]
                assert text(label[0]) == j["label"]
                assert f"confidence {j['confidence']:.2f}" in text(li)
                quotes = [text(q) for q in descendants(li) if q["tag"] == "blockquote"]
                assert [q.split(" (sentence ")[0] for q in quotes] == [" ".join(e["text"].split()) for e in j["rationale"]]
                hrefs = [a["attrs"]["href"] for a in descendants(li) if a["tag"] == "a"]
                assert f"#{render.source_anchors([r['id'] for r in d['records']])[j['record_id']]}" in hrefs
                rec = next(r for r in d["records"] if r["id"] == j["record_id"])
                assert all(url in hrefs for _, url in render.record_links(rec))


def test_sources_list_links_and_screening_decisions(built):
    root, data, pages = built
    for slug, d in data.items():
        page = Page(pages[slug])
        anchors = render.source_anchors([r["id"] for r in d["records"]])
        assert len(set(anchors.values())) == len(d["records"])
        for r in d["records"]:
            li = page.by_id(anchors[r["id"]])
            assert li["tag"] == "li"
            assert text(li["children"][0]) == " ".join(r["title"].split())
            hrefs = [a["attrs"]["href"] for a in descendants(li) if a["tag"] == "a"]
            if r["ids"]["arxiv"]:
                assert f"https://arxiv.org/abs/{r['ids']['arxiv']}" in hrefs
            decision = text(li)
            if r["screening"]["included"]:
                why = " because the question file lists it under include" if r["id"] in render.listed_records(d) else ""
                assert f"Included{why}; relevance {r['screening']['score']:.2f}" in decision
            else:
                assert f"Excluded: {' '.join(r['screening']['reason'].split())}" in decision


def test_json_ld_holds_one_claim_review_per_claim(built):
    root, data, pages = built
    for slug, d in data.items():
        page = Page(pages[slug])
        assert "<" not in [s for a, s in page.scripts if a.get("type") == "application/ld+json"][0]
        graph = _jsonld(page)
        assert graph["@context"] == "https://schema.org"
        reviews = [n for n in graph["@graph"] if n["@type"] == "ClaimReview"]
        articles = {n["@id"]: n for n in graph["@graph"] if n["@type"] == "ScholarlyArticle"}
        assert len(reviews) == len(d["claims"])
        assert len(articles) >= d["prisma"]["included"]
        by_id = {c["id"]: c for c in d["claims"]}
        for review, c in zip(reviews, d["claims"]):
            assert review["@id"] == f"#{c['id']}" and c["id"] in by_id
            assert review["claimReviewed"] == " ".join(c["text"].split())
            assert review["reviewRating"]["alternateName"] == c["verdict"]["verdict"]
            assert review["itemReviewed"]["@type"] == "Claim"
            appearance = review["itemReviewed"].get("appearance")
            refs = appearance if isinstance(appearance, list) else [appearance] if appearance else []
            assert refs or c["origin"] == "curated"
            for ref in refs:
                assert ref["@id"] in articles
                page.by_id(ref["@id"][1:])
        for art in articles.values():
            page.by_id(art["@id"][1:])
            assert art["name"] and art["url"].startswith("https://")


def test_bibtex_parses_and_lists_the_included_sources(built):
    root, data, pages = built
    for slug, d in data.items():
        bib = (root / "site" / "questions" / slug / f"{slug}.bib").read_text(encoding="utf-8")
        library = bibtexparser.parse_string(bib)
        assert library.failed_blocks == []
        included = [r for r in d["records"] if r["screening"]["included"]]
        assert len(library.entries) == len(included)
        keys = [e.key for e in library.entries]
        assert len(set(keys)) == len(keys)
        eprints = {e.fields_dict["eprint"].value for e in library.entries if "eprint" in e.fields_dict}
        assert eprints == {r["ids"]["arxiv"] for r in included if r["ids"]["arxiv"]}
        for e in library.entries:
            assert e.entry_type in ("misc", "article", "inproceedings")
            assert {"title", "year", "url"} <= set(e.fields_dict), e.key
        # The page's download links resolve to the files.
        hrefs = [a["attrs"].get("href") for a in Page(pages[slug]).find("a")]
        assert f"{slug}.bib" in hrefs and f"{slug}.csl.json" in hrefs and f"../{slug}.json" in hrefs


def test_csl_json_validates_against_the_csl_schema(built):
    root, data, pages = built
    schema = json.loads(shared_path("schemas", "csl-data.json").read_text())
    validator = jsonschema.Draft7Validator(schema)
    for slug, d in data.items():
        items = json.loads((root / "site" / "questions" / slug / f"{slug}.csl.json").read_text())
        errors = list(validator.iter_errors(items))
        assert not errors, errors[:3]
        bib_keys = {e.key for e in bibtexparser.parse_string(
            (root / "site" / "questions" / slug / f"{slug}.bib").read_text()).entries}
        assert {i["id"] for i in items} == bib_keys
        assert len(items) == d["prisma"]["included"]
        arxiv = [i for i in items if i.get("number", "").startswith("arXiv:")]
        assert arxiv and all(i["type"] == "article" and i["DOI"].startswith("10.48550/arXiv.") for i in arxiv)


def test_claim_sets_match_the_documented_schema(built):
    root, data, pages = built
    schema = render.claim_set_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    for slug, d in data.items():
        errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(d)]
        assert not errors, errors[:5]
    doc = Page((root / "site" / "claim-set-schema" / "index.html").read_text())
    documented = {text(el["children"][0]).split(" ")[0] for el in doc.find("tr") if el["children"][0]["tag"] == "td"}
    assert {"claim_id", "verdict", "judgements", "rationale", "facet_coverage", "identified_by_provider"} <= documented
    assert (root / "site" / "claim-set.schema.json").is_file()


def test_claim_anchors_survive_a_rebuild_without_one_source(built):
    """Removing one record from the snapshot changes no other claim's anchor."""
    root, data, pages = built
    questions = {q.slug: q for q in load_questions(root / "content" / "questions")}
    env = render.environment()
    slug = "alignment-tax"
    snap = snapshots.read(root / "content" / "snapshots" / f"{slug}.json")
    dropped = data[slug]["claims"][0]["record_id"]
    smaller = Snapshot.from_dict({**snap.to_dict(), "records": [r.to_dict() for r in snap.records if r.id != dropped]})
    before = Page(render.render_synthesis(synthesise(questions[slug], snap), env))
    after = Page(render.render_synthesis(synthesise(questions[slug], smaller), env))
    kept = [c for c in data[slug]["claims"] if c["record_id"] not in (None, dropped)]
    assert kept
    for c in kept:
        assert text(before.by_id(c["id"])) == text(after.by_id(c["id"]))
    ids_before = {el["attrs"]["id"] for el in before.elements if el["attrs"].get("id", "").startswith("src-")}
    ids_after = {el["attrs"]["id"] for el in after.elements if el["attrs"].get("id", "").startswith("src-")}
    assert ids_before - ids_after == {render.anchor(dropped)}


def test_source_anchors_are_unique_and_independent_of_other_records():
    ids = ["doi:10.1/a.b", "doi:10.1/a-b", "arxiv:2501.00001"]
    anchors = render.source_anchors(ids)
    assert len(set(anchors.values())) == 3
    assert anchors["arxiv:2501.00001"] == "src-arxiv-2501-00001"
    assert render.source_anchors(ids[:2]) == {k: anchors[k] for k in ids[:2]}
    assert anchors["doi:10.1/a.b"].startswith("src-doi-10-1-a-b-")


HOSTILE = [
    "Precision | Recall trade-offs for `a|b` patterns",
    "<script>alert(1)</script> considered harmful",
    "Templates {{ config.site_name }} and {% include 'x' %} in titles",
    "[link](http://x) and [Re] reproductions",
    "\u202eRTL override\u202c and \u200fmarks in titles",
    "Control\x07 and\x1b characters in titles",
]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """Real synthesis of records whose titles and abstracts hold hostile strings."""
    records = []
    for i, title in enumerate(HOSTILE):
        aid = f"2501.{i:05d}"
        records.append(Record(
            id=f"arxiv:{aid}", title=title, ids=Identifiers(arxiv=aid), authors=("Ann <b>Smith</b>", "Bo | Li"),
            year=2025, provider="library", retrieved_at=NOW,
            abstract=(f"Sparse retrieval is studied here. We show that sparse retrieval improves recall by 12% "
                      f"over dense retrieval on {title}. Results indicate that sparse retrieval reduces latency "
                      f"by 30% compared with dense retrieval.")))
    q = Question(slug="hostile", path="content/questions/hostile.yaml",
                 title="Does <b>sparse</b> retrieval | help *recall*? {{ x }}",
                 question="Does sparse retrieval improve recall? <script>alert(2)</script>",
                 facets=("sparse retrieval", "recall"), queries=("sparse retrieval",), providers=("library",),
                 include=tuple(r.id for r in records), tags=("retrieval",))
    snap = Snapshot(slug="hostile", queries=q.queries, providers=("library",), since=None, max_records=100,
                    records=tuple(records), provider_counts={"library": len(records)}, retrieved_at=NOW)
    data = synthesise(q, snap)
    root = project(tmp_path_factory.mktemp("hostile"))
    files = render.render_site([data], site_name="Test site")
    site_dir = site.build(root, files, render.nav([data]))
    return data, site_dir


def test_hostile_strings_render_as_text(hostile):
    data, site_dir = hostile
    raw = (site_dir / "questions" / "hostile" / "index.html").read_text()
    page = Page(raw)
    body = Page(content(raw))
    assert len(data["claims"]) >= len(HOSTILE)
    for rec in data["records"]:
        li = page.by_id(render.anchor(rec["id"]))
        strong = li["children"][0]
        assert text(strong) == render.clean(rec["title"])
        assert not descendants(strong)
    for c in data["claims"]:
        heading = page.by_id(c["id"])
        assert text(heading) == render.clean(c["text"]) and not heading["children"]
    # Nothing from the strings became an element, a link or a script.
    assert [attrs.get("type") for attrs, _ in body.scripts] == ["application/ld+json"]
    assert "<b>" not in raw and "<script>alert" not in raw
    assert all(text(e) in ("(hedged)", "Stated in") for e in body.find("em"))
    links = [a["attrs"].get("href", "") for a in body.find("a")]
    assert not [h for h in links if h.startswith("http://x") or h == "x" or "Re" == h]
    assert "alert(1)" not in "".join(s for a, s in page.scripts if a.get("type") != "application/ld+json")
    for ch in ("\u202e", "\u202c", "\u200f", "\x07", "\x1b"):
        assert ch not in raw
    assert "{{ config.site_name }}" in text(page.by_id(render.anchor("arxiv:2501.00002")))
    assert "{% include 'x' %}" in raw.replace("&#39;", "'").replace("&#x27;", "'")
    # The question title in Markdown context, nav, <title> and the page header.
    title = render.clean(data["question"]["title"])
    assert text(page.find("h1")[0]) == title
    assert text(page.find("title")[0]).startswith(title)
    assert title in [text(a) for a in page.find("a", class_="md-nav__link")]
    index = Page((site_dir / "index.html").read_text())
    assert {text(a).removeprefix("Next ") for a in index.find("a", href="questions/hostile/")} == {title}
    assert not [e for e in Page(content((site_dir / "index.html").read_text())).elements if e["tag"] in ("b", "script")]
    # JSON-LD: no raw "<" (so no "</script>"), and the strings come back unchanged.
    ld_text = [s for a, s in page.scripts if a.get("type") == "application/ld+json"][0]
    assert "<" not in ld_text and ">" not in ld_text
    graph = json.loads(ld_text)["@graph"]
    names = {n["name"] for n in graph if n["@type"] == "ScholarlyArticle"}
    assert render.clean(HOSTILE[1]) in names
    # The downloads stay valid.
    bib = bibtexparser.parse_string((site_dir / "questions" / "hostile" / "hostile.bib").read_text())
    assert not bib.failed_blocks and len(bib.entries) == len(HOSTILE)
    csl = json.loads((site_dir / "questions" / "hostile" / "hostile.csl.json").read_text())
    jsonschema.validate(csl, json.loads(shared_path("schemas", "csl-data.json").read_text()))


def test_svg_figures_escape_text_and_add_up():
    flow = svg.prisma_flow({"identified": 7, "identified_by_provider": {"<x>": 7}, "duplicates": 1, "screened": 6,
                            "excluded": 2, "excluded_by_reason": {"off-topic & <b>": 2}, "included": 4}, claims=3)
    assert "<x>" not in flow and "&lt;x&gt;: 7" in flow and "off-topic &amp; &lt;b&gt;: 2" in flow
    page = Page(flow)
    assert len(page.find("rect")) >= 6
    bar = svg.verdict_bar({"CORROBORATED": 1, "UNCORROBORATED": 3})
    widths = [float(r["attrs"]["width"]) for r in Page(bar).find("rect")]
    assert widths == [150.0, 450.0]
    empty = svg.verdict_bar({})
    assert "ls-bar-empty" in empty


def test_a_synthesis_with_nothing_included_still_builds(tmp_path):
    """No included source, no claims, no facets, one failed question: strict build passes and
    the page says so instead of showing empty tables."""
    from claimsets import claim_set, record

    rec = record("arxiv:2507.00001", "An off-topic paper", included=False)
    data = claim_set("nothing", "A question nothing answers", [rec], [], facets=())
    root = project(tmp_path / "proj")
    files = render.render_site([data], site_name="Test site", failures={"broken": "no snapshot and no provider"})
    site_dir = site.build(root, files, render.nav([data]))
    page = Page((site_dir / "questions" / "nothing" / "index.html").read_text())
    assert _section_order(page) == SECTIONS
    body = text(page.find("article", class_="md-content__inner")[0])
    assert "No sources found for this question" in body
    assert "No source was included, so there is nothing to map." in body
    assert "No claims: no source passed screening." in body
    assert _jsonld(page)["@graph"] == []
    assert bibtexparser.parse_string((site_dir / "questions" / "nothing" / "nothing.bib").read_text()).entries == []
    assert json.loads((site_dir / "questions" / "nothing" / "nothing.csl.json").read_text()) == []
    index = text(Page((site_dir / "index.html").read_text()).find("article", class_="md-content__inner")[0])
    assert "broken: no snapshot and no provider" in index


def test_bibtex_values_keep_latex_and_escape_bare_specials():
    from generator import bibliography as bib

    assert bib.latex_value("Why 42% of a_b & c #1 fail") == r"Why 42\% of a\_b \& c \#1 fail"
    assert bib.latex_value(r"Evaluation \& Acceptability of \textit{alia lingua}") == \
        r"Evaluation \& Acceptability of \textit{alia lingua}"
    assert bib.latex_value("2.2$\\mu$m and a grant of $5 million") == "2.2$\\mu$m and a grant of \\$5 million"
    assert bib.latex_value("T^2Agent") == r"T\textasciicircum{}2Agent"
    unbalanced = bib.latex_value("A } stray { brace }")
    record = {"id": "x", "title": "A } stray { brace }", "authors": ["Jürgen Schmidhuber"], "year": 2020, "ids": {}}
    parsed = bibtexparser.parse_string(bib.to_bibtex([record]))
    assert not parsed.failed_blocks and parsed.entries[0].fields_dict["title"].value == unbalanced
    assert bib.split_name("Ludwig van Beethoven Jr.") == {
        "suffix": "Jr.", "family": "Beethoven", "non-dropping-particle": "van", "given": "Ludwig"}
    assert bib.split_name("Smith, John") == {"family": "Smith", "given": "John"}
    assert bib.split_name("OpenAI") == {"literal": "OpenAI"}
    keys = bib.citation_keys([{"id": "b", "title": "The Study", "authors": ["Ann Smith"], "year": 2020},
                              {"id": "a", "title": "A study", "authors": ["Bo Smith"], "year": 2020}])
    assert keys == {"a": "smith2020studya", "b": "smith2020studyb"}


def test_bibtex_export_keeps_math_spans_unchanged():
    """``$$x^2$$`` was exported as ``\\$$x^2$\\$`` (its dollars read as two inline spans)."""
    from generator import bibliography as bib

    title = "Scaling as $$x^2$$ with width $x$ and cost of $5 per run"
    record = {"id": "arxiv:2501.00001", "title": title, "authors": ["Ann Smith"], "year": 2025,
              "ids": {"arxiv": "2501.00001"}}
    value = bibtexparser.parse_string(bib.to_bibtex([record])).entries[0].fields_dict["title"].value
    assert "$$x^2$$" in value and "$x$" in value and r"\$5" in value
    assert r"\$$" not in value and r"$\$" not in value


def test_status_says_when_no_claim_is_corroborated():
    from claimsets import claim, claim_set, record

    recs = [record("arxiv:2501.00001", "Alpha study", facets=("alpha",)),
            record("arxiv:2501.00002", "Beta study", facets=("alpha", "beta"))]
    alone = [claim("arxiv:2501.00001", "Alpha improves recall on every benchmark we tried."),
             claim("arxiv:2501.00002", "Beta reduces latency by 40% on long inputs.")]
    status = render.answer_status(claim_set("none", "None corroborated", recs, alone))
    assert ("No claim is corroborated: all 2 are stated only by their own source (2 sources included). "
            "2 were not checked against any other source (the reason under each claim says why).") in status["warnings"]
    # "Uncorroborated" after a check is the verifier's finding, and the box says it can miss support.
    checked = [claim("arxiv:2501.00001", "Alpha improves recall on every benchmark we tried.",
                     checked=["arxiv:2501.00002"]), alone[1]]
    status = render.answer_status(claim_set("none", "None corroborated", recs, checked))
    assert ("No claim is corroborated: all 2 are stated only by their own source (2 sources included). "
            "1 was checked against other included sources and the verifier found none that supports or "
            "contradicts it; the verifier can miss support that exists (its recall measured on SciFact is "
            "on the Method page). "
            "1 was not checked against any other source (the reason under each claim says why).") in status["warnings"]
    assert status["summary"].endswith("0 of 2 claims are corroborated by an independent source.")
    one = [claim("arxiv:2501.00001", "Alpha improves recall on every benchmark we tried.", verdict="CORROBORATED",
                 confidence=0.8, judgements=[("arxiv:2501.00002", "SUPPORTS", 0.8, ["Alpha improves recall."])]),
           *alone[1:], claim("arxiv:2501.00002", "Beta helps on short inputs as well as long ones.")]
    status = render.answer_status(claim_set("some", "One corroborated", recs, one))
    assert any(w.startswith("Most claims are uncorroborated: 2 of 3 are stated only by their own source "
                            "(2 sources included). 2 were not checked") for w in status["warnings"])
    assert status["summary"].startswith("Covered: all 2 facets")


def test_a_source_listed_under_include_says_so():
    from claimsets import claim_set, record

    recs = [record("arxiv:2501.00001", "Alpha study", facets=("alpha",)),
            record("arxiv:2501.00002", "Beta study", facets=("beta",))]
    data = claim_set("listed", "Listed", recs, [])
    data["question"]["include"] = ["arXiv:2501.00002v3"]
    assert render.listed_records(data) == {"arxiv:2501.00002"}
    page = Page(render.render_synthesis(data, render.environment()))
    notes = [text(li) for li in page.find("li") if "Found via" in text(li)]
    assert [("lists it under include;" in n) for n in notes] == [False, True]


def test_facet_is_covered_only_by_an_included_source():
    """With nothing included, a curated claim tagged with a facet counts under "claims
    addressing it", but the facet stays "not covered", as the summary says."""
    from generator.models import CuratedClaim

    q = Question(slug="rlhf", path="content/questions/rlhf.yaml", title="Does RLHF cost capability?",
                 question="Does RLHF reduce benchmark performance?", facets=("RLHF", "benchmark performance"),
                 queries=("RLHF",), providers=("library",),
                 claims=(CuratedClaim("RLHF reduces benchmark performance on reasoning tasks."),))
    off_topic = Record(id="arxiv:2501.00009", title="Protein folding with diffusion models",
                       ids=Identifiers(arxiv="2501.00009"), authors=("Ann Smith",), year=2025, provider="library",
                       retrieved_at=NOW, abstract="We fold proteins with diffusion models. Results improve.")
    snap = Snapshot(slug="rlhf", queries=q.queries, providers=("library",), since=None, max_records=100,
                    records=(off_topic,), provider_counts={"library": 1}, retrieved_at=NOW)
    data = synthesise(q, snap)
    assert data["prisma"]["included"] == 0
    rlhf = next(c for c in data["facet_coverage"] if c["facet"] == "RLHF")
    assert rlhf["records"] == [] and len(rlhf["claims"]) == 1
    status = render.answer_status(data)
    assert [row["state"] for row in status["facets"]] == ["not covered", "not covered"]
    assert "none of the 2 facets is covered" in status["summary"]
    page = Page(render.render_synthesis(data, render.environment()))
    table = page.find("table", class_="ls-facets")[0]
    rows = [[text(td) for td in tr["children"]] for tr in descendants(table) if tr["tag"] == "tr"]
    assert rows[0][1:4] == ["Status", "Included sources", "Claims addressing it"]
    assert rows[1] == ["RLHF", "not covered", "0", "1", "0"]


def test_index_explains_failed_builds_when_no_synthesis_was_built():
    failures = {"alignment-tax": "no snapshot and no provider reachable (offline)",
                "reasoning-modes-cost": "no snapshot and no provider reachable (offline)"}
    index = render.render_site([], site_name="Test site", failures=failures)["index.md"]
    assert "add a question file" not in index
    assert "2 questions could not be built (listed above with the reason)" in index
    assert 'make site OFFLINE=1 LIBRARY="corpus.jsonl.gz ..."' in index
    assert "litsynth build --offline --library PATH" in index
    one = render.render_site([], site_name="Test site", failures=dict(list(failures.items())[:1]))["index.md"]
    assert "1 question could not be built" in one
    empty = render.render_site([], site_name="Test site")["index.md"]
    assert "add a question file under `content/questions/`" in empty


def _css_rules(css: str) -> list[tuple[list[str], dict[str, str]]]:
    """``[(selectors, {property: value})]`` of the plain rules of a stylesheet, in order
    (rules inside ``@media`` blocks are skipped)."""
    import re

    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@media[^{]*\{(?:[^{}]*\{[^{}]*\})*\s*\}", "", css)
    rules = []
    for selectors, body in re.findall(r"([^{}]+)\{([^{}]*)\}", css):
        decls = dict((k.strip(), v.strip()) for k, v in (d.split(":", 1) for d in body.split(";") if ":" in d))
        rules.append(([s.strip() for s in selectors.split(",")], decls))
    return rules


def test_tag_chips_and_badges_do_not_break_mid_word():
    """The stylesheet lets table cells break long words anywhere; that rule is inherited, and
    split the "multimodal" tag chip into "multimoda/l". Chips and badges must override it."""
    css = (render.TEMPLATES / "assets" / "litsynth.css").read_text(encoding="utf-8")
    rules = _css_rules(css)

    def last_value(selector: str, prop: str) -> tuple[int, str | None]:
        found = [(i, d[prop]) for i, (sels, d) in enumerate(rules) if selector in sels and prop in d]
        return found[-1] if found else (-1, None)

    anywhere, value = last_value(".md-typeset td", "overflow-wrap")
    assert value == "anywhere"
    for badge in (".md-typeset .ls-chip", ".md-typeset .ls-verdict", ".md-typeset .ls-label"):
        pos, wrap = last_value(badge, "overflow-wrap")
        assert wrap == "normal" and pos > anywhere, badge
    assert last_value(".md-typeset td .ls-chip", "white-space")[1] == "nowrap"
    assert last_value(".md-typeset .ls-verdict", "white-space")[1] == "nowrap"


def _run_record(version: str, **metrics) -> dict:
    from generator import evaluate, scifact

    record = {key: 0.25 for key in scifact.METRIC_KEYS}
    record.update(metrics)
    record.update(schema=evaluate.RUN_SCHEMA, generated_at="2026-12-04T15:00:00+00:00",
                  verifier={"method": "hybrid", "version": version, "thresholds": {"SUPPORT_MIN": 0.35}},
                  claims_file="claims_train.jsonl", corpus_file="corpus.jsonl", corpus_docs=5183,
                  setting="open", claims=809, retrieval_k=3, retrieval_ratio=0.9,
                  file="scifact-train-open.json")
    evaluate.check_run(record)
    return record


def test_method_page_states_thresholds_and_the_measured_numbers():
    from generator import verification

    method, version = verification.active_method()
    facts = {"method": method, "version": version, "thresholds": verification.thresholds(),
             "runs": [_run_record(version, abstract_label_only_f1=0.40879926672777267,
                                  abstract_label_only_precision=0.423)]}
    page = render.render_site([], site_name="Test site", verifier=facts)["method.md"]
    assert f"the `{method}` verifier, version `{version}`" in page
    assert "<tr><td><code>SUPPORT_MIN</code></td><td class=\"ls-num\">0.35</td></tr>" in page
    row = next(line for line in page.splitlines() if line.startswith("<tr><td>Abstract, label only"))
    assert ">0.423<" in row and ">0.409<" in row  # from the run record, rounded, never typed
    assert "Open setting — 809 claims of claims\\_train\\.jsonl" in page
    assert "top 3 BM25 abstracts of 5183 in corpus\\.jsonl (those scoring at least 0.9 × the best)," in page
    assert "In-sample numbers" in page and "Measured with another verifier" not in page
    assert "Small run" not in page
    small = dict(facts, runs=[{**_run_record(version), "claims": 20}])
    assert "Only 20 claims were scored" in render.render_site([], site_name="Test site", verifier=small)["method.md"]
    from generator import screening  # the screening rule is stated from its constants
    assert f"*facet evidence* of at least {screening.MIN_FACET_EVIDENCE}" in page
    assert f"coverage* of at least {screening.MIN_QUESTION_COVERAGE}" in page
    assert "at least two of the question's facets" not in page

    stale = dict(facts, runs=[_run_record("lexical-1")])
    page = render.render_site([], site_name="Test site", verifier=stale)["method.md"]
    assert "Measured with another verifier" in page and "version lexical\\-1;" in page

    page = render.render_site([], site_name="Test site", verifier=dict(facts, runs=[]))["method.md"]
    assert "No SciFact run is recorded" in page and "--out" in page

    # A file name is escaped once: "a&b<c>" shows as typed, and nothing is injected.
    odd = dict(facts, runs=[{**_run_record(version), "claims_file": "a&b<c>.jsonl"}])
    page = render.render_site([], site_name="Test site", verifier=odd)["method.md"]
    assert "claims of a&amp;b&lt;c&gt;\\.jsonl" in page and "&amp;lt;" not in page and "<c>" not in page


def test_method_page_cross_validated_numbers_name_what_was_measured():
    from generator import verification

    method, version = verification.active_method()
    base = {"method": method, "version": version, "thresholds": verification.thresholds(), "runs": []}
    exact = dict(base, cv={"oracle": 0.5512, "open": 0.4321, "k": 3, "ratio": 0.9, "exact": True})
    page = render.render_site([], site_name="Test site", verifier=exact)["method.md"]
    assert "each fold's claims judged by this\nverifier with a model trained without them" in page
    assert "0.551" in page and "0.432" in page and "at least 0.9 × the best" in page
    assert "variant closest to this verifier" not in page
    closest = dict(base, cv={"oracle": 0.478, "open": 0.372, "k": 3, "ratio": 0.0, "exact": False})
    page = render.render_site([], site_name="Test site", verifier=closest)["method.md"]
    assert "variant closest to this verifier" in page and "0.372" in page


def test_cross_validated_entry_is_used_only_for_the_version_it_measured(tmp_path, monkeypatch):
    import json

    from generator import neural, pipeline, verification

    # The version compared is the one the claim sets record (a no-op build never loads the model).
    version = "minilm-nli-scifact-9+lexical-99"
    shipped = json.loads((neural.MODEL_DIR / "cv_metrics.json").read_text(encoding="utf-8"))
    metrics = {"abstract_label_only_f1": 0.5}
    entry = {"version": version, "retrieval_k": 3, "retrieval_ratio": 0.9,
             "oracle": dict(metrics, abstract_label_only_f1=0.55), "open": dict(metrics, abstract_label_only_f1=0.44)}
    monkeypatch.setattr(neural, "MODEL_DIR", tmp_path)
    (tmp_path / "cv_metrics.json").write_text(json.dumps({**shipped, "site_verifier": entry}))
    assert pipeline._cross_validated(verification.HYBRID_METHOD, version) == {
        "oracle": 0.55, "open": 0.44, "k": 3, "ratio": 0.9, "exact": True}
    assert pipeline._cross_validated(verification.HYBRID_METHOD, "minilm-nli-scifact-9+lexical-98")["exact"] is False
    (tmp_path / "cv_metrics.json").write_text(json.dumps({**shipped, "site_verifier": {**entry, "version": "old"}}))
    assert pipeline._cross_validated(verification.HYBRID_METHOD, version)["exact"] is False
    assert pipeline._cross_validated("lexical", version) is None


def test_verification_counts_agree_with_the_claims(built):
    # A fresh-user trial found the paragraph counting the citation check as a judgement
    # "against another included source" while every reason said none was found.
    root, data, pages = built
    for slug, d in data.items():
        counts = render.method_counts(d)
        independent = [j for c in d["claims"] for j in c["judgements"] if j["kind"] != "citation"]
        assert counts["judgements"] == len(independent)
        assert counts["citation_checks"] == sum(c["origin"] == "curated" and bool(c["cites"]) for c in d["claims"])
        assert counts["with_evidence"] == sum(bool(c["verdict"]["supporting"] or c["verdict"]["contradicting"])
                                              for c in d["claims"])
        body = content(pages[slug])
        assert f"kept {counts['judgements']} judgement" in body
        verb = "has" if counts["with_evidence"] == 1 else "have"
        assert f"{counts['with_evidence']} of {len(d['claims'])} claims {verb} such evidence" in body
        if counts["citation_checks"]:
            assert "checked against the source it cites (the citation check)" in body
        for c in d["claims"]:  # the Evidence column counts what the verdict counts
            shown = render.evidence_counts(c)
            assert shown["supports"] == len(c["verdict"]["supporting"])
            assert shown["contradicts"] == len(c["verdict"]["contradicting"])
        # "none of the 10 independent records checked …" can be audited: the claim set lists them.
        included = {r["id"] for r in d["records"] if r["screening"]["included"]}
        audited = 0
        for c in d["claims"]:
            checked = c["verdict"]["checked"]
            assert set(checked) <= included and c["record_id"] not in checked
            assert {j["record_id"] for j in c["judgements"] if j["kind"] != "citation"} <= set(checked)
            m = re.search(r"(?:none of the|the) (\d+) (?:other )?independent records? checked", c["verdict"]["reason"])
            if m:
                assert int(m.group(1)) == len(checked), c["verdict"]["reason"]
                audited += 1
        assert audited > len(d["claims"]) / 2, slug
        # ... and the page lists, under each claim, those it shows no judgement of (a
        # curated claim with only its citation check listed none: a fifth trial).
        listed = 0
        for c in d["claims"]:
            detail = re.search(rf'id="detail-{re.escape(c["id"])}">(.*?)</div>', pages[slug], re.S).group(1)
            judged = {j["record_id"] for j in c["judgements"]}
            unjudged = [rid for rid in c["verdict"]["checked"] if rid not in judged]
            if unjudged:
                n = len(unjudged)
                para = re.search(r'<p class="ls-muted" data-search-exclude>(.*?)</p>', detail, re.S).group(1)
                lead = "Also checked" if judged else "Checked"
                assert para.startswith(f"{lead} against {n} other included source{'s' if n != 1 else ''}"), para
                assert para.count('href="#src-') == n  # kept out of the search index (data-search-exclude)
                listed += 1
            elif not c["judgements"]:
                assert "Not checked against any other source" in detail
        assert listed, slug


def test_evidence_counts_follow_the_verdict_for_a_citation_check():
    def claim(label):
        return {"judgements": [{"kind": "citation", "label": label}, {"kind": "corroboration", "label": "SUPPORTS"}]}
    assert render.evidence_counts(claim("SUPPORTS")) == {"supports": 1, "contradicts": 0, "checked": 1}
    assert render.evidence_counts(claim("CONTRADICTS")) == {"supports": 1, "contradicts": 1, "checked": 2}


def test_the_page_says_how_many_claims_were_checked_against_none():
    # A sixth trial: the verdict caption and the PRISMA box said every claim was checked
    # while the weak-evidence box counted claims checked against none.
    from claimsets import claim, claim_set, record

    recs = [record("arxiv:2501.00001", "Alpha study", facets=("alpha",)),
            record("arxiv:2501.00002", "Beta study", facets=("alpha", "beta"))]
    claims = [claim("arxiv:2501.00001", "Alpha improves recall on every benchmark we tried.",
                    checked=["arxiv:2501.00002"]),
              claim("arxiv:2501.00002", "Our method reduces latency by 40% on long inputs.")]
    page = render.render_synthesis(claim_set("some", "Some unchecked", recs, claims), render.environment())
    assert "never its own record; 1 of them was checked against none, and the reason under each says why." in page
    assert "Claims extracted (n = 2)" in page and ">1 of them checked against other<" in page  # the SVG wraps lines
    everything = [claims[0], claim("arxiv:2501.00002", "Beta reduces latency by 40% on long inputs.",
                                   checked=["arxiv:2501.00001"])]
    page = render.render_synthesis(claim_set("all", "All checked", recs, everything), render.environment())
    assert "never its own record." in page and ">each checked against other included<" in page


def test_sources_with_the_same_author_and_year_are_told_apart():
    # A sixth trial read "Wang et al. 2025; Wang et al. 2025" in a claim's list of sources.
    from claimsets import claim, claim_set, record

    recs = [record("arxiv:2501.00001", "Alpha study", facets=("alpha",)),
            record("arxiv:2501.00002", "Beta study", facets=("alpha", "beta")),
            record("arxiv:2501.00003", "Gamma study", authors=("Cy Wu",), facets=("alpha",)),
            record("arxiv:2501.00004", "Delta study", year=None, facets=("alpha",)),
            record("arxiv:2501.00005", "Epsilon study", year=None, facets=("alpha",))]
    assert render.cite_suffixes(recs) == {"arxiv:2501.00001": "a", "arxiv:2501.00002": "b", "arxiv:2501.00003": "",
                                          "arxiv:2501.00004": "a", "arxiv:2501.00005": "b"}
    claims = [claim("arxiv:2501.00003", "Gamma improves recall on every benchmark we tried.",
                    checked=["arxiv:2501.00001", "arxiv:2501.00002", "arxiv:2501.00004"])]
    page = Page(render.render_synthesis(claim_set("twins", "Twins", recs, claims), render.environment()))
    listing = [text(a) for a in page.by_id(f"detail-{claims[0]['id']}")["children"][0]["children"]
               if isinstance(a, dict) and a["tag"] == "a"]
    assert listing == ["Smith and Li 2025a", "Smith and Li 2025b", "Smith and Li n.d.-a"]
    entries = {li["attrs"]["id"]: text(li) for li in page.find("li") if "id" in li["attrs"]}
    assert "(2025a)" in entries["src-arxiv-2501-00001"] and "(2025b)" in entries["src-arxiv-2501-00002"]
    assert "(2025)" in entries["src-arxiv-2501-00003"]
    assert render.cite_suffixes([]) == {} and [render.letters(i) for i in (0, 25, 26, 27)] == ["a", "z", "aa", "ab"]


def test_the_page_environment_looks_up_dict_keys_as_jinja_does():
    """render.environment() answers ``x.name`` on a dict from its keys without trying the
    attribute first; what a template renders is what a plain Jinja environment renders,
    and a missing key is still an error."""
    import jinja2

    plain = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    ours = render.environment()
    data = {"text": "<b>claim</b>", "items": "a key named like a method", "n": 3,
            "nested": {"id": "r1"}, "values": [1, 2]}
    for source in ["{{ d.text }} {{ d.n + 1 }} {{ d.nested.id }}",
                   "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
                   "{{ d.items is callable }} {{ d.values is callable }} {{ d['items'] }}",
                   "{{ r.title }} {{ r.year }}"]:
        record = Record(id="x", title="T & <i>", year=2020)
        assert ours.from_string(source).render(d=data, r=record) == \
            plain.from_string(source).render(d=data, r=record), source
    with pytest.raises(jinja2.UndefinedError):
        ours.from_string("{{ d.missing }}").render(d=data)
    with pytest.raises(jinja2.UndefinedError):
        ours.from_string("{{ d.nested.missing }}").render(d=data)


@pytest.mark.parametrize("special", list("{}$\\&%#_^"))
def test_bibtex_values_act_on_each_special_character(special):
    """Text without any of the special characters comes back as it is, whitespace
    collapsed; with one of them it goes through the escaping rules."""
    from generator import bibliography as bib

    assert bib.latex_value("  Zoë  Müller-Lüdenscheidt:\n a (study) of 3.5 things ") == \
        "Zoë Müller-Lüdenscheidt: a (study) of 3.5 things"
    value = bib.latex_value(f"a {special} b")
    assert value != f"a {special} b" or special == "\\"  # a lone backslash is kept as written
    assert bibtexparser.parse_string(f"@misc{{k, title = {{{value}}}}}").entries


def test_claim_and_record_counts_on_a_page_say_what_they_count(built):
    """An eighth trial: the header said 181 claims and the PRISMA flow 180 extracted, and
    the Search paragraph 'at most 100 records per provider' beside 'library: 101', with
    the reasons (a curated claim; a source listed under include) only on other parts of
    the page."""
    root, data, pages = built
    d = data["alignment-tax"]
    extracted = sum(c["origin"] == "extracted" for c in d["claims"])
    curated = sum(c["origin"] == "curated" for c in d["claims"])
    assert curated and extracted + curated == len(d["claims"])
    body = " ".join(content(pages["alignment-tax"]).split())
    assert f"{len(d['claims'])} claims ({extracted} extracted, {curated} curated)" in body
    assert f"Claims extracted (n = {extracted})" in pages["alignment-tax"]
    listed = len(d["question"]["include"])
    assert f"and the {listed} sources listed under <code>include</code> looked up by identifier" in body
    for slug in ("multimodal-llama2-self-invoking-code", "reasoning-modes-cost"):
        if not any(c["origin"] == "curated" for c in data[slug]["claims"]):
            assert "curated)" not in " ".join(content(pages[slug]).split())


def test_review_reasons_count_in_the_singular_when_there_is_one():
    """An eighth trial: "1 of 1 claims with evidence are contested", "Years range from
    2025 to 2025", "1 duplicates removed"."""
    from claimsets import claim, claim_set, record
    from generator import assessment

    recs = [record("arxiv:2501.00001", "A study", year=2025), record("arxiv:2501.00002", "B study", year=2025)]
    one = claim("arxiv:2501.00001", "X improves Y by 5%.", verdict="CONTESTED", confidence=0.6,
                judgements=[("arxiv:2501.00002", "CONTRADICTS", 0.6, ["X does not improve Y."])])
    data = claim_set("single", "Single", recs, [one])
    reasons = [r for review in assessment.assess(data)["reviewers"] for r in review["reasons"]]
    assert "1 of 1 claim with evidence is contested or contradicted." in reasons
    assert "All are from 2025." in reasons and not any("range from 2025 to 2025" in r for r in reasons)
    flow = svg.prisma_flow({**data["prisma"], "duplicates": 1, "identified": data["prisma"]["identified"] + 1},
                           claims=1, checked=1)
    assert "1 duplicate removed," in flow and "1 duplicates" not in flow


def test_a_citation_check_is_not_counted_as_evidence_for_another_sources_claim(built):
    """The alignment-tax page's curated claim is checked against the paper it cites; that
    paper's Sources entry does not count it as evidence for a claim of other sources."""
    root, data, pages = built
    d = data["alignment-tax"]
    cited = {j["record_id"] for c in d["claims"] for j in c["judgements"]
             if j["kind"] == "citation" and j["label"] in ("SUPPORTS", "CONTRADICTS")}
    other = {j["record_id"] for c in d["claims"] for j in c["judgements"]
             if j["kind"] != "citation" and j["label"] in ("SUPPORTS", "CONTRADICTS")}
    assert cited - other  # the fixture's curated claim: its cited paper supports it
    context = render.page_context(d, site_name="x")
    for rid in cited - other:
        assert context["evidence_for"][rid] == 0
    for rid in other:
        assert context["evidence_for"][rid] > 0
