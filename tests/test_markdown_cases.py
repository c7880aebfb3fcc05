"""The ``MD-*`` cases of ``../shared/cases/acceptance.yaml`` through the real render + mkdocs path.

Each case's strings are put into claim sets where a reader sees them (titles, claims,
evidence sentences), rendered with :func:`generator.render.render_site`, built with
:func:`generator.site.build` (``mkdocs build --strict``) into a temporary project with a
copy of the repository's ``mkdocs.yml``, and checked on the visible text of the HTML.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import bibtexparser
import pytest
import yaml

from claimsets import Page, claim, claim_set, content, descendants, project, record, text
from conftest import shared_path
from generator import render, site
from generator.errors import InputError
from generator.questions import load_questions, slugify


@pytest.fixture(scope="module")
def cases() -> dict[str, dict]:
    data = yaml.safe_load(shared_path("cases", "acceptance.yaml").read_text(encoding="utf-8"))
    return {c["id"]: c for c in data if c["id"].startswith("MD-")}


def _build(root: Path, syntheses: list[dict]) -> Path:
    files = render.render_site(syntheses, site_name="Test site")
    return site.build(root, files, render.nav(syntheses))


def _page(site_dir: Path, slug: str) -> Page:
    return Page((site_dir / "questions" / slug / "index.html").read_text(encoding="utf-8"))


# ------------------------------------------------------------------ MD-01, MD-03, MD-04: one build


@pytest.fixture(scope="module")
def text_site(cases, tmp_path_factory):
    """One site with a synthesis per case: MD-01 (pipes), MD-03 (one per title), MD-04 (dollars)."""
    syntheses = []
    row = cases["MD-01-pipe-in-table-cell"]["input"]["row"]
    other = record("arxiv:2501.00002", "An independent replication", facets=("alpha",))
    src = record("arxiv:2501.00001", row["source_title"], facets=("alpha", "beta"))
    c = claim(src["id"], row["claim"], verdict="CORROBORATED", confidence=row["confidence"], facets=("alpha",),
              judgements=[(other["id"], "SUPPORTS", row["confidence"], ["Precision and recall trade off here too."])])
    syntheses.append(claim_set("md01", "Precision | Recall: a review", [src, other], [c]))

    for i, title in enumerate(cases["MD-03-markup-characters-in-titles"]["input"]["titles"]):
        rec = record(f"arxiv:2502.{i:05d}", title, facets=("alpha", "beta"))
        peer = record(f"arxiv:2503.{i:05d}", "A plain peer", facets=("alpha",))
        sentence = f"We show that {title} holds in 95% of cases."
        c = claim(rec["id"], sentence, verdict="CORROBORATED", confidence=0.7,
                  judgements=[(peer["id"], "SUPPORTS", 0.7, [f"Evidence about {title} is shown."])])
        syntheses.append(claim_set(f"md03-{i}", title, [rec, peer], [c]))

    latex = cases["MD-04-latex-dollars-in-abstracts"]["input"]["text"]
    rec = record("arxiv:2504.00001", "A disk around BD+45$^{\\circ}$598 at 2.2$\\mu$m", facets=("alpha",))
    peer = record("arxiv:2504.00002", "Costs of $5 million and more", facets=("alpha",))
    c = claim(rec["id"], latex, verdict="CORROBORATED", confidence=0.6,
              judgements=[(peer["id"], "SUPPORTS", 0.6, [latex])])
    syntheses.append(claim_set("md04", "Grants of $5 million and $\\mu$ notation", [rec, peer], [c]))
    root = project(tmp_path_factory.mktemp("md-text"))
    return _build(root, syntheses), {d["slug"]: d for d in syntheses}


def _claims_row(page: Page, claim_text: str) -> list[str]:
    wrapper = page.find("div", class_="ls-claims")
    assert len(wrapper) == 1
    rows = [el for el in descendants(wrapper[0]) if el["tag"] == "tr"]
    hits = [r for r in rows if any(text(td) == claim_text for td in r["children"] if td["tag"] == "td")]
    assert len(hits) == 1, f"no single claims-table row shows {claim_text!r}"
    return [text(td) for td in hits[0]["children"] if td["tag"] == "td"]


def test_md01_pipe_in_title_stays_in_its_cell(cases, text_site):
    site_dir, data = text_site
    row = cases["MD-01-pipe-in-table-cell"]["input"]["row"]
    page = _page(site_dir, "md01")
    # Our claims table: Verdict | Confidence | Claim | Source | Evidence ("supported" is CORROBORATED).
    cells = _claims_row(page, row["claim"])
    assert len(cells) == 5, cells
    assert cells[0] == "CORROBORATED"
    assert cells[1] == f"{row['confidence']:.2f}" == "0.82"
    assert cells[2] == row["claim"]
    assert cells[3] == "Smith and Li 2025a arXiv:2501.00001"  # its page has another Smith and Li 2025
    assert cells[4] == "1 supports"  # one source supports it
    # The title with pipes is one cell of the gap map and one source entry, shown as given:
    # the backticks are characters of the title here, not Markdown (see MD-03).
    gap_rows = [el for el in page.find("tr") if el["children"] and row["source_title"] in text(el["children"][0])]
    assert len(gap_rows) == 1
    gap_cells = [c for c in gap_rows[0]["children"] if c["tag"] == "td"]
    assert text(gap_cells[0]) == f"Smith and Li 2025a {row['source_title']}"
    assert len(gap_cells) == 1 + 2 + 2  # source, two facets, facet count, claims
    source = page.by_id("src-arxiv-2501-00001")
    assert text(source["children"][0]) == row["source_title"]
    html = (site_dir / "questions" / "md01" / "index.html").read_text()
    assert "\\|" not in html and "Precision \\| Recall" not in html
    # The question title with a pipe, in Markdown context (heading, index link, nav).
    assert text(page.find("h1")[0]) == "Precision | Recall: a review"
    index = Page((site_dir / "index.html").read_text())
    assert [text(a) for a in index.find("a", href="questions/md01/")][:1] == ["Precision | Recall: a review"]
    assert "Precision | Recall: a review" in [text(a) for a in page.find("a", class_="md-nav__link")]


def test_md03_markup_characters_shown_as_given(cases, text_site):
    site_dir, data = text_site
    titles = cases["MD-03-markup-characters-in-titles"]["input"]["titles"]
    index = Page((site_dir / "index.html").read_text())
    for i, title in enumerate(titles):
        slug = f"md03-{i}"
        raw = (site_dir / "questions" / slug / "index.html").read_text()
        page = Page(raw)
        h1 = page.find("h1")[0]
        assert text(h1) == title
        made = [e for e in descendants(h1) if e["tag"] in ("em", "strong", "a", "code", "script")
                and "headerlink" not in (e["attrs"].get("class") or "")]
        assert not made, f"markup created in the heading {title!r}"
        assert title in text(page.find("title")[0])
        assert text(index.find("a", href=f"questions/{slug}/")[0]) == title
        src = page.by_id(f"src-arxiv-2502-{i:05d}")
        strong = src["children"][0]
        assert strong["tag"] == "strong" and text(strong) == title
        assert not [e for e in descendants(strong)], f"markup created inside {title!r}"
        c = data[slug]["claims"][0]
        heading = page.by_id(c["id"])
        assert text(heading) == c["text"] and not heading["children"]
        # No element or link came out of a title: no <script> in the content, no link named "Re".
        body = Page(content(raw))
        assert not body.find("script", type=None)
        assert all(attrs.get("type") == "application/ld+json" for attrs, _ in body.scripts)
        assert not [a for a in body.find("a") if text(a) in ("Re", "[Re]")]
        assert "alert(1)" not in "".join(s for a, s in page.scripts if a.get("type") != "application/ld+json")
        ld = [json.loads(s) for a, s in page.scripts if a.get("type") == "application/ld+json"]
        assert ld[0]["@graph"][0]["claimReviewed"] == c["text"]


def test_md04_latex_dollars_lose_nothing(cases, text_site):
    site_dir, data = text_site
    latex = " ".join(cases["MD-04-latex-dollars-in-abstracts"]["input"]["text"].split())
    page = _page(site_dir, "md04")
    c = data["md04"]["claims"][0]
    heading = page.by_id(c["id"])
    assert text(heading) == latex  # one element, every character, no backslash added
    quotes = [text(el) for el in page.find("blockquote")]
    assert any(q.startswith(latex) for q in quotes)
    assert "$5 million" in text(heading)
    # No math markup was created (the site loads no math renderer) and no display block.
    assert not page.find(class_="arithmatex")
    assert text(page.find("h1")[0]) == "Grants of $5 million and $\\mu$ notation"
    bib = (site_dir / "questions" / "md04" / "md04.bib").read_text()
    entries = {e.key: e for e in bibtexparser.parse_string(bib).entries}
    titles = [e.fields_dict["title"].value for e in entries.values()]
    assert any("$^{\\circ}$598" in t and "$\\mu$m" in t for t in titles), titles
    assert any("\\$5 million" in t for t in titles), titles


# ------------------------------------------------------------------------------------- MD-06


def test_md06_duplicate_page_names_are_an_error(cases, tmp_path):
    files = cases["MD-06-duplicate-page-names"]["input"]["files"]
    expected = cases["MD-06-duplicate-page-names"]["expected"]["error_mentions"]
    root = tmp_path / "content"
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(body, encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_questions(root / "questions")
    message = str(err.value)
    for needle in expected:
        assert needle in message, needle

    # The same files made valid: still refused for the shared slug; C++ and C# stay distinct.
    for rel, body in files.items():
        (root / rel).write_text(body.replace("id:", "title:"), encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_questions(root / "questions")
    message = str(err.value)
    assert "covid-19.yaml" in message and "covid_19.yaml" in message and "slug 'covid-19'" in message
    assert "c-plus-plus" not in message and "c-sharp" not in message
    assert slugify("c-plus-plus") != slugify("c-sharp")


# ------------------------------------------------------------------------------------- MD-07


def test_md07_project_site_base_url(cases, tmp_path, monkeypatch):
    from mkdocs.config import load_config

    expected = cases["MD-07-github-pages-project-site-base-url"]["expected"]
    monkeypatch.setenv("SITE_URL", expected["mkdocs_yml_site_url"])
    root = project(tmp_path / "proj")
    rec = record("arxiv:2505.00001", "A source", facets=("alpha", "beta"))
    data = claim_set("q-one", "Question one", [rec], [claim(rec["id"], "We find that it works well.")])
    site_dir = _build(root, [data])
    assert load_config(str(root / "mkdocs.yml"))["site_url"] == expected["mkdocs_yml_site_url"]
    prefix = expected["built_404_asset_prefix"]
    page404 = Page((site_dir / "404.html").read_text())
    assets = [el["attrs"].get("href") or el["attrs"].get("src") for el in page404.elements
              if el["tag"] in ("link", "script") and (el["attrs"].get("href") or el["attrs"].get("src"))]
    local = [u for u in assets if not u.startswith(("http:", "https:"))]
    assert local and all(u.startswith(prefix) for u in local), local
    assert any(u.startswith(prefix + "assets/litsynth/") for u in local)
    for rel in ("index.html", "questions/q-one/index.html", "method/index.html", "tags/index.html",
                "claim-set-schema/index.html"):
        page = Page((site_dir / rel).read_text())
        for el in page.elements:
            for attr in ("href", "src"):
                url = el["attrs"].get(attr)
                if url and not url.startswith(("http:", "https:", "#", "data:", "mailto:")):
                    assert not url.startswith("/"), f"{rel}: absolute internal link {url}"
        canonical = [el["attrs"]["href"] for el in page.find("link", rel="canonical")]
        assert all(u.startswith(expected["mkdocs_yml_site_url"]) for u in canonical), canonical
    index = Page((site_dir / "index.html").read_text())
    assert index.find("a", href="questions/q-one/")


# ------------------------------------------------------------------------------------- MD-08


def test_md08_nav_entries_exist_and_stale_pages_go(cases, tmp_path):
    case = cases["MD-08-strict-build-nav-entries"]["input"]
    slugs = [slugify(i) for i in case["ids"]]
    stale = [slugify(i) for i in case["removed_since_last_build"]]
    assert slugs == ["q1", "energy-heat-pumps", "q3-v2"]

    def synth(slug: str) -> dict:
        rec = record(f"arxiv:2506.{len(slug):05d}", f"Source for {slug}", facets=("alpha", "beta"))
        return claim_set(slug, f"Question {slug}", [rec], [claim(rec["id"], f"We show that {slug} improves results.")])

    root = project(tmp_path / "proj")
    first = [synth(s) for s in stale + slugs]
    _build(root, first)
    assert (root / ".litsynth" / "docs" / "questions" / f"{stale[0]}.md").is_file()
    assert (root / "site" / "questions" / stale[0] / "index.html").is_file()

    second = [synth(s) for s in slugs]
    nav = render.nav(second)
    site_dir = _build(root, second)  # raises BuildError if mkdocs --strict fails
    docs = root / ".litsynth" / "docs"
    entries = []

    def walk(items):
        for item in items:
            for value in item.values():
                walk(value) if isinstance(value, list) else entries.append(value)
    walk(nav)
    assert all(e.endswith(".md") and (docs / e).is_file() for e in entries), entries
    for slug in slugs:
        assert f"questions/{slug}.md" in entries
        assert (site_dir / "questions" / slug / "index.html").is_file()
    for slug in stale:
        assert f"questions/{slug}.md" not in entries
        assert not (docs / "questions" / f"{slug}.md").exists()
        assert not (docs / "questions" / f"{slug}.json").exists()
        assert not (site_dir / "questions" / slug).exists()
        assert not (docs / "questions" / slug).exists()
    generated = {p.relative_to(docs).as_posix() for p in docs.rglob("*.md")}
    for html_file in site_dir.rglob("*.html"):
        for href in re.findall(r'href="([^"#]*)"', html_file.read_text()):
            assert f"questions/{stale[0]}/" not in href, f"{html_file}: link to removed page {href}"
    assert generated >= {f"questions/{s}.md" for s in slugs}
