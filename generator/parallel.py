"""Claim sets computed on several processes while the build is still preparing others.

A build hands each question to :class:`Synthesiser` as soon as its snapshot is read or
retrieved (:meth:`Synthesiser.add`); workers start computing while this process goes on
retrieving the next questions, and this process joins them once it has no more to
prepare (:meth:`Synthesiser.results`). Each item is :func:`compute_one`: the claim set of
:func:`generator.synthesis.synthesise` and, when a site name is given, its page files
(:func:`generator.render.question_files`), so rendering is spread over the processes too.

Why streaming rather than "retrieve everything, then synthesise": at 50 questions the
library search and snapshot writing take about a second of this process's time, during
which a second core would otherwise idle (``benchmarks/build_scaling.py``).
"""

from __future__ import annotations

import bisect
import functools
import gc
import logging
import multiprocessing
import multiprocessing.connection
import multiprocessing.util
import os
import pickle
import queue
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, BrokenExecutor, Future, ProcessPoolExecutor, wait
from typing import NamedTuple

from generator.models import Question, Snapshot

log = logging.getLogger(__name__)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the OS has one, else
    ``os.cpu_count()``); at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def processes(jobs: int | None, items: int) -> int:
    """Processes a :class:`Synthesiser` uses for ``items`` items: ``min(jobs, items)``,
    ``jobs`` defaulting to :func:`usable_cpus`; at least 1."""
    return max(1, min(jobs if jobs and jobs > 0 else usable_cpus(), items))


class Computed(NamedTuple):
    """What :func:`compute_one` gives for one question: the claim set (``None`` when the
    synthesis failed), the traceback text of that failure (else ``None``), and the page
    files ``{path under docs/: text}`` of :func:`generator.render.question_files`
    (``None`` when no site name was asked for or rendering failed — the build then renders
    the page itself, where any error is reported as usual)."""

    data: dict | None
    failure: str | None
    files: dict[str, str] | None = None


@functools.lru_cache(maxsize=1)
def _environment():
    from generator import render

    return render.environment()


def compute_one(question: Question, snapshot: Snapshot, site_name: str | None = None,
                digest: str | None = None) -> Computed:
    """:func:`generator.synthesis.synthesise` (``digest`` as there) that never raises an
    ``Exception`` (a bug on one question's data must not take the others down), then, when
    ``site_name`` is given, the page files of the claim set. Runs in this process or in a
    worker; the result does not depend on which."""
    from generator import synthesis  # heavy imports, skipped by cached builds; looked up per call
    try:
        data = synthesis.synthesise(question, snapshot, digest=digest)
    except Exception:
        return Computed(None, traceback.format_exc())
    files = None
    if site_name is not None:
        try:
            from generator import render

            files = render.question_files(data, _environment(), site_name=site_name)
        except Exception:  # rendered again by the build, which reports the error
            log.debug("rendering %s in a worker failed:\n%s", question.slug, traceback.format_exc())
    return Computed(data, None, files)


QUEUED_PER_WORKER = 2
"""Items handed to the pool per worker at once: while a worker computes one, the next
waits in the pool's queue, so the worker starts it without a round trip through this
process. The round trip left a worker idle 0.04–0.12 s between items while this process
computed too (about 1 s of a 6.4 s build at 50 questions; our measurement)."""


LAST_ONE_AT_A_TIME = 4
"""Once this process computes too (:meth:`Synthesiser.results`), items are no longer queued
ahead for a worker while fewer than this many are left."""


def _compute_packed(question: Question, snapshot: Snapshot, site_name: str | None, digest: str | None) -> bytes:
    """:func:`compute_one` in a worker, its result pickled and compressed with zlib (level
    1). A result with its page files is 0.5–1.5 MB pickled, 0.1–0.36 MB compressed (2–9 ms):
    the pipe to this process passes 64 KB at a time, each needing this process's GIL while
    its main thread computes, and the worker waits for all of it before its next item
    (our measurement, 50 benchmark questions).

    When the page files hold the claim set's JSON (``questions/<slug>.json``, the claim set
    itself: :func:`generator.render.question_files`), the claim set is not sent beside it:
    :func:`_unpacked` reads it back from that text (50 results: 0.33 s to unpickle with the
    claim sets, 0.13 s without them and parsing the JSON; 6.6 MB sent instead of 5.1)."""
    from generator.render import claim_set_path

    result = compute_one(question, snapshot, site_name, digest)
    if result.data is not None and result.files and claim_set_path(question.slug) in result.files:
        result = result._replace(data=None)
    return zlib.compress(pickle.dumps(result, pickle.HIGHEST_PROTOCOL), 1)


def _unpacked(packed: bytes, slug: str) -> Computed:
    """The :class:`Computed` that :func:`_compute_packed` packed for the question ``slug``."""
    result = pickle.loads(zlib.decompress(packed))
    if result.data is None and result.failure is None:
        from generator import jsontext
        from generator.render import claim_set_path

        result = result._replace(data=jsontext.loads(result.files[claim_set_path(slug)]))
    return result


def _cost(snapshot: Snapshot) -> int:
    # Verification dominates and grows with the abstracts' text: a proxy to start the
    # largest questions first (longest-processing-time-first scheduling).
    return sum(len(r.abstract or "") for r in snapshot.records)


class Synthesiser:
    """Computes the claim sets of the items :meth:`add`-ed, on up to ``processes(jobs,
    most)`` processes, this one included (``most``: how many items there can be at most).

    Scheduling (greedy largest-first list scheduling): a feeder thread hands each worker
    of a :class:`~concurrent.futures.ProcessPoolExecutor` the largest item not yet started
    whenever it is free. The pool is started by the first :meth:`add` (or :meth:`start`)
    when more than one process is to be used, that is when ``most >= 2``; one warm-up
    task per worker is run first (:func:`_warm_up`: the neural verifier, the page
    template) and items are handed out only once all have finished, so an item added
    early is not held by a worker that is still starting. This process takes the smallest item left once :meth:`results` is
    called, so the last item to finish is a small one. This process works rather than
    waits: one worker fewer to start, and a hook on
    :func:`generator.synthesis.synthesise` in this process still runs when it computes.

    Workers are started with the ``forkserver`` method where the OS has it (``spawn``
    elsewhere), so they inherit no threads, locks or open files of this process (the
    build lock, network sockets); each gets only its question and snapshot, pickled —
    never the library. As with any ``multiprocessing`` code, a script that uses this
    needs the ``if __name__ == "__main__":`` guard. Claim sets do not depend on where they
    were computed: :func:`generator.synthesis.synthesise` is a pure function of its two
    arguments (checked by ``tests/test_parallel.py``). A worker that dies (killed, out of
    memory) costs nothing but time: its item is computed here.

    Use as a context manager: on leaving it, and on any exception while :meth:`results`
    is being iterated (``KeyboardInterrupt`` included), the workers are stopped; a worker
    whose parent died exits by itself (:func:`_worker_init`).
    """

    def __init__(self, jobs: int | None, most: int, *, site_name: str | None = None):
        self._n = processes(jobs, most)
        self._site_name = site_name
        self._work: dict[int, tuple[Question, Snapshot, str | None]] = {}
        self._left: list[tuple[int, int]] = []  # (-cost, index), ascending: largest first
        self._cond = threading.Condition()
        self._closed = False
        self._stop = threading.Event()
        self._finished: queue.SimpleQueue = queue.SimpleQueue()  # (index, future) from the feeder
        self._pool: ProcessPoolExecutor | None = None
        self._feeder: threading.Thread | None = None

    @property
    def added(self) -> int:
        """Items added so far."""
        return len(self._work)

    def processes_in_use(self) -> int:
        """Processes at work for the items added so far, this one included."""
        return min(self._n, max(1, len(self._work)))

    def add(self, index: int, question: Question, snapshot: Snapshot, digest: str | None = None) -> None:
        """Queue one item; ``index`` identifies it in :meth:`results` (distinct per item);
        ``digest``: the snapshot's digest when known (see :func:`compute_one`). Raises
        ``RuntimeError`` after :meth:`results` was called or ``ValueError`` for an index
        already added."""
        with self._cond:
            if self._closed:
                raise RuntimeError("Synthesiser.add after results()")
            if index in self._work:
                raise ValueError(f"item {index} was already added")
            self._work[index] = (question, snapshot, digest)
            bisect.insort(self._left, (-_cost(snapshot), index))
            self._cond.notify_all()
        self.start()

    def start(self) -> None:
        """Start the workers now if more than one process is to be used (idempotent)."""
        if self._n <= 1 or self._pool is not None or self._stop.is_set():
            return
        self._pool = ProcessPoolExecutor(max_workers=self._n - 1, mp_context=_mp_context(),
                                         initializer=_worker_init,
                                         initargs=(logging.getLogger().getEffectiveLevel(),))
        self._feeder = threading.Thread(target=self._feed, name="litsynth-feeder", daemon=True)
        self._feeder.start()

    def _take(self, largest: bool) -> int | None:
        with self._cond:
            if not self._left:
                return None
            return (self._left.pop(0) if largest else self._left.pop())[1]

    def _feed(self) -> None:
        assert self._pool is not None
        workers = self._n - 1
        running: dict[Future, int] = {}
        submitting = True
        try:
            try:
                warming = {self._pool.submit(_warm_up, self._site_name) for _ in range(workers)}
            except Exception as exc:  # no worker could be started: this process computes everything
                log.warning("synthesis workers could not start (%s: %s); computing here",
                            type(exc).__name__, exc)
                return
            while warming and not self._stop.is_set():
                done, warming = wait(warming, timeout=0.05, return_when=FIRST_COMPLETED)
                for future in done:
                    exc = future.exception()
                    if isinstance(exc, BrokenExecutor):  # the pool broke: this process takes over
                        return
                    if exc is not None:  # the item itself will fail the same way, and say why
                        log.debug("a synthesis worker's warm-up failed: %r", exc)
                with self._cond:
                    if self._closed and not self._left:
                        return  # this process took every item while the workers started
            while not self._stop.is_set():
                while submitting and len(running) < workers * self._queued_per_worker():
                    i = self._take(largest=True)
                    if i is None:
                        break
                    try:
                        question, snapshot, digest = self._work[i]
                        running[self._pool.submit(_compute_packed, question, snapshot, self._site_name, digest)] = i
                    except Exception:  # the pool broke (or cannot start a worker): this process takes over
                        with self._cond:
                            bisect.insort(self._left, (-_cost(self._work[i][1]), i))
                        submitting = False
                if not running:
                    with self._cond:
                        if not submitting or (self._closed and not self._left):
                            return
                        if not self._left:
                            self._cond.wait(timeout=0.5)
                    continue
                # While items may still arrive, look for them often enough that a free
                # worker does not idle.
                idle = len(running) < workers * QUEUED_PER_WORKER and not self._closed
                done, _ = wait(running, timeout=0.05 if idle else 0.5, return_when=FIRST_COMPLETED)
                for future in done:
                    self._finished.put((running.pop(future), future))
        finally:
            for future, i in running.items():  # only when stopping: their results are not awaited
                self._finished.put((i, future))

    def _queued_per_worker(self) -> int:
        # Near the end, an item queued for a worker can no longer go to this process, which
        # may then wait for it with nothing else to do: the last items go one at a time.
        with self._cond:
            ending = self._closed and len(self._left) < LAST_ONE_AT_A_TIME
        return 1 if ending else QUEUED_PER_WORKER

    def results(self) -> Iterator[tuple[int, Computed]]:
        """Yield ``(index, Computed)`` once per item added, in completion order; once
        iteration starts, no more items may be added. With one process, items are computed
        here in index order."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        total = len(self._work)
        if self._pool is None:
            self._left.clear()  # nothing else takes items: they are computed here, in order
            for i in sorted(self._work):
                yield i, self._compute(i)
            return
        delivered = 0
        try:
            while delivered < total:
                mine = self._take(largest=False)
                if mine is not None:
                    result = self._compute(mine)
                    delivered += 1
                    yield mine, result
                    try:
                        while True:
                            i, future = self._finished.get_nowait()
                            delivered += 1
                            yield i, self._outcome(future, i)
                    except queue.Empty:
                        pass
                    continue
                try:
                    i, future = self._finished.get(timeout=1.0)
                except queue.Empty:
                    if self._feeder is not None and not self._feeder.is_alive() and self._finished.empty() \
                            and not self._left:
                        raise RuntimeError("synthesis feeder stopped with items outstanding") from None
                    continue
                delivered += 1
                yield i, self._outcome(future, i)
        except BaseException:
            self.abort()
            raise

    def _outcome(self, future: Future, i: int) -> Computed:
        try:
            exc = future.exception()
        except Exception as cancelled:  # CancelledError
            exc = cancelled
        if exc is None:
            return _unpacked(future.result(), self._work[i][0].slug)
        # compute_one raises no Exception itself: the worker died, was stopped (its
        # SystemExit comes back as the item's outcome), or the item did not pickle.
        # Computed here, the claim set is the same.
        log.warning("a synthesis worker failed (%s: %s); computing %s in the main process",
                    type(exc).__name__, exc, self._work[i][0].slug)
        return self._compute(i)

    def _compute(self, i: int) -> Computed:
        question, snapshot, digest = self._work[i]
        return compute_one(question, snapshot, self._site_name, digest)

    def abort(self) -> None:
        """Stop now: forget the items not started and terminate the workers."""
        self._stop.set()
        with self._cond:
            self._left.clear()
            self._cond.notify_all()
        if self._pool is not None and getattr(self._pool, "_processes", None) is not None:  # None: shut down
            _stop(self._pool)

    def close(self) -> None:
        """Wait for the feeder and shut the pool down (after :meth:`results` was consumed,
        or after :meth:`abort`). Interrupted (Ctrl-C, SIGTERM), it terminates the workers
        before the exception goes on: a pool left shutting down while the interpreter exits
        can lose the message that tells an idle worker to stop, and the exit then waits for
        that worker forever (seen once in 80 SIGTERMs before this rule)."""
        try:
            self._stop.set()
            with self._cond:
                self._cond.notify_all()
            if self._feeder is not None:
                self._feeder.join(timeout=5.0)  # it checks for the stop at least every 0.5 s
            if self._pool is not None:
                self._pool.shutdown(wait=True, cancel_futures=True)
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> "Synthesiser":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                self.abort()
        finally:
            self.close()


def synthesise_all(work: Iterable[tuple[Question, Snapshot]], *, jobs: int | None = None,
                   site_name: str | None = None) -> Iterator[tuple[int, Computed]]:
    """Compute every ``(question, snapshot)`` of ``work`` with a :class:`Synthesiser`:
    yields ``(index into work, Computed)`` once per item, in completion order (in index
    order with one process). ``jobs`` caps the processes, this one included (default
    :func:`usable_cpus`)."""
    work = list(work)
    with Synthesiser(jobs, len(work), site_name=site_name) as synth:
        for i, (question, snapshot) in enumerate(work):
            synth.add(i, question, snapshot)
        yield from synth.results()


def _warm_up(site_name: str | None) -> None:
    """What a worker loads before its first item, while the build still reads and
    retrieves: the synthesis modules, bm25s (imported by the verifier when it first
    indexes: 0.23 s with scipy, else spent on the worker's first item), the neural verifier
    (about 0.2 s) and the page template."""
    import bm25s  # noqa: F401
    from generator import synthesis, verification  # noqa: F401  (imported for compute_one)

    verification.neural_judge()
    if site_name is not None:
        _environment().get_template("synthesis.md.j2")


def helper_pool() -> ProcessPoolExecutor:
    """One worker process set up as the synthesis workers are (:func:`_worker_init`), for
    work that a build would otherwise do alone while the second core idles (reading the
    library: :mod:`generator.providers.library_tokens`). Stop it with
    :func:`stop_pool` when leaving on an error, else with ``shutdown()``."""
    return ProcessPoolExecutor(max_workers=1, mp_context=_mp_context(), initializer=_worker_init,
                               initargs=(logging.getLogger().getEffectiveLevel(),))


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """Stop ``pool`` now: its workers ended (:func:`_stop`), queued work cancelled."""
    if getattr(pool, "_processes", None) is not None:  # None: already shut down
        _stop(pool)
    pool.shutdown(wait=True, cancel_futures=True)


def _mp_context() -> multiprocessing.context.BaseContext:
    if "forkserver" in multiprocessing.get_all_start_methods():
        # No preload: the server would import the heavy modules before it ignores SIGINT,
        # so a Ctrl-C in that second printed its traceback; each worker imports them in
        # _warm_up instead, while the build loads the library.
        return multiprocessing.get_context("forkserver")
    return multiprocessing.get_context("spawn")


def _stop(pool: ProcessPoolExecutor, grace: float = 2.0) -> None:
    """Stop ``pool``'s workers now: SIGTERM to each live worker (which exits at once, see
    :func:`_exit_on_sigterm`), then SIGKILL to any still alive after ``grace`` seconds.

    The second step is a safety net: a worker idle in a blocking read only runs its Python
    SIGTERM handler if the signal reaches its main thread, and the kernel may deliver it
    to another thread (the watchdog, onnxruntime's) instead; the worker would then wait
    for work forever, and so would the build's exit (seen in about 1 of 80 SIGTERMs).
    """
    workers = [p for p in list((getattr(pool, "_processes", None) or {}).values()) if p.is_alive()]
    for process in workers:
        process.terminate()
    deadline = time.monotonic() + grace
    for process in workers:
        process.join(timeout=max(0.0, deadline - time.monotonic()))
        if process.is_alive():
            process.kill()
            process.join(timeout=grace)
    _unblock_results(pool)


def _unblock_results(pool: ProcessPoolExecutor) -> None:
    """Close this process's copy of the writing end of ``pool``'s result pipe, once its
    workers are gone.

    A worker stopped while it was sending a result (a tokenised chunk is about 0.6 MB)
    leaves part of the message in the pipe, and the executor's thread that reads results
    then waits for the rest forever — the worker's end is closed, but this process still
    holds the pipe's other writing end, so the read never sees its end. The shutdown that
    follows waits for that thread, and the build hung after Ctrl-C (3 of 7 interrupts 2 s
    into a first library build, a seventh trial; 1 of 8 before this session's changes).
    With the last writer closed the read ends, the executor marks itself broken, and its
    thread finishes. Uses the executor's private ``_result_queue`` (CPython 3.9–3.13),
    guarded: without it nothing is done."""
    writer = getattr(getattr(pool, "_result_queue", None), "_writer", None)
    close = getattr(writer, "close", None)
    if close is not None:
        try:
            close()
        except OSError:
            pass


def _exit_on_sigterm(signum, frame):
    # Exit now, but only after multiprocessing's finalizers have released what this worker
    # registered (killed outright, it would leave any named semaphore to the resource
    # tracker, which then warns on the build's stderr).
    # Raising SystemExit is not enough: ProcessPoolExecutor's worker loop catches it from
    # the running item, returns it as that item's outcome, and goes on working.
    # _exit_function is what multiprocessing itself runs when a child process ends.
    multiprocessing.util._exit_function()
    os._exit(128 + signum)


GC_THRESHOLDS = (10_000, 50, 50)
"""Python's cyclic garbage collector thresholds in a build's processes (default 700, 10,
10). A build allocates millions of small objects that reference counting frees, and its
caches and claim sets keep hundreds of thousands alive, which every full collection
walks: synthesis and rendering of the 50 benchmark questions on one process took 5.19 +
1.28 s with the defaults, 4.85 + 0.85 s with these (905 → 54 young collections, 8 → 1
full ones) and 4.84 + 0.85 s with the collector off, which then found 474 objects of
cyclic garbage to free at the end (our measurement): the collector still runs, rarely."""


def collect_garbage_rarely() -> None:
    """Set :data:`GC_THRESHOLDS` for this process (the CLI's and each worker's)."""
    gc.set_threshold(*GC_THRESHOLDS)


def _worker_init(log_level: int) -> None:
    """Set up a worker: Ctrl-C is the parent's to handle (it stops the workers), SIGTERM
    ends the worker in an orderly way, warnings reach stderr as the CLI prints them, and a
    watchdog ends the worker as soon as the build process is gone.

    Without the watchdog a worker of a build killed with SIGKILL waits for work forever,
    and with it the fork server, which lives until every worker has exited — all holding
    the build's stderr open. The watchdog waits on multiprocessing's parent sentinel: the
    end of a pipe whose other end only the build process holds, so it is closed by the
    kernel when the build dies, even while the build is an unreaped zombie (which
    ``os.getppid()`` or ``kill(pid, 0)`` would still report as alive).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    collect_garbage_rarely()
    try:  # bm25s' progress bars (always disabled here) would create a named semaphore,
        # which a worker killed outright leaves to the resource tracker to warn about.
        import tqdm

        tqdm.tqdm.set_lock(threading.RLock())
    except ImportError:
        pass
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
