"""Hostile text end to end, and names that try to leave the output folder.

A CSL-JSON library written here carries titles, abstracts, author names, venues, DOIs and
URLs with Markdown, HTML, ``<script>``, Jinja2 syntax, control characters, right-to-left
overrides, ``](javascript:…)`` and a 6,000-character word. The site is built from it
through the CLI, and the built HTML is parsed: no element, attribute, link or script
comes from the text, and the text itself is shown as written.
"""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import PROJECT_ROOT
from generator import cli, site
from generator.errors import BuildError
from generator.questions import RESERVED_SLUGS, slugify

LONG_WORD = "Supercalifragilistic" * 300
TITLE_1 = ("<script>alert('t1')</script> Alignment tax **bold** _it_ [click](javascript:alert(1)) "
           "{{ config.site_name }} {% raw %} <!-- x")
TITLE_2 = "Model averaging and the alignment tax | a|b | `code` <a href='https://evil.example/'>x</a> ${x}$"
HOSTILE_AUTHOR = "<b>Evil</b>"
ITEMS = [
    {"id": "h1", "type": "article-journal", "title": TITLE_1,
     "abstract": ("We find that RLHF alignment reduces benchmark accuracy by 5% on MMLU "
                  "<img src=x onerror=alert(2)>. Model averaging mitigates the alignment tax "
                  "](javascript:alert(3)) and restores benchmark accuracy. The alignment tax is larger "
                  "for bigger models {{ 7*7 }} {% for x in y %}. " + LONG_WORD
                  + " alignment tax increases with training steps."),
     "author": [{"family": HOSTILE_AUTHOR, "given": "\u202eRTL\u200f"},
                {"literal": "[x](javascript:alert(4))"},
                {"family": "Ctl\u0000\u0007\u001b[31m", "given": "A"}],
     "issued": {"date-parts": [[2024]]},
     "container-title": "<iframe src=//evil.example/></iframe>",
     "DOI": "10.1234/<script>alert(5)</script>",
     "URL": "javascript:alert(6)"},
    {"id": "h2", "type": "article-journal", "title": TITLE_2,
     "abstract": ("Model averaging reduces the alignment tax of RLHF and improves benchmark accuracy by 3%. "
                  "We show that the alignment tax does not depend on model size \u202e\u2066. "
                  "<style>body{display:none}</style> Benchmark accuracy drops after alignment <!-- c -->."),
     "author": [{"family": "Smith", "given": "J"}],
     "issued": {"date-parts": [[2023]]},
     "URL": "https://example.org/paper\"onmouseover=\"alert(7)"},
]
QUESTION = """\
title: "Alignment tax <script>alert('q')</script> {{ config }} **q**"
question: Does RLHF alignment reduce benchmark accuracy, and does model averaging mitigate it?
facets: [alignment tax, benchmark accuracy, model averaging]
search:
  queries: ["alignment tax benchmark accuracy", "model averaging mitigation"]
  providers: [library]
"""
SLUG = "hostile-text-script"


class Page(HTMLParser):
    """Elements (tag, attrs), script bodies and visible text of an HTML page."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.styles: list[str] = []
        self.text: list[str] = []
        self._in: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.elements.append((tag, attrs))
        if tag in ("script", "style"):
            self._in = tag
            (self.scripts.append((attrs, "")) if tag == "script" else self.styles.append(""))

    def handle_endtag(self, tag):
        if tag == self._in:
            self._in = None

    def handle_data(self, data):
        if self._in == "script":
            self.scripts[-1] = (self.scripts[-1][0], self.scripts[-1][1] + data)
        elif self._in == "style":
            self.styles[-1] += data
        else:
            self.text.append(data)

    @property
    def visible(self) -> str:
        return " ".join("".join(self.text).split())


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", root / "mkdocs.yml")
    (root / "content" / "questions").mkdir(parents=True)
    (root / "content" / "questions" / "Hostile text <script>.yaml").write_text(QUESTION, encoding="utf-8")
    library = root / "hostile.csl.json"
    library.write_text(json.dumps(ITEMS), encoding="utf-8")
    code = cli.main(["--root", str(root), "build", "--offline", "--library", str(library)])
    assert code == 0
    return root


def pages(root: Path) -> dict[str, Page]:
    return {name: Page((root / "site" / name).read_text(encoding="utf-8"))
            for name in (f"questions/{SLUG}/index.html", "index.html")}


def test_no_element_attribute_or_link_comes_from_the_text(hostile_site):
    for name, page in pages(hostile_site).items():
        tags = {tag for tag, _ in page.elements}
        assert not tags & {"iframe", "img", "b", "object", "embed"}, name
        for tag, attrs in page.elements:
            assert not [a for a in attrs if a.startswith("on")], (name, tag, attrs)
            for key in ("href", "src", "action", "formaction"):
                value = re.sub(r"\s", "", attrs.get(key) or "").lower()
                assert not value.startswith(("javascript:", "data:", "vbscript:")), (name, tag, attrs)
                assert "evil.example" not in value, (name, tag, attrs)
        for style in page.styles:
            assert "display:none" not in style.replace(" ", "")


def test_scripts_are_only_the_sites_own(hostile_site):
    for name, page in pages(hostile_site).items():
        for attrs, body in page.scripts:
            if attrs.get("src"):
                assert re.fullmatch(r"(\.\./)*(assets|search)/[\w./-]+\.js", attrs["src"]), attrs
                assert body.strip() == ""
            elif attrs.get("type") in ("application/ld+json", "application/json"):
                json.loads(body)  # the text stayed inside its JSON string
                assert "</" not in body
            else:
                assert "alert" not in body and "evil" not in body, (name, body[:200])


def test_text_is_shown_as_written(hostile_site):
    page = pages(hostile_site)[f"questions/{SLUG}/index.html"]
    text = page.visible
    assert TITLE_1 in text
    assert " ".join(TITLE_2.split()) in text
    assert HOSTILE_AUTHOR in text
    assert LONG_WORD in text
    assert "Alignment tax <script>alert('q')</script> {{ config }} **q**" in text
    # Template syntax is not evaluated (it would have become the site name), Markdown is
    # not interpreted (no <strong>bold</strong>, no link from [click](...)).
    assert "{{ config.site_name }}" in text
    assert not [attrs for tag, attrs in page.elements if tag == "a" and "click" in json.dumps(attrs)]
    strong = re.findall(r"<strong>([^<]*)</strong>", (hostile_site / "site" / "questions" / SLUG /
                                                      "index.html").read_text())
    assert "bold" not in strong and "q" not in strong


def test_no_control_or_bidi_characters_reach_the_html(hostile_site):
    for name in (f"questions/{SLUG}/index.html", "index.html"):
        html = (hostile_site / "site" / name).read_text(encoding="utf-8")
        assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]", html), name


def test_nav_and_title_escape_the_question_title(hostile_site):
    page = pages(hostile_site)["index.html"]
    assert "Alignment tax <script>alert('q')</script> {{ config }} **q**" in page.visible
    assert not [1 for tag, attrs in page.elements if tag == "script" and "alert" in json.dumps(attrs)]


# --------------------------------------------------------------------------- names and paths


@pytest.mark.parametrize("stem", [
    "../../etc/passwd", "/absolute/path", "C:\\Windows\\system32", "..", ".", "~", "a/../b",
    "%2e%2e%2f", "\u202eevil", "ｅｔｃ", "CON", "nul.txt", "questions/../index", "\x00", " ",
])
def test_slugify_cannot_produce_a_path(stem):
    slug = slugify(stem)
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", slug), slug
    if slug and slug not in RESERVED_SLUGS and slug not in ("con", "nul"):
        assert site.safe_relpath(f"questions/{slug}.md").parts == ("questions", f"{slug}.md")


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_slugify_output_is_always_a_safe_file_name(stem):
    assert re.fullmatch(r"([a-z0-9]+(-[a-z0-9]+)*)?", slugify(stem))


@pytest.mark.parametrize("rel", [
    "../x.md", "/etc/x.md", "questions/../../x.md", "C:/x.md", "questions\\..\\x.md", "con.md",
    "questions/NUL.json", "questions/com1", "", ".hidden", "a//b.md", "questions/.md", "questions/",
    "a/./b.md", "x" * 300, "questions/\u202ex.md", "questions/x\x00.md",
])
def test_write_tree_refuses_paths_outside_the_folder(tmp_path, rel):
    folder = tmp_path / "docs"
    folder.mkdir()
    with pytest.raises(BuildError, match="refusing to write"):
        site.write_tree(folder, {"index.md": "ok", rel: "escaped"})
    assert list(folder.iterdir()) == []  # checked before anything is written
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_write_tree_refuses_a_symlinked_folder(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "questions").symlink_to(outside)
    with pytest.raises(BuildError, match="resolves outside"):
        site.write_tree(folder, {"questions/a.md": "x"})
    assert list(outside.iterdir()) == []


def test_write_tree_writes_safe_paths(tmp_path):
    site.write_tree(tmp_path, {"index.md": "é", "questions/c-plus-plus.md": "x", "assets/litsynth/a.css": "y"})
    assert (tmp_path / "index.md").read_text(encoding="utf-8") == "é"
    assert (tmp_path / "assets" / "litsynth" / "a.css").read_text() == "y"


def test_question_named_like_a_device_never_writes_outside(tmp_path, capsys):
    shutil.copy(PROJECT_ROOT / "mkdocs.yml", tmp_path / "mkdocs.yml")
    (tmp_path / "content" / "questions").mkdir(parents=True)
    (tmp_path / "content" / "questions" / "CON.yaml").write_text(QUESTION)
    library = tmp_path / "lib.json"
    library.write_text(json.dumps(ITEMS))
    code = cli.main(["--root", str(tmp_path), "build", "--offline", "--library", str(library)])
    err = capsys.readouterr().err
    assert code == 1 and "con" in err.lower() and "Traceback" not in err
    assert not (tmp_path / "site").exists()
