"""Orchestration of ``build`` and ``refresh``: questions → snapshots → syntheses → site.

This is where the I/O edges meet: question files are read, providers are built (the
local library and, unless offline, the network clients), snapshots are read or written,
and the site is written by :mod:`generator.site`. Everything in between is the pure
:func:`generator.synthesis.synthesise`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from generator import render, site, snapshots
from generator.errors import BuildError, RetrievalError
from generator.models import Question, Snapshot
from generator.providers import LIBRARY, NETWORK_PROVIDERS
from generator.questions import load_questions
from generator.retrieval import retrieve
from generator.synthesis import synthesise

log = logging.getLogger(__name__)


@dataclass
class Options:
    """What a build or refresh run is asked to do.

    ``root`` is the project folder (holding ``mkdocs.yml`` and ``content/``);
    ``libraries`` are local corpus files; ``offline`` forbids network providers;
    ``strict`` turns count inconsistencies into a failed build; ``transport`` is an
    optional ``httpx`` transport for the network providers (tests inject one).
    """

    root: Path
    libraries: list[Path] = field(default_factory=list)
    offline: bool = False
    strict: bool = False
    transport: object | None = None
    now: str | None = None

    @property
    def questions_dir(self) -> Path:
        return self.root / "content" / "questions"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "content" / "snapshots"


@dataclass
class Report:
    """Outcome of a run: built slugs, failed slugs with reasons, warnings, the site path."""

    built: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    site: Path | None = None


class _Sources:
    """Lazily built providers shared by all questions of one run."""

    def __init__(self, options: Options):
        self.options = options
        self._library = None
        self._client = None
        self._network: dict[str, object] = {}

    def library(self):
        if self._library is None and self.options.libraries:
            from generator.providers.library import Library
            self._library = Library.load(list(self.options.libraries))
        return self._library

    def network(self, name: str):
        if name not in self._network:
            from generator.config import Settings
            from generator.http import HttpClient
            from generator.providers import network_provider
            settings = Settings.from_env()
            if self._client is None:
                self._client = HttpClient(settings, transport=self.options.transport)
            self._network[name] = network_provider(name, self._client, settings)
        return self._network[name]

    def for_question(self, question: Question) -> list:
        providers = []
        if not self.options.offline:
            providers += [self.network(n) for n in question.providers if n in NETWORK_PROVIDERS]
        if self.library() is not None:
            providers.append(self.library())
        elif LIBRARY in question.providers:
            log.warning("%s lists the 'library' provider but no --library PATH was given", question.slug)
        if not providers:
            raise RetrievalError(
                f"{question.path}: no snapshot and no provider to retrieve from "
                f"({'--offline given' if self.options.offline else 'no providers'}) — "
                f"pass --library PATH with a local corpus, or run once with network access")
        return providers

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _now(options: Options) -> str:
    return options.now or datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _retrieve(question: Question, sources: _Sources, options: Options) -> Snapshot:
    snap = retrieve(question, sources.for_question(question), now=_now(options))
    snapshots.write(snapshots.snapshot_path(options.snapshots_dir, question.slug), snap)
    return snap


def build(options: Options) -> Report:
    """Build the whole site. Questions without a snapshot are retrieved first.

    Raises :class:`~generator.errors.InputError` (nothing written) for bad question files
    and :class:`~generator.errors.BuildError` when mkdocs fails or, under ``strict``, when a
    synthesis's counts do not add up. A question that cannot be retrieved is reported in
    ``Report.failed`` and on the index page; the others are built.
    """
    questions = load_questions(options.questions_dir)
    report = Report()
    sources = _Sources(options)
    syntheses = []
    try:
        for q in questions:
            try:
                snap = snapshots.read(snapshots.snapshot_path(options.snapshots_dir, q.slug))
                if snap is None:
                    snap = _retrieve(q, sources, options)
                    report.retrieved.append(q.slug)
            except RetrievalError as exc:
                report.failed[q.slug] = str(exc)
                continue
            data = synthesise(q, snap)
            for problem in data["assessment"]["count_problems"]:
                message = f"{q.slug}: counts do not add up: {problem}"
                if options.strict:
                    raise BuildError(message)
                report.warnings.append(message)
            syntheses.append(data)
            report.built.append(q.slug)
    finally:
        sources.close()
    files = render.render_site(syntheses, site_name=_site_name(options.root), failures=report.failed)
    report.site = site.build(options.root, files, render.nav(syntheses))
    return report


def refresh(options: Options, slugs: list[str] | None = None) -> Report:
    """Re-run retrieval for the named questions (all when ``slugs`` is empty).

    A snapshot is replaced only when its retrieval succeeded; a failed retrieval leaves the
    previous snapshot byte-identical. Unknown slugs are reported as failures.
    """
    questions = load_questions(options.questions_dir)
    by_slug = {q.slug: q for q in questions}
    report = Report()
    wanted = slugs or list(by_slug)
    sources = _Sources(options)
    try:
        for slug in wanted:
            if slug not in by_slug:
                report.failed[slug] = f"no question file for slug '{slug}' (have: {', '.join(by_slug)})"
                continue
            try:
                _retrieve(by_slug[slug], sources, options)
                report.retrieved.append(slug)
            except RetrievalError as exc:
                report.failed[slug] = str(exc)
    finally:
        sources.close()
    return report


def _site_name(root: Path) -> str:
    import yaml

    class _Loader(yaml.SafeLoader):
        pass

    # mkdocs.yml may use !ENV and other tags; we only need site_name.
    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        cfg = yaml.load((root / "mkdocs.yml").read_text(encoding="utf-8"), Loader=_Loader) or {}
    except (OSError, yaml.YAMLError):
        cfg = {}
    return str(cfg.get("site_name") or "Literature syntheses")
