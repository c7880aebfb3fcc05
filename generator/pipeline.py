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
3. per question: its snapshot is read, or retrieved and written atomically, and its claim
   set is taken from the cache when the question, snapshot and pipeline code are unchanged
   (unless ``force``); then the claim sets still missing are computed — in parallel over
   questions when more than one is missing (:func:`synthesise_all`) — and each is cached
   as soon as it is done;
4. the pages are rendered and the site is built and swapped in atomically; mkdocs is not
   run when nothing it reads changed (unless ``force``).
"""

from __future__ import annotations

import collections
import contextlib
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path

from generator import cache, clock, render, site, snapshots
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
    ``SOURCE_DATE_EPOCH`` is used when set (reproducible builds), else the clock;
    ``jobs`` is how many processes may compute claim sets at once, this one included
    (``None``: the CPUs this process may use; ``1``: all in this process) — see
    :func:`synthesise_all`.
    """

    root: Path
    libraries: list[Path] = field(default_factory=list)
    offline: bool = False
    strict: bool = False
    force: bool = False
    transport: object | None = None
    now: str | None = None
    progress: Callable[[str], None] | None = None
    jobs: int | None = None

    @property
    def questions_dir(self) -> Path:
        return self.root / "content" / "questions"

    @property
    def snapshots_dir(self) -> Path:
        return self.root / "content" / "snapshots"

    @property
    def cache_dir(self) -> Path:
        return self.root / site.WORK / "cache"

    @property
    def pages_dir(self) -> Path:
        """Rendered page files kept between builds (:class:`generator.cache.PageCache`)."""
        return self.root / site.WORK / "pages"

    @property
    def library_index_dir(self) -> Path:
        """Where the read and indexed ``libraries`` are saved between builds
        (:mod:`generator.providers.library_cache`)."""
        return self.root / site.WORK / "library"


@dataclass
class Report:
    """Outcome of a run.

    ``built``: slugs with a page; ``failed``: slug → one-line reason; ``retrieved``: slugs
    whose snapshot was (re)written; ``recomputed`` / ``cached``: built slugs whose claim set
    was computed / taken from the cache; ``warnings``: lines for the user; ``site``: the site
    folder; ``mkdocs_ran``: False when the site was already up to date; ``timings``: seconds
    per phase (``load``, ``retrieval`` — of which ``library`` is reading and indexing the
    ``--library`` files, present when they were loaded —, ``synthesis``, ``render``, ``site`` —
    writing, swapping and checking the site, of which ``mkdocs`` is the mkdocs run — and
    ``total``).
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
        self.library_seconds = 0.0

    def library(self):
        if self._library is None and self.options.libraries:
            from generator.providers import library_cache
            from generator.providers.library import Library
            started = time.perf_counter()
            paths = list(self.options.libraries)
            # Reading and indexing a corpus costs seconds; the saved copy is keyed by the
            # files' bytes, so an edited corpus is always read afresh.
            self._library = library_cache.load(paths, self.options.library_index_dir)
            if self._library is None:
                self._library = Library.load(paths)
                library_cache.save(self._library, paths, self.options.library_index_dir)
            self.library_seconds = time.perf_counter() - started
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
    return options.now or clock.now_iso()


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


def _refresh_one(question: Question, sources: _Sources, options: Options) -> Snapshot:
    """Retrieve ``question`` again and replace its snapshot, unless that would lose records.

    A refresh is a deliberate replacement of good data, so it refuses (raising
    :class:`RetrievalError`, the old snapshot left byte-identical) when a ``--library``
    file reported faults (truncated, malformed lines: a build without a snapshot accepts
    the partial corpus with warnings, a refresh does not swap it in for a complete one), or
    when the new retrieval found no record while the old snapshot had some.
    """
    path = snapshots.snapshot_path(options.snapshots_dir, question.slug)
    old = snapshots.read(path) if path.exists() else None
    providers = sources.for_question(question)
    library = sources.library()
    if old is not None and library is not None and library.warnings:
        raise RetrievalError(
            f"the library reported {len(library.warnings)} problem(s) (first: {library.warnings[0]}); "
            f"the previous snapshot {path.name} is kept — fix the corpus file, or delete the "
            f"snapshot to accept a partial corpus")
    snap = retrieve_one(question, providers, now=_now(options))
    if old is not None and old.records and not snap.records:
        raise RetrievalError(f"retrieval found no record (the previous snapshot has {len(old.records)}); "
                             f"the previous snapshot {path.name} is kept")
    snapshots.write(path, snap)
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
        performance = _performance(options, report)
        site_name = _site_name(options.root)
        files = render.render_site(syntheses, site_name=site_name, failures=report.failed,
                                   performance=performance,
                                   verifier=_verifier_facts(options, report, syntheses),
                                   rendered=_question_files(syntheses, site_name, options))
        nav = render.nav(syntheses, performance=performance is not None)
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
        cache.PageCache(options.pages_dir).prune(q.slug for q in questions)
    report.timings["total"] = time.perf_counter() - started
    return report


@dataclass
class _Entry:
    """One question on its way through :func:`_syntheses`."""

    question: Question
    tag: str
    snapshot: Snapshot | None = None
    key: str = ""
    problems: list[str] = field(default_factory=list)
    stale: str | None = None
    data: dict | None = None
    computed: bool = False
    failure: str | None = None


def _syntheses(questions: list[Question], options: Options, report: Report,
               store: cache.Cache) -> tuple[list[dict], list[str]]:
    """Phase 1, in question order: snapshot (read or retrieved), identifier problems, cache
    lookup. Phase 2: the missing claim sets (:func:`synthesise_all`), each cached when done.
    Phase 3, in question order again: failures, warnings and claim sets into ``report`` —
    so neither the report nor the site depends on which process computed what, or when."""
    entries = [_Entry(q, f"[{i}/{len(questions)}] {q.slug}") for i, q in enumerate(questions, 1)]
    sources = _Sources(options, report.warnings.append)
    try:
        for entry in entries:
            _prepare_entry(entry, sources, options, report, store)
    finally:
        sources.close()
    if sources.library_seconds:
        report.add_time("library", sources.library_seconds)
    del sources  # the library (hundreds of MB for a large corpus) is not needed any more

    todo = [e for e in entries if e.snapshot is not None and e.data is None]
    started = time.perf_counter()
    if todo:
        _say(options, f"synthesising {len(todo)} claim set(s) in {processes(options.jobs, len(todo))} process(es)")
    with contextlib.closing(synthesise_all([(e.question, e.snapshot) for e in todo], jobs=options.jobs)) as results:
        for i, data, failure in results:
            entry = todo[i]
            entry.data, entry.failure, entry.computed = data, failure, True
            if data is not None:
                store.put(entry.question.slug, entry.key, data)
                _say(options, f"{entry.tag}: synthesised")
            else:
                log.info("synthesis of %s failed:\n%s", entry.question.slug, failure)
                _say(options, f"{entry.tag}: failed")
    report.add_time("synthesis", time.perf_counter() - started)

    out: list[dict] = []
    strict_problems: list[str] = []
    for entry in entries:
        q = entry.question
        if entry.snapshot is None:
            report.failed[q.slug] = entry.failure or "no snapshot"
            continue
        (strict_problems if options.strict else report.warnings).extend(entry.problems)
        if entry.stale:
            # Under --strict a page must show what the question file asks for now.
            (strict_problems if options.strict else report.warnings).append(entry.stale)
        if entry.data is None:
            report.failed[q.slug] = _internal_error(entry.failure or "")
            continue
        if entry.computed:
            report.recomputed.append(q.slug)
        for problem in entry.data["assessment"]["count_problems"]:
            message = f"{q.slug}: counts do not add up: {problem}"
            (strict_problems if options.strict else report.warnings).append(message)
        out.append(entry.data)
        report.built.append(q.slug)
    return out, strict_problems


def _prepare_entry(entry: _Entry, sources: _Sources, options: Options, report: Report,
                   store: cache.Cache) -> None:
    q = entry.question
    t = time.perf_counter()
    try:
        found = snapshots.load(snapshots.snapshot_path(options.snapshots_dir, q.slug))
        if found is None:
            _say(options, f"{entry.tag}: retrieving")
            snap = _retrieve(q, sources, options)
            snap_bytes = snapshots.dumps(snap).encode("utf-8")
            report.retrieved.append(q.slug)
        else:
            snap, snap_bytes = found
    except (RetrievalError, snapshots.SnapshotError) as exc:
        entry.failure = str(exc)
        _say(options, f"{entry.tag}: failed")
        return
    finally:
        report.add_time("retrieval", time.perf_counter() - t)
    entry.snapshot = snap
    question_bytes = _question_file(q, options).read_bytes()
    entry.problems = identifier_problems(q, snap, question_bytes.decode("utf-8", "replace"))
    entry.stale = _stale_warning(q, snap)
    t = time.perf_counter()
    entry.key = cache.synthesis_key(q, question_bytes, snap_bytes)
    entry.data = None if options.force else store.get(q.slug, entry.key)
    report.add_time("synthesis", time.perf_counter() - t)
    if entry.data is not None:
        report.cached.append(q.slug)
        _say(options, f"{entry.tag}: unchanged (cached)")


def _internal_error(trace: str) -> str:
    """The one-line failure of a synthesis from its traceback text (last line: ``Type: message``)."""
    lines = trace.strip().splitlines()
    return (f"internal error while synthesising ({lines[-1] if lines else 'unknown error'}); "
            "run with -v for the traceback and report it")


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
                    snap = _refresh_one(by_slug[slug], sources, options)
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


PERFORMANCE_FILE = Path("content") / "performance.json"
"""Benchmark results (written by ``benchmarks/report.py``); when present, the site gets a
Performance page (:func:`generator.render.render_performance`)."""


def _performance(options: Options, report: Report) -> dict | None:
    path = options.root / PERFORMANCE_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        render.check_performance(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        report.warnings.append(f"{path}: {exc} — the Performance page was left out; "
                               "rerun 'python benchmarks/report.py' to rewrite it")
        return None
    return data


def _question_files(syntheses: list[dict], site_name: str, options: Options) -> dict[str, dict[str, str]]:
    """Every claim set's page files (:func:`generator.render.question_files`), read from the
    page cache when the claim set, the site name, the templates and the rendering code are
    unchanged, else rendered and stored. ``--force`` renders everything."""
    pages = cache.PageCache(options.pages_dir)
    env = render.environment()
    out: dict[str, dict[str, str]] = {}
    for data in syntheses:
        slug = data["slug"]
        key = render.question_key(data, site_name=site_name)
        files = None if options.force else pages.get(slug, key)
        if files is None:
            files = render.question_files(data, env, site_name=site_name)
            pages.put(slug, key, files)
        out[slug] = files
    return out


VERIFIER_DIR = Path("content") / "verifier"
"""Run records of ``litsynth eval scifact --out`` (``*.json``); the Method page shows them."""


def _verifier_facts(options: Options, report: Report, syntheses: list[dict]) -> dict:
    """What the Method page states about the verifier: ``{"method", "version",
    "thresholds", "runs"}`` — the verifier that computed the claim sets (as each records
    it in ``build.verifier``; the active one, :func:`generator.verification.active_method`,
    when there are none), its :func:`generator.verification.thresholds`, and the SciFact
    run records in :data:`VERIFIER_DIR`, in file-name order. A record that is not a run
    record becomes a warning and is left out."""
    from generator import evaluate, verification

    recorded = [d.get("build", {}).get("verifier", {}) for d in syntheses]
    if recorded and recorded[0].get("method") and recorded[0].get("version"):
        method, version = str(recorded[0]["method"]), str(recorded[0]["version"])
    else:
        method, version = verification.active_method()
    runs = []
    folder = options.root / VERIFIER_DIR
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            evaluate.check_run(data)
        except (OSError, ValueError) as exc:
            report.warnings.append(f"{path}: {exc} — left out of the Method page; rewrite it with "
                                   "'litsynth eval scifact … --out'")
            continue
        runs.append({**data, "file": path.name})
    return {"method": method, "version": version, "thresholds": verification.thresholds(method), "runs": runs,
            "cv": _cross_validated(method)}


def _cross_validated(method: str) -> dict | None:
    """``{"oracle", "open", "k"}``: abstract label-only F1 of the cross-validated variant
    closest to the shipped hybrid ("gate" in ``generator/model/cv_metrics.json``), or
    ``None`` for another verifier or when the file is absent or not of that shape."""
    from generator import neural, verification

    if method != verification.HYBRID_METHOD:
        return None
    try:
        data = json.loads((neural.MODEL_DIR / "cv_metrics.json").read_text(encoding="utf-8"))
        k = int(data["tuned_for_open_k"])
        gate = data["judges"]["gate"]
        out = {"oracle": float(gate["oracle"]["abstract_label_only_f1"]),
               "open": float(gate[f"open_k{k}"]["abstract_label_only_f1"]), "k": k}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return out if all(0.0 <= out[x] <= 1.0 for x in ("oracle", "open")) else None


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


# --------------------------------------------------------------------------- parallel synthesis


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else
    ``os.cpu_count()``); at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def processes(jobs: int | None, items: int) -> int:
    """Processes :func:`synthesise_all` uses for ``items`` items: ``min(jobs, items)``,
    ``jobs`` defaulting to :func:`usable_cpus`; at least 1."""
    return max(1, min(jobs if jobs and jobs > 0 else usable_cpus(), items))


def compute_one(question: Question, snapshot: Snapshot) -> tuple[dict | None, str | None]:
    """:func:`generator.synthesis.synthesise` that never raises an ``Exception``:
    ``(claim set, None)``, or ``(None, traceback text)`` when it failed — a bug on one
    question's data must not take the others down. Runs in this process or in a worker."""
    from generator import synthesis  # heavy imports, skipped by cached builds; looked up per call
    try:
        return synthesis.synthesise(question, snapshot), None
    except Exception:
        return None, traceback.format_exc()


def _cost(snapshot: Snapshot) -> int:
    # Verification dominates and grows with the abstracts' text: a proxy to start the
    # largest questions first (longest-processing-time-first scheduling).
    return sum(len(r.abstract or "") for r in snapshot.records)


def synthesise_all(work: list[tuple[Question, Snapshot]], *, jobs: int | None = None
                   ) -> Iterator[tuple[int, dict | None, str | None]]:
    """Compute the claim set of every ``(question, snapshot)`` in ``work``.

    Yields ``(index into work, claim set or None, traceback text or None)`` once per item,
    in completion order (see :func:`compute_one`). ``jobs`` (default :func:`usable_cpus`)
    caps the processes at work, this one included: with ``n = processes(jobs, len(work))``,
    ``n == 1`` computes everything here, in order; otherwise ``n - 1`` workers of a
    :class:`~concurrent.futures.ProcessPoolExecutor` and this process share the items —
    a feeder thread hands each worker the largest item left whenever it is free, and this
    process takes the smallest left (greedy largest-first list scheduling, so the last
    item to finish is a small one). This process works rather than waits: one worker fewer
    to start, and a hook on :func:`generator.synthesis.synthesise` in this process (the
    kill tests) still runs.

    Workers are started with the ``forkserver`` method where the OS has it (``spawn``
    elsewhere), so they inherit no threads, locks or open files of this process (the
    build lock, network sockets); each gets only its question and snapshot, pickled —
    never the library. As with any ``multiprocessing`` code, a script that calls this
    (through :func:`build`) needs the ``if __name__ == "__main__":`` guard. The claim sets
    do not depend on where they were computed: :func:`generator.synthesis.synthesise` is a
    pure function of its two arguments (checked by ``tests/test_parallel.py``). A worker
    that dies (killed, out of memory) costs nothing but time: its item is computed here.
    On any exception here, including ``KeyboardInterrupt``, the workers are stopped before
    it propagates; a worker whose parent died exits by itself (:func:`_worker_init`).
    """
    if not work:
        return
    n = processes(jobs, len(work))
    if n == 1:
        for i, (question, snapshot) in enumerate(work):
            yield (i, *compute_one(question, snapshot))
        return
    yield from _shared(work, n)


def _shared(work: list[tuple[Question, Snapshot]], n: int) -> Iterator[tuple[int, dict | None, str | None]]:
    """:func:`synthesise_all` on ``n >= 2`` processes: this one and ``n - 1`` workers."""
    left = collections.deque(sorted(range(len(work)), key=lambda i: (-_cost(work[i][1]), i)))
    lock = threading.Lock()
    finished: queue.SimpleQueue = queue.SimpleQueue()  # (index, future) from the feeder
    stop = threading.Event()

    def take(largest: bool) -> int | None:
        with lock:
            if not left:
                return None
            return left.popleft() if largest else left.pop()

    pool = ProcessPoolExecutor(max_workers=n - 1, mp_context=_mp_context(), initializer=_worker_init,
                               initargs=(logging.getLogger().getEffectiveLevel(),))

    def feed() -> None:
        running: dict[Future, int] = {}
        submitting = True
        try:
            while not stop.is_set():
                while submitting and len(running) < n - 1:
                    i = take(largest=True)
                    if i is None:
                        break
                    try:
                        running[pool.submit(compute_one, *work[i])] = i
                    except (BrokenExecutor, RuntimeError):  # the pool broke: this process takes over
                        with lock:
                            left.appendleft(i)
                        submitting = False
                if not running:
                    return
                done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    finished.put((running.pop(future), future))
        finally:
            for future, i in running.items():  # only when stopping: their results are not awaited
                finished.put((i, future))

    feeder = threading.Thread(target=feed, name="litsynth-feeder", daemon=True)
    feeder.start()
    delivered = 0
    try:
        while delivered < len(work):
            mine = take(largest=False)
            if mine is not None:
                result = compute_one(*work[mine])
                delivered += 1
                yield (mine, *result)
                try:
                    while True:
                        i, future = finished.get_nowait()
                        delivered += 1
                        yield (i, *_outcome(future, work[i]))
                except queue.Empty:
                    pass
                continue
            try:
                i, future = finished.get(timeout=1.0)
            except queue.Empty:
                if not feeder.is_alive() and finished.empty() and not left:
                    raise RuntimeError("synthesis feeder stopped with items outstanding") from None
                continue
            delivered += 1
            yield (i, *_outcome(future, work[i]))
    except BaseException:
        stop.set()
        with lock:
            left.clear()
        _stop(pool)
        raise
    finally:
        stop.set()
        feeder.join()
        pool.shutdown(wait=True, cancel_futures=True)


def _outcome(future: Future, item: tuple[Question, Snapshot]) -> tuple[dict | None, str | None]:
    try:
        return future.result()
    except Exception as exc:  # compute_one raises none itself: the worker died or the item did not pickle
        # Computed here, the claim set is the same.
        log.warning("a synthesis worker failed (%s: %s); computing %s in the main process",
                    type(exc).__name__, exc, item[0].slug)
        return compute_one(*item)


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        ctx = multiprocessing.get_context("forkserver")
        # Imported once in the server, so each worker starts with them already loaded.
        ctx.set_forkserver_preload(["generator.synthesis"])
        return ctx
    return multiprocessing.get_context("spawn")


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool``'s workers now: cancel what has not started and terminate the rest
    (``terminate_workers`` from Python 3.14; before that through the pool's process table)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
        return
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        if process.is_alive():
            process.terminate()


def _exit_on_sigterm(signum, frame):
    # An orderly exit runs multiprocessing's finalizers, which release the semaphores this
    # worker registered (bm25s' progress bars create one); killed outright, the worker
    # would leave them to the resource tracker, which then warns on the build's stderr.
    raise SystemExit(128 + signum)


def _worker_init(log_level: int) -> None:
    """Set up a worker: Ctrl-C is the parent's to handle (it stops the workers), SIGTERM
    ends the worker in an orderly way, warnings reach stderr as the CLI prints them, and a watchdog ends the
    worker as soon as the build process is gone.

    Without the watchdog a worker of a build killed with SIGKILL waits for work forever,
    and with it the fork server, which lives until every worker has exited — all holding
    the build's stderr open. The watchdog waits on multiprocessing's parent sentinel: the
    end of a pipe whose other end only the build process holds, so it is closed by the
    kernel when the build dies, even while the build is an unreaped zombie (which
    ``os.getppid()`` or ``kill(pid, 0)`` would still report as alive).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    root = logging.getLogger()
    if not root.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        # At the handler, as the CLI does: bm25s sets its own logger to DEBUG on import.
        handler.setLevel(log_level)
        root.addHandler(handler)
    root.setLevel(log_level)
    parent = multiprocessing.parent_process()
    if parent is None or parent.sentinel is None:
        return

    def watch() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=watch, name="litsynth-parent-watch", daemon=True).start()
