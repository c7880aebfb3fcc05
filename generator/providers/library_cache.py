"""A saved copy of a loaded :class:`~generator.providers.library.Library`, so that a build
that retrieves does not read and index the same corpus files again.

Reading and indexing the 25,065-record shared arXiv corpus takes about 2.1 s on the
2-core reference machine (3.1 s on one process), the largest fixed cost of a build that
retrieves (issue 7, ``benchmarks/library_search.py``); loading the saved copy takes about
0.4 s, saving it about 0.2 s (records and vocabulary written with orjson: 1.0 s with the
standard library's json). The copy lives in ``<root>/.litsynth/library/<key>/``:

* ``records.jsonl`` — one record per line (its fields, as orjson writes a dataclass:
  :meth:`Record.from_dict` reads it), in load order, parsed only
  when a record is first read (:class:`SavedRecords`): a build reads a few thousand of
  the 25k records, and parsing them all took 0.57 s of the 0.81 s load while the
  synthesis workers waited (issue 7, measured on the shared corpus);
* ``catalogue.json`` and ``years.npy`` — what search and look-up need of every record
  without parsing it: identity key → position, and each record's year
  (:meth:`Library.catalogue`);
* ``meta.json`` — the format, the key, the readers' warnings (shown again on every
  build that uses the copy, as they would be on a fresh read) and the SHA-256 of every
  other file of the copy, checked before it is used;
* the BM25 index and the tokenizer vocabulary as ``bm25s`` saves them (``.npy`` arrays
  and JSON, loaded with ``allow_pickle=False``).

The key is a SHA-256 over :data:`FORMAT`, the litsynth and bm25s versions, the source of
the modules that turn files into an index (:data:`CODE_MODULES`), and the name and the
SHA-256 of the bytes of every corpus file, in the order given. Any change to a file, its
position in the list, or the reading code gives another key, and a fresh read. Only the
copy of the latest key is kept.

Nothing here is needed for correctness: a copy that is missing, unreadable, edited, or
written by another version is ignored (and replaced), never trusted in part. The one
exception is a copy edited on purpose, checksums and all, so that a record is no longer a
record: that is found only when the record is read, and reported as a
:class:`~generator.errors.CorpusError` naming the line and the folder to delete. The copy
of the shared 25k-record corpus takes about 70 MB (47 MB of it the records as JSON).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import orjson

from generator import __version__
from generator.cache import file_digest, hash_sources
from generator.errors import CorpusError
from generator.models import Record

__all__ = ["FORMAT", "CODE_MODULES", "SavedRecords", "cache_key", "load", "save"]

logger = logging.getLogger("generator.providers.library_cache")

FORMAT = 2
"""Bumped when the layout of a saved copy changes."""

PACKAGE = Path(__file__).resolve().parent.parent

CODE_MODULES = ("providers/library.py", "providers/library_readers.py", "providers/library_tokens.py",
                "normalise.py", "models.py", "records.py")
"""Sources (relative to ``generator/``) whose code decides the records and the index."""


def _content_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_file() and p.name != "meta.json")


def cache_key(paths: Sequence[Path | str]) -> str:
    """The key of the corpus files ``paths`` (in order): a SHA-256 hex digest.

    Raises ``OSError`` when a file cannot be read (the caller then reads the files the
    usual way, which reports the problem properly).
    """
    import bm25s

    h = hashlib.sha256()
    h.update(f"format {FORMAT}\0litsynth {__version__}\0bm25s {bm25s.__version__}\0".encode())
    hash_sources(h, PACKAGE, CODE_MODULES)
    for raw in paths:
        path = Path(raw)
        h.update(f"file {path.name}\0{file_digest(path)}\0".encode())
    return h.hexdigest()


def load(paths: Sequence[Path | str], folder: Path, key: str | None = None):
    """The library saved in ``folder`` for ``paths``, or ``None`` when there is none for
    exactly these files (or it cannot be read). Never raises for a bad copy. ``key``:
    :func:`cache_key` of ``paths`` when the caller has it (else computed here)."""
    from generator.providers.library import Library

    try:
        key = key or cache_key(paths)
    except OSError:
        return None
    where = folder / key
    if not (where / "meta.json").is_file():
        return None
    try:
        meta = json.loads((where / "meta.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT or meta.get("key") != key:
            return None
        # Every file must be the one save() wrote: a copy damaged or edited in part is
        # not used at all (hashing the 25k-record copy costs about 0.1 s).
        expected = meta.get("sha256")
        if not isinstance(expected, dict) or sorted(expected) != sorted(_content_files(where)):
            return None
        for name, digest in expected.items():
            if name != "records.jsonl" and file_digest(where / name) != digest:
                logger.info("ignoring the saved library index in %s: %s changed", where, name)
                return None
        # Read once: hashed, then split; each line is parsed when its record is first read.
        data = (where / "records.jsonl").read_bytes()
        if hashlib.sha256(data).hexdigest() != expected.get("records.jsonl"):
            logger.info("ignoring the saved library index in %s: records.jsonl changed", where)
            return None
        lines = data.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        if len(lines) != meta.get("records"):
            return None
        warnings = meta.get("warnings")
        if not isinstance(warnings, list) or not all(isinstance(w, str) for w in warnings):
            return None
        by_key = orjson.loads((where / "catalogue.json").read_bytes())
        if not isinstance(by_key, dict) or not all(isinstance(v, int) and 0 <= v < len(lines)
                                                   for v in by_key.values()):
            return None
        years = np.load(where / "years.npy", allow_pickle=False)
        library = Library.from_saved(SavedRecords(lines, where / "records.jsonl"), by_key, years,
                                     [_with_paths(w, paths) for w in warnings], where)
    except Exception as exc:  # noqa: BLE001 — whatever is wrong with a copy, the files are read instead
        logger.info("ignoring the saved library index in %s: %s", where, exc)
        return None
    return library


class SavedRecords(Sequence):
    """The records of a saved copy (a sequence of :class:`Record`, in load order), each
    parsed from its line of ``records.jsonl`` when it is first read, then kept.

    ``lines`` are the file's lines (bytes, without newlines); ``path`` is the file, named
    in errors. Reading a line that is not a record (possible only when the copy was
    edited, checksums and all) raises :class:`~generator.errors.CorpusError` with the line
    number and the folder to delete.
    """

    def __init__(self, lines: list[bytes], path: Path):
        self._lines = lines
        self._parsed: list[Record | None] = [None] * len(lines)
        self._path = path

    def __len__(self) -> int:
        return len(self._lines)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        record = self._parsed[index]
        if record is None:
            try:
                record = Record.from_dict(orjson.loads(self._lines[index]))
            except (ValueError, TypeError, KeyError, AttributeError) as exc:
                line = index % len(self._lines) + 1
                raise CorpusError(f"{self._path}:{line}: the saved library index holds no record here "
                                  f"({exc}); delete {self._path.parent} and build again") from exc
            self._parsed[index] = record
        return record


# The readers' warnings name each file as the user typed it; the copy stores a placeholder,
# so that a build naming the same files by another path shows that path.
def _placeholder(i: int) -> str:
    return f"<library file {i}>"


def _with_placeholders(warning: str, paths: Sequence[Path | str]) -> str:
    for i, path in sorted(enumerate(paths), key=lambda ip: -len(str(ip[1]))):
        warning = warning.replace(str(path), _placeholder(i))
    return warning


def _with_paths(warning: str, paths: Sequence[Path | str]) -> str:
    for i, path in enumerate(paths):
        warning = warning.replace(_placeholder(i), str(path))
    return warning


def save(library, paths: Sequence[Path | str], folder: Path, key: str | None = None) -> Path | None:
    """Save ``library`` (loaded from ``paths``) under ``folder``; returns the copy's
    folder, or ``None`` when it could not be written (a full disk, a read-only project:
    the build goes on, it only loses the speed-up). Copies of other keys are removed.
    ``key``: :func:`cache_key` of ``paths`` as they were read (else computed now: hashing
    the shared corpus takes about 0.07 s)."""
    try:
        key = key or cache_key(paths)
        folder.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=folder))
        try:
            tmp.chmod(0o755)  # mkdtemp makes it private; the rest of .litsynth/ is not
            with open(tmp / "records.jsonl", "wb") as fh:
                # orjson writes the dataclass itself: 0.32 -> 0.10 s for the shared corpus
                # against converting each record to a dict first (our measurement).
                for record in library.records:
                    fh.write(orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE))
            library.save_index(tmp)
            by_key, years = library.catalogue()
            (tmp / "catalogue.json").write_bytes(orjson.dumps(by_key))
            np.save(tmp / "years.npy", years, allow_pickle=False)
            meta = {"format": FORMAT, "key": key, "records": len(library.records),
                    "warnings": [_with_placeholders(w, paths) for w in library.warnings],
                    "files": [str(Path(p).name) for p in paths],
                    "sha256": {name: file_digest(tmp / name) for name in _content_files(tmp)}}
            (tmp / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
            target = folder / key
            if target.exists():
                shutil.rmtree(target)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        for other in folder.iterdir():
            if other.name != key and other.is_dir():
                shutil.rmtree(other, ignore_errors=True)
        return target
    except OSError as exc:
        logger.info("could not save the library index under %s: %s", folder, exc)
        return None
