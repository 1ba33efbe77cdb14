"""Learner bundles: one learner's responses as JSON Lines, headed by a manifest line.

The manifest carries the format version, the learner, the count and a SHA-256 over the response
lines, so the instructor's ``collect`` can tell a complete bundle from a damaged one.
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime
from pathlib import Path

from .store import Store, utcnow

BUNDLE_FORMAT = 1


def response_line(row: dict) -> str:
    """One response as a canonical JSON line (sorted keys, ISO timestamps)."""
    return json.dumps({k: _jsonable(v) for k, v in row.items()}, sort_keys=True, ensure_ascii=False)


def checksum(lines: list[str]) -> str:
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def bundle_text(learner: str, rows: list[dict]) -> str:
    lines = [response_line(r) for r in rows]
    manifest = {
        "dualrole_bundle": BUNDLE_FORMAT,
        "learner": learner,
        "count": len(lines),
        "sha256": checksum(lines),
        "exported_at": utcnow().isoformat(),
    }
    return "\n".join([json.dumps(manifest, sort_keys=True), *lines]) + "\n"


def write_bundle(store: Store, learner: str, out: Path | str) -> int:
    """Write ``learner``'s responses to ``out`` atomically; return how many were written."""
    rows = store.responses(learner=learner)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}.tmp")
    tmp.write_text(bundle_text(learner, rows), encoding="utf-8")
    os.replace(tmp, out)  # a reader never sees a half-written bundle
    return len(rows)


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat()
    return value
