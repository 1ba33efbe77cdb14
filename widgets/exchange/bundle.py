"""Learner bundles: one learner's responses as JSON Lines, headed by a manifest line.

The manifest carries the format version, the learner, the count, a SHA-256 over the response lines
and the SHA-256 of each line, so the instructor's ``collect`` can tell a complete bundle from a
damaged one and name the line that changed. Reading is streamed, line by line, and a file over
the size limit is refused before it is read.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from widgets.paths import schema_valid_fast, write_private
from widgets.responses.codec import to_json
from widgets.responses.contract import response_schema, utcnow
from widgets.store import Store

# 2 adds reflection lines, 3 consent lines, 4 script lines; a bundle is written in the lowest format that holds it.
BUNDLE_FORMAT = 4
MAX_BUNDLE_BYTES = 16 * 1024 * 1024  # a learner's whole course is well under 1 MB
_BOMS = {b"\xef\xbb\xbf": None, b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def response_line(row: dict) -> str:
    """One response as a canonical JSON line (sorted keys, ISO timestamps)."""
    return json.dumps(to_json(row), sort_keys=True, ensure_ascii=False)


def line_digest(line: str | bytes) -> str:
    """The SHA-256 of one line with its newline, as the manifest lists it."""
    data = line.encode("utf-8") if isinstance(line, str) else line
    return hashlib.sha256(data + b"\n").hexdigest()


def checksum(lines: list[str]) -> str:
    """The SHA-256 over all response lines, each followed by a newline."""
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def consent_line(record: dict) -> str:
    """One research-consent choice as a bundle line: ``{"consent_event": true, "learner": ..., "recorded_at": ...}``."""
    return json.dumps(to_json({"consent_event": bool(record["consent"]), "learner": record["learner"],
                               "recorded_at": record["recorded_at"]}), sort_keys=True, ensure_ascii=False)


def bundle_text(learner: str, rows: list[dict], reflections: list[dict] = (), consents: list[dict] = (),
                scripts: list[dict] = ()) -> str:
    """The whole bundle: the manifest line, one line per response, per saved reflection, per consent choice,
    per saved script.

    A reflection line is told apart by its ``reflection_id``, a consent line by its
    ``consent_event``, a script line (what the learner would say on a case) by its ``script_id``;
    scripts come after the answers they follow, every saved version of each. The consent lines carry
    every choice the learner made, with its time, so that ``collect`` applies a withdrawal (or a late
    consent) made offline exactly as the shared store would. Bundles without reflections, consent
    choices or scripts are written as format 1, which
    every earlier ``collect`` reads; a later format is refused by an earlier ``collect`` with a
    request to upgrade rather than half-read.
    """
    lines = ([response_line(r) for r in rows] + [response_line(r) for r in reflections]
             + [consent_line(c) for c in consents] + [response_line(s) for s in scripts])
    manifest = {
        "dualrole_bundle": 4 if scripts else 3 if consents else 2 if reflections else 1,
        "learner": learner,
        "count": len(lines),
        "reflections": len(reflections),
        "sha256": checksum(lines),
        "line_sha256": [line_digest(line) for line in lines],
        "exported_at": utcnow().isoformat(),
    }
    return "\n".join([json.dumps(manifest, sort_keys=True), *lines]) + "\n"


def learner_bundle(store: Store, learner: str) -> tuple[str, int]:
    """``learner``'s bundle as text (responses, saved reflections, consent choices, saved scripts), and how many
    responses it holds."""
    rows = store.responses(learner=learner)
    return bundle_text(learner, rows, store.reflections(learner=learner), store.consent_records(learner),
                       store.scripts(learner=learner)), len(rows)


def write_bundle(store: Store, learner: str, out: Path | str) -> int:
    """Write ``learner``'s bundle (answers, reflections, consent choices, scripts) to ``out`` atomically;
    return how many responses."""
    text, count = learner_bundle(store, learner)
    # Mode 600, replaced atomically: a reader never sees a half-written bundle, nor another user any.
    write_private(Path(out), text.encode("utf-8"))
    return count


# -- reading ----------------------------------------------------------------------------------


@dataclass
class BundleLine:
    """One response line: its number in the file, its bytes, and what it holds or what is wrong."""

    number: int
    raw: bytes
    data: dict | None = None
    problem: str | None = None


@dataclass
class BundleRead:
    """What a bundle file holds, before any check against the case library or the store."""

    path: Path
    manifest: dict | None = None
    lines: list[BundleLine] = field(default_factory=list)
    rejected: str | None = None  # why the whole file was refused, if it was
    notes: list[str] = field(default_factory=list)  # file-level findings that reject no line

    @property
    def learner(self) -> str | None:
        """The learner the manifest names (None when the file was refused)."""
        return self.manifest.get("learner") if self.manifest else None


def read_bundle(path: Path | str, max_bytes: int = MAX_BUNDLE_BYTES) -> BundleRead:
    """Read a bundle line by line; whatever is damaged is marked with a reason, never raised.

    Example::

        >>> read = read_bundle("ana.jsonl")                      # doctest: +SKIP
        >>> [line.problem for line in read.lines]                # doctest: +SKIP
        [None, 'truncated: the file ends part-way through this line (...)']
    """
    read = BundleRead(Path(path))
    try:
        size = read.path.stat().st_size
    except OSError as exc:
        read.rejected = f"cannot read the file: {exc.strerror}"
        return read
    if size == 0:
        read.rejected = "empty file: the learner's export wrote nothing (ask them to run 'dualrole export' again)"
        return read
    if size > max_bytes:
        read.rejected = (f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit for one bundle "
                         "(a learner's bundle is well under 1 MB): not read; is it really a dualrole bundle?")
        return read
    try:
        with read.path.open("rb") as stream:
            _read_lines(read, stream)
    except OSError as exc:
        read.rejected = f"cannot read the file: {exc.strerror}"
    return read


def _read_lines(read: BundleRead, stream) -> None:
    first = stream.readline()
    for bom, encoding in _BOMS.items():
        if first.startswith(bom):
            if encoding:
                read.rejected = (f"the file is {encoding} text, not UTF-8 (probably re-saved by an editor): "
                                 "ask the learner for the file 'dualrole export' wrote")
                return
            first = first[len(bom):]
    if not _read_manifest(read, first):
        return
    expected = Counter(read.manifest.get("line_sha256") or [])
    whole = hashlib.sha256()
    truncated = False
    for number, raw in enumerate(stream, start=2):
        complete = raw.endswith(b"\n")
        body = _strip_newline(raw)
        if not body.strip():
            continue
        whole.update(body + b"\n")
        line = BundleLine(number, body)
        read.lines.append(line)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            line.problem = (f"not UTF-8 text: byte 0x{body[exc.start]:02x} at column {exc.start + 1} "
                            "(was the file re-saved in another encoding?)")
            continue
        try:
            line.data = json.loads(text)
        except json.JSONDecodeError as exc:
            if not complete:
                truncated = True
                line.problem = (f"truncated: the file ends part-way through this line, at column {len(text)} "
                                "(the download or copy was cut off; ask for the bundle again)")
            else:
                line.problem = f"not valid JSON: {exc.msg} at column {exc.colno}"
            continue
        if not isinstance(line.data, dict):
            line.problem, line.data = "not a response: a JSON object {...} was expected", None
            continue
        if expected:
            digest = line_digest(body)
            if expected[digest] > 0:
                expected[digest] -= 1
            else:
                line.problem = ("changed after export: the line does not match its checksum in the manifest "
                                "(line 1), so it cannot be trusted")
    _check_totals(read, whole.hexdigest(), truncated)


def _read_manifest(read: BundleRead, first: bytes) -> bool:
    not_bundle = "not a dualrole bundle: line 1 is not a bundle manifest (make bundles with 'dualrole export')"
    if first.startswith(b"PK\x03\x04"):
        read.rejected = "a zip archive, not a bundle: unzip it, then collect the folder"
        return False
    if b"\x00" in first:
        read.rejected = "not UTF-8 text (UTF-16 or binary): ask the learner for the file 'dualrole export' wrote"
        return False
    try:
        manifest = json.loads(_strip_newline(first).decode("utf-8"))
    except UnicodeDecodeError:
        read.rejected = f"{not_bundle}; it is not UTF-8 text"
        return False
    except json.JSONDecodeError:
        read.rejected = not_bundle
        return False
    if not isinstance(manifest, dict) or "dualrole_bundle" not in manifest:
        read.rejected = not_bundle
        return False
    version = manifest["dualrole_bundle"]
    if isinstance(version, int) and version > BUNDLE_FORMAT:
        read.rejected = (f"bundle format {version} is newer than this dualrole reads (format {BUNDLE_FORMAT}): "
                         "upgrade with: pip install -U dualrole")
        return False
    problem = _manifest_problem(manifest)
    if problem:
        read.rejected = f"line 1: bad bundle manifest: {problem}"
        return False
    read.manifest = manifest
    return True


@functools.lru_cache(maxsize=1)
def _manifest_validator():
    import jsonschema  # imported on first use: it is slow to import

    schema = response_schema()
    return jsonschema.Draft202012Validator({**schema["$defs"]["manifest"], "$defs": schema["$defs"]})


def _manifest_problem(manifest: dict) -> str | None:
    import jsonschema

    if schema_valid_fast(manifest, "response", "manifest"):  # the compiled check; the Python validator words any error
        return None
    # Compiled once, not once per bundle: collect reads thousands of bundles.
    error = jsonschema.exceptions.best_match(_manifest_validator().iter_errors(manifest))
    if error is None:
        return None
    where = ".".join(str(p) for p in error.absolute_path)
    return f"field '{where}': {error.message}" if where else error.message


def _check_totals(read: BundleRead, whole: str, truncated: bool) -> None:
    manifest = read.manifest
    held = len(read.lines)
    if held != manifest["count"]:
        why = " (its last line was cut off: the file is truncated)" if truncated else ""
        read.notes.append(f"the manifest announces {manifest['count']} response(s) but the file holds {held}{why}")
    if whole == manifest["sha256"]:
        return
    if manifest.get("line_sha256"):
        if held == manifest["count"] and not any(line.problem for line in read.lines):
            read.notes.append("the manifest's checksum does not match the file, but every line matches "
                              "its own checksum (lines reordered or the manifest edited)")
        return
    # Without per-line checksums a mismatch cannot say which line changed: trust none of them.
    for line in read.lines:
        if line.problem is None:
            line.problem = ("checksum mismatch: the bundle was changed after export and has no per-line "
                            "checksums, so none of its lines can be trusted")


def _strip_newline(raw: bytes) -> bytes:
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):  # a bundle that passed through Windows mail keeps its meaning
        raw = raw[:-1]
    return raw
