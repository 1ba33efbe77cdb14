"""The learner's outbox: answers kept on this machine while the class service cannot be reached.

An append-only JSON Lines file in the learner's data folder. Each answer is one line, written and
fsynced before the card says it is saved; a later line marks it sent (or refused, with the reason,
and the refused answer is copied to ``outbox-refused.jsonl`` so it is never lost). Once nothing is
waiting the file is emptied. A lock file keeps two kernels of the same learner from interleaving.
Every file here is mode 600 in a folder made 700, whatever the umask: they hold the learner's reasoning.
"""

from __future__ import annotations

import json
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from widgets.paths import open_private, private_folder, write_private
from widgets.responses.contract import utcnow

try:  # POSIX; a hub's servers run on Linux
    import fcntl
except ImportError:  # pragma: no cover - Windows: one kernel at a time is assumed
    fcntl = None


_registry: dict[str, "Outbox"] = {}
_registry_lock = threading.Lock()


class Outbox:
    """Answers waiting to be sent, by ``response_id``, in the order they were committed."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.refused_path = self.path.with_name(self.path.stem + "-refused.jsonl")
        self._lock_path = self.path.with_suffix(".lock")
        self._thread_lock = threading.RLock()
        self._depth = 0  # the file lock is taken once, by the outermost holder in this process

    @classmethod
    def at(cls, path: Path | str) -> "Outbox":
        """The one Outbox object of this process for ``path`` (cards in one kernel share it)."""
        key = str(Path(path).resolve())
        with _registry_lock:
            return _registry.setdefault(key, cls(path))

    @contextmanager
    def locked(self):
        """Hold the outbox against other threads and other processes of the same learner; re-entrant."""
        with self._thread_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            private_folder(self.path.parent)
            with os.fdopen(open_private(self._lock_path, os.O_RDWR), "r+b") as handle:
                if fcntl is not None:
                    fcntl.flock(handle, fcntl.LOCK_EX)
                self._depth = 1
                try:
                    yield
                finally:
                    self._depth = 0
                    if fcntl is not None:
                        fcntl.flock(handle, fcntl.LOCK_UN)

    def put(self, row: dict) -> None:
        """Keep one answer (a JSON-ready row); it is on disk when this returns."""
        with self.locked():
            self._append(self.path, {"response": row, "queued_at": utcnow().isoformat()})

    def pending(self) -> list[dict]:
        """Answers not yet sent or refused, oldest first."""
        with self.locked():
            waiting: dict[str, dict] = {}
            for entry in self._entries():
                row = entry.get("response") if isinstance(entry, dict) else None
                if isinstance(row, dict) and isinstance(row.get("response_id"), str):
                    waiting.setdefault(row["response_id"], row)
                elif isinstance(entry, dict) and ("sent" in entry or "refused" in entry):
                    waiting.pop(entry.get("sent") or entry.get("refused"), None)
            return list(waiting.values())

    def mark_sent(self, response_id: str) -> None:
        with self.locked():
            self._append(self.path, {"sent": response_id})

    def refuse(self, row: dict, reason: str, code: str | None = None) -> None:
        """Record that the service refused an answer for good; the answer is kept, with the reason
        (and the service's ``code``, e.g. ``already_answered``)."""
        with self.locked():
            self._append(self.refused_path, {"response": row, "reason": reason, "code": code,
                                             "refused_at": utcnow().isoformat()})
            self._append(self.path, {"refused": row["response_id"], "reason": reason})

    def compact(self) -> None:
        """Empty the file once every answer in it has been sent or refused."""
        with self.locked():
            if self.path.exists() and not self.pending():
                write_private(self.path, b"")

    def refused(self) -> list[dict]:
        """Answers the service refused, with the reasons (for the learner or instructor to see)."""
        return [e for e in _read_lines(self.refused_path) if isinstance(e, dict) and "response" in e]

    def untold(self) -> list[dict]:
        """Refused answers the learner has not yet been told about (see :meth:`mark_told`)."""
        with self.locked():
            entries = [e for e in _read_lines(self.refused_path) if isinstance(e, dict)]
            told = {e["told"] for e in entries if "told" in e}
            return [e for e in entries if "response" in e and e["response"].get("response_id") not in told]

    def mark_told(self, response_id: str) -> None:
        """Record that the learner has been told about this refused answer, so they are told once."""
        with self.locked():
            self._append(self.refused_path, {"told": response_id})

    # -- file ----------------------------------------------------------------------------------

    def _entries(self):
        return _read_lines(self.path)

    @staticmethod
    def _append(path: Path, entry: dict) -> None:
        line = json.dumps(entry, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"
        new = not path.exists()
        fd = open_private(path, os.O_WRONLY | os.O_APPEND)
        try:
            # A crash mid-write can leave a last line without its newline: never glue onto it.
            if not new and os.fstat(fd).st_size and not _ends_with_newline(path):
                line = b"\n" + line
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(path.parent)


def _read_lines(path: Path):
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return
    for raw in data.split(b"\n"):
        if not raw.strip():
            continue
        try:
            yield json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue  # only a line cut short by a crash, before the card said "saved"


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
