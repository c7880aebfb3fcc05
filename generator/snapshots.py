"""Read and write retrieval snapshots (``content/snapshots/<slug>.json``).

A snapshot is written atomically: to a temporary file in the same folder, flushed and
fsynced, then renamed over the old one (``os.replace`` is atomic on POSIX) and the folder
fsynced, so an interrupted write never leaves a half-written or missing snapshot. A write
killed before its rename leaves a hidden ``.<name>.*.tmp`` file, which
:func:`remove_temporaries` deletes at the start of the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from generator import jsontext
from generator.errors import LitsynthError
from generator.models import Question, Snapshot, is_json_int


class SnapshotError(LitsynthError):
    """A snapshot file exists but cannot be read as a snapshot."""


def snapshot_path(folder: Path, slug: str) -> Path:
    """``<folder>/<slug>.json``."""
    return folder / f"{slug}.json"


def search_digest(question: Question, providers: tuple[str, ...]) -> str:
    """Digest of the settings that determine what retrieval returns for ``question``.

    Covers the queries, providers actually used, ``since``, ``max_records`` and ``include``;
    a snapshot whose ``query_digest`` differs was made for other settings.
    """
    payload = json.dumps(
        [list(question.queries), list(providers), question.since, question.max_records,
         list(question.include)],
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def matches_question(snapshot: Snapshot, question: Question) -> bool:
    """False when ``snapshot`` was retrieved with other search settings than ``question``
    has now (:func:`search_digest`); a snapshot without a digest is taken as matching."""
    return not snapshot.query_digest or snapshot.query_digest == search_digest(question, snapshot.providers)


def dumps(snapshot: Snapshot) -> str:
    """Canonical JSON text of a snapshot (sorted keys, 1-space indent, trailing newline):
    ``json.dumps(snapshot.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\\n"``,
    the text of every committed snapshot, made by :func:`generator.jsontext.pretty`.

    That writes the same text with two-space indents: every character of every string
    escaped alike (all code points tested), keys in the same order, empty lists and objects
    alike; a snapshot holds no floats, the one thing written otherwise. Each line's
    indent is then halved (a string cannot span lines). 50 snapshots: 0.14 -> 0.08 s
    (our measurement)."""
    lines = jsontext.pretty(snapshot.to_dict()).split(b"\n")
    for i, line in enumerate(lines):
        if line[:1] == b" ":
            lines[i] = line[(len(line) - len(line.lstrip(b" "))) // 2:]
    return b"\n".join(lines).decode("utf-8")


def parse(data: bytes, path: Path) -> Snapshot:
    """The snapshot in ``data`` (the bytes of the file at ``path``, named in errors).

    Raises :class:`SnapshotError` when ``data`` is not UTF-8 JSON of a snapshot.
    """
    try:
        raw = json.loads(data.decode("utf-8"))
        if not isinstance(raw, dict) or not isinstance(raw.get("records"), list):
            raise ValueError("no 'records' list")
        _check_types(raw)
        return Snapshot.from_dict(raw)
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
        raise SnapshotError(f"{path}: not a valid litsynth snapshot ({exc}); "
                            f"run 'litsynth refresh' to retrieve it again") from exc


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _opt(test: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or test(v)


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


# key → (test, what is allowed), for the keys a snapshot may hold; a missing key takes the
# model's default. A hand-edited snapshot with a wrong type used to fail deep in
# synthesis ("'>' not supported between 'str' and 'int'") or render the wrong thing
# (authors "Ann Bee" became six one-letter authors in the BibTeX export).
_SNAPSHOT_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "slug": (_is_str, "a string"),
    "queries": (_str_list, "a list of strings"),
    "providers": (_str_list, "a list of strings"),
    "since": (_opt(is_json_int), "an integer year or null"),
    "max_records": (is_json_int, "an integer"),
    "provider_counts": (lambda v: isinstance(v, dict) and all(is_json_int(x) for x in v.values()),
                        "an object of integers"),
    "provider_errors": (lambda v: isinstance(v, dict) and all(isinstance(x, str) for x in v.values()),
                        "an object of strings"),
    "retrieved_at": (_is_str, "a string"),
    "litsynth_version": (_is_str, "a string"),
    "query_digest": (_is_str, "a string"),
    "unresolved_includes": (_str_list, "a list of strings"),
}
_RECORD_KEYS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "id": (_is_str, "a string"),
    "title": (_is_str, "a string"),
    "ids": (lambda v: isinstance(v, dict) and all(x is None or isinstance(x, str) for x in v.values()),
            "an object of strings or nulls"),
    "authors": (_str_list, "a list of strings"),
    "year": (_opt(is_json_int), "an integer or null"),
    "month": (_opt(lambda v: is_json_int(v) and 1 <= v <= 12), "an integer 1–12 or null"),
    "venue": (_opt(_is_str), "a string or null"),
    "abstract": (_opt(_is_str), "a string or null"),
    "url": (_opt(_is_str), "a string or null"),
    "provider": (_is_str, "a string"),
    "retrieved_at": (_is_str, "a string"),
    "work_id": (_opt(_is_str), "a string or null"),
    "text_available": (lambda v: isinstance(v, bool), "true or false"),
}


def _check_types(raw: dict) -> None:
    """Raise ``ValueError`` naming the first key whose value has the wrong type."""
    def check(obj: dict, where: str, keys: dict, required: tuple[str, ...]) -> None:
        for key in required:
            if key not in obj:
                raise ValueError(f"{where}{key} is missing")
        for key, value in obj.items():
            if key in keys and not keys[key][0](value):
                raise ValueError(f"{where}{key} must be {keys[key][1]}, not {json.dumps(value)[:60]}")

    check(raw, "", _SNAPSHOT_KEYS, ())
    for i, rec in enumerate(raw["records"]):
        if not isinstance(rec, dict):
            raise ValueError(f"records[{i}] must be an object")
        check(rec, f"records[{i}].", _RECORD_KEYS, ("id", "title"))


def load(path: Path) -> tuple[Snapshot, bytes] | None:
    """``(snapshot, file bytes)`` for the file at ``path``; ``None`` if it does not exist.

    Raises :class:`SnapshotError` (naming the file) when it exists but is not valid.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read the snapshot: {exc.strerror or exc}") from exc
    return parse(data, path), data


def read(path: Path) -> Snapshot | None:
    """Load the snapshot at ``path``; ``None`` if the file does not exist.

    Raises :class:`SnapshotError` (naming the file) when it exists but is not valid.
    """
    found = load(path)
    return None if found is None else found[0]


def _umask() -> int:
    # os.umask can only be read by setting it; done once, at import, before any thread starts.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


def text_digest(canonical: bytes) -> str:
    """SHA-256 (first 16 hex digits) of a snapshot's canonical JSON (:func:`dumps`), UTF-8
    encoded, as ``canonical`` — the text :func:`write` wrote. The digest of a claim set's
    snapshot (:func:`generator.synthesis.snapshot_digest`)."""
    return hashlib.sha256(canonical).hexdigest()[:16]


def write_atomic(path: Path, text: str | bytes, *, durable: bool = True) -> None:
    """Write ``text`` (a ``str``, written as UTF-8, or ``bytes``) to ``path`` via a
    temporary file and an atomic rename. The file gets the mode a plain ``open(path, "w")``
    would give (0666 minus the umask), not the 0600 of the temporary file.

    ``durable`` (the default) also flushes the file and then its folder to disk before
    returning, so that a power loss cannot leave an empty or torn file under ``path``.
    ``durable=False`` is for caches, whose entries are checked when read and recomputed
    when unusable: the two flushes of each of 100 cache entries held a 50-question build
    up by about 0.1 s (our measurement)."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if hasattr(os, "fchmod"):
            os.fchmod(fd, _FILE_MODE)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    if durable:
        _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable across a power loss (POSIX); not possible on Windows.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the ``.<name>.*.tmp`` files that interrupted :func:`write_atomic` calls left in
    ``folder``; returns them. Call only while holding the build lock (another writer's
    temporary file would otherwise be taken)."""
    removed = []
    if Path(folder).is_dir():
        for tmp in Path(folder).glob(".*.tmp"):
            if tmp.is_file():
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed


def write(path: Path, snapshot: Snapshot) -> str:
    """Write ``snapshot`` to ``path`` atomically (see module docstring); returns the text
    written (:func:`dumps`). Raises ``ValueError`` (and writes nothing) when a value has a
    type :func:`parse` would refuse: a snapshot is never written that cannot be read back."""
    text = dumps(snapshot)
    _check_types(json.loads(text))
    write_atomic(path, text)
    return text
