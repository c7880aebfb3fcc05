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
3. the snapshots on disk are read, then the missing ones retrieved and written
   atomically; a claim set is taken from the cache when the question, snapshot and
   pipeline code are unchanged (unless ``force``), and one still missing is handed to
   :class:`generator.parallel.Synthesiser` at once, so workers compute claim sets (and
   render their pages) while this process loads the library and retrieves the next
   questions; each claim set is cached as soon as it is done;
4. the remaining pages are rendered and the site is built and swapped in atomically;
   mkdocs is not run when nothing it reads changed (unless ``force``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from generator import cache, clock, parallel, render, site, snapshots
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
    :class:`generator.parallel.Synthesiser`.
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

    ``built``: slugs with a page; ``failed``: slug → one-line reason; ``kept``: failed slugs
    whose page of an earlier build is kept (from the claim-set cache); ``retrieved``: slugs
    whose snapshot was (re)written; ``recomputed`` / ``cached``: built slugs whose claim set
    was computed / taken from the cache; ``warnings``: lines for the user; ``notes``: lines
    for the user about what the run did not need to do; ``site``: the site
    folder; ``mkdocs_ran``: False when the site was already up to date; ``timings``: seconds
    per phase (``load``, ``retrieval`` — of which ``library`` is reading and indexing the
    ``--library`` files, present when they were loaded —, ``synthesis``, ``render``, ``site`` —
    writing, swapping and checking the site, of which ``mkdocs`` is the mkdocs run — and
    ``total``).
    """

    built: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    kept: list[str] = field(default_factory=list)
    retrieved: list[str] = field(default_factory=list)
    recomputed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
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
        self._unsaved = False
        self._library_key: str | None = None
        self.library_seconds = 0.0

    def library(self):
        if self._library is None and self.options.libraries:
            from generator.providers import library_cache
            from generator.providers.library import Library
            started = time.perf_counter()
            paths = list(self.options.libraries)
            # Reading and indexing a corpus costs seconds; the saved copy is keyed by the
            # files' bytes, so an edited corpus is always read afresh.
            try:
                self._library_key = library_cache.cache_key(paths)
            except OSError:  # unreadable: reading the files says so properly
                self._library_key = None
            self._library = library_cache.load(paths, self.options.library_index_dir, self._library_key)
            if self._library is None:
                # The second process (when --jobs allows one) tokenises while this one reads.
                self._library = Library.load(paths, processes=parallel.processes(self.options.jobs, 2))
                self._unsaved = True
            self.library_seconds = time.perf_counter() - started
            for message in self._library.warnings:
                self.warn(message)
        return self._library

    @property
    def library_read(self) -> bool:
        """Whether the ``--library`` files were read (or their saved copy loaded) in this run."""
        return self._library is not None

    def save_library(self) -> None:
        """Save a library read afresh for later builds (:mod:`generator.providers.library_cache`;
        never raises for a folder that cannot be written). Called once every question is
        retrieved, not when the library is read: saving took 0.35 s of a first build while
        the synthesis workers waited for the first snapshot (issue 7); afterwards it runs
        while they compute."""
        if self._unsaved:
            from generator.providers import library_cache
            started = time.perf_counter()
            library_cache.save(self._library, list(self.options.libraries), self.options.library_index_dir,
                               self._library_key)
            self._unsaved = False
            self.library_seconds += time.perf_counter() - started

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

    def for_question(self, question: Question, *, has_snapshot: bool = False) -> list:
        """The providers to retrieve ``question`` from; raises :class:`RetrievalError` when
        there is none (``has_snapshot``: a refresh, whose message then says the snapshot
        is kept)."""
        providers = []
        if not self.options.offline:
            providers += [self.network(n) for n in question.providers if n in NETWORK_PROVIDERS]
        if self.library() is not None:
            providers.append(self.library())
        elif LIBRARY in question.providers:
            log.warning("%s lists the 'library' provider but no --library PATH was given", question.slug)
        if not providers:
            what = "the snapshot is kept; no provider" if has_snapshot else "no snapshot and no provider"
            network = [n for n in question.providers if n in NETWORK_PROVIDERS]
            if not network:
                why, remedy = "it lists no network provider", "pass --library PATH with a local corpus"
            else:
                why = "--offline given"
                remedy = "pass --library PATH with a local corpus, or run once with network access"
            raise RetrievalError(f"{question.path}: {what} to retrieve from ({why}) — {remedy}")
        return providers

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _now(options: Options) -> str:
    return options.now or clock.now_iso()


def distinct_files(paths: list[Path] | None) -> list[Path]:
    """``paths`` without repeats of one file (compared by resolved path), in first-seen
    order: the same corpus given twice is read once (read twice, every record of the second
    copy was a duplicate, and a refresh refused the file as "no records loaded")."""
    seen: dict[Path, Path] = {}
    for path in paths or []:
        seen.setdefault(Path(path).resolve(), Path(path))
    return list(seen.values())


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


def refresh_command(slug: str, options: Options | None = None) -> str:
    """The ``litsynth refresh`` command line to suggest for ``slug``: with this run's
    ``--library`` arguments, and ``--offline`` when the run had both (an offline refresh
    with no library has nothing to retrieve from: a fifth trial ran the hint and it failed),
    so that it works where the build did."""
    parts = ["litsynth refresh"]
    if options is not None:
        if options.offline and options.libraries:
            parts.append("--offline")
        parts += [f"--library {shlex.quote(str(path))}" for path in options.libraries]
    return " ".join(parts + [shlex.quote(slug)])


def identifier_problems(question: Question, snap: Snapshot, text: str, options: Options | None = None) -> list[str]:
    """Well-formed ``include:`` / ``cites:`` identifiers of ``question`` that ``snap`` does
    not hold, as ``path:line:column: message`` lines (``text`` is the question file).

    ``include:`` keys come from the snapshot's ``unresolved_includes`` (retrieval looked
    them up in every provider); ``cites:`` keys are checked against the records' identity
    keys, because retrieval does not look them up.
    """
    problems = []
    answered = [p for p in snap.providers if p not in snap.provider_errors]
    failed = [p for p in snap.providers if p in snap.provider_errors]
    providers = ", ".join(answered) or "no provider"
    also = f"; {', '.join(failed)} failed and may have it" if failed else ""
    # Offline, only a local corpus file can supply a missing record.
    where = ("with a --library file that holds it" if options is not None and options.offline
             else "with a provider that has it")
    for key in snap.unresolved_includes:
        problems.append(
            f"{question.path}{_locate(text, key)}: include {key!r} was not found by any provider "
            f"that answered ({providers}{also}) — check the identifier, or run "
            f"'{refresh_command(question.slug, options)}' {where}")
    held = {k for rec in snap.records for k in identity_keys(rec)}
    reported = set(snap.unresolved_includes)
    for i, claim in enumerate(question.claims):
        for key in claim.cites:
            if key in held or key in reported:
                continue
            reported.add(key)
            problems.append(
                f"{question.path}{_locate(text, key)}: claims[{i}].cites {key!r} is not among the "
                f"retrieved records — add it to 'include:' and run '{refresh_command(question.slug, options)}' "
                f"{where}, or the claim cannot be checked against it")
    return problems


def _stale_warning(question: Question, snap: Snapshot, options: Options | None = None) -> str | None:
    if not snapshots.matches_question(snap, question):
        return (f"{question.path}: the snapshot of {question.slug} was retrieved "
                f"{snap.retrieved_at[:10] or 'earlier'} with other search settings (queries, since, "
                f"max_records or include changed since) — the page shows what that search found; "
                f"run '{refresh_command(question.slug, options)}' to search again")
    return None


def _retrieve(question: Question, sources: _Sources, options: Options) -> tuple[Snapshot, str]:
    """Retrieve ``question`` and write its snapshot: ``(snapshot, the text written)``."""
    providers = sources.for_question(question)
    snap = _noting_skipped(retrieve_one(question, providers, now=_now(options)), sources.library(), options)
    return snap, snapshots.write(snapshots.snapshot_path(options.snapshots_dir, question.slug), snap)


def _noting_skipped(snap: Snapshot, library, options: Options) -> Snapshot:
    """``snap`` with the entries the ``--library`` files skipped (:attr:`Library.faults`)
    recorded as the library's provider error, so that the page says results may be
    missing: the console's warning is gone after this build, the snapshot is committed (a
    fifth trial). File names only, so the snapshot does not depend on where the files lay."""
    faults = library.faults if library is not None else []
    if not faults:
        return snap
    first = faults[0]
    for path in options.libraries:
        first = first.replace(str(path), Path(path).name)
    from generator.providers.library_readers import SKIPPED  # read only when a library was

    # Most faults skip an entry; an oversized abstract is dropped from a record that is kept.
    skipped = sum(1 for f in faults if f.endswith(SKIPPED))
    kept = len(faults) - skipped
    where = "of the --library files "
    parts = []
    if skipped:
        parts.append(f"{skipped} entr{'y' if skipped == 1 else 'ies'} {where}{'was' if skipped == 1 else 'were'} skipped")
        where = ""
    if kept:
        parts.append(f"{kept} record{'' if kept == 1 else 's'} {where}{'was' if kept == 1 else 'were'} kept "
                     f"without {'its' if kept == 1 else 'their'} abstract")
    note = f"{' and '.join(parts)} (first: {first})"
    return dataclasses.replace(snap, provider_errors={**snap.provider_errors, LIBRARY: note})


def _refresh_one(question: Question, sources: _Sources, options: Options) -> Snapshot:
    """Retrieve ``question`` again and replace its snapshot, unless that would lose records.

    A refresh is a deliberate replacement of good data, so it refuses (raising
    :class:`RetrievalError`, the old snapshot left byte-identical) when a ``--library``
    file skipped entries (:attr:`Library.faults`, e.g. malformed lines: a build without a
    snapshot accepts the corpus without them, with warnings; a refresh does not swap it in
    for a complete one; a truncated file fails both; a repeated id loses nothing), when a
    provider the old snapshot has records from failed this time, or
    when the new retrieval found no record while the old snapshot had some.
    """
    path = snapshots.snapshot_path(options.snapshots_dir, question.slug)
    try:
        old = snapshots.read(path) if path.exists() else None
    except snapshots.SnapshotError as exc:
        # Unreadable is not good data: retrieving again is the remedy the build suggests.
        sources.warn(f"{_shown(str(exc), options)} — it is replaced by the new retrieval")
        old = None
    providers = sources.for_question(question, has_snapshot=old is not None)
    library = sources.library()
    if old is not None and library is not None and library.faults:
        raise RetrievalError(
            f"the library files have {len(library.faults)} skipped entr{'y' if len(library.faults) == 1 else 'ies'} "
            f"(first: {library.faults[0]}); the previous snapshot {path.name} is kept — fix the corpus "
            f"file, or delete the snapshot to accept a partial corpus")
    snap = _noting_skipped(retrieve_one(question, providers, now=_now(options)), library, options)
    if old is not None and old.records and not snap.records:
        raise RetrievalError(f"retrieval found no record (the previous snapshot has {len(old.records)}); "
                             f"the previous snapshot {path.name} is kept")
    failed = [name for name in snap.provider_errors if old.provider_counts.get(name, 0) > 0] if old is not None else []
    if failed:
        held = sum(old.provider_counts[name] for name in failed)
        raise RetrievalError(
            f"{', '.join(failed)} failed ({snap.provider_errors[failed[0]]}); the previous snapshot "
            f"{path.name} holds {held} record(s) from {'it' if len(failed) == 1 else 'them'} and is kept — "
            f"refresh again when {'it answers' if len(failed) == 1 else 'they answer'}, or with --offline "
            f"to search the library alone")
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
    report.warnings.extend(orphan_snapshots(options, questions))
    report.add_time("load", time.perf_counter() - started)
    return questions


def orphan_snapshots(options: Options, questions: list[Question]) -> list[str]:
    """One warning per snapshot in ``content/snapshots/`` with no question file: retrieved
    data is never deleted by a build, so the researcher is told where it is (a question
    file renamed or removed)."""
    folder = options.snapshots_dir
    if not folder.is_dir():
        return []
    slugs = {q.slug for q in questions}
    return [f"{_shown(str(path), options)}: no question file has the slug {path.stem!r} — the snapshot "
            "is kept; delete it if the question is gone, or restore the question file"
            for path in sorted(folder.glob("*.json")) if path.stem not in slugs]


def _say(options: Options, message: str) -> None:
    if options.progress is not None:
        options.progress(message)


def _waiting(options: Options, message: str) -> None:
    # Shown even without a terminal: a build that sits silently behind another looks hung.
    if options.progress is not None:
        options.progress(message)
    else:
        log.warning("%s", message)


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
    with site.lock(options.root, on_wait=lambda m: _waiting(options, m)) as lock_fd:
        _recover(options)
        site_name = _site_name(options.root)
        syntheses, rendered, strict_problems = _syntheses(questions, options, report, store, site_name)
        if strict_problems:
            raise BuildError("--strict: " + str(len(strict_problems)) + " problem(s); the site was not changed:\n"
                             + "\n".join(strict_problems))
        _say(options, "rendering pages")
        t = time.perf_counter()
        performance = _performance(options, report)
        files = render.render_site(syntheses, site_name=site_name, failures=report.failed,
                                   kept={slug: report.failed[slug] for slug in report.kept},
                                   performance=performance,
                                   verifier=_verifier_facts(options, report, syntheses),
                                   rendered=_question_files(syntheses, site_name, options, rendered,
                                                            skip=set(report.kept)))
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
    snapshot_bytes: bytes = b""
    key: str = ""
    problems: list[str] = field(default_factory=list)
    stale: str | None = None
    data: dict | None = None
    computed: bool = False
    failure: str | None = None


def _syntheses(questions: list[Question], options: Options, report: Report, store: cache.Cache,
               site_name: str) -> tuple[list[dict], dict[str, dict[str, str]], list[str]]:
    """Phase 1: the snapshots on disk are read and their claim sets looked up in the cache,
    in question order; the claim sets to compute are handed to a
    :class:`generator.parallel.Synthesiser`, whose workers start at once; then the
    questions without a snapshot are retrieved (loading the library), each handed over as
    soon as it has its snapshot. Phase 2: this process joins the workers until every
    claim set is computed (with its page files), each cached when done. Phase 3, in
    question order again: failures, warnings and claim sets into ``report`` — so neither
    the report nor the site depends on which process computed what, or when.

    Returns ``(claim sets, {slug: page files} of those computed here, strict problems)``.
    Time the workers spend while this process still retrieves is in no timing: "retrieval"
    and "library" are this process's, "synthesis" is the wait after the last question was
    prepared (plus the cache look-ups)."""
    entries = [_Entry(q, f"[{i}/{len(questions)}] {q.slug}") for i, q in enumerate(questions, 1)]
    rendered: dict[str, dict[str, str]] = {}
    # Snapshots on disk first: which claim sets must be computed is then known before the
    # library is loaded, and workers start (and warm up) while it loads.
    missing: list[int] = []
    for i, entry in enumerate(entries):
        if _read_snapshot(entry, options, report):
            if entry.snapshot is not None:
                _look_up(entry, options, report, store)
        else:
            missing.append(i)
    known = [i for i, e in enumerate(entries) if e.snapshot is not None and e.data is None]
    with parallel.Synthesiser(options.jobs, len(known) + len(missing), site_name=site_name) as synth:
        # Workers start now, so that they are warm when the first snapshot is retrieved
        # (about 0.9 s sooner at 50 questions); if every retrieval then fails, the build
        # waits for their warm-up (about 0.5 s) for nothing.
        synth.start()
        for i in known:
            synth.add(i, entries[i].question, entries[i].snapshot)
        sources = _Sources(options, report.warnings.append)
        try:
            for i in missing:
                entry = entries[i]
                _retrieve_entry(entry, sources, options, report)
                if entry.snapshot is not None:
                    _look_up(entry, options, report, store)
                    if entry.data is None:
                        # The snapshot's text was just written: its digest is that of the text.
                        synth.add(i, entry.question, entry.snapshot, snapshots.text_digest(entry.snapshot_bytes))
            sources.save_library()
            if options.libraries and not sources.library_read:
                # A corpus passed but never read is easy to take for one that was searched
                # (an eighth trial's damaged file "worked" this way).
                report.notes.append(
                    "the --library files were not read: every question has a snapshot already "
                    "(litsynth refresh searches them again)")
        finally:
            sources.close()
        if sources.library_seconds:
            report.add_time("library", sources.library_seconds)
        del sources  # the library (hundreds of MB for a large corpus) is not needed any more

        started = time.perf_counter()
        if synth.added:
            _say(options, f"synthesising {synth.added} claim set(s) in {synth.processes_in_use()} process(es)")
        pages = cache.PageCache(options.pages_dir)
        for i, (data, failure, files) in synth.results():
            entry = entries[i]
            entry.data, entry.failure, entry.computed = data, failure, True
            if data is not None:
                store.put(entry.question.slug, entry.key, data)
                if files is not None:
                    # Stored now, while the workers still compute, rather than after them.
                    pages.put(entry.question.slug, render.question_key(data, site_name=site_name), files)
                    rendered[entry.question.slug] = files
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
            _keep_earlier(q.slug, store, out, report)
            continue
        (strict_problems if options.strict else report.warnings).extend(entry.problems)
        if not q.facets:
            # `litsynth new` writes `facets: []`; a page built so keeps nearly every record
            # the search found (an eighth trial: 99 of 100) and cannot say what it covers.
            report.warnings.append(
                f"{q.path}: no facets — screening keeps every record that shares enough of the "
                "question's words, and the page cannot say which parts of the question the "
                "evidence covers; list what a complete answer must cover under facets")
        if entry.stale:
            # Under --strict a page must show what the question file asks for now.
            (strict_problems if options.strict else report.warnings).append(entry.stale)
        if entry.data is None:
            report.failed[q.slug] = _internal_error(entry.failure or "")
            _keep_earlier(q.slug, store, out, report)
            continue
        if entry.computed:
            report.recomputed.append(q.slug)
        for problem in entry.data["assessment"]["count_problems"]:
            message = f"{q.slug}: counts do not add up: {problem}"
            (strict_problems if options.strict else report.warnings).append(message)
        out.append(entry.data)
        report.built.append(q.slug)
    return out, rendered, strict_problems


def _keep_earlier(slug: str, store: cache.Cache, out: list[dict], report: Report) -> None:
    """Nothing already built is lost: a question this build could not build keeps the claim
    set of its last successful build (when the cache has one), its page marked as such."""
    earlier = store.latest(slug)
    if earlier is not None:
        out.append(earlier)
        report.kept.append(slug)


def _read_snapshot(entry: _Entry, options: Options, report: Report) -> bool:
    """Read ``entry``'s snapshot from disk: ``True`` when found (or unreadable:
    ``entry.failure`` set), ``False`` when it must be retrieved."""
    t = time.perf_counter()
    try:
        found = snapshots.load(snapshots.snapshot_path(options.snapshots_dir, entry.question.slug))
    except snapshots.SnapshotError as exc:
        entry.failure = _shown(str(exc), options)
        _say(options, f"{entry.tag}: failed")
        return True
    finally:
        report.add_time("retrieval", time.perf_counter() - t)
    if found is None:
        return False
    entry.snapshot, entry.snapshot_bytes = found
    return True


def _shown(message: str, options: Options) -> str:
    """``message`` with the project folder left out of its paths: failures are published
    on the site's index page, which must not show the builder's local folders."""
    return message.replace(str(options.root.resolve()) + os.sep, "").replace(str(options.root) + os.sep, "")


def _retrieve_entry(entry: _Entry, sources: _Sources, options: Options, report: Report) -> None:
    """Retrieve ``entry``'s snapshot and write it (``entry.failure`` on a retrieval error)."""
    q = entry.question
    t = time.perf_counter()
    try:
        _say(options, f"{entry.tag}: retrieving")
        snap, text = _retrieve(q, sources, options)
        entry.snapshot, entry.snapshot_bytes = snap, text.encode("utf-8")
        report.retrieved.append(q.slug)
    except (RetrievalError, snapshots.SnapshotError) as exc:
        entry.failure = str(exc)
        _say(options, f"{entry.tag}: failed")
    finally:
        report.add_time("retrieval", time.perf_counter() - t)


def _look_up(entry: _Entry, options: Options, report: Report, store: cache.Cache) -> None:
    """Identifier problems, staleness and the cached claim set of an entry with a snapshot."""
    q, snap = entry.question, entry.snapshot
    question_bytes = _question_file(q, options).read_bytes()
    entry.problems = identifier_problems(q, snap, question_bytes.decode("utf-8", "replace"), options)
    entry.stale = _stale_warning(q, snap, options)
    t = time.perf_counter()
    entry.key = cache.synthesis_key(q, question_bytes, entry.snapshot_bytes)
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
    with site.lock(options.root, on_wait=lambda m: _waiting(options, m)):
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
                report.warnings.extend(identifier_problems(by_slug[slug], snap, text, options))
            sources.save_library()
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


def _question_files(syntheses: list[dict], site_name: str, options: Options,
                    rendered: dict[str, dict[str, str]], skip: set[str] = frozenset()) -> dict[str, dict[str, str]]:
    """Every claim set's page files (:func:`generator.render.question_files`): those
    ``rendered`` along with their claim set (already stored in the page cache by
    :func:`_syntheses`), else read from the page cache when the claim set, the site name,
    the templates and the rendering code are unchanged, else rendered here and stored.
    ``--force`` renders everything. Slugs in ``skip`` (pages kept from an earlier build,
    which render with their notice) are left to :func:`generator.render.render_site`."""
    pages = cache.PageCache(options.pages_dir)
    env = None
    out: dict[str, dict[str, str]] = {}
    for data in syntheses:
        slug = data["slug"]
        if slug in skip:
            continue
        if slug in rendered:
            out[slug] = rendered[slug]
            continue
        key = render.question_key(data, site_name=site_name)
        if not options.force:
            cached = pages.get(slug, key)
            if cached is not None:
                out[slug] = cached
                continue
        env = env or render.environment()
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

    recorded = syntheses[0].get("build", {}).get("verifier", {}) if syntheses else {}
    if recorded.get("method") and recorded.get("version"):
        method, version = str(recorded["method"]), str(recorded["version"])
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
            "cv": _cross_validated(method, version)}


def _cross_validated(method: str, version: str) -> dict | None:
    """Cross-validated abstract label-only F1 from ``generator/model/cv_metrics.json``:
    ``{"oracle", "open", "k", "ratio", "exact"}``. ``exact`` is true when the file measured
    ``version``, the verifier the claim sets record (its ``site_verifier`` entry: open
    setting with ``k`` BM25 abstracts, near ties ``ratio``); otherwise the numbers are of
    the cross-validated variant closest to the shipped hybrid ("gate", top ``k``; ``ratio``
    0). ``None`` for another verifier or when the file is absent or not of that shape."""
    from generator import neural, verification

    if method != verification.HYBRID_METHOD:
        return None
    try:
        data = json.loads((neural.MODEL_DIR / "cv_metrics.json").read_text(encoding="utf-8"))
        site = data.get("site_verifier")
        if isinstance(site, dict) and site.get("version") == version:
            out = {"oracle": float(site["oracle"]["abstract_label_only_f1"]),
                   "open": float(site["open"]["abstract_label_only_f1"]),
                   "k": int(site["retrieval_k"]), "ratio": float(site["retrieval_ratio"]), "exact": True}
        else:
            k = int(data["tuned_for_open_k"])
            gate = data["judges"]["gate"]
            out = {"oracle": float(gate["oracle"]["abstract_label_only_f1"]),
                   "open": float(gate[f"open_k{k}"]["abstract_label_only_f1"]), "k": k, "ratio": 0.0,
                   "exact": False}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
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
