"""The ``library`` provider: local corpus files searched with BM25.

``Library.load(paths)`` reads every file (formats in
:mod:`generator.providers.library_readers`), drops repeated record ids (first kept), and
indexes ``title + " " + abstract`` with bm25s (Lucene BM25, k1=1.5, b=0.75; PyStemmer
English stemmer; bm25s' English stop-word list). The index keeps token ids only; the text
lives once, in the records. ``Library.load(paths, processes=2)`` tokenises on a second
process while this one reads (:mod:`generator.providers.library_tokens`; same index, 2.1
instead of 3.1 s for the shared 25,065-record corpus, fastest of two loads each).

Memory and time (issue 7, measured by ``benchmarks/library_search.py``): no document's
token ids are kept, only each chunk's counted (document, term) pairs (10 bytes per
distinct pair), and bm25s' score matrix is built from them by
:func:`generator.providers.library_index.score_matrix` instead of bm25s' per-document
loop (0.1–0.2 instead of 1.2 s for the shared corpus), the same matrix bit for bit.

Warnings (skipped lines, truncated files, repeated ids) are logged on the
``generator.providers.library`` logger and collected in :attr:`Library.warnings` so that
the build can show them.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from generator.errors import RetrievalError
from generator.models import Record
from generator.providers import library_index
from generator.providers.library_readers import ALLOWED_FORMATS, read_corpus
from generator.records import identity_keys, parse_identifier

__all__ = ["Library", "RRF_K", "ALLOWED_FORMATS", "best_first"]

logger = logging.getLogger("generator.providers.library")

#: Reciprocal-rank-fusion constant: score(d) = Σ_q 1 / (RRF_K + rank_q(d)), ranks from 1.
#: k = 60 is the value of Cormack, Clarke & Büttcher, "Reciprocal rank fusion outperforms
#: Condorcet and individual rank learning methods", SIGIR 2009.
RRF_K = 60


NO_RECORDS = "no records loaded from this file"
"""Words of the warning for a file that gave no record (see :attr:`Library.faults`)."""

DUPLICATE_ID = "duplicate record id"
"""Words of the warning for a repeated record id: the record loaded first is kept, so
nothing is lost (unlike a skipped entry; see :attr:`Library.faults`)."""


def best_first(scores: np.ndarray, candidates: np.ndarray) -> np.ndarray:
    """``candidates`` (positions, ascending) ordered by ``scores`` (float32, positive at
    every candidate) from the highest down, equal scores in position order: what
    ``candidates[np.argsort(-scores[candidates], kind="stable")]`` gives, in half the time
    (20,000 candidates: 0.7 instead of 1.5 ms; a build of 50 questions sorts 150 such
    lists, our measurement). A positive float32's bits, read as an unsigned integer, order
    as its value does: inverted, they become the high half of a 64-bit key whose low half
    is the candidate's rank in ``candidates``, so the keys are distinct and a plain sort
    of them is the stable descending order."""
    if scores.dtype != np.float32 or len(candidates) >= 2**32:
        return candidates[np.argsort(-scores[candidates], kind="stable")]
    high = (~scores[candidates].view(np.uint32)).astype(np.uint64) << np.uint64(32)
    keys = np.sort(high | np.arange(len(candidates), dtype=np.uint64))
    return candidates[(keys & np.uint64(0xFFFFFFFF)).astype(np.intp)]


class Library:
    """Records from local corpus files, searchable by BM25 and addressable by identity key.

    Attributes: ``name`` (``"library"``), ``records`` (sequence of :class:`Record`, in load
    order, ids unique: a tuple, or for a saved copy a sequence that parses each record
    when it is first read), ``warnings`` (list of ``path:line: message`` strings).
    Implements the :class:`generator.providers.Provider` protocol.
    """

    name = "library"

    def __init__(self, records: Iterable[Record], warnings: list[str] | None = None, *,
                 processes: int = 1):
        """Index ``records`` (consumed once, as they come: a reader's generator is read
        while its first records are already being tokenised); a record whose ``id`` was
        already seen is dropped with a warning.

        ``warnings`` are earlier messages (from the readers) to keep in :attr:`warnings`.
        ``processes`` > 1 lets a second process tokenise while this one reads
        (:func:`generator.providers.library_tokens.tokenise`); the index is the same.
        """
        from generator.providers import library_tokens

        self.warnings: list[str] = list(warnings or [])
        kept: list[Record] = []
        seen: set[str] = set()
        self._by_key: dict[str, int] = {}

        def texts() -> Iterator[str]:
            for record in records:
                if record.id in seen:
                    self._warn(f"{DUPLICATE_ID} {record.id} — kept the first one loaded")
                    continue
                seen.add(record.id)
                # Keyed as read, while the helper process tokenises, not after.
                for key in identity_keys(record):
                    self._by_key.setdefault(key, len(kept))
                kept.append(record)
                yield f"{record.title} {record.abstract or ''}"

        tokenizer, counts = library_tokens.tokenise(texts(), processes)
        self.records: Sequence[Record] = tuple(kept)
        # Year 0 marks "unknown": such records pass every `since` filter.
        self._years = np.fromiter((r.year or 0 for r in self.records), dtype=np.int32, count=len(self.records))
        self._tokenizer = None
        self._bm25 = None
        if self.records:
            self._build_index(tokenizer, counts)

    @classmethod
    def from_saved(cls, records: Sequence[Record], by_key: dict[str, int], years: np.ndarray,
                   warnings: list[str], folder: Path) -> "Library":
        """A library of ``records`` (ids unique, in load order) whose index
        :meth:`save_index` wrote to ``folder`` (see
        :mod:`generator.providers.library_cache`). ``by_key`` maps every identity key to the
        position of the first record that has it, ``years`` (shape ``(len(records),)``,
        int32) holds each record's year or 0 — what :meth:`catalogue` returned when the
        copy was saved. ``records`` may be any sequence, e.g. one that parses a record when
        it is first read. Raises ``OSError`` or ``ValueError`` when the saved index is
        missing, unreadable or not of ``records``."""
        if len(years) != len(records):
            raise ValueError(f"{len(years)} years for {len(records)} records")
        library = cls.__new__(cls)
        library.warnings = list(warnings)
        library.records = records
        library._by_key = by_key
        library._years = np.asarray(years, dtype=np.int32)
        library._tokenizer = library._bm25 = None
        if records:
            library._load_index(Path(folder))
        return library

    def catalogue(self) -> tuple[dict[str, int], np.ndarray]:
        """``(by_key, years)`` as :meth:`from_saved` takes them: identity key → position
        of its first record, and every record's year (0 when unknown)."""
        return dict(self._by_key), self._years.copy()

    def save_index(self, folder: Path) -> None:
        """Write the BM25 index and the tokenizer vocabulary into ``folder`` (bm25s'
        own files: ``.npy`` arrays and JSON). Raises ``OSError``."""
        if self._bm25 is None or self._tokenizer is None:
            return
        self._bm25.save(str(folder), show_progress=False)
        self._tokenizer.save_vocab(str(folder))

    def _load_index(self, folder: Path) -> None:
        import bm25s

        from generator.providers.library_tokens import new_tokenizer

        bm25 = bm25s.BM25.load(str(folder), mmap=False, allow_pickle=False, show_progress=False)
        if bm25.scores.get("num_docs") != len(self.records):
            raise ValueError(f"the saved index holds {bm25.scores.get('num_docs')} documents, "
                             f"not {len(self.records)}")
        tokenizer = new_tokenizer()
        tokenizer.load_vocab(str(folder))
        self._tokenizer, self._bm25 = tokenizer, bm25

    @classmethod
    def load(cls, paths: Sequence[Path | str], *, processes: int = 1) -> "Library":
        """Read every file in ``paths`` (in order) and index their records (``processes``:
        as for :class:`Library`).

        Raises :class:`generator.errors.CorpusError` for a missing file, an unknown
        extension (the message lists the allowed formats) or a file unusable as a whole;
        problems with single entries become :attr:`warnings`. A repeated record id (within
        a file or across files) keeps the first record.
        """
        warnings: list[str] = []

        def warn(message: str) -> None:
            logger.warning(message)
            warnings.append(message)

        def read() -> Iterator[Record]:
            seen: set[str] = set()
            for raw_path in paths:
                path = Path(raw_path)
                count = 0
                repeated: list[str] = []
                for record in read_corpus(path, warn):
                    if record.id in seen:
                        repeated.append(record.id)
                        continue
                    seen.add(record.id)
                    count += 1
                    yield record
                if len(repeated) == 1:
                    warn(f"{path}: {DUPLICATE_ID} {repeated[0]} — kept the first one loaded")
                elif repeated:
                    # One line per file, not per record: the README's own build reads three
                    # seed records that the arXiv corpus holds too, on every build.
                    ids = list(dict.fromkeys(repeated))
                    shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
                    warn(f"{path}: {len(repeated)} records with a {DUPLICATE_ID} loaded before "
                         f"({len(ids)} distinct: {shown}) — kept the first record of each id")
                if count == 0 and not repeated:
                    # A file whose every record repeats an earlier one is not a broken file.
                    warn(f"{path}: {NO_RECORDS}")

        library = cls(read(), processes=processes)
        # The readers' warnings came while the records were indexed: they go first, as
        # they would have had the files been read before indexing.
        library.warnings[:0] = warnings
        return library

    def __len__(self) -> int:
        return len(self.records)

    @property
    def faults(self) -> list[str]:
        """The :attr:`warnings` about entries that were skipped (malformed, no title, …):
        records the files hold but a search cannot find. A repeated id is not one (the
        first record loaded is kept), nor a file with no records (an empty file holds
        nothing to miss; a file whose entries were all skipped has a warning for each)."""
        return [w for w in self.warnings if DUPLICATE_ID not in w and not w.endswith(NO_RECORDS)]

    def _warn(self, message: str) -> None:
        logger.warning(message)
        self.warnings.append(message)

    def _build_index(self, tokenizer, counts: library_index.TermCounts) -> None:
        import bm25s
        from bm25s.tokenization import Tokenized

        self._tokenizer = tokenizer
        self._bm25 = bm25s.BM25()
        # bm25s' documented hook for building the index another way.
        self._bm25.build_index_from_ids = types.MethodType(library_index.score_matrix, self._bm25)
        # bm25s passes ``ids`` on to build_index_from_ids unread.
        self._bm25.index(Tokenized(ids=counts, vocab=tokenizer.get_vocab_dict()), show_progress=False)

    def _scores(self, query: str) -> np.ndarray | None:
        """BM25 score of every record for ``query`` (shape ``(len(records),)``), or ``None``
        when no query term is in the index."""
        ids = self._tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False, allow_empty=False
        )[0]
        if not ids:
            return None
        return self._bm25.get_scores_from_ids(ids)

    def search(self, queries: tuple[str, ...], since: int | None, max_records: int) -> list[Record]:
        """Records matching any of ``queries``, best first, at most ``max_records``.

        Each query ranks the records with a positive BM25 score whose year is ``>= since``
        (records of unknown year are kept; ``since=None`` keeps all); the per-query
        rankings are merged by reciprocal-rank fusion with k = :data:`RRF_K` (Cormack et
        al. 2009). Ties keep load order. Returns ``[]`` for no queries or ``max_records <=
        0``. Raises :class:`~generator.errors.RetrievalError` when the library holds no
        record at all: an empty or wrong file is a failed search, not a search that found
        nothing (an eighth trial's build wrote an empty snapshot, which later builds kept).
        """
        if not self.records:
            raise RetrievalError("the --library files hold no records: check the file names and contents")
        if max_records <= 0 or self._bm25 is None:
            return []
        eligible = np.ones(len(self.records), dtype=bool)
        if since is not None:
            eligible = (self._years == 0) | (self._years >= since)
        fused = np.zeros(len(self.records), dtype=np.float64)
        for query in queries:
            if not isinstance(query, str) or not query.strip():
                continue
            scores = self._scores(query)
            if scores is None:
                continue
            ranked = best_first(scores, np.flatnonzero((scores > 0) & eligible))
            fused[ranked] += 1.0 / (RRF_K + np.arange(1, len(ranked) + 1))
        hits = np.flatnonzero(fused > 0)
        best = hits[np.argsort(-fused[hits], kind="stable")][:max_records]
        return [self.records[i] for i in best.tolist()]

    def lookup(self, key: str) -> Record | None:
        """The record with identity key ``key``, or ``None``.

        Keys are those of :func:`generator.records.identity_keys`: ``arxiv:<id>``,
        ``doi:<doi>`` (including the DataCite DOI ``10.48550/arXiv.<id>``), ``lib:<id>``.
        ``key`` is normalised first (``arXiv:2505.09388v2`` and ``doi:10.1/ABC`` work).
        When several records share a key the first loaded is returned.
        """
        if not isinstance(key, str) or not key.strip():
            return None
        text = key.strip()
        for candidate in (parse_identifier(text), text):
            if candidate and candidate in self._by_key:
                return self.records[self._by_key[candidate]]
        return None
