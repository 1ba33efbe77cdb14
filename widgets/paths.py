"""Where things live: the shipped data, an instructor's extra cases, the learner's data folder.

Nothing here creates files at import time; callers create what they need when they need it.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import tempfile
from functools import lru_cache
from pathlib import Path

import platformdirs

REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# Where collect sets aside the lines it refused, beside the instructor's bundles unless told otherwise.
QUARANTINE_DIR = "dualrole-quarantine"


def data_dir() -> Path:
    """The shipped data folder (cases, schemas, code registry); ``DUALROLE_DATA`` overrides it.

    In a checkout (and an editable install) that is the repository's ``data/``; an installed wheel
    carries the same files as the package data ``widgets/data``.
    """
    configured = os.environ.get("DUALROLE_DATA")
    if configured:
        return Path(configured)
    if (REPO_DATA / "cases").is_dir():
        return REPO_DATA
    return Path(str(importlib.resources.files("widgets") / "data"))


def notebooks_dir() -> Path:
    """The shipped notebooks: ``notebooks/`` of a checkout, else the package data ``widgets/notebooks``."""
    repo_notebooks = REPO_DATA.parent / "notebooks"
    if (REPO_DATA / "cases").is_dir() and repo_notebooks.is_dir():
        return repo_notebooks
    return Path(str(importlib.resources.files("widgets") / "notebooks"))


def copy_notebooks(dest: Path | str, *, force: bool = False) -> tuple[list[Path], list[Path]]:
    """Copy the shipped notebooks into ``dest``; return (copied, kept).

    A notebook already in ``dest`` is kept as it is (an instructor may have edited it) unless
    ``force`` is set.
    """
    from widgets.errors import DualroleError

    source = notebooks_dir()
    shipped = sorted(source.glob("*.ipynb"))
    if not shipped:
        raise DualroleError(f"no notebooks found in {source}: reinstall dualrole from its repository")
    dest = Path(dest).expanduser()
    dest.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for notebook in shipped:
        target = dest / notebook.name
        if target.exists() and not force:
            kept.append(target)
            continue
        shutil.copyfile(notebook, target)
        copied.append(target)
    return copied, kept


COURSE_FOLDER = "course"


def course_notebooks() -> Path:
    """Copy the learner's notebooks (the start page, the lessons, the assessment and the references; no
    instructor's notebook) into ``course/`` in the data folder, fresh each time; return that folder.

    The course view (``dualrole course``) serves this folder with Voila: pages without code, whose
    answers and drafts go to the same store as in JupyterLab.
    """
    from widgets.errors import DualroleError

    shipped = [nb for nb in sorted(notebooks_dir().glob("*.ipynb"))
               if nb.stem[:2].isdigit() or nb.stem == "references"]
    if not shipped:
        raise DualroleError(f"no lesson notebooks found in {notebooks_dir()}: reinstall dualrole from its repository")
    folder = home() / COURSE_FOLDER
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for stale in folder.glob("*.ipynb"):
        stale.unlink()
    for notebook in shipped:
        shutil.copyfile(notebook, folder / notebook.name)
    return folder


def own_cases_dir() -> Path:
    """The instructor's own case folder: the first ``DUALROLE_CASES`` entry, else ``cases/`` in the data folder."""
    extra = [p for p in os.environ.get("DUALROLE_CASES", "").split(os.pathsep) if p.strip()]
    return Path(extra[0]).expanduser() if extra else home() / "cases"


def case_dirs() -> list[Path]:
    """Folders searched for cases: the shipped library, then ``DUALROLE_CASES`` (``os.pathsep``-separated),
    then the ``cases/`` folder in the data folder if it exists."""
    dirs = [data_dir() / "cases"]
    extra = os.environ.get("DUALROLE_CASES", "")
    dirs += [Path(p).expanduser() for p in extra.split(os.pathsep) if p.strip()]
    default_own = home() / "cases"
    if default_own.is_dir() and default_own not in dirs:
        dirs.append(default_own)
    return dirs


def home() -> Path:
    """The learner's private data folder; ``DUALROLE_HOME`` overrides it (tests, shared machines)."""
    override = os.environ.get("DUALROLE_HOME")
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_data_dir("dualrole", appauthor=False))


def private_folder(folder: Path | str) -> Path:
    """``folder``, made if missing; every folder this makes is mode 700 whatever the umask.

    The learner's data folder itself is set to 700 even when it already existed (an older version
    made it with the umask's mode): it holds answers, drafts and keys. Any other folder that already
    existed is left as it is, since it may be the user's own (a home folder, a course folder).
    """
    folder = Path(folder).expanduser()
    missing = []
    step = folder
    while not step.exists() and step != step.parent:
        missing.append(step)
        step = step.parent
    folder.mkdir(parents=True, exist_ok=True)
    for made in missing:
        os.chmod(made, 0o700)
    if folder.resolve() == home().resolve():
        os.chmod(folder, 0o700)
    return folder


def write_private(path: Path | str, data: bytes) -> Path:
    """Replace ``path`` with ``data`` atomically: the file is mode 600 whatever the umask, in a folder
    :func:`private_folder` made, and it is on disk when this returns."""
    path = Path(path)
    private_folder(path.parent)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}-", dir=path.parent)  # mkstemp makes it 600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def open_private(path: Path | str, flags: int) -> int:
    """``os.open`` for a private file: created 600, and set back to 600 if it was ever widened."""
    path = Path(path)
    private_folder(path.parent)
    fd = os.open(path, flags | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    except OSError:
        os.close(fd)
        raise
    return fd


@lru_cache(maxsize=None)
def read_schema(name: str) -> dict:
    """A JSON Schema from the data folder's ``schema/`` (``case``, ``response``, ...), read once."""
    return json.loads((data_dir() / "schema" / f"{name}.schema.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def _compiled_schema(name: str, part: str | None = None):
    """``read_schema(name)`` (or its ``$defs`` part, e.g. "manifest") compiled by jsonschema-rs, when it
    is installed; None otherwise."""
    try:
        import jsonschema_rs
    except ImportError:
        return None
    schema = read_schema(name)
    if part is not None:
        schema = {**schema["$defs"][part], "$defs": schema["$defs"]}
    return jsonschema_rs.Draft202012Validator(schema)


def schema_valid_fast(data: object, name: str, part: str | None = None) -> bool:
    """True only when the schema ``name`` (or its ``part``), compiled by jsonschema-rs, finds ``data`` valid.

    Collect checks every line and manifest of a class's bundles, and every kernel parses the case
    library: the pure-Python validator (and importing it, about a second) was most of that time.
    Its "valid" is trusted; anything else (invalid, or a value it cannot read) goes to the Python
    validator, whose errors name the fields, so the verdict is always jsonschema's
    (tests/responses/test_contract.py and tests/cases/test_cases.py check both agree).
    """
    compiled = _compiled_schema(name, part)
    if compiled is None:
        return False
    try:
        return compiled.is_valid(data)
    except (ValueError, TypeError, OverflowError):  # e.g. a datetime, a YAML date or a huge integer: not JSON
        return False


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, in hex: what a checksum list (``sha256sum``) records for it."""
    import hashlib

    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
