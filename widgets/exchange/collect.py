"""Collect a class: merge learner bundles into a cohort store, losing nothing and accepting nothing broken.

Each bundle is one transaction. ``response_id`` is the key, so collecting twice adds nothing. A bad
line goes to a quarantine file, named with its reason in ``report.csv`` beside it, and the good
lines of the same bundle are still imported. An answer to a case file that has since been edited
(its vignette or options changed, so its ``case_version`` differs) is quarantined too, unless
``allow_stale_cases`` is set.
"""

from __future__ import annotations

import csv
import functools
import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from widgets.cases.library import Library, load_library
from widgets.errors import StoreError, _display_path
from widgets.exchange.bundle import MAX_BUNDLE_BYTES, BundleLine, read_bundle
from widgets.paths import QUARANTINE_DIR
from widgets.responses.codec import parse_timestamp
from widgets.responses.contract import ATTEMPT_KEY, attempt_clash, check_reflection, check_response, check_script
from widgets.store import Store, open_store

REPORT_NAME = "report.csv"
BUNDLE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".txt", ".zip")


@dataclass
class Problem:
    """One finding: a file, a line (None for the whole file) and the reason."""

    path: Path
    line: int | None
    reason: str
    name: str | None = None  # the path as the summary shows it (relative to the collected folder)

    def __str__(self) -> str:
        where = (self.name or _display_path(self.path)) + (f":{self.line}" if self.line else "")
        return f"{where}: {self.reason}"


@dataclass
class FileResult:
    """What collecting one bundle file did."""

    path: Path
    learner: str | None = None
    name: str | None = None  # the path as the summary shows it (relative to the collected folder)
    imported: int = 0
    reflections: int = 0  # saved reflections added to the store (duplicates are skipped silently)
    scripts: int = 0  # saved scripts (what the learner would say) added to the store, likewise
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
        rows = [(f.name or _display_path(f.path), f.learner or "-", str(f.imported), str(f.duplicates),
                 str(f.quarantined), "rejected" if f.rejected else ("see report" if f.problems else ""))
                for f in self.files]
        head = ("file", "learner", "imported", "duplicates", "quarantined", "note")
        total = ("total", f"{len(self.files)} file(s)", str(self.imported), str(self.duplicates),
                 str(self.quarantined), f"{len(self.problems)} problem(s)" if self.problems else "")
        widths = [max(len(r[i]) for r in [head, *rows, total]) for i in range(len(head))]

        def fmt(r):
            cells = enumerate(zip(r, widths, strict=True))
            return "  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w) for i, (c, w) in cells).rstrip()

        rule = "  ".join("-" * w for w in widths)
        return "\n".join([fmt(head), rule, *map(fmt, rows), rule, fmt(total)])


def bundle_paths(paths: Iterable[Path | str], exclude: Path | str | None = None) -> list[Path]:
    """The bundle files named by ``paths``: files as given, folders searched recursively.

    In a folder, files ending in .jsonl, .ndjson, .json, .txt or .zip are taken (a zip is reported,
    not opened); hidden files and the ``exclude`` folder (the quarantine) are skipped.
    """
    return _walk(paths, exclude)[0]


def skipped_paths(paths: Iterable[Path | str], exclude: Path | str | None = None) -> list[Path]:
    """The files in the folders of ``paths`` that :func:`bundle_paths` does not take for bundles
    (a notebook handed in by mistake, say), hidden files and the quarantine apart: listed, so
    nothing a learner handed in is passed over without a word."""
    return _walk(paths, exclude)[1]


def _walk(paths: Iterable[Path | str], exclude: Path | str | None) -> tuple[list[Path], list[Path]]:
    skip = Path(exclude).resolve() if exclude else None
    found: list[Path] = []
    other: list[Path] = []
    for p in map(Path, paths):
        if not p.is_dir():
            found.append(p)
            continue
        for f in sorted(p.rglob("*")):
            rel = f.relative_to(p).parts
            if not f.is_file() or any(s.startswith(".") for s in rel) or (skip and skip in f.resolve().parents):
                continue
            (found if f.suffix.lower() in BUNDLE_SUFFIXES else other).append(f)
    return list(dict.fromkeys(found)), list(dict.fromkeys(other))


class CollectInterrupted(StoreError):
    """The store failed part-way through a collect: every bundle before it is in, none is half in.

    ``report`` is what was collected up to the failure (its ``report.csv`` already written).
    """

    def __init__(self, message: str, report: CollectReport):
        super().__init__(message)
        self.report = report


def collect(paths: Iterable[Path | str], store: Store | str, quarantine_dir: Path | str = QUARANTINE_DIR, *,
            allow_stale_cases: bool = False, max_bytes: int = MAX_BUNDLE_BYTES, library: Library | None = None,
            on_file: Callable[[FileResult], None] | None = None) -> CollectReport:
    """Merge bundle files (or folders of them) into ``store``; return what happened, file by file.

    Idempotent: a response already in the store counts as a duplicate. Problems never raise: they
    are quarantined and reported. A store that fails part-way raises :class:`CollectInterrupted`
    (a :class:`StoreError` with the report so far); every bundle before it is in, and none is half in.

    Example::

        >>> report = collect(["downloads/"], "sqlite:///class.sqlite")   # doctest: +SKIP
        >>> report.imported, report.duplicates, report.quarantined        # doctest: +SKIP
        (412, 0, 3)
    """
    store = open_store(store) if isinstance(store, str) else store
    quarantine_dir = Path(quarantine_dir)
    files = bundle_paths(paths, exclude=quarantine_dir)
    library = library or load_library()
    checker = functools.partial(_check_line, library=library, allow_stale=allow_stale_cases)
    report = CollectReport([], quarantine_dir)
    outputs = Quarantine(quarantine_dir)
    root = _common_folder(files)

    def failed(path: Path, exc: StoreError) -> CollectInterrupted:
        done = sum(1 for f in report.files if f.imported or f.duplicates)
        report.report_path = outputs.write_report(report.files)
        return CollectInterrupted(f"the store failed while collecting {_display_path(path)}: {exc}. "
                                  f"The {len(report.files)} file(s) before it were collected ({done} with "
                                  "answers) and none is half in: run collect again to finish (it skips what is in).",
                                  report)

    def finish(checked: _CheckedFile) -> None:
        result = checked.result
        result.name = _short_name(checked.path, root)
        for problem in result.problems:
            problem.name = result.name
        outputs.set_aside(result, checked.bad, checked.whole)
        report.files.append(result)
        if on_file:
            on_file(result)

    # One connection, held for the whole run (one pool checkout), carries each bundle's own transaction.
    # A new bundle's commit runs on a thread of its own while the next bundle is read and checked
    # (the commit waits on the disk or the server, and frees the interpreter meanwhile); the next
    # transaction begins only once it has ended, so bundles still go in one at a time, in order.
    with store.writer() as conn, _CommitBehind() as behind:

        def settle_previous() -> None:
            try:
                previous = behind.wait()
            except StoreError as exc:
                raise failed(behind.path, exc) from exc
            if previous is not None:
                finish(previous)

        for path in files:
            checked = _check_file(path, checker, max_bytes, library)
            settle_previous()
            try:
                _import_file(store, conn, checked, functools.partial(behind.commit, checked))
            except StoreError as exc:
                raise failed(path, exc) from exc
            if not behind.pending:
                finish(checked)
        settle_previous()
    report.report_path = outputs.write_report(report.files)
    return report


def _common_folder(files: list[Path]) -> Path | None:
    try:
        return Path(os.path.commonpath([f.resolve().parent for f in files])) if files else None
    except ValueError:  # different drives on Windows
        return None


def _short_name(path: Path, root: Path | None) -> str:
    try:
        return path.resolve().relative_to(root).as_posix() if root else _display_path(path)
    except ValueError:
        return _display_path(path)


class _CommitBehind:
    """Runs one bundle's commit at a time on a thread of its own (see :func:`collect`)."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dualrole-collect-commit")
        self._pending: tuple[_CheckedFile, Future] | None = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self._pool.shutdown(wait=True)  # a commit under way ends, whatever else happened

    @property
    def pending(self) -> bool:
        return self._pending is not None

    @property
    def path(self) -> Path | None:
        return self._pending[0].path if self._pending else None

    def commit(self, checked: _CheckedFile, commit: Callable[[], None]) -> None:
        self._pending = checked, self._pool.submit(commit)

    def wait(self) -> _CheckedFile | None:
        """The bundle whose commit was under way, once it has ended (raising what the commit raised)."""
        if self._pending is None:
            return None
        checked, future = self._pending
        future.result()
        self._pending = None
        return checked


@dataclass
class _CheckedFile:
    """One bundle file read and checked line by line, before anything of it is in the store."""

    path: Path
    result: FileResult
    good: list[tuple[BundleLine, dict]] = field(default_factory=list)
    reflections: list[dict] = field(default_factory=list)
    scripts: list[dict] = field(default_factory=list)
    consents: list[dict] = field(default_factory=list)
    bad: list[tuple[BundleLine, str]] = field(default_factory=list)
    whole: bool = False  # the whole file is set aside (refused)
    # A revote whose first answer is not in the bundle: only the store can say whether it may be kept.
    needs_store: bool = False


def _check_file(path: Path, checker: Callable, max_bytes: int, library: Library | None = None) -> _CheckedFile:
    read = read_bundle(path, max_bytes)
    checked = _CheckedFile(path, FileResult(path, learner=read.learner))
    result = checked.result
    if read.rejected:
        result.rejected = read.rejected
        result.problems.append(Problem(path, None, read.rejected))
        checked.whole = path.is_file() and 0 < path.stat().st_size <= max_bytes
        return checked
    bad, good = checked.bad, checked.good
    by_id: dict[str, BundleLine] = {}
    by_attempt: dict[tuple, int] = {}
    # Lines that are not answers, told apart by their key: each has its own check and its own list.
    others = (("reflection_id", _check_reflection_line, checked.reflections),
              ("consent_event", _check_consent_line, checked.consents))
    script_lines: list[BundleLine] = []  # checked once every answer is read: each names the answer it follows
    for line in read.lines:
        if not line.problem and isinstance(line.data, dict) and "script_id" in line.data:
            script_lines.append(line)
            continue
        kind = next((o for o in others if not line.problem and isinstance(line.data, dict) and o[0] in line.data),
                    None)
        if kind is not None:
            reason, row = kind[1](line.data, read.learner)
            if reason:
                bad.append((line, reason))
            else:
                kind[2].append(row)
            continue
        reason, row = (line.problem, None) if line.problem else checker(line.data, read.learner)
        if row is not None:
            first = by_id.get(row["response_id"])
            key = tuple(row[k] for k in ATTEMPT_KEY)
            if first is not None and first.raw == line.raw:
                result.duplicates += 1
                continue
            if first is not None:
                reason = (f"response_id {row['response_id']} is already used on line {first.number} "
                          "with different content")
            elif key in by_attempt:
                reason = (f"a second answer to the same attempt: line {by_attempt[key]} already holds attempt "
                          f"{row['attempt']} of case '{row['case_id']}' ({row['phase']}, cohort '{row['cohort']}')")
        if reason:
            bad.append((line, reason))
            continue
        by_id[row["response_id"]], by_attempt[key] = line, line.number
        good.append((line, row))
    answers = {row["response_id"]: row for _, row in good}
    for line in script_lines:
        reason, row = _check_script_line(line.data, read.learner, answers, library or load_library())
        if reason:
            bad.append((line, reason))
        else:
            checked.scripts.append(row)
    bad.sort(key=lambda item: item[0].number)
    checked.needs_store = any(row["attempt"] == 2 and (*tuple(row[k] for k in ATTEMPT_KEY[:-1]), 1) not in by_attempt
                              for _, row in good)
    result.problems += [Problem(path, None, note) for note in read.notes]
    return checked


def _import_file(store: Store, conn: sa.Connection, checked: _CheckedFile,
                 commit_later: Callable | None = None) -> None:
    """Put one checked bundle into the store in one transaction; its clashes with the store join its bad lines."""
    result, path = checked.result, checked.path
    if result.rejected:
        return
    for attempt in (1, 2):  # a concurrent collect of the same learner may win a race: retry once
        try:
            conflicts = _import(store, conn, checked.good, result, checked.reflections,
                                None if checked.needs_store else commit_later, fast=not checked.needs_store,
                                consents=checked.consents, scripts=checked.scripts)
            break
        except IntegrityError as exc:
            if attempt == 2:
                raise StoreError(f"could not import {_display_path(path)}: {exc.orig}") from exc
    checked.bad += conflicts
    checked.bad.sort(key=lambda item: item[0].number)
    result.problems += [Problem(path, line.number, reason) for line, reason in checked.bad]
    result.quarantined = len(checked.bad)


def _check_line(data: object, learner: str, *, library: Library, allow_stale: bool) -> tuple[str | None, dict | None]:
    """``(None, row)`` for a good line, ``(reason, None)`` for a bad one, by the response contract
    (the bundle's learner, from its manifest, is who sends it)."""
    response, problems = check_response(data, learner=learner, library=library, allow_stale=allow_stale)
    if problems:
        parts = [f"field '{name}': {reason}" for name, reason in problems.items()]
        more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
        return "; ".join(parts[:3]) + more, None
    return None, response.row()


def _check_reflection_line(data: dict, learner: str) -> tuple[str | None, dict | None]:
    """``(None, row)`` for a good reflection line, ``(reason, None)`` for a bad one."""
    if "learner" in data and data["learner"] != learner:
        return (f"learner '{data['learner']}' is not the bundle's learner '{learner}' (line 1): "
                "a bundle holds one learner's reflections"), None
    reflection, problems = check_reflection(data, learner=learner)
    if problems:
        return "; ".join(f"field '{name}': {reason}" for name, reason in list(problems.items())[:3]), None
    return None, reflection.row()


def _check_script_line(data: dict, learner: str, answers: dict[str, dict],
                       library: Library) -> tuple[str | None, dict | None]:
    """``(None, row)`` for a good script line, ``(reason, None)`` for a bad one, by the script rule: the
    first answer it follows is in the same bundle (a learner's export holds all their answers)."""
    if "learner" in data and data["learner"] != learner:
        return (f"learner '{data['learner']}' is not the bundle's learner '{learner}' (line 1): "
                "a bundle holds one learner's scripts"), None
    answer = answers.get(data.get("response_id")) if isinstance(data.get("response_id"), str) else None
    script, problems = check_script(data, learner=learner, answer=answer, library=library)
    if problems:
        return "; ".join(f"field '{name}': {reason}" for name, reason in list(problems.items())[:3]), None
    return None, script.row()


def _check_consent_line(data: dict, learner: str) -> tuple[str | None, dict | None]:
    """``(None, record)`` for a good consent line, ``(reason, None)`` for a bad one."""
    if data.get("learner", learner) != learner:
        return (f"learner '{data['learner']}' is not the bundle's learner '{learner}' (line 1): "
                "a bundle holds one learner's consent choices"), None
    if not isinstance(data["consent_event"], bool):
        return "field 'consent_event': expected true or false", None
    try:
        recorded_at = parse_timestamp(str(data.get("recorded_at")))
    except ValueError:
        return "field 'recorded_at': expected an ISO 8601 time such as 2026-09-08T10:15:00+00:00", None
    return None, {"learner": learner, "consent": data["consent_event"], "recorded_at": recorded_at}


def _import(store: Store, conn: sa.Connection, good: list[tuple[BundleLine, dict]], result: FileResult,
            reflections: list[dict] = (), commit_later: Callable | None = None, fast: bool = True,
            consents: list[dict] = (), scripts: list[dict] = ()):
    """Insert one bundle's good rows, reflections, scripts and consent choices in one transaction; return lines
    that clash with the store."""
    result.imported = 0
    duplicates_before = result.duplicates
    conflicts: list[tuple[BundleLine, str]] = []
    if not good and not reflections and not consents and not scripts:
        return conflicts
    if fast and _import_new(store, conn, good, result, reflections, commit_later, consents, scripts):
        return conflicts
    try:
        with store.transaction(conn):
            existing, taken = store.held(conn, [row["response_id"] for _, row in good],
                                         sorted({row["learner"] for _, row in good}))
            fresh = []
            # The contract's verdict across rows, against what the store holds and the bundle's own lines.
            kept = [{**dict(zip(ATTEMPT_KEY, key)), "response_id": rid} for key, rid in taken.items()]
            kept += [{**dict(zip(ATTEMPT_KEY, key)), "response_id": rid} for rid, key in existing.items()]
            kept += [row for _, row in good]
            for line, row in good:
                key = tuple(row[k] for k in ATTEMPT_KEY)
                if existing.get(row["response_id"]) == key:
                    result.duplicates += 1
                elif (clash := attempt_clash(row, kept)) is None:
                    fresh.append(row)
                else:
                    held = f" (the store holds it as response_id {taken[key]})" if key in taken else ""
                    conflicts.append((line, f"field '{clash.field}': {clash.message}{held}"))
            added = store.add_many(fresh, conn)
            result.reflections = store.add_reflections(reflections, conn)
            result.scripts = store.add_scripts(scripts, conn)
            store.add_consent_records(consents, conn)
    except IntegrityError:
        result.duplicates = duplicates_before
        raise
    result.imported = added
    result.duplicates += len(fresh) - added  # written by a concurrent collect meanwhile
    return conflicts


class _AlreadyHeld(Exception):
    """Some line of a bundle is already in the store: its transaction is rolled back and looked at closely."""


def _import_new(store: Store, conn: sa.Connection, good: list[tuple[BundleLine, dict]], result: FileResult,
                reflections: list[dict], commit_later: Callable | None = None, consents: list[dict] = (),
                scripts: list[dict] = ()) -> bool:
    """Insert a bundle whose lines the store holds none of, in one transaction; False (and nothing added) otherwise.

    Most bundles are new, and for them the look-up of what the store holds would find nothing: the
    insert itself finds out. A line whose response id is held is skipped by the insert (fewer rows
    added than given); one whose attempt is held breaks the attempt's unique constraint. Either way
    the transaction is rolled back, and :func:`_import` sorts the lines out with the look-up.
    """
    rows = [row for _, row in good]
    try:
        with store.transaction(conn, commit_later):
            if store.add_many(rows, conn) < len(rows):
                raise _AlreadyHeld
            reflections_added = store.add_reflections(reflections, conn)
            scripts_added = store.add_scripts(scripts, conn)
            store.add_consent_records(consents, conn)
    except (_AlreadyHeld, IntegrityError):
        return False
    result.imported, result.reflections, result.scripts = len(rows), reflections_added, scripts_added
    return True


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
