"""The exception tree. Only :mod:`generator.cli` turns these into messages and exit codes."""

from __future__ import annotations

from dataclasses import dataclass


class LitsynthError(Exception):
    """Base of every error litsynth raises on purpose."""


@dataclass(frozen=True)
class Problem:
    """One located problem in an input file: ``path:line:column: message``.

    ``line`` and ``column`` are 1-based; either may be ``None`` when the problem concerns
    the whole file (e.g. an empty file, or two files mapping to one slug).
    """

    path: str
    line: int | None
    column: int | None
    message: str

    def __str__(self) -> str:
        loc = self.path
        if self.line is not None:
            loc += f":{self.line}"
            if self.column is not None:
                loc += f":{self.column}"
        return f"{loc}: {self.message}"


class InputError(LitsynthError):
    """One or more problems in question files; ``problems`` lists all of them."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class CorpusError(LitsynthError):
    """A local library file cannot be read (missing, wrong format, truncated beyond use)."""


class RetrievalError(LitsynthError):
    """Retrieval for a question failed and no snapshot exists to fall back on."""


class BuildError(LitsynthError):
    """The site could not be built (mkdocs failed, or a consistency check failed under --strict)."""
