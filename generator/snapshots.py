"""Read and write retrieval snapshots (``content/snapshots/<slug>.json``).

A snapshot is written atomically: to a temporary file in the same folder, flushed and
fsynced, then renamed over the old one (``os.replace`` is atomic on POSIX), so an
interrupted write never leaves a half-written or missing snapshot.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

from generator.errors import LitsynthError
from generator.models import Question, Snapshot


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


def dumps(snapshot: Snapshot) -> str:
    """Canonical JSON text of a snapshot (sorted keys, 1-space indent, trailing newline)."""
    return json.dumps(snapshot.to_dict(), ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def read(path: Path) -> Snapshot | None:
    """Load the snapshot at ``path``; ``None`` if the file does not exist.

    Raises :class:`SnapshotError` (naming the file) when it exists but is not valid.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return Snapshot.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise SnapshotError(f"{path}: not a valid litsynth snapshot ({exc}); "
                            f"run 'litsynth refresh' to retrieve it again") from exc


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def write(path: Path, snapshot: Snapshot) -> None:
    """Write ``snapshot`` to ``path`` atomically (see module docstring)."""
    write_atomic(path, dumps(snapshot))
