"""Shared test fixtures.

``shared`` points at ``../shared`` (beside the project root). Where it is absent a test
that needs it is skipped with a reason, except under ``CI=true``, where that is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHARED = PROJECT_ROOT.parent / "shared"

EXAMPLE_QUESTIONS = ("alignment-tax.yaml", "multimodal-llama2-self-invoking-code.yaml", "reasoning-modes-cost.yaml")
"""The example questions the tests build, by name: a question a researcher adds to
``content/questions/`` (as the README says) must not change what the tests expect."""


def copy_example_questions(dest: Path) -> Path:
    """Copy the :data:`EXAMPLE_QUESTIONS` files into the folder ``dest`` (created); returns it."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in EXAMPLE_QUESTIONS:
        shutil.copy2(PROJECT_ROOT / "content" / "questions" / name, dest / name)
    return dest


def shared_path(*parts: str) -> Path:
    """Return ``../shared/<parts>``; skip the test (or fail under CI=true) if missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"{path} is absent: this test reads real data from ../shared (see shared/README.md)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
def shared() -> Path:
    """The ``../shared`` folder (skips, or fails under CI=true, when absent)."""
    return shared_path()
