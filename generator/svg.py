"""Inline SVG figures generated at build time: the verdict-mix bar and the PRISMA flow.

The figures are plain SVG text embedded in the page, so they work offline, in print and
without JavaScript. Colours are presentation attributes (so a saved SVG still looks right)
that the site's CSS overrides per palette (light/dark) through the ``ls-*`` classes. Every
piece of text is XML-escaped. Geometry is in SVG user units (``px`` at 100 % zoom); the
figures scale with their container through ``viewBox``.

The PRISMA layout follows the PRISMA 2020 flow diagram for new reviews (Page et al., BMJ
2021;372:n71, Figure 1): identification → screening → included, with the removed and
excluded records in boxes to the right of each stage.
"""

from __future__ import annotations

import textwrap
from html import escape

from generator.models import VERDICTS

VERDICT_COLOURS = {
    "CORROBORATED": "#2e7d32",
    "CONTESTED": "#ef8f00",
    "CONTRADICTED": "#c62828",
    "UNCORROBORATED": "#78909c",
    "UNVERIFIABLE": "#cfd8dc",
}
"""Fallback fill per verdict; the stylesheet sets the palette-aware colours."""

CHAR_WIDTH = 7.0
"""Assumed mean glyph width (px) of the 13 px sans-serif text, used to wrap box text."""

LINE_HEIGHT = 17


def _x(value) -> str:
    return escape(str(value), quote=True)


def verdict_class(verdict: str) -> str:
    """CSS class of a verdict: ``ls-v-corroborated`` etc."""
    return "ls-v-" + verdict.lower()


def verdict_bar(mix: dict[str, int], *, width: int = 600, height: int = 28, labels: bool = True,
                title: str = "Verdict mix") -> str:
    """A 100 %-stacked horizontal bar of claims per verdict.

    ``mix`` maps verdict → claim count (order of :data:`generator.models.VERDICTS`);
    ``width``/``height`` are the viewBox size in px. With ``labels`` a segment wide enough
    for its count shows it. Each segment carries a ``<title>`` (``"CORROBORATED: 3 of
    130"``) for hover and screen readers. With no claims the bar is an empty outline.
    """
    total = sum(mix.get(v, 0) for v in VERDICTS)
    desc = ", ".join(f"{v} {mix.get(v, 0)}" for v in VERDICTS)
    parts = [f'<svg class="ls-bar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{_x(title)}: {_x(desc)}">',
             f"<title>{_x(title)}: {_x(desc)}</title>"]
    if total == 0:
        parts.append(f'<rect class="ls-bar-empty" x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" '
                     f'fill="none" stroke="#9e9e9e"/>')
    x = 0.0
    for verdict in VERDICTS:
        n = mix.get(verdict, 0)
        if not n:
            continue
        w = width * n / total
        parts.append(f'<g class="{verdict_class(verdict)}"><title>{verdict}: {n} of {total}</title>'
                     f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" '
                     f'fill="{VERDICT_COLOURS[verdict]}"/>')
        if labels and w >= CHAR_WIDTH * (len(str(n)) + 1):
            parts.append(f'<text x="{x + w / 2:.2f}" y="{height / 2 + 4.5:.1f}" text-anchor="middle" '
                         f'font-size="13">{n}</text>')
        parts.append("</g>")
        x += w
    parts.append("</svg>")
    return "".join(parts)


def _wrap(lines: list[str], width_px: float) -> list[str]:
    chars = max(8, int((width_px - 16) / CHAR_WIDTH))
    out: list[str] = []
    for line in lines:
        out.extend(textwrap.wrap(line, chars, break_long_words=True) or [""])
    return out


class _Box:
    def __init__(self, x: float, y: float, w: float, lines: list[str], *, kind: str, bold_first: bool = True):
        self.x, self.y, self.w = x, y, w
        self.lines = _wrap(lines, w)
        self.kind = kind
        self.bold_first = bold_first
        self.h = LINE_HEIGHT * len(self.lines) + 14

    def svg(self) -> str:
        out = [f'<g class="ls-prisma-box ls-prisma-{self.kind}">',
               f'<rect x="{self.x}" y="{self.y}" width="{self.w}" height="{self.h}" rx="4" '
               f'fill="#ffffff" stroke="#546e7a"/>']
        for i, line in enumerate(self.lines):
            weight = ' font-weight="bold"' if (i == 0 and self.bold_first) else ""
            out.append(f'<text x="{self.x + 8}" y="{self.y + 7 + LINE_HEIGHT * (i + 1) - 4}" '
                       f'font-size="13"{weight}>{_x(line)}</text>')
        out.append("</g>")
        return "".join(out)


def _phase_height(label: str) -> float:
    # The phase labels run vertically in 11 px bold (about 6.6 px per character).
    return len(label) * 6.6 + 14


def _arrow(x1: float, y1: float, x2: float, y2: float) -> str:
    return (f'<line class="ls-prisma-arrow" x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}" stroke="#546e7a" '
            f'stroke-width="1.5" marker-end="url(#ls-arrowhead)"/>')


def prisma_flow(prisma: dict, *, claims: int | None = None, checked: int | None = None) -> str:
    """The PRISMA 2020 flow of one synthesis as an SVG document fragment.

    ``prisma`` is the claim set's ``prisma`` dict (``identified``,
    ``identified_by_provider``, ``duplicates``, ``screened``, ``excluded``,
    ``excluded_by_reason``, ``included``); ``claims`` (optional) adds a final box with
    the number of claims extracted from the included sources, and ``checked`` how many of
    them were checked against other included sources (a claim about its source's own
    unnamed contribution is not). The figure is 680 px wide;
    its height follows the number of providers and exclusion reasons.
    """
    left, main_w, side_x, side_w, gap = 34, 300, 380, 290, 34
    width = side_x + side_w + 6
    by_provider = prisma.get("identified_by_provider") or {}
    reasons = prisma.get("excluded_by_reason") or {}
    y = 8
    ident = _Box(left, y, main_w, [f"Records identified (n = {prisma['identified']})"]
                 + [f"{name}: {n}" for name, n in sorted(by_provider.items())], kind="main")
    dup = _Box(side_x, y, side_w, [f"Duplicates removed (n = {prisma['duplicates']})",
                                   "merged by DOI, arXiv id or OpenAlex id"], kind="side")
    row1 = max(ident.h, dup.h, _phase_height("Identification"))
    y2 = y + row1 + gap
    screened = _Box(left, y2, main_w, [f"Records screened (n = {prisma['screened']})",
                                       "title and abstract against the question and its facets"], kind="main")
    excluded = _Box(side_x, y2, side_w, [f"Records excluded (n = {prisma['excluded']})"]
                    + [f"{reason}: {n}" for reason, n in sorted(reasons.items())], kind="side")
    row2 = max(screened.h, excluded.h, _phase_height("Screening"))
    y3 = y2 + row2 + gap
    included = _Box(left, y3, main_w, [f"Sources included (n = {prisma['included']})",
                                       "read for claims and used as evidence"], kind="main")
    boxes = [ident, dup, screened, excluded, included]
    bottom = y3 + included.h
    arrows = [
        _arrow(left + main_w / 2, y + ident.h, left + main_w / 2, y2 - 2),
        _arrow(left + main_w, y + ident.h / 2, side_x - 2, y + ident.h / 2),
        _arrow(left + main_w / 2, y2 + screened.h, left + main_w / 2, y3 - 2),
        _arrow(left + main_w, y2 + screened.h / 2, side_x - 2, y2 + screened.h / 2),
    ]
    if claims is not None:
        what = ("each checked against other included sources" if checked is None or checked == claims
                else f"{checked} of them checked against other included sources")
        extracted = _Box(side_x, y3, side_w, [f"Claims extracted (n = {claims})", what], kind="side")
        boxes.append(extracted)
        arrows.append(_arrow(left + main_w, y3 + included.h / 2, side_x - 2, y3 + included.h / 2))
        bottom = max(bottom, y3 + extracted.h)
    bottom = max(bottom, y3 + _phase_height("Included"))
    height = bottom + 8
    phases = [("Identification", y, row1), ("Screening", y2, row2), ("Included", y3, bottom - y3)]
    summary = (f"PRISMA flow: {prisma['identified']} records identified, {prisma['duplicates']} "
               f"duplicate{'' if prisma['duplicates'] == 1 else 's'} removed, {prisma['screened']} screened, "
               f"{prisma['excluded']} excluded, "
               f"{prisma['included']} included" + (f", {claims} claims extracted" if claims is not None else ""))
    out = [f'<svg class="ls-prisma" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
           f'width="{width}" height="{height}" role="img" aria-label="{_x(summary)}">',
           f"<title>{_x(summary)}</title>",
           '<defs><marker id="ls-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#546e7a"/>'
           "</marker></defs>"]
    for name, top, h in phases:
        out.append(f'<g class="ls-prisma-phase"><rect x="2" y="{top}" width="22" height="{h}" rx="3" '
                   f'fill="#e3eaf0"/><text transform="translate(17 {top + h / 2}) rotate(-90)" '
                   f'text-anchor="middle" font-size="11" font-weight="bold">{name}</text></g>')
    out.extend(b.svg() for b in boxes)
    out.extend(arrows)
    out.append("</svg>")
    return "".join(out)
