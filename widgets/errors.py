"""Errors a user can cause and fix. The CLI prints them without a traceback."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class DualroleError(Exception):
    """Base class: a problem the user can act on, shown as one plain message."""


@dataclass
class CaseProblem:
    """One problem in one case file, located by line and field."""

    path: Path | str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = _display_path(self.path)
        if self.line:
            where += f":{self.line}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class CaseError(DualroleError):
    """A case file is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: list[CaseProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class InvalidFile(DualroleError):
    """An instructor's file (a rubric, a grading policy, a roster) is invalid; carries every problem."""

    def __init__(self, problems: list[CaseProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class UnknownCase(DualroleError):
    """No case with that id exists in the library."""


class StoreError(DualroleError):
    """The response store cannot be opened or written."""


class AlreadyAnswered(DualroleError):
    """This attempt at this case was already committed."""


def _display_path(path: Path | str) -> str:
    """Show paths relative to the working directory when they are under it."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(p)
