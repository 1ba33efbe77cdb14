"""The quarantine folder of ``collect``: set-aside lines, set-aside files, and ``report.csv``.

Each run replaces what the previous run wrote there (and only that), so the folder always
describes the latest collect.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from .bundle import BundleLine
from .errors import _display_path

if TYPE_CHECKING:
    from .collect import FileResult

REPORT_NAME = "report.csv"


class Quarantine:
    """Writes bad lines, each file's set-aside copy, and the report; replaces the previous run's."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.used: set[str] = set()
        self._clear_previous()

    def _clear_previous(self) -> None:
        report = self.folder / REPORT_NAME
        try:
            with report.open(newline="", encoding="utf-8") as stream:
                previous = {row.get("quarantine_file") for row in csv.DictReader(stream)}
        except (OSError, csv.Error, UnicodeDecodeError):
            return
        for name in filter(None, previous):
            target = self.folder / Path(name).name  # only ever inside the quarantine folder
            target.unlink(missing_ok=True)
        report.unlink(missing_ok=True)

    def _name(self, path: Path) -> Path:
        stem, suffix = path.stem or path.name, path.suffix or ".jsonl"
        name, n = f"{stem}.quarantined{suffix}", 1
        while name in self.used or name == REPORT_NAME:
            n += 1
            name = f"{stem}.quarantined-{n}{suffix}"
        self.used.add(name)
        return self.folder / name

    def set_aside(self, result: FileResult, bad: list[tuple[BundleLine, str]], whole: bool) -> None:
        if not bad and not whole:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        target = self._name(result.path)
        if whole:
            with result.path.open("rb") as src, target.open("wb") as out:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    out.write(chunk)
        else:
            target.write_bytes(b"".join(line.raw + b"\n" for line, _ in bad))
        result.quarantine_file = target

    def write_report(self, files: list[FileResult]) -> Path | None:
        problems = [(f, p) for f in files for p in f.problems]
        if not problems:
            return None
        self.folder.mkdir(parents=True, exist_ok=True)
        report = self.folder / REPORT_NAME
        with report.open("w", newline="", encoding="utf-8") as stream:
            writer = csv.writer(stream)
            writer.writerow(["file", "line", "reason", "quarantine_file"])
            for f, p in problems:
                quarantined = f.quarantine_file.name if f.quarantine_file and (p.line or f.rejected) else ""
                writer.writerow([_display_path(p.path), p.line or "", p.reason, quarantined])
        return report
