"""A library's bm25s score matrix, its term frequencies counted with numpy.

bm25s builds its index (``BM25.build_index_from_ids``) one document at a time in Python:
a set intersection for the document frequencies and a ``Counter`` for the term
frequencies of each document — about 1.3 s of a first build's 4 s library load for the
shared 25,065-record corpus (issue 7). bm25s documents that method as the one to
override "if you want to build the index in a different way"; :func:`score_matrix` is
that override (0.26 s). The (document, term) pairs are counted with ``np.unique``
(:func:`count_pairs`), a chunk of texts at a time on the process that tokenised them
(:mod:`generator.providers.library_tokens`), and every score is computed with bm25s' own
functions — its IDF scorer over the document frequencies (``_build_idf_array``) and its
term-frequency component, given whole arrays where bm25s gives it one document's — in
the same floating-point types and order of operations. So ``data``, ``indices`` and ``indptr`` are bit for bit those of
bm25s' builder (tested on the shared corpus), and so is every score and ranking.

Memory: the counted (row, column, term frequency) triples take 10 bytes per non-zero
(bm25s' builder holds 12); the counting's temporaries (sort keys) are per block of
documents. The column order is a stable sort on the term column alone
(:func:`column_order`) instead of bm25s' sort on packed 64-bit (term, document) keys, and
the scores are computed in that order, straight into the index: besides the triples and
the index (8 bytes per non-zero), one 8-byte array of the matrix's size. Peak RSS of
``benchmarks/library_search.py`` at 250,650 records (25.6 million non-zeros): 1,717 MiB;
1,938 MiB when the scores were first computed unsorted and then reordered; 1,674 MiB with
bm25s' own builder (our measurements; issue 7's limit is 2 GB).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np

__all__ = ["BLOCK", "TermCounts", "column_order", "count_pairs", "score_matrix", "term_counts"]

BLOCK = 16384
"""Documents :func:`term_counts` counts at once, at least (more while their sort keys fit
in 4 bytes): the keys of a block of abstracts (about 150 tokens each) take 10–20 MB,
small beside the matrix of a 250k-record library."""


STEP = 1 << 19
"""Entries of the score matrix computed at once by one thread (float64 temporaries of
4 MB each; two threads at a time)."""


def column_order(rows: np.ndarray, cols: np.ndarray, n_cols: int) -> tuple[np.ndarray, np.ndarray]:
    """``(order, indptr)`` that turn (row, column) pairs, each pair at most once, into the
    CSC layout bm25s' ``BM25._np_csc`` builds: ``order`` (int64) lists the entries by column,
    and within a column by row (bm25s sorts on a packed ``column << 32 | row`` key);
    ``indptr`` (int64, ``n_cols + 1``) is where each column starts. When ``rows`` ascend, a
    stable sort on the column alone gives that order — by radix, 0.03 s instead of 0.2 s
    for the shared corpus' 2.6 million entries, when the columns fit in 16 bits."""
    indptr = np.zeros(n_cols + 1, dtype=np.int64)
    np.cumsum(np.bincount(cols, minlength=n_cols), out=indptr[1:])
    if len(rows) > 1 and not bool(np.all(rows[1:] >= rows[:-1])):
        return np.lexsort((rows, cols)), indptr
    return np.argsort(cols.astype(np.uint16) if n_cols <= 1 << 16 else cols, kind="stable"), indptr


class TermCounts(NamedTuple):
    """A tokenised corpus as BM25 needs it: ``lengths`` (tokens per document, int64, shape
    ``(documents,)``) and, for each distinct (document, term) pair in document order,
    ``rows`` (the document, int32), ``cols`` (the term id, int32) and ``tf`` (how often
    the term occurs in the document: uint16, or int32 when a count needs it)."""

    lengths: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    tf: np.ndarray


def count_pairs(flat: np.ndarray, lengths: np.ndarray, n_terms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, tf)`` of :class:`TermCounts` for documents ``0 … len(lengths) − 1``
    whose token ids (``0 … n_terms − 1``) are ``flat``, one document after the other.
    Raises ``ValueError`` for an id outside that range or lengths that do not add up."""
    flat = np.asarray(flat, dtype=np.int32)
    if int(np.sum(lengths)) != len(flat):
        raise ValueError(f"document lengths add up to {int(np.sum(lengths))}, not {len(flat)} tokens")
    if len(flat) and (int(flat.min()) < 0 or int(flat.max()) >= n_terms):
        raise ValueError(f"token ids must lie in [0, {n_terms}) (the vocabulary's ids)")
    # 4-byte keys where they fit: numpy sorts them in 0.13 s instead of 0.21 s (3.7 million).
    kind = np.int32 if len(lengths) * n_terms <= np.iinfo(np.int32).max else np.int64
    keys = np.repeat(np.arange(len(lengths), dtype=kind) * kind(n_terms), lengths) + flat.astype(kind, copy=False)
    unique, counts = np.unique(keys, return_counts=True)
    # Two bytes per count where they do (always, short of a 200,000-character abstract of one word).
    small = not len(counts) or int(counts.max()) <= np.iinfo(np.uint16).max
    return ((unique // n_terms).astype(np.int32), (unique % n_terms).astype(np.int32),
            counts.astype(np.uint16 if small else np.int32))


def _block_size(n_terms: int) -> int:
    # At least BLOCK documents; more while their keys fit in 4 bytes (see count_pairs).
    return max(BLOCK, np.iinfo(np.int32).max // max(n_terms, 1))


def term_counts(corpus_token_ids: Sequence, n_terms: int) -> TermCounts:
    """:class:`TermCounts` of documents given as bm25s gives them, one buffer of 4-byte
    token ids per document (``array('i')`` or an int32 array), counted in blocks of at
    least :data:`BLOCK` documents. Raises ``ValueError`` as :func:`count_pairs`."""
    n_docs = len(corpus_token_ids)
    lengths = np.fromiter(map(len, corpus_token_ids), dtype=np.int64, count=n_docs)
    block = _block_size(n_terms)
    rows, cols, tf = [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.int32)], [np.zeros(0, dtype=np.uint16)]
    for start in range(0, n_docs, block):
        docs = corpus_token_ids[start:start + block]
        r, c, t = count_pairs(np.frombuffer(b"".join(docs), dtype=np.int32), lengths[start:start + block], n_terms)
        rows.append(r + np.int32(start))
        cols.append(c)
        tf.append(t)
    return TermCounts(lengths, np.concatenate(rows), np.concatenate(cols), np.concatenate(tf))


def score_matrix(bm25, unique_token_ids: list[int], corpus_token_ids: TermCounts | Sequence,
                 show_progress: bool = True, leave_progress: bool = False) -> dict:
    """What ``bm25s.BM25.build_index_from_ids`` returns, for ``bm25``'s settings
    (``method``, ``idf_method``, ``k1``, ``b``, ``dtype``).

    ``unique_token_ids``: the vocabulary's ids, ``0 … n − 1``; ``corpus_token_ids``: the
    documents' :class:`TermCounts`, or per document its token ids as a buffer of 4-byte
    ints (``array('i')`` or an int32 array; counted by :func:`term_counts`). Returns
    ``{"data", "indices", "indptr", "num_docs"}``: the CSC score matrix of shape
    ``(documents, n)``. Raises ``ValueError`` for a term id outside the vocabulary and
    for the BM25L / BM25+ variants (their non-occurrence scores are not built here).
    ``show_progress`` and ``leave_progress`` are bm25s' parameters, unused: there is no
    per-document loop to show.
    """
    from bm25s.scoring import _build_idf_array, _select_idf_scorer, _select_tfc_scorer

    if bm25.method in bm25.methods_requiring_nonoccurrence:
        raise ValueError(f"BM25 variant {bm25.method!r} is not supported by this builder")
    bm25.nonoccurrence_array = None
    n_vocab = len(unique_token_ids)
    counts = (corpus_token_ids if isinstance(corpus_token_ids, TermCounts)
              else term_counts(corpus_token_ids, n_vocab))
    lengths, rows, cols = counts.lengths, counts.rows, counts.cols
    n_docs = len(lengths)
    if len(cols) and (int(cols.min()) < 0 or int(cols.max()) >= n_vocab):
        raise ValueError(f"term ids must lie in [0, {n_vocab}) (the vocabulary's ids)")
    # bm25s: np.array([len(doc_ids) for doc_ids in corpus_token_ids]).mean(), the same int64 mean.
    avg_doc_len = lengths.astype(np.int64).mean() if n_docs else np.float64("nan")
    df = np.bincount(cols, minlength=n_vocab)
    idf = _build_idf_array(dict(zip(unique_token_ids, df[unique_token_ids].tolist())), n_docs,
                           compute_idf_fn=_select_idf_scorer(bm25.idf_method), dtype=bm25.dtype)
    tfc_of = _select_tfc_scorer(bm25.method)
    # Scores are computed straight into column order, a step of entries at a time: no
    # unsorted copy of the matrix, and small float64 temporaries (memory: module docstring).
    order, indptr = column_order(rows, cols, n_vocab)
    data = np.empty(len(rows), dtype=bm25.dtype)
    indices = np.empty(len(rows), dtype=rows.dtype)

    def fill(start: int) -> None:
        at = order[start:start + STEP]
        doc = rows[at]
        # bm25s computes a document's term-frequency component in float64 (its length and
        # the mean are float64 scalars) from float32 counts, multiplies by the float32 IDF in
        # float64, and stores float32.
        tfc = tfc_of(tf_array=counts.tf[at].astype(np.float32), l_d=lengths[doc].astype(np.int64),
                     l_avg=avg_doc_len, k1=bm25.k1, b=bm25.b, delta=bm25.delta)
        data[start:start + len(at)] = idf[cols[at]] * tfc
        indices[start:start + len(at)] = doc

    starts = range(0, len(order), STEP)
    if len(starts) > 1:
        # numpy lets go of the GIL in these array operations, so two threads fill two steps
        # at once: the index is built while the build's other processes wait for it (shared
        # corpus: 0.19 -> 0.10 s, median of 6; the same arrays).
        with ThreadPoolExecutor(2) as threads:
            list(threads.map(fill, starts))
    else:
        for start in starts:
            fill(start)
    return {"data": data, "indices": indices, "indptr": indptr, "num_docs": n_docs}
