"""Render claim sets into the site's Markdown pages and downloads (pure: text in, text out).

Every piece of external text (titles, abstracts, author names, claim sentences) reaches the
page through Jinja2 autoescaping inside HTML elements, so Markdown and HTML in it are shown
as text: Python-Markdown does not parse Markdown inside raw HTML blocks, and ``<``, ``>``,
``&`` and quotes are entity-escaped. Text placed in Markdown context (headings, admonition
titles) goes through :func:`md_inline`, which also backslash-escapes Markdown punctuation.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from pathlib import Path
from urllib.parse import quote

import jinja2
import markupsafe

from generator.models import VERDICTS

TEMPLATES = Path(__file__).resolve().parent.parent / "site_templates"

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>$~^=:])")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean(text: str | None) -> str:
    """Whitespace-normalised text without control characters or bidi overrides."""
    if not text:
        return ""
    return " ".join(_CONTROL.sub("", str(text)).split())


def md_inline(text: str | None) -> str:
    """Escape ``text`` for a Markdown inline context (headings, admonition titles).

    HTML-escapes it, then backslash-escapes every character Python-Markdown may treat as
    markup, so the visible text equals the input.
    """
    escaped = html.escape(clean(text), quote=False)
    return _MD_SPECIAL.sub(r"\\\1", escaped)


def record_links(record: dict) -> list[tuple[str, str]]:
    """``[(label, url)]`` for a record: arXiv, DOI, OpenAlex, PubMed; DOIs percent-encoded.

    The DOI is encoded for use in an ``href`` (``<``/``>`` become ``%3C``/``%3E``;
    parentheses and ``;`` are kept), its visible text is the DOI unchanged.
    """
    ids = record.get("ids") or {}
    links = []
    if ids.get("arxiv"):
        links.append((f"arXiv:{ids['arxiv']}", f"https://arxiv.org/abs/{ids['arxiv']}"))
    if ids.get("doi") and not ids["doi"].startswith("10.48550/arxiv."):
        links.append((f"doi:{ids['doi']}", "https://doi.org/" + quote(ids["doi"], safe="/:;()._-")))
    if ids.get("openalex"):
        links.append(("OpenAlex", f"https://openalex.org/{ids['openalex']}"))
    if ids.get("pmid"):
        links.append((f"PMID:{ids['pmid']}", f"https://pubmed.ncbi.nlm.nih.gov/{ids['pmid']}/"))
    if not links and record.get("url", "") and str(record["url"]).startswith(("https://", "http://")):
        links.append(("link", record["url"]))
    return links


def anchor(record_id: str) -> str:
    """Stable HTML id for a source: ``src-`` + the record id with unsafe characters as ``-``."""
    return "src-" + re.sub(r"[^a-z0-9]+", "-", record_id.lower()).strip("-")


def fmt_conf(value: float | None) -> str:
    """Confidence as shown everywhere: two decimals in [0, 1], or an en dash when absent."""
    return "\u2013" if value is None else f"{value:.2f}"


def authors_short(authors: list[str]) -> str:
    """``A``, ``A and B``, or ``A et al.``."""
    names = [clean(a) for a in authors or [] if clean(a)]
    if not names:
        return "Unknown authors"
    if len(names) == 1:
        return names[0]
    if len(names) == 2:
        return f"{names[0]} and {names[1]}"
    return f"{names[0]} et al."


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    """The Jinja2 environment: autoescape on, strict undefined, our filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(clean=clean, md=md_inline, conf=fmt_conf, anchor=anchor,
                       links=record_links, authors=authors_short, tojson_script=_json_script)
    return env


def _json_script(value) -> markupsafe.Markup:
    # JSON inside <script> must not contain "</" or "<!--"; escape every "<" (and ">", "&"
    # so that the same text is also safe in YAML front matter and HTML attributes).
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return markupsafe.Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def verdict_mix(data: dict) -> dict[str, int]:
    """Claims per verdict, in the order of :data:`generator.models.VERDICTS`."""
    mix = Counter(c["verdict"]["verdict"] for c in data["claims"])
    return {v: mix.get(v, 0) for v in VERDICTS}


def answer_status(data: dict) -> dict:
    """What the included evidence covers, as facts the page states.

    Returns ``{"covered": [...], "missing": [...], "best": (n_facets, [record ids]),
    "warnings": [sentences]}``; the warnings say plainly when the evidence is weak.
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
        warnings.append(f"No included source addresses \u201c{facet}\u201d.")
    if n_claims and mix["UNCORROBORATED"] > n_claims / 2:
        warnings.append(
            f"Most claims are uncorroborated: {mix['UNCORROBORATED']} of {n_claims} are stated only "
            f"by their own source ({p['included']} included sources).")
    for name, msg in sorted(data["snapshot"]["provider_errors"].items()):
        warnings.append(f"Results from {name} are missing: {msg}")
    for key in data["snapshot"].get("unresolved_includes", []):
        warnings.append(f"The listed source {key} could not be found by any provider.")
    return {"covered": covered, "missing": missing, "best": (best_n, best), "warnings": warnings}


def _sorted_claims(data: dict) -> list[dict]:
    order = {v: i for i, v in enumerate(VERDICTS)}
    return sorted(data["claims"], key=lambda c: (order[c["verdict"]["verdict"]],
                                                 -(c["verdict"]["confidence"] or 0), -c["relevance"], c["id"]))


def render_synthesis(data: dict, env: jinja2.Environment) -> str:
    """The Markdown page of one claim set."""
    records = {r["id"]: r for r in data["records"]}
    return env.get_template("synthesis.md.j2").render(
        s=data, q=data["question"], records=records, claims=_sorted_claims(data),
        mix=verdict_mix(data), status=answer_status(data), prisma=data["prisma"],
        assessment=data["assessment"])


def render_site(syntheses: list[dict], *, site_name: str, failures: dict[str, str] | None = None,
                templates: Path = TEMPLATES) -> dict[str, str]:
    """All generated files of the site: ``{relative path: text}``.

    ``syntheses`` are claim sets; ``failures`` maps question slugs that could not be built to
    a one-line reason (shown on the index). Paths: ``index.md``, ``method.md``,
    ``questions/<slug>.md`` and ``questions/<slug>.json``.
    """
    env = environment(templates)
    files: dict[str, str] = {}
    ordered = sorted(syntheses, key=lambda d: (d["snapshot"]["retrieved_at"], d["slug"]), reverse=True)
    for data in ordered:
        files[f"questions/{data['slug']}.md"] = render_synthesis(data, env)
        files[f"questions/{data['slug']}.json"] = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
    files["index.md"] = env.get_template("index.md.j2").render(
        syntheses=ordered, mixes={d["slug"]: verdict_mix(d) for d in ordered},
        failures=failures or {}, site_name=site_name, verdicts=VERDICTS)
    files["method.md"] = env.get_template("method.md.j2").render(syntheses=ordered)
    return files


def nav(syntheses: list[dict]) -> list:
    """The mkdocs ``nav``: home, one entry per synthesis (by title), method."""
    items = sorted(syntheses, key=lambda d: d["question"]["title"].lower())
    return [
        {"Home": "index.md"},
        {"Syntheses": [{clean(d["question"]["title"]): f"questions/{d['slug']}.md"} for d in items]},
        {"Method": "method.md"},
    ]
