"""The one writer of the output tree: the generated docs folder and the built ``site/``.

Both are built beside their final place and swapped in with renames, so a failed or
killed build leaves the previous docs and site untouched (issue 6):

1. write every generated file into ``.litsynth/docs.new``;
2. run ``mkdocs build --strict`` on a generated config that ``INHERIT``s the project's
   ``mkdocs.yml`` and sets ``docs_dir: docs.new``, ``site_dir: site.new`` and the nav;
3. rename ``site`` → ``.litsynth/site.old``, ``.litsynth/site.new`` → ``site`` (and the same
   for the docs), then delete the old ones.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from generator.errors import BuildError

WORK = ".litsynth"


def _safe_relpath(rel: str) -> Path:
    path = Path(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise BuildError(f"refusing to write outside the docs folder: {rel!r}")
    return path


def write_tree(folder: Path, files: dict[str, str]) -> None:
    """Write ``{relative path: text}`` under ``folder`` (which must not exist yet)."""
    for rel, text in sorted(files.items()):
        target = folder / _safe_relpath(rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _swap(new: Path, final: Path, old: Path) -> None:
    if old.exists():
        shutil.rmtree(old)
    if final.exists():
        os.replace(final, old)
    os.replace(new, final)
    if old.exists():
        shutil.rmtree(old)


def build(root: Path, files: dict[str, str], nav: list, *, site_dir: str = "site") -> Path:
    """Write ``files`` as the docs tree and build the site with mkdocs into ``root/site_dir``.

    ``root`` holds ``mkdocs.yml``. Raises :class:`BuildError` (with mkdocs' output) when
    ``mkdocs build --strict`` fails; the previous ``site/`` is then left as it was.
    Returns the site folder.
    """
    config = root / "mkdocs.yml"
    if not config.exists():
        raise BuildError(f"{config} not found: the project root needs a mkdocs.yml")
    work = root / WORK
    work.mkdir(exist_ok=True)
    docs_new, site_new = work / "docs.new", work / "site.new"
    for folder in (docs_new, site_new):
        if folder.exists():
            shutil.rmtree(folder)
    write_tree(docs_new, files)
    build_cfg = work / "mkdocs.build.yml"
    build_cfg.write_text(yaml.safe_dump({
        "INHERIT": os.path.relpath(config, work),
        "docs_dir": "docs.new",
        "site_dir": "site.new",
        "nav": nav,
    }, allow_unicode=True, sort_keys=False), encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(build_cfg)],
        cwd=root, capture_output=True, text=True)
    if proc.returncode != 0:
        shutil.rmtree(site_new, ignore_errors=True)
        tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-30:])
        raise BuildError(f"mkdocs build --strict failed; the previous site is unchanged:\n{tail}")
    _swap(docs_new, work / "docs", work / "docs.old")
    final = root / site_dir
    _swap(site_new, final, work / "site.old")
    return final
