"""A library's texts tokenised for bm25s, on a second process while this one reads.

Reading the shared 25,065-record corpus takes about 1.1 s and tokenising its titles and
abstracts about 1.9 s, one after the other in one process, while the build's second core
idles (issue 7, ``benchmarks/library_search.py``). :func:`tokenise` takes the texts as
the reader yields them, in chunks of :data:`CHUNK` texts: while fewer than
:data:`AHEAD` chunks wait for the helper process, the next one goes to it; otherwise this
process tokenises it itself. So the helper works while this process reads, neither waits
for the other, and at most ``AHEAD`` chunks of text are held beyond the one being read.

Each chunk is tokenised by a fresh bm25s ``Tokenizer`` (bm25s' word pattern, lower case,
its English stop words, PyStemmer's English stemmer) and the chunks' vocabularies are
merged in chunk order, a stem keeping the id of its first occurrence. That is the order a
single ``Tokenizer`` over all texts assigns ids in, so the ids, the vocabulary and every
BM25 score are the same whatever the number of processes (tested). The process that
tokenises a chunk also counts its (text, term) pairs
(:func:`generator.providers.library_index.count_pairs`): the index is built from those
counts, so no text's token ids are kept.
"""

from __future__ import annotations

import logging
import uuid
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from itertools import islice
from concurrent.futures import Future
from typing import NamedTuple

import numpy as np

from generator import parallel
from generator.providers.library_index import TermCounts, count_pairs

__all__ = ["CHUNK", "AHEAD", "Chunk", "WORD_PATTERN", "new_tokenizer", "tokenise"]

log = logging.getLogger(__name__)

CHUNK = 1000
"""Texts per chunk: large enough that sending a chunk and merging its vocabulary (a few ms
each) is small beside tokenising and counting it (about 80 ms), small enough that the two
processes finish close together. Our measurement on the shared corpus (fastest of 4 loads
on two processes): 2.36 s with chunks of 1,000 and :data:`AHEAD` = 3, 2.56 s with 2,000
and 2, 2.47–2.51 s with 1,500 and 3 or 1,000 and 4."""

AHEAD = 3
"""Chunks that may wait for the helper at once: one it works on, two queued — so that it
does not run dry while this process tokenises a chunk itself."""


class Chunk(NamedTuple):
    """One chunk, tokenised by a process's own tokenizer, which keeps its vocabulary from
    chunk to chunk: ``process`` names that tokenizer (its ids are local to it);
    ``new_stems`` are the stems it first met in this chunk, in order of first occurrence
    (their local ids follow on from those it had); ``new_words`` the ``(word, stem, local
    id)`` of the words it first met; ``lengths`` the tokens of each text (int64, shape
    ``(texts,)``); ``rows``, ``cols``, ``tf``: the chunk's distinct (text, local term id)
    pairs and their counts, as in :class:`generator.providers.library_index.TermCounts`
    (rows from 0 for the chunk's first text)."""

    process: int
    new_stems: list[str]
    new_words: list[tuple[str, str, int]]
    lengths: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    tf: np.ndarray


WORD_PATTERN = r"(?u)\w\w+"
"""The words the library tokenizer splits a text into: the same as bm25s' default pattern
``(?u)\\b\\w\\w+\\b`` — a greedy run of two or more word characters starts only where a
run starts and ends where it ends, so both boundaries hold anyway (tested on the shared
corpus) — found 18% faster without testing them (1.29 -> 1.06 s over the shared corpus's
titles and abstracts, our measurement)."""


def new_tokenizer():
    """The bm25s ``Tokenizer`` of the library index: English stop words, PyStemmer's
    English stemmer, :data:`WORD_PATTERN` (bm25s' default word pattern, written to be
    matched faster), lower case."""
    import Stemmer
    from bm25s.tokenization import Tokenizer

    return Tokenizer(stopwords="en", stemmer=Stemmer.Stemmer("english"), splitter=WORD_PATTERN)


class _Local:
    """A process's tokenizer for the chunks of one :func:`tokenise` call."""

    def __init__(self, process: int):
        self.process = process
        self.tokenizer = new_tokenizer()

    def chunk(self, texts: list[str]) -> Chunk:
        tok = self.tokenizer
        stems_before, words_before = len(tok.stem_to_sid), len(tok.word_to_id)
        lengths = np.empty(len(texts), dtype=np.int64)
        flat = array("i")
        for i, doc in enumerate(tok.streaming_tokenize(texts, update_vocab=True)):
            lengths[i] = len(doc)
            flat.extend(doc)
        new_stems = list(islice(tok.stem_to_sid, stems_before, None))
        # Every word in word_to_id has its stem in word_to_stem ("" included: bm25s sets both).
        new_words = [(w, tok.word_to_stem[w], sid) for w, sid in islice(tok.word_to_id.items(), words_before, None)]
        # Counted here, on the process that tokenised: the index is then built from the
        # counts, and the helper's share of that work is no longer left for the end.
        rows, cols, tf = count_pairs(np.frombuffer(flat, dtype=np.int32), lengths, len(tok.stem_to_sid))
        return Chunk(self.process, new_stems, new_words, lengths, rows, cols, tf)


_helper_local: _Local | None = None
_helper_call: str | None = None


def _helper_chunk(call: str, texts: list[str]) -> Chunk:
    """:meth:`_Local.chunk` in the helper process, with one tokenizer per ``call``."""
    global _helper_local, _helper_call
    if _helper_call != call or _helper_local is None:
        _helper_local, _helper_call = _Local(1), call
    return _helper_local.chunk(texts)


class _Merger:
    """Chunks, merged in chunk order into one tokenizer, so that each stem and word gets
    the id a single tokenizer over all texts would give it (that of its first occurrence)."""

    def __init__(self):
        self.tokenizer = new_tokenizer()
        # Per field of TermCounts, its part of each chunk, in chunk order.
        self._parts: tuple[list[np.ndarray], ...] = ([], [], [], [])
        self._texts = 0
        self._remap = {0: np.zeros(0, dtype=np.int32), 1: np.zeros(0, dtype=np.int32)}

    def add(self, chunk: Chunk) -> None:
        tok = self.tokenizer
        stem_to_sid = tok.stem_to_sid
        added = np.fromiter((stem_to_sid.setdefault(s, len(stem_to_sid)) for s in chunk.new_stems),
                            dtype=np.int32, count=len(chunk.new_stems))
        remap = self._remap[chunk.process] = np.concatenate([self._remap[chunk.process], added])
        for word, stem, _ in chunk.new_words:
            if word not in tok.word_to_id:
                tok.word_to_id[word] = stem_to_sid[stem]
                tok.word_to_stem[word] = stem
        # Rows stay in text order; within a text the pairs need no order (score_matrix sorts
        # by term, keeping text order).
        for parts, part in zip(self._parts, (chunk.lengths, chunk.rows + np.int32(self._texts),
                                             remap[chunk.cols], chunk.tf)):
            parts.append(part)
        self._texts += len(chunk.lengths)

    def counts(self) -> TermCounts:
        """The :class:`TermCounts` of every text merged; call once, at the end: the chunks
        are let go one field at a time as it is joined, so that joining holds one field
        twice rather than all of them (100 MB instead of 300 MB at 250,650 records)."""
        fields = []
        for parts, kind in zip(self._parts, (np.int64, np.int32, np.int32, np.uint16)):
            fields.append(np.concatenate(parts) if parts else np.zeros(0, dtype=kind))
            parts.clear()
        return TermCounts(*fields)


def _batches(texts: Iterable[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    for text in texts:
        batch.append(text)
        if len(batch) == CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def tokenise(texts: Iterable[str], processes: int = 1):
    """Tokenise ``texts`` (consumed once, in order) for a bm25s index.

    Returns ``(tokenizer, counts)``: a bm25s ``Tokenizer`` (:func:`new_tokenizer`) whose
    vocabulary holds every stem and word of ``texts`` with the ids one such tokenizer
    would give them over all of ``texts`` (the empty token, of a text with no word, is 0),
    and the texts' :class:`~generator.providers.library_index.TermCounts` in those ids
    (what ``term_counts`` gives for that tokenizer's token ids, pairs of one text perhaps
    in another order). ``processes`` > 1 uses one helper process besides this one (see the
    module's docstring); the result does not depend on it. A helper that cannot be started
    or that fails leaves its chunks to this process (logged at debug level). Exceptions
    raised while iterating ``texts`` propagate, the helper stopped.
    """
    merger = _Merger()
    list(merger.tokenizer.streaming_tokenize([], update_vocab=True))  # the empty token: id 0
    here = _Local(0)
    pool = _helper(processes)
    call = uuid.uuid4().hex
    # In chunk order: a tokenised chunk, or (the helper's future, its texts) until it is back.
    pending: deque[Chunk | tuple[Future, list[str]]] = deque()

    def merge_ready(wait: bool) -> None:
        nonlocal pool
        while pending:
            part = pending[0]
            if not isinstance(part, Chunk):
                future, batch = part
                if pool is not None and not (wait or future.done()):
                    return
                try:
                    if pool is None:  # after a failure its tokenizer's ids are no longer known here
                        raise RuntimeError("an earlier chunk failed")
                    part = future.result()
                except Exception as exc:  # the helper failed: this and later chunks are done here
                    log.debug("tokenising helper failed: %s: %s", type(exc).__name__, exc)
                    if pool is not None:
                        parallel.stop_pool(pool)
                        pool = None
                    part = here.chunk(batch)
            pending.popleft()
            merger.add(part)

    try:
        for batch in _batches(texts):
            merge_ready(wait=False)
            waiting = sum(1 for p in pending if not isinstance(p, Chunk))
            if pool is not None and waiting < AHEAD:
                try:
                    pending.append((pool.submit(_helper_chunk, call, batch), batch))
                    continue
                except Exception as exc:  # the pool broke: the rest is done here
                    log.debug("tokenising helper stopped: %s: %s", type(exc).__name__, exc)
                    parallel.stop_pool(pool)
                    pool = None
            pending.append(here.chunk(batch))
        merge_ready(wait=True)
    except BaseException:
        if pool is not None:
            parallel.stop_pool(pool)
        raise
    if pool is not None:
        pool.shutdown(wait=True)
    return merger.tokenizer, merger.counts()


def _helper(processes: int):
    if processes <= 1:
        return None
    try:
        return parallel.helper_pool()
    except Exception as exc:  # no process to help: everything is tokenised here
        log.debug("tokenising on one process: %s: %s", type(exc).__name__, exc)
        return None
