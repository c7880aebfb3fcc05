"""The library's score matrix, counted with numpy, is bit for bit the one bm25s builds.

Real data: the first 3,000 records of the shared arXiv corpus, plus texts bm25s treats
specially (no word at all: the empty token; only stop words).
"""

from __future__ import annotations

import gzip
import itertools
from array import array

import bm25s
import numpy as np
import pytest

from generator.providers import library_index, library_tokens
from generator.providers.library_readers import read_corpus
from conftest import shared_path

ODD_TEXTS = ["", "the of and", "x " * 50, "GPT-4o vs. GPT-4", "Über-große Modelle"]


@pytest.fixture(scope="module")
def texts(tmp_path_factory) -> list[str]:
    path = tmp_path_factory.mktemp("corpus") / "head.jsonl"
    with gzip.open(shared_path("corpus", "arxiv-cscl-2025-2026.jsonl.gz"), "rt", encoding="utf-8") as src:
        path.write_text("".join(itertools.islice(src, 3000)), encoding="utf-8")
    records = list(read_corpus(path, lambda message: None))
    assert len(records) == 3000
    found = [f"{r.title} {r.abstract or ''}" for r in records]
    return ODD_TEXTS + found[:1500] + ODD_TEXTS + found[1500:]


@pytest.fixture(scope="module")
def tokenised(texts):
    """One bm25s tokenizer over all texts: its vocabulary and per-text token ids."""
    tokenizer = library_tokens.new_tokenizer()
    ids = [array("i", doc) for doc in tokenizer.tokenize(iter(texts), update_vocab=True,
                                                          return_as="stream", show_progress=False)]
    return tokenizer.get_vocab_dict(), ids


def _bm25s_own(vocab: dict, ids: list, **settings) -> dict:
    model = bm25s.BM25(csc_backend="numpy", **settings)
    return bm25s.BM25.build_index_from_ids(model, list(vocab.values()), [list(d) for d in ids],
                                           show_progress=False)


def _ours(vocab: dict, corpus, **settings) -> dict:
    model = bm25s.BM25(**settings)
    return library_index.score_matrix(model, list(vocab.values()), corpus)


def _assert_identical(got: dict, expected: dict) -> None:
    assert got["num_docs"] == expected["num_docs"]
    for name in ("data", "indices", "indptr"):
        assert got[name].dtype == expected[name].dtype, name
        assert got[name].tobytes() == expected[name].tobytes(), name


@pytest.mark.parametrize("settings", [{}, {"method": "robertson"}, {"method": "atire"},
                                      {"k1": 0.9, "b": 0.4}, {"k1": 1.2, "b": 1.0}])
def test_the_score_matrix_is_bit_for_bit_bm25s_own(tokenised, settings):
    vocab, ids = tokenised
    expected = _bm25s_own(vocab, ids, **settings)
    assert expected["num_docs"] == 3010 and len(expected["data"]) > 200_000
    _assert_identical(_ours(vocab, ids, **settings), expected)


@pytest.mark.parametrize("step", [1000, 65_536, 10**9])
def test_the_score_matrix_is_the_same_filled_by_two_threads_in_steps(tokenised, step, monkeypatch):
    """Steps of the matrix filled by two threads at once (the shared corpus has five; this
    corpus with small steps, hundreds) give bm25s' matrix bit for bit, the last step short."""
    vocab, ids = tokenised
    monkeypatch.setattr(library_index, "STEP", step)
    _assert_identical(_ours(vocab, ids, method="robertson"), _bm25s_own(vocab, ids, method="robertson"))


@pytest.mark.parametrize("processes", [1, 2])
def test_counts_from_the_chunked_tokeniser_give_the_same_matrix(texts, tokenised, processes, monkeypatch):
    monkeypatch.setattr(library_tokens, "CHUNK", 700)  # chunks that split the odd texts' groups
    tokenizer, counts = library_tokens.tokenise(iter(texts), processes)
    vocab, ids = tokenised
    assert tokenizer.get_vocab_dict() == vocab
    _assert_identical(_ours(vocab, counts), _bm25s_own(vocab, ids))


def test_small_blocks_give_the_same_counts(tokenised, monkeypatch):
    vocab, ids = tokenised
    whole = library_index.term_counts(ids, len(vocab))
    monkeypatch.setattr(library_index, "_block_size", lambda n_terms: 777)
    blocked = library_index.term_counts(ids, len(vocab))
    for a, b in zip(whole, blocked):
        assert a.tolist() == b.tolist()


def test_counts_of_a_small_corpus_by_hand():
    counts = library_index.term_counts([array("i", [2, 1, 2]), array("i"), array("i", [0, 0])], 3)
    assert counts.lengths.tolist() == [3, 0, 2]
    assert list(zip(counts.rows.tolist(), counts.cols.tolist(), counts.tf.tolist())) == [
        (0, 1, 1), (0, 2, 2), (2, 0, 2)]


def test_bad_token_ids_and_variants_are_refused():
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        library_index.term_counts([array("i", [0, 3])], 3)
    with pytest.raises(ValueError, match=r"\[0, 3\)"):
        library_index.term_counts([array("i", [-1])], 3)
    with pytest.raises(ValueError, match="add up to 2, not 3"):
        library_index.count_pairs(np.array([0, 1, 2], dtype=np.int32), np.array([1, 1]), 3)
    with pytest.raises(ValueError, match="bm25l"):
        library_index.score_matrix(bm25s.BM25(method="bm25l"), [0, 1], [array("i", [0, 1])])


def test_column_order_is_the_order_of_bm25s_csc_builder():
    rng = np.random.default_rng(7)

    def triples(n_cols: int):
        """400 distinct (row, column) pairs, rows ascending, with random values."""
        keys = np.unique(rng.integers(0, 50 * n_cols, 400))
        return rng.random(len(keys)).astype(np.float32), (keys // n_cols).astype(np.int32), \
            (keys % n_cols).astype(np.int32)

    # 70,000 terms: more than 16 bits hold; 1,000: the radix path; rows not ascending.
    for n_cols, reverse in ((70_000, False), (1_000, False), (70_000, True), (1_000, True)):
        data, rows, cols = triples(n_cols)
        if reverse:
            data, rows, cols = data[::-1].copy(), rows[::-1].copy(), cols[::-1].copy()
        order, indptr = library_index.column_order(rows, cols, n_cols)
        expected = bm25s.BM25._np_csc(data, rows, cols, (50, n_cols))
        for a, b in zip((data[order], rows[order], indptr), expected):
            assert np.array_equal(a, b)


def test_a_count_beyond_two_bytes_is_kept_whole():
    ids = [array("i", [1] * 70_000 + [2]), array("i", [2, 0]), array("i", [1, 2, 2])]
    counts = library_index.term_counts(ids, 3)
    assert counts.tf.dtype == np.int32 and counts.tf.tolist() == [70_000, 1, 1, 1, 1, 2]
    vocab = {"": 0, "a": 1, "b": 2}
    _assert_identical(_ours(vocab, ids), _bm25s_own(vocab, ids))
    assert library_index.term_counts(ids[1:], 3).tf.dtype == np.uint16
