"""Privacy: the small-cell gate every aggregate passes, keyed pseudonyms, and research codes.

* :func:`gate` is the one door for numbers shown to anyone but the learner. Counts under
  ``min_cell`` (10 by default, never below 5) are hidden, and more cells are hidden where needed so
  that a hidden count cannot be worked out from the row and column totals (complementary
  suppression, checked by linear algebra, not only by the "two per line" rule of thumb).
* :func:`pseudonym` is HMAC-SHA256 with an instructor key made on demand and kept in the data
  folder, never in the repository or a notebook. No unkeyed hash of an identifier is used
  anywhere: it would fall to a dictionary attack (ENISA 2019, *Pseudonymisation techniques*, §3).
* :func:`research_codes` gives random codes for research exports; the crosswalk stays with the
  instructor (FERPA 34 CFR 99.31(b)(2): codes not derived from personal information). One default
  crosswalk is reused and extended, so a learner keeps their code in every export by that instructor.
* :func:`research_rows` is the one rule for who is in a research output: every writer of research
  data (CSV, Parquet, xAPI, the Frictionless codebook, a QDA project) takes its rows from it, and
  nothing it leaves out reaches a value, a category, a dictionary, metadata or a file name.
* :func:`statement_id` names an exported answer's xAPI statement with a UUID keyed by the instructor
  key: the same answer gets the same id in every export, and nobody without the key can link the
  id to the response id.
"""

from __future__ import annotations

import hmac
import os
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from widgets.errors import DualroleError
from widgets.paths import REPO_DATA, home, open_private, private_folder

# numpy and pandas load when a table is gated, not when this module is imported: the store, the
# command line's options and ``import widgets`` read its thresholds and nothing more.
if TYPE_CHECKING:
    import numpy as np
    import pandas as pd

MIN_CELL = 10
MIN_CELL_FLOOR = 5
TOTAL = "Total"
HIDDEN = "—"
KEY_FILE = "instructor.key"


class PrivacyError(DualroleError):
    """A setting or a path would weaken the privacy protections."""


def check_min_cell(min_cell: int) -> int:
    """Return ``min_cell`` if it is allowed (an integer of at least 5), else raise :class:`PrivacyError`."""
    if isinstance(min_cell, bool) or int(min_cell) != min_cell or min_cell < MIN_CELL_FLOOR:
        raise PrivacyError(f"min_cell must be a whole number of at least {MIN_CELL_FLOOR}, not {min_cell!r}")
    return int(min_cell)


# -- the gate ------------------------------------------------------------------------------------

def gate(table, min_cell: int = MIN_CELL, *, n: str | None = None,
         counts: dict[str, list[str]] | None = None, margins: bool = True,
         learners: pd.DataFrame | None = None, structural_zeros: bool = False):
    """Let through only what is safe to show: the one function every shown aggregate passes.

    Parameters
    ----------
    table : int, Series or DataFrame
        * an int: a single count, returned if it is at least ``min_cell``, else ``pd.NA``;
        * a Series or DataFrame of counts (``n`` not given): a contingency table; small cells and
          their complements are hidden, and totals are added when ``margins`` is set;
        * a DataFrame of statistics (``n`` given): the column ``n`` holds each row's group size;
          rows of fewer than ``min_cell`` are hidden entirely.
    min_cell : int
        The smallest count shown (10 by default, never below 5).
    n : str, optional
        The group-size column of a statistics frame.
    counts : dict, optional
        For a statistics frame: count columns (parts of ``n``) and the columns computed from them.
        A count is hidden when it or its complement (``n`` minus it) is under ``min_cell``, and
        so are its dependents (a share, an interval, an effect size).
    margins : bool
        Show the row and column totals of a contingency table.
    learners : DataFrame, optional
        For a contingency table whose cells count answers rather than people: the number of
        distinct learners behind each cell, totals included (a row and a column named ``Total``).
        A cell is also hidden when fewer than ``min_cell`` learners stand behind it, however many
        answers it holds: twelve answers from two learners describe those two.
    structural_zeros : bool
        For a contingency table: a row or column that is zero throughout is a structural zero (a
        category the design gives nobody, such as a revote after the reference where cards show the
        reference last). It is shown as 0 and takes no part in the suppression of the other cells,
        rather than hiding itself and, by complement, its neighbours. A zero inside an occupied row
        and column is still hidden.

    Returns
    -------
    the gated value or frame
        Hidden cells are ``pd.NA``. A frame carries ``attrs["gated"] = True``, ``attrs["min_cell"]``
        and ``attrs["count_columns"]`` (what :func:`passes` checks).

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({"pre": [12, 3, 15], "post": [20, 11, 14]}, index=["a", "b", "c"])
    >>> gated = gate(table)
    >>> gated.loc["b"].tolist()        # 3 is hidden, and 11 with it; the row total may show
    [<NA>, <NA>, 14]
    >>> passes(gated)
    True
    """
    import pandas as pd

    min_cell = check_min_cell(min_cell)
    gated = _shaped(table, min_cell, n, counts, margins, learners, structural_zeros)
    if isinstance(gated, pd.DataFrame):
        gated.attrs.update({"gated": True, "min_cell": min_cell})
    return gated


def exact(table, *, n: str | None = None, counts: dict[str, list[str]] | None = None, margins: bool = True,
          learners: pd.DataFrame | None = None, structural_zeros: bool = False):
    """The table in the shape :func:`gate` gives it (totals, whole-number counts), with nothing hidden.

    Only for the instructor's own eyes: :mod:`widgets.responses.disclosure` decides when it may be
    used. The frame carries ``attrs["exact"] = True`` and never ``"gated"``, so :func:`passes`
    refuses it and nothing meant for the public can take it by mistake.

    >>> import pandas as pd
    >>> table = pd.DataFrame({"pre": [12, 3]}, index=["a", "b"])
    >>> exact(table).loc["b"].tolist()
    [3, 3]
    >>> passes(exact(table))
    False
    """
    import pandas as pd

    shown = _shaped(table, 0, n, counts, margins, learners, structural_zeros)
    if isinstance(shown, pd.DataFrame):
        shown.attrs.update({"exact": True, "min_cell": 0})
    return shown


def _shaped(table, min_cell: int, n, counts, margins, learners, structural_zeros=False):
    """The gate's work at ``min_cell``; 0 hides nothing, which only :func:`exact` asks for."""
    import numpy as np
    import pandas as pd

    if isinstance(table, (int, np.integer)) and not isinstance(table, bool):
        return int(table) if table >= min_cell else pd.NA
    if isinstance(table, pd.Series):
        table = table.to_frame(table.name if table.name is not None else "n")
    if not isinstance(table, pd.DataFrame):
        raise DualroleError(f"gate() takes a count, a Series or a DataFrame, not {type(table).__name__}")
    if n is not None:
        return _gate_stats(table, min_cell, n, counts or {})
    return _gate_counts(table, min_cell, margins, learners, structural_zeros)


def learner_min_cell(min_class: int) -> int:
    """The smallest option count a learner's card may show: the cohort minimum, within 5 to 10."""
    return max(MIN_CELL_FLOOR, min(int(min_class), MIN_CELL))


def gate_distribution(counts: dict[str, int | None], min_cell: int = MIN_CELL) -> dict[str, int | None]:
    """Option counts as a learner may see them: small cells, and any a total would give away, are None.

    Counts already gated (holding a None) pass through unchanged, so gating twice is harmless.

    >>> gate_distribution({"a": 14, "b": 12, "c": 2}, 10)
    {'a': 14, 'b': None, 'c': None}
    """
    import pandas as pd

    if any(v is None for v in counts.values()):
        return dict(counts)
    gated = gate(pd.Series(counts, dtype="int64"), min_cell, margins=False)
    column = gated.iloc[:, 0] if isinstance(gated, pd.DataFrame) else gated
    return {key: (None if pd.isna(value) else int(value)) for key, value in column.items()}


def passes(table: pd.DataFrame, min_cell: int | None = None) -> bool:
    """True if the frame came through :func:`gate` and shows no count under ``min_cell``."""
    import pandas as pd

    if not isinstance(table, pd.DataFrame) or not table.attrs.get("gated"):
        return False
    limit = min_cell if min_cell is not None else table.attrs["min_cell"]
    # Structural zeros (see gate) may show, and only as zeros.
    structural = table.attrs.get("structural_zeros") or {}
    zero_rows = table.index.isin(structural.get("rows", []))
    for column in table.attrs.get("count_columns", []):
        if column in table.columns:
            values = pd.to_numeric(table[column], errors="coerce")
            allowed = zero_rows | (column in structural.get("columns", []))
            if (values[allowed].dropna() != 0).any() or (values[~allowed].dropna() < limit).any():
                return False
    return True


def _gate_counts(table: pd.DataFrame, min_cell: int, margins: bool,
                 learners: pd.DataFrame | None = None, structural_zeros: bool = False) -> pd.DataFrame:
    import numpy as np
    import pandas as pd

    values = table.to_numpy(dtype=float)
    if np.isnan(values).any() or (values < 0).any() or (values != np.round(values)).any():
        raise DualroleError("a count table must hold whole, non-negative numbers")
    few_learners = None
    if learners is not None:
        expected = pd.Index([*table.index, TOTAL]), pd.Index([*table.columns, TOTAL])
        if not (learners.index.equals(expected[0]) and learners.columns.equals(expected[1])):
            raise DualroleError("the learners table must have the count table's rows and columns, "
                                f"each with a {TOTAL!r} added")
        few_learners = learners.to_numpy(dtype=float) < min_cell
    occupied_rows, occupied_columns = np.ones(values.shape[0], bool), np.ones(values.shape[1], bool)
    if structural_zeros and values.any():  # an empty table is no structure: it is hidden whole
        occupied_rows, occupied_columns = values.any(axis=1), values.any(axis=0)
    # The occupied part of the table, with its totals (which the structural zeros do not change).
    part = np.ix_(np.append(occupied_rows, True), np.append(occupied_columns, True))
    hidden = np.zeros((values.shape[0] + 1, values.shape[1] + 1), dtype=bool)
    hidden[part] = suppression_mask(values[np.ix_(occupied_rows, occupied_columns)].astype(np.int64), min_cell,
                                    few_learners[part] if few_learners is not None else None)
    full = _with_totals(values)
    out = pd.DataFrame(full, index=[*table.index, TOTAL], columns=[*table.columns, TOTAL]).astype("Int64")
    out = out.mask(hidden)
    out.index.name, out.columns.name = table.index.name, table.columns.name
    if not margins:
        out = out.iloc[:-1, :-1]
    out.attrs["count_columns"] = list(out.columns)
    out.attrs["structural_zeros"] = {"rows": list(table.index[~occupied_rows]),
                                     "columns": list(table.columns[~occupied_columns])}
    return out


def _gate_stats(table: pd.DataFrame, min_cell: int, n: str, counts: dict[str, list[str]]) -> pd.DataFrame:
    import pandas as pd

    if n not in table.columns:
        raise DualroleError(f"no group-size column {n!r}; columns are: {', '.join(map(str, table.columns))}")
    out = table.copy()
    size = pd.to_numeric(out[n])
    for count, dependents in counts.items():
        part = pd.to_numeric(out[count])
        small = (part < min_cell) | ((size - part) < min_cell)
        for column in [count, *dependents]:
            out[column] = out[column].astype("object").mask(small, pd.NA)
    small_group = size < min_cell
    out = out.astype("object").mask(small_group.to_numpy()[:, None].repeat(out.shape[1], axis=1), pd.NA)
    out = out.infer_objects()
    for column in [n, *counts]:
        out[column] = pd.to_numeric(out[column]).astype("Int64")
    out.attrs["count_columns"] = [n, *counts]
    return out


def _with_totals(values: np.ndarray) -> np.ndarray:
    import numpy as np

    rows, cols = values.shape
    full = np.zeros((rows + 1, cols + 1))
    full[:rows, :cols] = values
    full[:rows, cols] = values.sum(axis=1)
    full[rows, :cols] = values.sum(axis=0)
    full[rows, cols] = values.sum()
    return full


def suppression_mask(values: np.ndarray, min_cell: int, also: np.ndarray | None = None) -> np.ndarray:
    """Which cells of the table *with totals appended* to hide (shape ``(rows+1, cols+1)``).

    Primary suppression hides every count under ``min_cell`` (zeros too: "nobody chose X" is a
    disclosure about everyone). Complementary suppression then hides the smallest further cell in
    any row or column line that has exactly one hidden entry, or whose hidden entries add up to
    less than ``min_cell`` (each would be known to be at most that sum), and repeats until no
    hidden cell can be solved for from the visible cells and the additive structure of the table.
    ``also`` (the same shape as the result) marks further cells to hide from the start.
    """
    import numpy as np

    full = _with_totals(np.asarray(values, dtype=float))
    hidden = full < min_cell
    if also is not None:
        hidden |= also
    while True:
        changed = False
        for line in _lines(full.shape):
            k = hidden[line].sum()
            if k == len(line[0]):
                continue  # nothing visible in this line to work from
            # One hidden entry in a line equals its total minus the rest; hidden entries that sum
            # to less than min_cell are each known to be at most that sum (zero when it is zero).
            if k == 1 or (k > 0 and full[line][hidden[line]].sum() < min_cell):
                _hide_smallest(full, hidden, line)
                changed = True
        if not changed:
            exposed = recoverable(full, hidden)
            if not exposed or hidden.all():  # all hidden: nothing more can be hidden
                return hidden
            r, c = exposed[0]
            row_line = (np.full(full.shape[1], r), np.arange(full.shape[1]))
            column_line = (np.arange(full.shape[0]), np.full(full.shape[0], c))
            if (~hidden[row_line]).any():
                _hide_smallest(full, hidden, row_line)
            elif (~hidden[column_line]).any():
                _hide_smallest(full, hidden, column_line)
            else:  # both of its lines are hidden already: hide the smallest visible cell anywhere
                _hide_smallest(full, hidden, np.nonzero(~hidden))


def recoverable(full: np.ndarray, hidden: np.ndarray) -> list[tuple[int, int]]:
    """Hidden cells whose value follows exactly from the visible cells and the totals.

    The table with totals obeys one linear equation per row and per column. A hidden cell is
    determined exactly when every solution of the homogeneous system in the hidden cells gives
    it the same value, i.e. when the null space has no component on it.
    """
    import numpy as np

    cells = list(zip(*np.nonzero(hidden)))
    if not cells:
        return []
    rows, cols = full.shape
    index = {cell: k for k, cell in enumerate(cells)}
    equations = []
    for r in range(rows):
        eq = np.zeros(len(cells))
        for c in range(cols):
            if (r, c) in index:
                eq[index[(r, c)]] += -1.0 if c == cols - 1 else 1.0
        equations.append(eq)
    for c in range(cols):
        eq = np.zeros(len(cells))
        for r in range(rows):
            if (r, c) in index:
                eq[index[(r, c)]] += -1.0 if r == rows - 1 else 1.0
        equations.append(eq)
    a = np.array(equations)
    _, s, vt = np.linalg.svd(a)
    rank = int((s > 1e-9).sum())
    null = vt[rank:].T  # columns span the null space
    determined = np.linalg.norm(null, axis=1) < 1e-9 if null.size else np.ones(len(cells), bool)
    return [cells[k] for k in np.flatnonzero(determined)]


def _lines(shape: tuple[int, int]):
    import numpy as np

    rows, cols = shape
    for r in range(rows):
        yield (np.full(cols, r), np.arange(cols))
    for c in range(cols):
        yield (np.arange(rows), np.full(rows, c))


def _hide_smallest(full: np.ndarray, hidden: np.ndarray, line) -> None:
    import numpy as np

    rs, cs = (np.asarray(x) for x in line)
    rows, cols = full.shape
    along_row = len(set(rs.tolist())) == 1

    def cost(r, c):
        # The crossing line of this cell: hiding it there too may settle two lines at once.
        crossing = hidden[:, c] if along_row else hidden[r, :]
        is_total = (r == rows - 1) or (c == cols - 1)
        return (is_total, crossing.sum() != 1, full[r, c], r, c)

    # Prefer inner cells to totals, then cells that also complete their crossing line, then the
    # smallest count (the least information lost), then the first position (deterministic).
    r, c = min(((r, c) for r, c in zip(rs, cs) if not hidden[r, c]), key=lambda rc: cost(*rc))
    hidden[r, c] = True


# -- pseudonyms ----------------------------------------------------------------------------------

def key_path(path: Path | str | None = None) -> Path:
    """Where the instructor key lives: ``path``, else ``instructor.key`` in the data folder."""
    chosen = Path(path).expanduser() if path else home() / KEY_FILE
    repo = REPO_DATA.parent.resolve()
    if chosen.resolve().is_relative_to(repo):
        raise PrivacyError(f"{chosen}: keep the instructor key outside the repository ({repo})")
    return chosen


def instructor_key(path: Path | str | None = None) -> bytes:
    """The 32-byte key for pseudonyms, made with ``secrets.token_bytes`` on first use (mode 600)."""
    chosen = key_path(path)
    try:
        key = chosen.read_bytes()
    except FileNotFoundError:
        private_folder(chosen.parent)
        fd = os.open(chosen, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
        key = chosen.read_bytes()
    if len(key) < 32:
        raise PrivacyError(f"{chosen}: the instructor key is damaged (fewer than 32 bytes); "
                           "move it away to make a new one")
    return key


def pseudonym(identifier: str, key: bytes | None = None, *, key_path: Path | str | None = None) -> str:
    """A stable keyed pseudonym: HMAC-SHA256 of the identifier under the instructor key (hex).

    Without the key nobody can test a guessed identifier against it; with the key, the same
    learner always gets the same pseudonym, so internal joins work.

    Examples
    --------
    >>> key = bytes(32)
    >>> pseudonym("learner-1", key) == pseudonym("learner-1", key)
    True
    >>> pseudonym("learner-1", key) != pseudonym("learner-1", b"x" * 32)
    True
    """
    secret = key if key is not None else instructor_key(key_path)
    return "P" + hmac.new(secret, str(identifier).encode("utf-8"), digestmod="sha256").hexdigest()


def statement_id(response_id: str, key: bytes | None = None, *, key_path: Path | str | None = None) -> str:
    """The xAPI statement id of one exported answer: a UUID from HMAC-SHA256 under the instructor key.

    Stable across exports by the same instructor (so a learning record store sees a re-sent
    statement as the same one), and not computable from the response id alone. The first 16 bytes
    of the digest become a UUID with the RFC 4122 variant and version 5 bits set, as xAPI
    requires a well-formed UUID.

    Examples
    --------
    >>> key = bytes(32)
    >>> statement_id("r-1", key) == statement_id("r-1", key)
    True
    >>> statement_id("r-1", key) != statement_id("r-1", b"x" * 32)
    True
    >>> uuid.UUID(statement_id("r-1", key)).version
    5
    """
    secret = key if key is not None else instructor_key(key_path)
    digest = hmac.new(secret, b"xapi-statement:" + str(response_id).encode("utf-8"), digestmod="sha256").digest()
    return str(uuid.UUID(bytes=digest[:16], version=5))


# -- research codes and crosswalks ---------------------------------------------------------------

def research_codes(learners, existing: dict[str, str] | None = None) -> dict[str, str]:
    """Random research codes (``R`` + 8 hex digits) for learners, keeping any existing ones.

    The codes are drawn with :mod:`secrets` and carry no information about the learner.
    """
    codes = dict(existing or {})
    used = set(codes.values())
    for learner in sorted(set(map(str, learners)) - set(codes)):
        code = "R" + secrets.token_hex(4).upper()
        while code in used:
            code = "R" + secrets.token_hex(4).upper()
        codes[learner] = code
        used.add(code)
    return codes


def read_crosswalk(path: Path | str) -> dict[str, str]:
    """Load a crosswalk CSV (``learner,research_code``); an absent file is an empty crosswalk."""
    import pandas as pd

    path = Path(path)
    if not path.exists():
        return {}
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if list(table.columns) != ["learner", "research_code"]:
        raise PrivacyError(f"{path}: a crosswalk has the columns learner,research_code; "
                           f"found {','.join(table.columns)}")
    return dict(zip(table["learner"], table["research_code"]))


def write_crosswalk(codes: dict[str, str], path: Path | str, export_dir: Path | str) -> Path:
    """Write the crosswalk (mode 600), refusing any path inside the export folder."""
    import pandas as pd

    path, export_dir = Path(path).expanduser(), Path(export_dir).expanduser()
    if path.resolve().is_relative_to(export_dir.resolve()):
        raise PrivacyError(
            f"{path}: the crosswalk must not be inside the export folder {export_dir}; it stays with "
            "the instructor and never travels with the data"
        )
    private_folder(path.parent)
    tmp = path.with_name(path.name + ".tmp")
    fd = open_private(tmp, os.O_WRONLY | os.O_TRUNC)
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
        pd.DataFrame(sorted(codes.items()), columns=["learner", "research_code"]).to_csv(
            handle, index=False, lineterminator="\n")
    os.replace(tmp, path)
    return path


def default_crosswalk_path() -> Path:
    """``crosswalks/crosswalk.csv`` in the instructor's data folder: one file, reused and extended.

    Reusing it keeps each learner's research code the same from one export to the next, so two
    exports of the same answers describe the same people with the same codes.
    """
    return home() / "crosswalks" / "crosswalk.csv"


# -- who is in a research output -----------------------------------------------------------------

def consent_at_export(df: pd.DataFrame, consents: pd.DataFrame | None = None, *,
                      learner_codes: tuple[np.ndarray, pd.Index] | None = None) -> pd.Series:
    """Each row's research consent under the one rule: the learner's choice at the time of export.

    The learner's latest consent record (``consents``: ``learner``, ``consent``, ``recorded_at``;
    the store's records, which include those a bundle carried in) decides; a learner with no
    record is judged by the flag on their latest answer. The choice applies to every answer of
    the learner: a withdrawal takes back every earlier answer, and a late consent covers the
    answers given before it, on the shared store and on bundles alike.

    Parameters
    ----------
    df : DataFrame
        Responses with ``learner``, ``consent`` (the flag at answering) and ``submitted_at``.
    consents : DataFrame, optional
        The consent records.
    learner_codes : (codes, learners), optional
        ``pd.factorize(df["learner"])`` when the caller has it.

    Returns
    -------
    Series of bool, aligned with ``df``.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"learner": ["a", "a", "b"], "consent": [False, True, True],
    ...                    "submitted_at": pd.to_datetime(["2026-09-01", "2026-09-08", "2026-09-01"])})
    >>> consent_at_export(df).tolist()          # a consented later: both answers count
    [True, True, True]
    >>> records = pd.DataFrame({"learner": ["b"], "consent": [False],
    ...                         "recorded_at": pd.to_datetime(["2026-12-01"])})
    >>> consent_at_export(df, records).tolist()  # b withdrew: none of b's answers count
    [True, True, False]
    """
    import numpy as np
    import pandas as pd

    codes, learners = learner_codes if learner_codes is not None else pd.factorize(df["learner"])
    codes = np.asarray(codes)
    flags = df["consent"].to_numpy(dtype=bool)
    verdict = np.zeros(len(learners) + 1, dtype=bool)  # the last entry is for code -1 (no learner)
    if len(df):
        times = pd.Series(pd.to_datetime(df["submitted_at"], utc=True).array.asi8)
        latest_row = times.groupby(codes).idxmax()
        latest_row = latest_row[latest_row.index >= 0]
        verdict[latest_row.index.to_numpy()] = flags[latest_row.to_numpy()]
    if consents is not None and len(consents):
        latest = (consents.sort_values("recorded_at", kind="stable")
                  .groupby("learner", sort=False)["consent"].last())
        found = pd.Index(latest.index.astype(str)).get_indexer(pd.Index(learners).astype(str))
        recorded = found >= 0
        verdict[:-1][recorded] = latest.map(bool).to_numpy(dtype=bool)[found[recorded]]
    return pd.Series(verdict[codes], index=df.index, name="consent")


@dataclass(frozen=True)
class ResearchRows:
    """The responses a research output may hold, and how much was held back; made by :func:`research_rows`.

    ``frame`` has only consenting learners of cohorts large enough, each learner under one cohort,
    and its categoricals know only the values its rows hold (an unordered one loses every unused
    category; an ordered one keeps the codebook's scale).
    """

    frame: pd.DataFrame
    learners: int
    withheld_rows: int
    withheld_cohorts: int
    min_cell: int


def research_rows(df: pd.DataFrame, *, min_cell: int = MIN_CELL, consents: pd.DataFrame | None = None) -> ResearchRows:
    """Who is in a research output: the one rule every research writer goes through.

    1. Consent at the time of export (:func:`consent_at_export`): a learner is in with all their
       answers or out with all of them.
    2. Each learner counts in one cohort, that of their latest answer: a learner who set their
       class code after the pre-test stays one person, paired across the tests.
    3. A cohort with fewer than ``min_cell`` consenting learners is left out whole.
    4. Nothing of what was left out survives in the frame's categories.

    Parameters
    ----------
    df : DataFrame
        Responses (``learner``, ``cohort``, ``consent``, ``submitted_at``, any other columns).
    min_cell : int
        The smallest cohort kept (at least 5).
    consents : DataFrame, optional
        Consent records, when ``df``'s flags are not yet resolved against them.

    Returns
    -------
    ResearchRows

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"learner": [f"l{i}" for i in range(12)] + ["x"], "cohort": ["c"] * 12 + ["tiny"],
    ...                    "consent": [True] * 11 + [False, True],
    ...                    "submitted_at": pd.Timestamp("2026-09-08", tz="UTC")})
    >>> kept = research_rows(df.astype({"cohort": "category"}), min_cell=10)
    >>> kept.learners, kept.withheld_cohorts, list(kept.frame["cohort"].cat.categories)
    (11, 1, ['c'])
    """
    import pandas as pd

    min_cell = check_min_cell(min_cell)
    consenting = df[consent_at_export(df, consents).to_numpy()]
    if len(consenting):
        times = pd.to_datetime(consenting["submitted_at"], utc=True)
        latest = times.reset_index(drop=True).groupby(consenting["learner"].astype(str).to_numpy()).idxmax()
        home_cohort = pd.Series(consenting["cohort"].astype(str).to_numpy()[latest.to_numpy()], index=latest.index)
        cohort = consenting["learner"].astype(str).map(home_cohort)
        consenting = consenting.assign(cohort=cohort.astype("category") if isinstance(
            df["cohort"].dtype, pd.CategoricalDtype) else cohort)
    per_cohort = consenting.groupby("cohort", observed=True)["learner"].nunique()
    small = per_cohort[per_cohort < min_cell].index
    kept = consenting[~consenting["cohort"].isin(small)].copy()
    for column in kept.columns:
        dtype = kept[column].dtype
        if isinstance(dtype, pd.CategoricalDtype) and not dtype.ordered:
            kept[column] = kept[column].cat.remove_unused_categories()
    return ResearchRows(frame=kept.reset_index(drop=True), learners=int(kept["learner"].nunique()),
                        withheld_rows=len(consenting) - len(kept), withheld_cohorts=len(small), min_cell=min_cell)


def research_scripts(rows: ResearchRows, scripts) -> pd.DataFrame:
    """The learners' scripts a research output may hold: those that follow an answer in ``rows``.

    A script (what a learner would say on a case, or their chart note) is written after the first
    answer and names it (``response_id``), so it is in exactly when that answer is: its learner
    consents at the time of export and their cohort is large enough (:func:`research_rows`, the one
    rule). It takes its answer's cohort, the learner's one cohort in the output. A script whose
    answer is not in ``rows`` leaves nothing behind, not even a category.

    Parameters
    ----------
    rows : ResearchRows
        From :func:`research_rows`; a bare frame is refused, so no writer can skip the rule.
    scripts : DataFrame or list of dict
        Scripts as the store keeps them (``response_id``, ``learner``, ``case_id``, ``text``...),
        normally each learner's latest per case.

    Returns
    -------
    DataFrame with the scripts' columns, ``cohort`` replaced by the answer's.
    """
    import pandas as pd

    if not isinstance(rows, ResearchRows):
        raise DualroleError("internal: research rows must come from widgets.privacy.research_rows")
    frame = pd.DataFrame(scripts)
    if frame.empty:
        return frame
    answers = (rows.frame[["response_id", "learner", "cohort"]].astype(str)
               .drop_duplicates("response_id").set_index("response_id"))
    kept = frame[frame["response_id"].astype(str).isin(answers.index)].copy()
    ids = kept["response_id"].astype(str)
    kept["learner"], kept["cohort"] = ids.map(answers["learner"]), ids.map(answers["cohort"])
    return kept.reset_index(drop=True)
