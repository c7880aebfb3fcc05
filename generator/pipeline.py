"""Orchestration of ``build`` and ``refresh``: questions → snapshots → syntheses → site.

This is where the I/O edges meet: question files are read, providers are built (the
local library and, unless offline, the network clients), snapshots are read or written,
claim sets are cached (:mod:`generator.cache`) and the site is written by
:mod:`generator.site`. Everything in between is the pure
:func:`generator.synthesis.synthesise`.

Order of a build, and what a failure at each step leaves behind:

1. every question file is validated and every ``--library`` path checked — on any
   problem an :class:`~generator.errors.InputError` / ``CorpusError`` is raised and
   nothing at all is written;
2. ``.litsynth/lock`` is taken and leftovers of a killed run are cleaned up
   (:func:`generator.site.recover`);
3. per question: its snapshot is read, or retrieved and written atomically; its claim set
   comes from the cache when the question, snapshot and pipeline code are unchanged
   (unless ``force``), else is computed and cached;
4. the pages are rendered and the site is built and swapped in atomically; mkdocs is not
   run when nothing it reads changed (unless ``force``).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from generator import cache, render, site, snapshots
from generator.errors import BuildError, RetrievalError
from generator.models import Question, Snapshot
from generator.providers import LIBRARY, NETWORK_PROVIDERS
from generator.questions import load_questions
from generator.records import identity_keys

log = logging.getLogger(__name__)


@dataclass
class Options:
    """What a build or refresh run is asked to do.

    ``root`` is the project folder (holding ``mkdocs.yml`` and ``content/``);
    ``libraries`` are local corpus files; ``offline`` forbids network providers;
    ``strict`` turns count inconsistencies and unresolved ``include:``/``cites:``
    identifiers into a failed build; ``force`` recomputes every claim set and reruns
    mkdocs; ``progress`` receives one short line per step (the CLI prints them on a
    terminal); ``transport`` is an optional ``httpx`` transport for the network providers
    (tests inject one); ``now`` fixes the retrieval time (ISO 8601), else
    ``SOURCE_DATE_EPOCH`` is used when set (reproducible builds), else the clock.
    """

    root: Path
    libraries: list[Path] = field(default_factory=list)
    offline: bool = False
    strict: bool = False
    force: bool = False
    transport: object | None = None
    now: str | None = None
    progress: Callable[[str], None] | None = None

    @property
    def questions_dir(self) -> Path:
        return self.root / "content" / "questions"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "content" / "snapshots"

    @property
    def cache_dir(self) -> Path:
        return self.root / site.WORK / "cache"


@dataclass
class Report:
    """Outcome of a run.

    ``built``: slugs with a page; ``failed``: slug → one-line reason; ``retrieved``: slugs
    whose snapshot was (re)written; ``recomputed`` / ``cached``: built slugs whose claim set
    was computed / taken from the cache; ``warnings``: lines for the user; ``site``: the site
    folder; ``mkdocs_ran``: False when the site was already up to date; ``timings``: seconds
    per phase (``load``, ``retrieval``, ``synthesis``, ``render``, ``site`` — writing, swapping and
    checking the site, of which ``mkdocs`` is the mkdocs run — and ``total``).
    """

    built: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    retrieved: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    site: Path | None = None
    mkdocs_ran: bool | None = None
    timings: dict[str, float] = field(default_factory=dict)

    def add_time(self, phase: str, seconds: float) -> None:
        self.timings[phase] = self.timings.get(phase, 0.0) + seconds


class _Sources:
    """Lazily built providers shared by all questions of one run."""

    def __init__(self, options: Options, warn: Callable[[str], None]):
        self.options = options
        self.warn = warn
        self._library = None
        self._client = None
        self._network: dict[str, object] = {}

    def library(self):
        if self._library is None and self.options.libraries:
            from generator.providers.library import Library
            self._library = Library.load(list(self.options.libraries))
            for message in self._library.warnings:
                self.warn(message)
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
    if options.now:
        return options.now
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    when = datetime.now(timezone.utc)
    if epoch.isdigit():
        when = datetime.fromtimestamp(int(epoch), timezone.utc)
    return when.replace(microsecond=0).isoformat()


def check_libraries(paths: list[Path]) -> None:
    """Raise :class:`~generator.errors.CorpusError` (one line naming the file) for a
    ``--library`` path that is missing, not a file, or of an unknown format. Reads no
    records, so it is cheap to call before anything is written."""
    if not paths:
        return
    from generator.providers.library_readers import read_corpus
    for path in paths:
        read_corpus(Path(path))  # checks eagerly; the records are read lazily, i.e. never here


def _question_file(question: Question, options: Options) -> Path:
    path = Path(question.path)
    return path if path.is_absolute() else options.root / path


def _locate(text: str, key: str) -> str:
    """``line:column`` of the identifier ``key`` (its part after the scheme) in the file
    text, case-insensitively; ``""`` when not found."""
    body = key.split(":", 1)[-1].lower()
    for number, line in enumerate(text.splitlines(), 1):
        col = line.lower().find(body)
        if col >= 0:
            return f":{number}:{col + 1}"
    return ""


def identifier_problems(question: Question, snap: Snapshot, text: str) -> list[str]:
    """Well-formed ``include:`` / ``cites:`` identifiers of ``question`` that ``snap`` does
    not hold, as ``path:line:column: message`` lines (``text`` is the question file).

    ``include:`` keys come from the snapshot's ``unresolved_includes`` (retrieval looked
    them up in every provider); ``cites:`` keys are checked against the records' identity
    keys, because retrieval does not look them up.
    """
    problems = []
    providers = ", ".join(snap.providers) or "no provider"
    for key in snap.unresolved_includes:
        problems.append(
            f"{question.path}{_locate(text, key)}: include {key!r} was not found by any provider "
            f"({providers}) — check the identifier, or run 'litsynth refresh {question.slug}' "
            "with a provider that has it")
    held = {k for rec in snap.records for k in identity_keys(rec)}
    reported = set(snap.unresolved_includes)
    for i, claim in enumerate(question.claims):
        for key in claim.cites:
            if key in held or key in reported:
                continue
            reported.add(key)
            problems.append(
                f"{question.path}{_locate(text, key)}: claims[{i}].cites {key!r} is not among the "
                f"retrieved records — add it to 'include:' and run 'litsynth refresh {question.slug}', "
                "or the claim cannot be checked against it")
    return problems


def _stale_warning(question: Question, snap: Snapshot) -> str | None:
    if snap.query_digest and snap.query_digest != snapshots.search_digest(question, snap.providers):
        return (f"{question.path}: the snapshot of {question.slug} was retrieved "
                f"{snap.retrieved_at[:10] or 'earlier'} with other search settings (queries, since, "
                f"max_records or include changed since) — the page shows what that search found; "
                f"run 'litsynth refresh {question.slug}' to search again")
    return None


def _retrieve(question: Question, sources: _Sources, options: Options) -> Snapshot:
    snap = retrieve_one(question, sources.for_question(question), now=_now(options))
    snapshots.write(snapshots.snapshot_path(options.snapshots_dir, question.slug), snap)
    return snap


def retrieve_one(question: Question, providers: list, *, now: str) -> Snapshot:
    """:func:`generator.retrieval.retrieve` (imported on first use: builds that only read
    snapshots never load the providers)."""
    from generator.retrieval import retrieve
    return retrieve(question, providers, now=now)


def _prepare(options: Options, report: Report) -> list[Question]:
    started = time.perf_counter()
    questions = load_questions(options.questions_dir, root=options.root)
    check_libraries(options.libraries)
    report.add_time("load", time.perf_counter() - started)
    return questions


def _say(options: Options, message: str) -> None:
    if options.progress is not None:
        options.progress(message)


def _recover(options: Options) -> None:
    for what in site.recover(options.root):
        log.info("cleaned up after an interrupted run: %s", what)
    for tmp in snapshots.remove_temporaries(options.snapshots_dir) + snapshots.remove_temporaries(options.cache_dir):
        log.info("removed %s left by an interrupted write", tmp)


def build(options: Options) -> Report:
    """Build the whole site. Questions without a snapshot are retrieved first.

    Raises :class:`~generator.errors.InputError` / ``CorpusError`` (nothing written) for
    bad question files or ``--library`` paths, and :class:`~generator.errors.BuildError`
    when mkdocs fails or, under ``strict``, when a synthesis's counts do not add up or an
    ``include:``/``cites:`` identifier was not found (every such problem is listed; the
    site is then not touched). A question that cannot be retrieved, or whose snapshot is
    unreadable, is reported in ``Report.failed`` and on the index page; the others are
    built.
    """
    started = time.perf_counter()
    report = Report()
    questions = _prepare(options, report)
    store = cache.Cache(options.cache_dir)
    with site.lock(options.root, on_wait=lambda m: _say(options, m)) as lock_fd:
        _recover(options)
        syntheses, strict_problems = _syntheses(questions, options, report, store)
        if strict_problems:
            raise BuildError("--strict: " + str(len(strict_problems)) + " problem(s); the site was not changed:\n"
                             + "\n".join(strict_problems))
        _say(options, "rendering pages")
        t = time.perf_counter()
        files = render.render_site(syntheses, site_name=_site_name(options.root), failures=report.failed)
        nav = render.nav(syntheses)
        report.add_time("render", time.perf_counter() - t)
        _say(options, "building the site")
        t = time.perf_counter()
        published = site.publish(options.root, files, nav, force=options.force, lock_fd=lock_fd)
        report.add_time("site", time.perf_counter() - t)
        if not published.mkdocs_ran:
            _say(options, "site unchanged: mkdocs not needed")
        report.site, report.mkdocs_ran = published.site, published.mkdocs_ran
        report.add_time("mkdocs", published.mkdocs_seconds)
        store.prune(q.slug for q in questions)
    report.timings["total"] = time.perf_counter() - started
    return report


def _syntheses(questions: list[Question], options: Options, report: Report,
               store: cache.Cache) -> tuple[list[dict], list[str]]:
    sources = _Sources(options, report.warnings.append)
    out: list[dict] = []
    strict_problems: list[str] = []
    try:
        for i, q in enumerate(questions, 1):
            tag = f"[{i}/{len(questions)}] {q.slug}"
            t = time.perf_counter()
            try:
                found = snapshots.load(snapshots.snapshot_path(options.snapshots_dir, q.slug))
                if found is None:
                    _say(options, f"{tag}: retrieving")
                    snap = _retrieve(q, sources, options)
                    snap_bytes = snapshots.dumps(snap).encode("utf-8")
                    report.retrieved.append(q.slug)
                else:
                    snap, snap_bytes = found
            except (RetrievalError, snapshots.SnapshotError) as exc:
                report.failed[q.slug] = str(exc)
                _say(options, f"{tag}: failed")
                continue
            finally:
                report.add_time("retrieval", time.perf_counter() - t)
            question_bytes = _question_file(q, options).read_bytes()
            problems = identifier_problems(q, snap, question_bytes.decode("utf-8", "replace"))
            (strict_problems if options.strict else report.warnings).extend(problems)
            stale = _stale_warning(q, snap)
            if stale:
                report.warnings.append(stale)
            t = time.perf_counter()
            data = _synthesis(q, snap, question_bytes, snap_bytes, options, report, store, tag)
            report.add_time("synthesis", time.perf_counter() - t)
            if data is None:
                continue
            for problem in data["assessment"]["count_problems"]:
                message = f"{q.slug}: counts do not add up: {problem}"
                (strict_problems if options.strict else report.warnings).append(message)
            out.append(data)
            report.built.append(q.slug)
    finally:
        sources.close()
    return out, strict_problems


def _synthesis(q: Question, snap: Snapshot, question_bytes: bytes, snap_bytes: bytes, options: Options,
               report: Report, store: cache.Cache, tag: str) -> dict | None:
    key = cache.synthesis_key(q, question_bytes, snap_bytes)
    data = None if options.force else store.get(q.slug, key)
    if data is not None:
        report.cached.append(q.slug)
        _say(options, f"{tag}: unchanged (cached)")
        return data
    _say(options, f"{tag}: synthesising")
    from generator.synthesis import synthesise  # heavy imports, skipped by cached builds
    try:
        data = synthesise(q, snap)
    except Exception as exc:  # a bug on one question's data must not take the others down
        log.info("synthesis of %s failed", q.slug, exc_info=True)
        report.failed[q.slug] = (f"internal error while synthesising ({type(exc).__name__}: {exc}); "
                                 "run with -v for the traceback and report it")
        return None
    store.put(q.slug, key, data)
    report.recomputed.append(q.slug)
    return data


def refresh(options: Options, slugs: list[str] | None = None) -> Report:
    """Re-run retrieval for the named questions (all when ``slugs`` is empty).

    A snapshot is replaced only when its retrieval succeeded; a failed retrieval leaves the
    previous snapshot byte-identical. Unknown slugs are reported as failures. Raises
    ``InputError``/``CorpusError`` before writing anything, as :func:`build` does.
    """
    started = time.perf_counter()
    report = Report()
    questions = _prepare(options, report)
    by_slug = {q.slug: q for q in questions}
    wanted = slugs or list(by_slug)
    with site.lock(options.root, on_wait=lambda m: _say(options, m)):
        _recover(options)
        sources = _Sources(options, report.warnings.append)
        try:
            for i, slug in enumerate(wanted, 1):
                if slug not in by_slug:
                    report.failed[slug] = f"no question file for slug '{slug}' (have: {', '.join(by_slug)})"
                    continue
                _say(options, f"[{i}/{len(wanted)}] {slug}: retrieving")
                try:
                    snap = _retrieve(by_slug[slug], sources, options)
                    report.retrieved.append(slug)
                except RetrievalError as exc:
                    report.failed[slug] = str(exc)
                    continue
                text = _question_file(by_slug[slug], options).read_text(encoding="utf-8", errors="replace")
                report.warnings.extend(identifier_problems(by_slug[slug], snap, text))
        finally:
            sources.close()
    report.timings["retrieval"] = report.timings["total"] = time.perf_counter() - started
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
    return str(cfg.get("site_name") or "Literature syntheses") if isinstance(cfg, dict) else "Literature syntheses"
