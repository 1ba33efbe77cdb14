"""Collect a class: merge learner bundles into a cohort store, losing nothing and accepting nothing broken.

Each bundle is one transaction. ``response_id`` is the key, so collecting twice adds nothing. A bad
line goes to a quarantine file, named with its reason in ``report.csv`` beside it, and the good
lines of the same bundle are still imported. An answer to a case file that has since been edited
(its ``case_version`` differs) is quarantined too, unless ``allow_stale_cases`` is set.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from .bundle import MAX_BUNDLE_BYTES, BundleLine, read_bundle, response_schema
from .cases import Library, load_library
from .errors import StoreError, _display_path
from .store import COLUMNS, Store, open_store, resolve_url, responses_table

QUARANTINE_DIR = "dualrole-quarantine"
REPORT_NAME = "report.csv"
BUNDLE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".txt", ".zip")
_ATTEMPT_KEY = ("learner", "cohort", "case_id", "phase", "attempt")


@dataclass
class Problem:
    """One finding: a file, a line (None for the whole file) and the reason."""

    path: Path
    line: int | None
    reason: str

    def __str__(self) -> str:
        where = _display_path(self.path) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.reason}"


@dataclass
class FileResult:
    """What collecting one bundle file did."""

    path: Path
    learner: str | None = None
    imported: int = 0
    duplicates: int = 0
    quarantined: int = 0
    rejected: str | None = None  # why the whole file was refused
    problems: list[Problem] = field(default_factory=list)
    quarantine_file: Path | None = None


@dataclass
class CollectReport:
    """The outcome of one collect run, file by file."""

    files: list[FileResult]
    quarantine_dir: Path
    report_path: Path | None = None

    @property
    def imported(self) -> int:
        """Responses added to the store."""
        return sum(f.imported for f in self.files)

    @property
    def duplicates(self) -> int:
        """Responses the store already held (or held twice in one bundle)."""
        return sum(f.duplicates for f in self.files)

    @property
    def quarantined(self) -> int:
        """Lines set aside in the quarantine folder."""
        return sum(f.quarantined for f in self.files)

    @property
    def problems(self) -> list[Problem]:
        """Every finding, file by file, in the order reported."""
        return [p for f in self.files for p in f.problems]

    def table(self) -> str:
        """A plain-text summary: one row per file, then the totals."""
        rows = [(_display_path(f.path), f.learner or "-", str(f.imported), str(f.duplicates),
                 str(f.quarantined), "rejected" if f.rejected else ("see report" if f.problems else ""))
                for f in self.files]
        head = ("file", "learner", "imported", "duplicates", "quarantined", "note")
        total = ("total", f"{len(self.files)} file(s)", str(self.imported), str(self.duplicates),
                 str(self.quarantined), f"{len(self.problems)} problem(s)" if self.problems else "")
        widths = [max(len(r[i]) for r in [head, *rows, total]) for i in range(len(head))]

        def fmt(r):
            return "  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(head), rule, *map(fmt, rows), rule, fmt(total)])


def bundle_paths(paths: Iterable[Path | str], exclude: Path | str | None = None) -> list[Path]:
    """The bundle files named by ``paths``: files as given, folders searched recursively.

    In a folder, files ending in .jsonl, .ndjson, .json, .txt or .zip are taken (a zip is reported,
    not opened); hidden files and the ``exclude`` folder (the quarantine) are skipped.
    """
    skip = Path(exclude).resolve() if exclude else None
    found: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            found.append(p)
            continue
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p).parts
            if (f.is_file() and f.suffix.lower() in BUNDLE_SUFFIXES and not any(s.startswith(".") for s in rel)
                    and not (skip and skip in f.resolve().parents)):
                found.append(f)
    return list(dict.fromkeys(found))


def collect(paths: Iterable[Path | str], store: Store | str, quarantine_dir: Path | str = QUARANTINE_DIR, *,
            allow_stale_cases: bool = False, max_bytes: int = MAX_BUNDLE_BYTES, library: Library | None = None,
            on_file: Callable[[FileResult], None] | None = None) -> CollectReport:
    """Merge bundle files (or folders of them) into ``store``; return what happened, file by file.

    Idempotent: a response already in the store counts as a duplicate. Problems never raise: they
    are quarantined and reported. A store that fails part-way raises :class:`StoreError` (with the
    report so far as ``.report``); every bundle before it is in, and none is half in.

    Example::

        >>> report = collect(["downloads/"], "sqlite:///class.sqlite")   # doctest: +SKIP
        >>> report.imported, report.duplicates, report.quarantined        # doctest: +SKIP
        (412, 0, 3)
    """
    store = open_store(resolve_url(store)) if isinstance(store, str) else store
    quarantine_dir = Path(quarantine_dir)
    files = bundle_paths(paths, exclude=quarantine_dir)
    checker = LineChecker(library or load_library(), allow_stale_cases)
    report = CollectReport([], quarantine_dir)
    outputs = _Quarantine(quarantine_dir)
    for path in files:
        try:
            result, bad, whole = _collect_file(path, store, checker, max_bytes)
        except StoreError as exc:
            done = sum(1 for f in report.files if f.imported or f.duplicates)
            error = StoreError(f"the store failed while collecting {_display_path(path)}: {exc}. "
                               f"The {len(report.files)} file(s) before it were collected ({done} with answers) "
                               "and none is half in: run collect again to finish (it skips what is in).")
            report.report_path = outputs.write_report(report.files)
            error.report = report
            raise error from exc
        outputs.set_aside(result, bad, whole)
        report.files.append(result)
        if on_file:
            on_file(result)
    report.report_path = outputs.write_report(report.files)
    return report


def _collect_file(path: Path, store: Store, checker: LineChecker, max_bytes: int):
    read = read_bundle(path, max_bytes)
    result = FileResult(path, learner=read.learner)
    if read.rejected:
        result.rejected = read.rejected
        result.problems.append(Problem(path, None, read.rejected))
        whole = path.is_file() and 0 < path.stat().st_size <= max_bytes
        return result, [], whole
    bad: list[tuple[BundleLine, str]] = []
    good: list[tuple[BundleLine, dict]] = []
    by_id: dict[str, BundleLine] = {}
    by_attempt: dict[tuple, int] = {}
    for line in read.lines:
        reason, row = (line.problem, None) if line.problem else checker.check(line.data, read.learner)
        if row is not None:
            first = by_id.get(row["response_id"])
            key = tuple(row[k] for k in _ATTEMPT_KEY)
            if first is not None and first.raw == line.raw:
                result.duplicates += 1
                continue
            if first is not None:
                reason = f"response_id {row['response_id']} is already used on line {first.number} with different content"
            elif key in by_attempt:
                reason = (f"a second answer to the same attempt: line {by_attempt[key]} already holds attempt "
                          f"{row['attempt']} of case '{row['case_id']}' ({row['phase']}, cohort '{row['cohort']}')")
        if reason:
            bad.append((line, reason))
            continue
        by_id[row["response_id"]], by_attempt[key] = line, line.number
        good.append((line, row))
    result.problems += [Problem(path, None, note) for note in read.notes]
    for attempt in (1, 2):  # a concurrent collect of the same learner may win a race: retry once
        try:
            conflicts = _import(store, good, result)
            break
        except IntegrityError as exc:
            if attempt == 2:
                raise StoreError(f"could not import {_display_path(path)}: {exc.orig}") from exc
    bad += conflicts
    bad.sort(key=lambda item: item[0].number)
    result.problems += [Problem(path, line.number, reason) for line, reason in bad]
    result.quarantined = len(bad)
    return result, bad, False


def _import(store: Store, good: list[tuple[BundleLine, dict]], result: FileResult):
    """Insert one bundle's good rows in one transaction; return lines that clash with the store."""
    result.imported = 0
    duplicates_before = result.duplicates
    conflicts: list[tuple[BundleLine, str]] = []
    if not good:
        return conflicts
    try:
        with store.transaction() as conn:
            existing = store.existing_ids([row["response_id"] for _, row in good], conn)
            learners = sorted({row["learner"] for _, row in good})
            t = responses_table
            taken = {tuple(r[1:]): r[0] for r in conn.execute(
                sa.select(t.c.response_id, *(t.c[k] for k in _ATTEMPT_KEY)).where(t.c.learner.in_(learners)))}
            fresh = []
            for line, row in good:
                key = tuple(row[k] for k in _ATTEMPT_KEY)
                if row["response_id"] in existing:
                    result.duplicates += 1
                elif key in taken:
                    conflicts.append((line, f"conflicts with an answer already in the store (response_id {taken[key]}): "
                                            f"same learner, cohort, case, phase and attempt {row['attempt']}"))
                else:
                    fresh.append(row)
            added = store.add_many(fresh, conn)
    except IntegrityError:
        result.duplicates = duplicates_before
        raise
    result.imported = added
    result.duplicates += len(fresh) - added  # written by a concurrent collect meanwhile
    return conflicts


class LineChecker:
    """Checks one response line against the schema and the case library; makes the store row."""

    def __init__(self, library: Library, allow_stale_cases: bool = False):
        import jsonschema  # imported on first use: it is slow to import

        self.library = library
        self.allow_stale_cases = allow_stale_cases
        self.validator = jsonschema.Draft202012Validator(response_schema())

    def check(self, data: dict, learner: str | None) -> tuple[str | None, dict | None]:
        """``(None, row)`` for a good line, ``(reason, None)`` for a bad one."""
        errors = list(self.validator.iter_errors(data))
        if errors:
            return _schema_reason(errors), None
        if data["learner"] != learner:
            return (f"learner '{data['learner']}' is not the bundle's learner '{learner}' (line 1): "
                    "a bundle holds one learner's answers"), None
        reason = self._case_reason(data)
        if reason:
            return reason, None
        row = {k: data[k] for k in COLUMNS}
        for name in ("started_at", "submitted_at"):
            if row[name] is not None:
                try:
                    row[name] = datetime.fromisoformat(row[name])
                except ValueError:
                    return f"field '{name}': {row[name]!r} is not a real date and time", None
        return None, row

    def _case_reason(self, data: dict) -> str | None:
        case_id = data["case_id"]
        if case_id not in self.library:
            broken = any(Path(p.path).stem == case_id for p in self.library.problems)
            hint = ("its case file has errors (run 'dualrole validate')" if broken else
                    "is the instructor's case folder in DUALROLE_CASES?")
            return f"unknown case_id '{case_id}': no such case in the case library ({hint})"
        case = self.library[case_id]
        if data["case_version"] != case.case_version:
            if self.allow_stale_cases:
                return None  # imported with its own case_version; options may since have changed
            return (f"case_version '{data['case_version']}' does not match case '{case_id}' as it is now "
                    f"('{case.case_version}'): the case file was edited after this answer; collect with "
                    "--allow-stale-cases to import such answers")
        options = {o.id: o for o in case.options}
        if data["option_id"] not in options:
            return (f"option_id '{data['option_id']}' is not an option of case '{case_id}' "
                    f"(options: {', '.join(options)})")
        if options[data["option_id"]].stance != data["stance"]:
            return (f"stance '{data['stance']}' does not match option '{data['option_id']}' of case "
                    f"'{case_id}' (its stance is '{options[data['option_id']].stance}')")
        return None


def _schema_reason(errors) -> str:
    parts = []
    for e in sorted(errors, key=lambda e: [str(p) for p in e.absolute_path]):
        if e.validator == "required":
            missing = [p for p in e.validator_value if p not in e.instance]
            parts.append("missing field(s) " + ", ".join(f"'{m}'" for m in missing))
        elif e.validator == "additionalProperties":
            extra = sorted(set(e.instance) - set(e.schema.get("properties", {})))
            parts.append("unknown field(s) " + ", ".join(f"'{x}'" for x in extra)
                         + " (from a newer dualrole? upgrade with: pip install -U dualrole)")
        elif e.validator == "type" and not e.absolute_path:
            parts.append("not a response: a JSON object {...} was expected")
        else:
            name = ".".join(str(p) for p in e.absolute_path)
            if e.validator == "pattern" and "description" in e.schema:
                message = f"{e.instance!r} is not {e.schema['description']}"
            elif e.validator == "enum":
                message = f"{json.dumps(e.instance)} is not one of: " + ", ".join(
                    v if isinstance(v, str) else json.dumps(v) for v in e.validator_value)
            else:
                message = e.message
            parts.append(f"field '{name}': {message}")
    more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
    return "; ".join(parts[:3]) + more


class _Quarantine:
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


__all__ = ["QUARANTINE_DIR", "CollectReport", "FileResult", "LineChecker", "Problem", "bundle_paths", "collect"]
