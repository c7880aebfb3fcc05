"""The synthesis cache: a question whose inputs and code are unchanged is not recomputed.

One entry per question, ``.litsynth/cache/<slug>.json``, holding the claim set (the dict
:func:`generator.synthesis.synthesise` returned) and the key it was computed for. The key
(:func:`synthesis_key`) is the SHA-256 of:

* the question file's bytes and the validated :class:`~generator.models.Question` (its
  ``path`` and ``slug`` appear in the claim set);
* the snapshot file's bytes;
* the litsynth version and the verifier's method and version;
* :func:`code_digest`: the source of every pure pipeline module (:data:`CODE_MODULES`)
  and every file of the shipped verifier model folder, when present.

So any edit to the question, the snapshot or the code between snapshot and claim set
invalidates the entry — including an edit that forgot to bump a version constant.
Changes outside those modules (rendering, templates, mkdocs.yml) do not invalidate it:
rendering always runs. ``litsynth build --force`` ignores the cache.

Entries are written atomically (temporary file, fsync, rename). An entry that cannot be
read, is not JSON, or has another key is ignored (logged at debug level) and recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from generator import __version__, jsontext
from generator.models import Question
from generator.snapshots import write_atomic

log = logging.getLogger(__name__)

FORMAT = "litsynth/synthesis-cache/1"
"""Version of the entry layout; part of every key."""

PACKAGE = Path(__file__).resolve().parent

CODE_MODULES = ("screening", "extraction", "verification", "text", "assessment", "synthesis",
                "records", "neural", "models")
"""Modules (``generator/<name>.py``) whose source determines a claim set from a question and
its snapshot. ``models`` is included because ``from_dict``/``to_dict`` shape the data."""

MODEL_DIR = PACKAGE / "model"
"""The shipped verifier model folder (see :mod:`generator.neural`); digested when present."""


def file_digest(path: Path) -> str:
    """SHA-256 hex digest of the file at ``path``, read in 1 MiB chunks. Raises ``OSError``."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def hash_sources(h, package: Path, names: Sequence[str]) -> None:
    """Feed ``name\0<file_digest>\0`` for each source file ``package/name`` into the hash
    ``h`` (``absent`` for a missing file): how the caches' keys cover the code that
    decides their content."""
    for name in names:
        path = package / name
        h.update(f"{name}\0{file_digest(path) if path.is_file() else 'absent'}\0".encode())


@functools.lru_cache(maxsize=None)
def code_digest(package: Path = PACKAGE) -> str:
    """SHA-256 hex digest of the pipeline's code: :data:`CODE_MODULES` sources plus every
    regular file under ``<package>/model/`` (names and bytes), in sorted order.

    A missing module contributes its name only, so adding it later changes the digest.
    Computed once per process (a 23 MB model file costs about 20 ms to hash).
    """
    h = hashlib.sha256()
    for name in CODE_MODULES:
        path = package / f"{name}.py"
        h.update(f"{name}.py\0".encode())
        h.update((file_digest(path) if path.is_file() else "absent").encode())
    model_dir = package / "model"
    if model_dir.is_dir():
        for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
            h.update(f"model/{path.relative_to(model_dir).as_posix()}\0".encode())
            h.update(file_digest(path).encode())
    return h.hexdigest()


def _verifier(package: Path = PACKAGE) -> tuple[str, str]:
    """``(METHOD, METHOD_VERSION)`` of :mod:`generator.verification`.

    Read from the module's source when both are plain string constants, so that a build
    served from the cache does not import the verifier's dependencies (bm25s, scipy: about
    0.3 s); otherwise (or if the module is already imported) taken from the module.
    """
    import sys

    module = sys.modules.get("generator.verification")
    if module is None:
        found = _constants(package / "verification.py", ("METHOD", "METHOD_VERSION"))
        if len(found) == 2:
            return found["METHOD"], found["METHOD_VERSION"]
        from generator import verification as module
    return str(module.METHOD), str(module.METHOD_VERSION)


@functools.lru_cache(maxsize=None)
def _constants(path: Path, names: tuple[str, ...]) -> dict[str, str]:
    """Top-level ``NAME = "literal"`` assignments of ``names`` in the Python file ``path``."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return {}
    found = {}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, ast.AnnAssign) and node.value is not None else [])
        for target in targets:
            if (isinstance(target, ast.Name) and target.id in names and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)):
                found[target.id] = node.value.value
    return found


def synthesis_key(question: Question, question_bytes: bytes, snapshot_bytes: bytes) -> str:
    """The cache key of one question's claim set: a SHA-256 hex digest (64 characters).

    ``question_bytes`` and ``snapshot_bytes`` are the files' exact contents (for a snapshot
    just retrieved, the text :func:`generator.snapshots.dumps` wrote, UTF-8 encoded).
    """
    method, version = _verifier()
    payload = {
        "format": FORMAT,
        "question_file": hashlib.sha256(question_bytes).hexdigest(),
        "question": question.to_dict(),
        "snapshot_file": hashlib.sha256(snapshot_bytes).hexdigest(),
        "litsynth": __version__,
        "verifier": [method, version],
        "code": code_digest(),
    }
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _write_entry(path: Path, entry: dict) -> None:
    # Not flushed to disk: an entry lost or torn by a power cut is unusable when read, and
    # then recomputed (_read_entry).
    write_atomic(path, jsontext.compact(entry) + b"\n", durable=False)


def _read_entry(path: Path, key: str) -> dict | None:
    """The cache entry (a JSON object of this :data:`FORMAT`) at ``path`` if it was stored
    under ``key``, else ``None``; why not is logged at debug level. Never raises."""
    try:
        entry = jsontext.loads(path.read_bytes())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, RecursionError) as exc:
        log.debug("%s: unusable cache entry (%s); recomputing", path, exc)
        return None
    if not isinstance(entry, dict) or entry.get("format") != FORMAT:
        log.debug("%s: not a litsynth cache entry; recomputing", path)
        return None
    if entry.get("key") != key:
        log.debug("%s: inputs or code changed since it was cached; recomputing", path)
        return None
    return entry


class Cache:
    """The claim-set cache in ``folder`` (normally ``<root>/.litsynth/cache``).

    ``get``/``put`` take the question slug and the key from :func:`synthesis_key`.
    Nothing is created until the first ``put``.
    """

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def path(self, slug: str) -> Path:
        """``<folder>/<slug>.json``."""
        return self.folder / f"{slug}.json"

    def get(self, slug: str, key: str) -> dict | None:
        """The cached claim set of ``slug`` if it was computed for ``key``, else ``None``.

        Never raises for a bad entry: unreadable, truncated or foreign entries are logged at
        debug level and treated as absent.
        """
        path = self.path(slug)
        entry = _read_entry(path, key)
        if entry is None:
            return None
        data = entry.get("synthesis")
        if not isinstance(data, dict) or data.get("slug") != slug:
            log.debug("%s: cache entry holds no claim set for %s; recomputing", path, slug)
            return None
        return data

    def latest(self, slug: str) -> dict | None:
        """The claim set last stored for ``slug``, whatever its key (the last good build
        of the question), or ``None``. Never raises for a bad entry."""
        path = self.path(slug)
        try:
            entry = jsontext.loads(path.read_bytes())
        except (OSError, ValueError):
            return None
        data = entry.get("synthesis") if isinstance(entry, dict) and entry.get("format") == FORMAT else None
        return data if isinstance(data, dict) and data.get("slug") == slug else None

    def put(self, slug: str, key: str, data: dict) -> None:
        """Store ``data`` (a JSON-able claim set) for ``slug`` under ``key``, atomically."""
        entry = {"format": FORMAT, "key": key, "synthesis": data}
        _write_entry(self.path(slug), entry)

    def prune(self, keep: Iterable[str]) -> list[str]:
        """Delete entries (and stale temporary files) of slugs not in ``keep``; returns the
        deleted file names."""
        if not self.folder.is_dir():
            return []
        wanted = {f"{slug}.json" for slug in keep}
        removed = []
        for path in sorted(self.folder.iterdir()):
            if path.is_file() and path.name not in wanted:
                path.unlink(missing_ok=True)
                removed.append(path.name)
        return removed


class PageCache:
    """Rendered page files per question in ``folder`` (normally ``<root>/.litsynth/pages``):
    ``<slug>.json`` = ``{"format", "key", "files": {relative path: text}}``, the key from
    :func:`generator.render.question_key`. Rendering 50 questions' pages, claim-set JSON and
    bibliographies costs about 2 s; a rebuild in which a claim set did not change reads
    them back instead. Like :class:`Cache`, never raises for a bad entry."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)

    def get(self, slug: str, key: str) -> dict[str, str] | None:
        """The files stored for ``slug`` under ``key``, or ``None``."""
        entry = _read_entry(self.folder / f"{slug}.json", key)
        files = entry.get("files") if entry is not None else None
        if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                  for k, v in files.items()):
            return None
        return files

    def put(self, slug: str, key: str, files: dict[str, str]) -> None:
        """Store ``files`` for ``slug`` under ``key``, atomically."""
        entry = {"format": FORMAT, "key": key, "files": files}
        _write_entry(self.folder / f"{slug}.json", entry)

    def prune(self, keep: Iterable[str]) -> list[str]:
        """Delete entries of slugs not in ``keep`` (and temporaries); the deleted names."""
        return Cache(self.folder).prune(keep)
