"""The one writer of the output tree: the generated docs folder and the built ``site/``.

Both are built beside their final place and swapped in, so a failed or killed build
leaves the previous docs and site untouched (issue 6):

1. write every generated file into ``.litsynth/docs.new`` (paths checked by
   :func:`safe_relpath`, so no name derived from input can leave that folder);
2. run ``mkdocs build --strict`` on a generated config that ``INHERIT``s the project's
   ``mkdocs.yml`` and sets ``docs_dir: docs.new``, ``site_dir: site.new`` and the nav;
3. swap ``.litsynth/docs.new`` ↔ ``.litsynth/docs`` and ``.litsynth/site.new`` ↔ ``site``
   with one atomic ``renameat2(RENAME_EXCHANGE)`` each (Linux ≥ 3.15). Where that call is
   missing, two renames are used (``site`` → ``.litsynth/site.old``, ``site.new`` →
   ``site``) and :func:`recover` puts ``site.old`` back if a kill fell between them;
4. the previous trees are renamed to ``*.trash`` and deleted.

At any instant ``site/`` is therefore a complete site — the previous one or the new one —
and every ``.litsynth/*.new``/``*.trash`` folder is garbage that :func:`recover` deletes
at the start of the next run. One process at a time holds ``.litsynth/lock``
(:func:`lock`); the mkdocs child inherits it, so an mkdocs left running by a killed build
keeps the next build waiting instead of racing it.

No-op builds: after a build, ``.litsynth/state.json`` records a fingerprint of everything
mkdocs reads (the generated files, the nav, ``mkdocs.yml`` and what it ``INHERIT``s, its
theme ``custom_dir``, the environment variables its ``!ENV`` tags name,
``SOURCE_DATE_EPOCH`` and the versions of mkdocs and its theme/extension packages) and the
SHA-256 of every file of the built site. When the fingerprint is unchanged, the docs tree
holds exactly the generated files and ``site/`` still matches its recorded hashes, mkdocs
would rebuild the same bytes, so it is not run (:attr:`Published.mkdocs_ran` is False).
"""

from __future__ import annotations

import contextlib
import ctypes
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path, PurePosixPath

import yaml

from generator.errors import BuildError
from generator.snapshots import remove_temporaries, write_atomic

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; builds are then not guarded against each other
    fcntl = None

WORK = ".litsynth"
STATE_FILE = "state.json"
LOCK_FILE = "lock"
BUILD_CONFIG = "mkdocs.build.yml"

MKDOCS_PACKAGES = ("mkdocs", "mkdocs-material", "pymdown-extensions", "Markdown", "Jinja2", "Pygments")
"""Distributions whose version is part of the no-op fingerprint: an upgrade can change the HTML."""

_SAFE_PART = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
# Device names Windows refuses as file names whatever the extension (Win32 "Naming Files").
_WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"com{i}" for i in range(1, 10)] + [f"lpt{i}" for i in range(1, 10)])


# --------------------------------------------------------------------------- paths


def safe_relpath(rel: str) -> PurePosixPath:
    """Check a generated file's relative path and return it as a ``PurePosixPath``.

    Accepted: ``/``-separated parts, each starting with a letter or digit and made of
    ``[A-Za-z0-9._-]`` (at most 200 characters), none a Windows device name (``con``,
    ``nul``, ``com1``… with any extension). So ``..``, absolute paths, drive letters,
    backslashes, empty parts and hidden files are impossible. Raises :class:`BuildError`.
    """
    parts = rel.split("/") if isinstance(rel, str) else []
    ok = bool(parts) and all(
        _SAFE_PART.fullmatch(part) and part.split(".")[0].lower() not in _WINDOWS_RESERVED for part in parts)
    if not ok:
        raise BuildError(f"refusing to write {rel!r}: a generated path must stay inside the docs folder "
                         "(parts of letters, digits, '.', '_', '-'; no '..', absolute paths or device names)")
    return PurePosixPath(*parts)


def write_tree(folder: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: text}`` (UTF-8) under ``folder``.

    Every path is checked with :func:`safe_relpath` before anything is written, and each
    target is checked to resolve inside ``folder`` (no symlinked parent can redirect it).
    Raises :class:`BuildError`.
    """
    checked = {rel: safe_relpath(rel) for rel in files}
    base = Path(folder).resolve()
    for rel, text in sorted(files.items()):
        target = Path(folder).joinpath(*checked[rel].parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(base):
            raise BuildError(f"refusing to write {rel!r}: its folder resolves outside {folder}")
        target.write_text(text, encoding="utf-8")


# --------------------------------------------------------------------------- lock and recovery


@contextlib.contextmanager
def lock(root: Path, *, timeout: float = 600.0,
         on_wait: Callable[[str], None] | None = None) -> Iterator[int]:
    """Hold ``<root>/.litsynth/lock`` (``flock``, exclusive) for the ``with`` block.

    Yields the lock file descriptor (pass it to children that must keep the lock). Waits
    for another holder at most ``timeout`` seconds, calling ``on_wait(message)`` once, then
    raises :class:`BuildError`. Creates ``.litsynth/`` if needed.
    """
    work = Path(root) / WORK
    if work.exists() and not work.is_dir():
        raise BuildError(f"{work} is a file, not litsynth's work folder; move it away and build again")
    work.mkdir(parents=True, exist_ok=True)
    path = work / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if fcntl is not None:
            deadline = time.monotonic() + timeout
            waited = False
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if not waited and on_wait is not None:
                        on_wait(f"waiting for another litsynth process working in {root} to finish")
                    waited = True
                    if time.monotonic() > deadline:
                        raise BuildError(f"another litsynth process has held {path} for {timeout:.0f} s; "
                                         "wait for it to finish or stop it") from None
                    time.sleep(0.05)
        yield fd
    finally:
        os.close(fd)


def _trees(root: Path, site_dir: str) -> list[tuple[Path, Path]]:
    work = Path(root) / WORK
    return [(work / "docs", work / "docs"), (Path(root) / site_dir, work / "site")]


def recover(root: Path, site_dir: str = "site") -> list[str]:
    """Undo what a killed build left behind; call while holding :func:`lock`.

    Puts ``.litsynth/site.old`` back as ``site/`` (and ``docs.old`` as ``docs``) when a
    kill fell between the two renames of the fallback swap, then deletes every
    ``*.new``, ``*.old`` and ``*.trash`` tree and temporary file in ``.litsynth/``. Returns
    what it did, one phrase per item, for logging.
    """
    done = []
    work = Path(root) / WORK
    if not work.is_dir():
        return done
    for final, stem in _trees(root, site_dir):
        new, old, trash = (stem.with_name(f"{stem.name}.{s}") for s in ("new", "old", "trash"))
        if not final.exists() and old.is_dir():
            os.replace(old, final)
            done.append(f"restored {final.name} from {old.name}")
        for leftover in (new, old, trash):
            if leftover.exists():
                _remove(leftover)
                done.append(f"removed {leftover.name}")
    done += [f"removed {p.name}" for p in remove_temporaries(work)]
    return done


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


# --------------------------------------------------------------------------- swap


_RENAME_EXCHANGE = 2  # linux/fs.h
_AT_FDCWD = -100


def _libc_renameat2():
    if not sys.platform.startswith("linux"):
        return None
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_renameat2 = _libc_renameat2()


def exchange(a: Path, b: Path) -> bool:
    """Atomically swap the two existing paths ``a`` and ``b`` (``renameat2`` with
    ``RENAME_EXCHANGE``). Returns False, changing nothing, where the call or the file
    system does not support it."""
    if _renameat2 is None:
        return False
    if _renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    return False


def install(new: Path, final: Path, stem: Path) -> None:
    """Make the complete tree ``new`` appear at ``final``, then delete the previous one.

    ``stem`` names the scratch paths (``<stem>.old``, ``<stem>.trash``), which must be on
    the same file system as ``final``. See the module docstring for the crash guarantees.
    """
    old, trash = stem.with_name(f"{stem.name}.old"), stem.with_name(f"{stem.name}.trash")
    for leftover in (old, trash):  # garbage once recover() has run (or the caller knows better)
        if leftover.exists() or leftover.is_symlink():
            _remove(leftover)
    if not final.exists() and not final.is_symlink():
        os.replace(new, final)
        return
    if exchange(new, final):
        os.replace(new, trash)  # ``new`` now holds the previous tree
    else:
        os.replace(final, old)
        os.replace(new, final)
        os.replace(old, trash)
    _remove(trash)


# --------------------------------------------------------------------------- fingerprint


def _config_inputs(config: Path, h, depth: int = 0) -> None:
    """Feed ``h`` with the bytes of ``config`` and what it pulls in that mkdocs reads."""
    try:
        data = config.read_bytes()
    except OSError:
        h.update(b"missing config\0")
        return
    h.update(data)
    env_names: list[str] = []

    class _Loader(yaml.SafeLoader):
        pass

    def env_tag(loader, node):
        if isinstance(node, yaml.ScalarNode):
            env_names.append(str(node.value))
        elif isinstance(node, yaml.SequenceNode):
            env_names.extend(str(n.value) for n in node.value if isinstance(n, yaml.ScalarNode))
        return None

    _Loader.add_constructor("!ENV", env_tag)
    _Loader.add_multi_constructor("", lambda loader, suffix, node: None)
    try:
        cfg = yaml.load(data.decode("utf-8"), Loader=_Loader) or {}
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError):
        cfg = {}
    if not isinstance(cfg, dict):
        cfg = {}
    for name in sorted(set(env_names)):
        h.update(f"env {name}={os.environ.get(name)!r}\0".encode())
    inherit = cfg.get("INHERIT")
    if isinstance(inherit, str) and depth < 8:
        h.update(b"INHERIT\0")
        _config_inputs((config.parent / inherit), h, depth + 1)
    theme = cfg.get("theme")
    custom = theme.get("custom_dir") if isinstance(theme, dict) else None
    if isinstance(custom, str):
        folder = config.parent / custom
        for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else []:
            h.update(f"custom {path.relative_to(folder).as_posix()}\0".encode())
            h.update(hashlib.sha256(path.read_bytes()).digest())


def fingerprint(root: Path, files: dict[str, str], build_config: str, site_dir: str = "site") -> str:
    """SHA-256 hex digest of everything ``mkdocs build`` reads for this site (see module
    docstring); ``build_config`` is the text of the generated config (it holds the nav)."""
    h = hashlib.sha256()
    h.update(f"site_dir={site_dir}\0".encode())
    h.update(build_config.encode("utf-8"))
    _config_inputs(Path(root) / "mkdocs.yml", h)
    h.update(f"SOURCE_DATE_EPOCH={os.environ.get('SOURCE_DATE_EPOCH')!r}\0".encode())
    for name in MKDOCS_PACKAGES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = None
        h.update(f"{name}=={version}\0".encode())
    for rel in sorted(files):
        h.update(rel.encode("utf-8") + b"\0")
        h.update(hashlib.sha256(files[rel].encode("utf-8")).digest())
    return h.hexdigest()


def manifest(folder: Path) -> dict[str, str]:
    """``{relative posix path: SHA-256 hex}`` of every regular file under ``folder``."""
    folder = Path(folder)
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[path.relative_to(folder).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif path.is_symlink():
            out[path.relative_to(folder).as_posix()] = "symlink"
    return out


def _tree_holds(folder: Path, files: dict[str, str]) -> bool:
    if not folder.is_dir():
        return False
    present = {p.relative_to(folder).as_posix() for p in folder.rglob("*") if not p.is_dir()}
    if present != set(files):
        return False
    return all((folder / rel).read_bytes() == text.encode("utf-8") for rel, text in files.items())


def _unchanged(work: Path, final: Path, files: dict[str, str], fp: str) -> bool:
    try:
        state = json.loads((work / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(state, dict) or state.get("fingerprint") != fp:
        return False
    try:
        return (_tree_holds(work / "docs", files) and final.is_dir()
                and manifest(final) == state.get("site"))
    except OSError:
        return False


# --------------------------------------------------------------------------- build


@dataclass(frozen=True)
class Published:
    """Result of :func:`publish`: the site folder, whether mkdocs ran (False for a no-op
    build), and the seconds mkdocs took (0.0 when skipped)."""

    site: Path
    mkdocs_ran: bool
    mkdocs_seconds: float


def _run_mkdocs(config: Path, root: Path, keep_fds: tuple[int, ...]) -> subprocess.CompletedProcess:
    # A child process keeps mkdocs' logging, plugins and global state out of ours; it
    # inherits the lock descriptor (see module docstring).
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(config)],
        cwd=root, capture_output=True, text=True, pass_fds=keep_fds)


def publish(root: Path, files: dict[str, str], nav: list, *, site_dir: str = "site",
            force: bool = False, lock_fd: int | None = None) -> Published:
    """Write ``files`` as the docs tree and build the site with mkdocs into ``root/site_dir``.

    ``root`` holds ``mkdocs.yml``; ``files`` maps safe relative paths to text (see
    :func:`safe_relpath`); ``nav`` is the mkdocs nav. Skips mkdocs when nothing it reads
    changed and ``site/`` is intact, unless ``force``. ``lock_fd`` (from :func:`lock`) is
    handed to the mkdocs child. Raises :class:`BuildError` (with mkdocs' output) when
    ``mkdocs build --strict`` fails or a path is unsafe; the previous ``site/`` and docs
    are then left as they were.
    """
    root = Path(root)
    config = root / "mkdocs.yml"
    if not config.exists():
        raise BuildError(f"{config} not found: the project root needs a mkdocs.yml")
    for rel in files:
        safe_relpath(rel)
    work = root / WORK
    work.mkdir(exist_ok=True)
    final = root / site_dir
    build_config = yaml.safe_dump({
        "INHERIT": os.path.relpath(config, work),
        "docs_dir": "docs.new",
        "site_dir": "site.new",
        "nav": nav,
    }, allow_unicode=True, sort_keys=False)
    fp = fingerprint(root, files, build_config, site_dir)
    if not force and _unchanged(work, final, files, fp):
        return Published(final, False, 0.0)

    docs_new, site_new = work / "docs.new", work / "site.new"
    for folder in (docs_new, site_new):
        if folder.exists():
            _remove(folder)
    write_tree(docs_new, files)
    cfg_path = work / BUILD_CONFIG
    write_atomic(cfg_path, build_config)
    started = time.perf_counter()
    proc = _run_mkdocs(cfg_path, root, (lock_fd,) if lock_fd is not None and os.name == "posix" else ())
    seconds = time.perf_counter() - started
    if proc.returncode != 0 or not site_new.is_dir():
        for folder in (docs_new, site_new):
            if folder.exists():
                _remove(folder)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise BuildError(f"mkdocs build --strict failed; the previous site is unchanged:\n{tail}")
    site_hashes = manifest(site_new)
    # No state during the swap: a kill there must not leave a record that matches nothing.
    (work / STATE_FILE).unlink(missing_ok=True)
    install(docs_new, work / "docs", work / "docs")
    install(site_new, final, work / "site")
    write_atomic(work / STATE_FILE, json.dumps({"fingerprint": fp, "site": site_hashes}, sort_keys=True) + "\n")
    return Published(final, True, seconds)


def build(root: Path, files: dict[str, str], nav: list, *, site_dir: str = "site") -> Path:
    """:func:`publish` without a lock descriptor, always running mkdocs; returns the site
    folder. Raises :class:`BuildError` as :func:`publish` does."""
    return publish(root, files, nav, site_dir=site_dir, force=True).site
