"""A generated file's one command line: write it, or with ``--check`` say whether it is current.

``python -m tools.crosswalk``, ``tools.facilitator``, ``tools.references`` and ``tools.cli_reference``
each make one file (or one block of it) from the course's sources and end in :func:`regenerate`.
``tools.curriculum`` is not one of them: it refreshes the navigation of every notebook at once.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from widgets.errors import InvalidFile

ROOT = Path(__file__).resolve().parent.parent


def regenerate(argv: list[str], path: Path, make: Callable[[], str], *, command: str,
               source_errors: tuple[type[Exception], ...] = (InvalidFile,)) -> int | str:
    """Write ``make()`` to ``path``; with ``--check`` in ``argv``, write nothing and say whether ``path`` holds it.

    Parameters
    ----------
    argv : list of str
        The command's arguments.
    path : Path
        The generated file, inside the repository.
    make : callable
        Makes the file's whole text from its sources.
    command : str
        The module that regenerates the file, as a stale file's message names it (``tools.crosswalk``).
    source_errors : tuple of exception types
        What ``make`` raises for a mistake in a source: reported in a sentence, and nothing is written.

    Returns
    -------
    int or str
        For :func:`sys.exit`: 0, or what is wrong (a stale file, a source's mistake).
    """
    relative = path.relative_to(ROOT).as_posix()
    try:
        text = make()
    except source_errors as exc:
        return f"{exc}\n{relative} was not written."
    if "--check" in argv:
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        return 0 if current == text else f"{relative} is stale: run python -m {command}"
    path.write_text(text, encoding="utf-8")
    print(f"wrote {relative}")
    return 0

