"""Tokenising a library on two processes gives what one bm25s ``Tokenizer`` gives.

Real data: the first 3,000 records of the shared arXiv corpus, plus texts bm25s treats
specially (no word at all: the empty token; only stop words: no token).
"""

from __future__ import annotations

import gzip
import itertools
import multiprocessing
from array import array
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from generator.errors import CorpusError
from generator.providers import library_index, library_tokens
from generator.providers.library import Library
from generator.providers.library_readers import read_corpus
from conftest import shared_path

ARXIV_CORPUS = ("corpus", "arxiv-cscl-2025-2026.jsonl.gz")
ODD_TEXTS = ["", "   ", "the of and", "a b c", "Über-große Modelle", "x " * 50, "GPT-4o vs. GPT-4"]


@pytest.fixture(scope="module")
def head_file(tmp_path_factory) -> Path:
    """The first 3,000 lines of the shared arXiv corpus, as a file of its own."""
    path = tmp_path_factory.mktemp("corpus") / "head.jsonl"
    with gzip.open(shared_path(*ARXIV_CORPUS), "rt", encoding="utf-8") as src:
        path.write_text("".join(itertools.islice(src, 3000)), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def texts(head_file) -> list[str]:
    records = list(read_corpus(head_file, lambda message: None))
    assert len(records) == 3000
    found = [f"{r.title} {r.abstract or ''}" for r in records]
    # The odd texts in the middle of a chunk and at the end.
    return found[:1500] + ODD_TEXTS + found[1500:] + ODD_TEXTS


def _single(texts: list[str]):
    """What bm25s gives with one tokenizer over all texts (the library's former way)."""
    tokenizer = library_tokens.new_tokenizer()
    ids = [array("i", doc) for doc in tokenizer.tokenize(iter(texts), update_vocab=True,
                                                          return_as="stream", show_progress=False)]
    return tokenizer, ids


def _assert_same(got, expected) -> None:
    (tok, counts), (ref, ref_ids) = got, expected
    # The counts of the reference's token ids (library_index.term_counts is checked
    # against bm25s' own index in test_library_index.py).
    ref_counts = library_index.term_counts(ref_ids, len(ref.stem_to_sid))
    assert counts.lengths.tolist() == ref_counts.lengths.tolist()
    # Within a text the pairs' order may differ (chunks are counted in local ids).
    assert sorted(zip(counts.rows.tolist(), counts.cols.tolist(), counts.tf.tolist())) == \
        list(zip(ref_counts.rows.tolist(), ref_counts.cols.tolist(), ref_counts.tf.tolist()))
    assert counts.rows.tolist() == sorted(counts.rows.tolist())
    # The same ids, and the dictionaries in the same order, so a saved vocabulary is the
    # same file whatever the processes.
    assert list(tok.stem_to_sid.items()) == list(ref.stem_to_sid.items())
    assert list(tok.word_to_id.items()) == list(ref.word_to_id.items())
    assert list(tok.word_to_stem.items()) == list(ref.word_to_stem.items())


@pytest.mark.parametrize("processes", [1, 2])
@pytest.mark.parametrize("chunk", [250, 2000])
def test_chunks_on_one_or_two_processes_give_the_ids_of_one_tokenizer(texts, processes, chunk, monkeypatch):
    monkeypatch.setattr(library_tokens, "CHUNK", chunk)
    expected = _single(texts)
    _assert_same(library_tokens.tokenise(iter(texts), processes), expected)
    # Sanity of the reference itself: a text of no word, of stop words only or of
    # one-letter words only gets the empty token (id 0).
    ref, ref_ids = expected
    assert ref.stem_to_sid[""] == 0 and len(ref.stem_to_sid) > 10000
    assert ref_ids[1500:1504] == [array("i", [0])] * 4 and len(ref_ids[1504]) == 3


def test_both_processes_take_chunks(texts, monkeypatch):
    monkeypatch.setattr(library_tokens, "CHUNK", 100)
    seen = []
    real_add = library_tokens._Merger.add
    monkeypatch.setattr(library_tokens._Merger, "add", lambda self, chunk: (seen.append(chunk.process), real_add(self, chunk)))
    library_tokens.tokenise(iter(texts), 2)
    assert len(seen) == 31 and set(seen) == {0, 1}


class _FailingPool:
    """Runs the helper's chunks in this process (its tokenizer state is module-level, as
    in the helper) and fails the ``fail_at``-th submitted chunk."""

    def __init__(self, fail_at: int, how: str):
        self.fail_at, self.how, self.calls, self.stopped = fail_at, how, 0, False

    def submit(self, fn, *args):
        self.calls += 1
        if self.calls == self.fail_at and self.how == "submit":
            raise RuntimeError("cannot schedule new futures after shutdown")
        future = Future()
        if self.calls == self.fail_at:
            future.set_exception(MemoryError("helper out of memory"))
        else:
            future.set_result(fn(*args))
        return future

    def shutdown(self, wait=True, cancel_futures=False):
        self.stopped = True


@pytest.mark.parametrize("how", ["result", "submit"])
@pytest.mark.parametrize("fail_at", [1, 3])
def test_a_failing_helper_leaves_its_chunks_to_this_process(texts, monkeypatch, how, fail_at):
    monkeypatch.setattr(library_tokens, "CHUNK", 200)
    pool = _FailingPool(fail_at, how)
    monkeypatch.setattr(library_tokens.parallel, "helper_pool", lambda: pool)
    monkeypatch.setattr(library_tokens.parallel, "stop_pool", lambda p: p.shutdown())
    # A helper whose earlier chunks came back but which then failed mid-way may have learnt
    # stems this process never heard of: its later chunks are redone here, not trusted.
    _assert_same(library_tokens.tokenise(iter(texts), 2), _single(texts))
    assert pool.stopped and pool.calls == fail_at


def test_no_helper_process_tokenises_here(texts, monkeypatch):
    def refuse():
        raise OSError("no more processes")
    monkeypatch.setattr(library_tokens.parallel, "helper_pool", refuse)
    _assert_same(library_tokens.tokenise(iter(texts), 2), _single(texts))


def test_library_index_is_the_same_on_two_processes(head_file):
    one, two = Library.load([head_file], processes=1), Library.load([head_file], processes=2)
    assert [r.id for r in one.records] == [r.id for r in two.records]
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(one._bm25.scores[name], two._bm25.scores[name])
    query = ("chain-of-thought faithfulness",)
    assert [r.id for r in one.search(query, None, 20)] == [r.id for r in two.search(query, None, 20)]
    assert len(one.search(query, None, 20)) == 20


def test_an_error_while_reading_stops_the_helper(head_file, tmp_path):
    bad = tmp_path / "bad.json"  # CSL JSON that is not JSON: a file unusable as a whole
    bad.write_text("[{", encoding="utf-8")
    with pytest.raises(CorpusError, match="bad.json"):
        Library.load([head_file, bad], processes=2)
    for child in multiprocessing.active_children():  # the tokenising helper is gone
        child.join(timeout=5)
    assert not [c for c in multiprocessing.active_children() if c.is_alive()]


def test_the_word_pattern_splits_as_bm25s_default_pattern(texts):
    """WORD_PATTERN is bm25s' default pattern without its word boundaries: the same words
    in every real text and in texts made of the boundary cases (underscores, digits,
    one-letter words, accents, other scripts, punctuation inside words)."""
    import inspect
    import re

    from bm25s.tokenization import Tokenizer

    default = inspect.signature(Tokenizer.__init__).parameters["splitter"].default
    assert default == r"(?u)\b\w\w+\b"
    odd = ["a_b _x_ x_ __ a1 1a 1 22 é éé ß Straße naïve 東京大学 москва a-b a.b.c",
           "x\u0301y İstanbul ǅemal ﬁne x²y ½ ٣٤ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 a\u200bb", "__init__ x__y _ __ a", "ab"]
    split = library_tokens.new_tokenizer().splitter
    for text in [t.lower() for t in texts + odd] + odd:
        assert split(text) == re.findall(default, text), text
