"""The tidy response frame every analysis starts from: one row per response.

Reads a store (or its URL), a CSV or Parquet file, or a DataFrame, and returns the same columns
as the store, typed with the codebook's categories, plus ``score`` and ``matches_reference``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from widgets.analysis import _load
from widgets.cases.forms import assessment_forms
from widgets.cases.library import Library, load_library
from widgets.errors import DualroleError
from widgets.paths import data_dir
from widgets.privacy import consent_at_export
from widgets.vocab import PHASES, RISK_LEVELS, STANCES

if TYPE_CHECKING:
    from widgets.store import Store

# The store's columns that analyses use, in the store's order (started_at and client are
# bookkeeping and are left out). response_id names each answer for the research export's xAPI
# statement ids; a source without it (an old CSV) gets missing values.
STORE_COLUMNS = [
    "response_id", "learner", "cohort", "case_id", "case_version", "phase", "attempt", "option_id", "stance",
    "confidence", "kitchener_expectations", "kitchener_obligations", "kitchener_power",
    "justification", "submitted_at", "consent", "reference_seen", "distribution_seen",
]
FRAME_COLUMNS = STORE_COLUMNS + ["score", "matches_reference"]
KITCHENER_COLUMNS = ["kitchener_expectations", "kitchener_obligations", "kitchener_power"]
OPTIONAL_COLUMNS = {*KITCHENER_COLUMNS, "justification", "consent", "case_version", "reference_seen",
                    "distribution_seen", "response_id"}
# Every frame has these: the answer itself, and who gave it, where and when.
REQUIRED_COLUMNS = [c for c in STORE_COLUMNS if c not in OPTIONAL_COLUMNS]
SYNTHETIC_PREFIX = "synthetic-"


def sample_path() -> Path:
    """The committed synthetic sample (``data/synthetic/responses.synthetic.csv``)."""
    return data_dir() / "synthetic" / "responses.synthetic.csv"


def sample(library: Library | None = None) -> pd.DataFrame:
    """The committed synthetic sample as a tidy frame (every learner and cohort is made up).

    Examples
    --------
    >>> df = sample()
    >>> is_synthetic(df)
    True
    """
    return responses(sample_path(), library=library)


def responses(store_or_url=None, *, library: Library | None = None,
              pseudonymise: bool = False, key_path: Path | str | None = None,
              snapshot: bool = False, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Every response as a tidy long frame, one row per committed answer.

    Parameters
    ----------
    store_or_url : Store, str, Path, DataFrame or None
        A :class:`~widgets.store.sql.Store`, a SQLAlchemy URL, a ``.csv``/``.parquet``/``.sqlite``
        file, or a frame with the store's columns. None opens the default store.
    library : Library, optional
        The cases to score against (default: the current case library).
    pseudonymise : bool
        Replace learner ids by keyed HMAC-SHA256 pseudonyms (see :func:`widgets.privacy.pseudonym`).
    key_path : path, optional
        The instructor key used when ``pseudonymise`` is set.
    snapshot : bool
        Read a store through its analysis snapshot (:mod:`widgets.analysis.snapshot`): a private
        columnar copy beside it, brought up to date with only the rows added since the last read.
        The frame is the same either way. ``DUALROLE_ANALYSIS_SNAPSHOT=off`` turns it off.
    columns : iterable of str, optional
        The optional columns to read (``OPTIONAL_COLUMNS``: the reasoning, the Kitchener ratings,
        consent and the like); default all of them. ``REQUIRED_COLUMNS``, ``score`` and
        ``matches_reference`` are always there. A column not asked for is left out of the frame, so
        an analysis that needs it fails at once instead of seeing it empty. Reading a store, the
        reasoning is most of the bytes: a report that needs none reads about three times faster.

    Returns
    -------
    DataFrame
        The store's columns, with ``case_id``, ``phase``, ``stance`` and the Kitchener ratings as
        categoricals in codebook order, plus ``score`` (1 preferred, 0.5 acceptable, 0 otherwise;
        NaN for a case no longer in the library) and ``matches_reference`` (a preferred option).
        ``consent`` is the learner's choice at the time of reading, on every row of the learner
        (:func:`widgets.privacy.consent_at_export`: the latest consent record, else the flag of
        the latest answer).
        Rows are in order of cohort, learner, case (library order), phase and attempt.

        ``learner``, ``cohort``, ``option_id``, ``case_version`` and ``justification`` are
        categoricals of text (``str`` categories in sorted order), not ``str`` columns: the values
        are the same, but each distinct text is held once (a large store's justifications alone
        would otherwise take gigabytes). Compare, filter, ``.str`` and ``groupby`` work as on text
        (``groupby`` gives only the groups present: pandas' default ``observed=True``); two
        points differ: ``value_counts()`` lists every category, also those no remaining row holds
        (use ``groupby(...).size()`` or ``.astype(str)`` first), and a value can be filled or set
        only if it is a category (``.astype(str)`` first, as ``fillna("")`` needs). ``response_id``
        stays text.

    Examples
    --------
    >>> df = responses(sample_path())
    >>> list(df.columns[-2:])
    ['score', 'matches_reference']
    >>> df["stance"].cat.categories[0]
    'decline'
    >>> df["learner"].dtype.categories.dtype
    <StringDtype(na_value=nan)>
    >>> list(responses(sample_path(), columns=["consent"]).columns)[-4:]
    ['submitted_at', 'consent', 'score', 'matches_reference']
    """
    optional = OPTIONAL_COLUMNS if columns is None else set(columns)
    unknown = sorted(optional - OPTIONAL_COLUMNS)
    if unknown:
        raise DualroleError(f"not optional columns: {', '.join(unknown)}; "
                            f"they are: {', '.join(sorted(OPTIONAL_COLUMNS))}")
    wanted = [c for c in STORE_COLUMNS if c not in OPTIONAL_COLUMNS or c in optional]
    raw, consents = _read(store_or_url, wanted, snapshot=snapshot)
    if len(raw) >= _load.SPLIT_ROWS:
        _load.keep_freed_memory_for_reuse()
    if isinstance(store_or_url, pd.DataFrame):
        frame = tidy(raw, library=library, consents=consents, columns=wanted)
    else:  # a frame read here and seen by no one else: its columns are moved, not copied
        frame = _tidy(raw, library=library, consents=consents, columns=wanted)
    del raw
    if pseudonymise:
        from widgets.privacy import pseudonym

        # Once per learner (a category), not once per row; pseudonyms sort differently, so the
        # categories are put back in sorted order.
        learners = frame["learner"].cat.rename_categories(
            [pseudonym(learner, key_path=key_path) for learner in frame["learner"].cat.categories])
        frame["learner"] = learners.cat.reorder_categories(sorted(learners.cat.categories))
    return frame


def read_export(folder: Path | str, *, library: Library | None = None) -> pd.DataFrame:
    """A restricted research export (``dualrole research-export``) as the tidy frame every analysis takes.

    The research code stands in the ``learner`` column and the week (its Monday, midnight UTC) in
    ``submitted_at``; every learner consented (the export holds no one else). ``score`` and
    ``matches_reference`` are the export's own, made with the key its ``case_version`` names,
    not re-scored against today's library.

    Parameters
    ----------
    folder : path
        The export folder (``responses.parquet``, else ``responses.csv``).
    library : Library, optional
        The cases, for their order and flags (default: the current library).
    """
    folder = Path(folder).expanduser()
    parquet, csv = folder / "responses.parquet", folder / "responses.csv"
    if parquet.exists():
        raw = pd.read_parquet(parquet)
    elif csv.exists():
        raw = pd.read_csv(csv, dtype=str, keep_default_na=False, na_values=["", "NA", "NR"])
    else:
        raise DualroleError(f"{folder}: no responses.parquet or responses.csv: is this a research export?")
    missing = {"research_code", "submitted_week", "score", "matches_reference"} - set(raw.columns)
    if missing:
        raise DualroleError(f"{folder}: not a research export of this version: no {', '.join(sorted(missing))}")
    raw = raw.rename(columns={"research_code": "learner"})
    raw["submitted_at"] = pd.to_datetime(raw.pop("submitted_week").astype(str), utc=True)
    raw["consent"] = True
    for column in ("phase", "stance", *KITCHENER_COLUMNS, "form"):
        if column in raw.columns:
            raw[column] = raw[column].astype(object).where(raw[column].notna(), None)
    kept = raw[["learner", "case_id", "phase", "attempt", "score", "matches_reference"]].copy()
    frame = tidy(raw.drop(columns=["score", "matches_reference", "form"], errors="ignore"), library=library)
    kept = kept.astype({"learner": str, "case_id": str, "phase": str})
    kept["attempt"] = pd.to_numeric(kept["attempt"]).astype("int64")
    kept["score"] = pd.to_numeric(kept["score"])
    kept["matches_reference"] = kept["matches_reference"].map(
        lambda v: v if isinstance(v, bool) else str(v).lower() == "true")
    keys = pd.MultiIndex.from_frame(frame[["learner", "case_id", "phase", "attempt"]].astype(
        {"learner": str, "case_id": str, "phase": str}))
    exported = kept.set_index(["learner", "case_id", "phase", "attempt"])
    frame["score"] = exported["score"].reindex(keys).to_numpy()
    frame["matches_reference"] = exported["matches_reference"].reindex(keys).astype(bool).to_numpy()
    return frame


# Text columns held as categoricals: few distinct values (or, for justifications, often repeated
# ones) over many rows. Their categories are in sorted order, so sorting or grouping by them
# gives the order text gave.
CATEGORICAL_TEXT = ["learner", "cohort", "option_id", "case_version", "justification"]


def tidy(raw: pd.DataFrame, *, library: Library | None = None,
         consents: pd.DataFrame | None = None, columns: list[str] = STORE_COLUMNS) -> pd.DataFrame:
    """Type and score a frame of store rows (see :func:`responses`); ``columns``: those of the
    store's columns to keep (an optional one the rows lack is added, empty)."""
    return _tidy(raw.copy(deep=False), library=library, consents=consents,
                 columns=columns)  # copy-on-write: raw is kept


def _tidy(df: pd.DataFrame, *, library: Library | None = None,
          consents: pd.DataFrame | None = None, columns: list[str] = STORE_COLUMNS) -> pd.DataFrame:
    """:func:`tidy`, taking ``df``'s columns: each is replaced in ``df`` or moved into the result,
    so that no second copy of the whole frame is alive at once (``df`` is left empty)."""
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise DualroleError(
            f"the responses lack column(s) {', '.join(missing)}; found: {', '.join(map(str, df.columns))}"
        )
    library = library if library is not None else load_library()
    for column in [c for c in df.columns if c not in columns]:
        del df[column]
    for column in OPTIONAL_COLUMNS & set(columns):
        if column not in df.columns:
            df[column] = False if column == "consent" else pd.NA
    if "response_id" in df:
        df["response_id"] = df["response_id"].astype("string")
    for column in CATEGORICAL_TEXT:
        if column in df:
            df[column] = _text_categorical(df[column])
    df["attempt"] = pd.to_numeric(df["attempt"]).astype("int64")
    df["confidence"] = pd.to_numeric(df["confidence"]).astype("int64")
    if df["submitted_at"].dtype != _UTC_MICROSECONDS:  # as the fast reader gives them: nothing to parse
        df["submitted_at"] = pd.to_datetime(df["submitted_at"], utc=True, format="ISO8601")
    for column in ("reference_seen", "distribution_seen"):
        if column in df:
            df[column] = _as_optional_bool(df[column])
    # Learners, cohorts and options numbered by their categories: for the consent records, the
    # row order and every later analysis of this frame.
    text = {c: (df[c].cat.codes.to_numpy(), df[c].cat.categories) for c in ("cohort", "learner", "option_id")}
    if "consent" in df:
        df["consent"] = _as_bool(df["consent"])
        df["consent"] = consent_at_export(df, consents, learner_codes=text["learner"])
    _check_vocabulary(df, "stance", STANCES)
    _check_vocabulary(df, "phase", PHASES)
    df["stance"] = _categorical(df["stance"], STANCES, ordered=True)
    df["phase"] = _categorical(df["phase"], PHASES, ordered=True)
    for column in KITCHENER_COLUMNS:
        if column in df:
            df[column] = _categorical(df[column], RISK_LEVELS, ordered=True)
    known = [c.id for c in library]
    extra = sorted(set(_distinct(df["case_id"])) - set(known))
    df["case_id"] = _categorical(df["case_id"], known + extra)
    df["score"], df["matches_reference"] = _scored(df, options_frame(library), text["option_id"])
    # The stable order by cohort, learner, case, phase and attempt, on integer codes.
    keys = {c: _missing_last(codes, len(uniques)) for c, (codes, uniques) in text.items() if c in SORT_KEYS}
    keys |= {c: _sort_codes(df[c]) for c in SORT_KEYS if c not in text}
    order = _lexical_order([keys[c] for c in SORT_KEYS])
    del keys, text
    if (order[1:] > order[:-1]).all():  # already in order (or at most one row)
        order = None
    # Each column put in order and moved out of df in turn: the rows are never held twice.
    # copy=False: each column stays as taken, not copied again into one block per type.
    return pd.DataFrame({column: _take_column(df.pop(column), order) for column in FRAME_COLUMNS if column in df},
                        copy=False)


def _text_categorical(values: pd.Series) -> pd.Categorical:
    """Text (or a categorical of text) as a categorical of ``str`` with sorted categories."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        categories = values.cat.categories
        if categories.dtype == "str" and categories.is_unique:
            if categories.is_monotonic_increasing:
                return values.array
            # Recoded through the (few) categories rather than the (many) rows.
            return values.cat.reorder_categories(categories.sort_values()).array
    codes, uniques = pd.factorize(values.astype("str"), sort=True)
    return pd.Categorical.from_codes(codes, categories=pd.Index(uniques, dtype="str"), validate=False)


def _take_column(values: pd.Series, positions: np.ndarray | None) -> pd.Series:
    """One column in the order ``positions`` (None: as it is), with a fresh index."""
    if positions is None:
        return values.reset_index(drop=True)
    text = _arrow_text(values) if _text_pool() is not None else None
    if text is not None:  # one pick from the batches as read: joining them first would be another copy
        import pyarrow as pa
        import pyarrow.compute as pc

        taken = pc.take(text, pa.array(np.asarray(positions, dtype=np.int64)), memory_pool=_text_pool())
        picked = pd.Series(pd.array(taken, dtype=values.dtype), name=values.name)
        if picked.dtype == values.dtype:
            return picked
    return take(values.to_frame(), positions)[values.name].reset_index(drop=True)


SORT_KEYS = ["cohort", "learner", "case_id", "phase", "attempt"]
_UTC_MICROSECONDS = pd.DatetimeTZDtype("us", "UTC")


def _lexical_order(keys: list[np.ndarray]) -> np.ndarray:
    """The stable order by the first key, then the next...: ``np.lexsort(keys[::-1])``.

    Integer keys that fit together in 63 bits are combined into one, and one stable sort of it
    is several times faster than lexsort's one sort per key.
    """
    combined = np.zeros(len(keys[0]) if keys else 0, dtype=np.int64)
    span = 1
    for key in keys:
        if key.dtype.kind not in "iu" or not len(key):
            return np.lexsort(keys[::-1])
        low, high = int(key.min()), int(key.max())
        width = high - low + 1
        if span > (2**62) // width:
            return np.lexsort(keys[::-1])
        combined *= width  # in place, the key added in its own (small) type: no row-sized temporaries
        combined += key
        combined -= low
        span *= width
    return np.argsort(combined, kind="stable")


def _distinct(values: pd.Series) -> list[str]:
    """The distinct non-missing values as text (without iterating over every row)."""
    return [str(v) for v in pd.unique(values.dropna())]


def _categorical(values: pd.Series, categories, ordered: bool = False) -> pd.Categorical:
    """Values (text or categorical) as a categorical with the given categories; missing stays missing."""
    if not isinstance(values.dtype, pd.CategoricalDtype):
        values = values.astype("category")
    # Recode through the (few) categories rather than the (many) rows.
    values = values.cat.rename_categories([str(c) for c in values.cat.categories])
    return values.cat.set_categories(list(categories), ordered=ordered).array


def _scored(df: pd.DataFrame, options: pd.DataFrame,
            option_codes: tuple | None = None) -> tuple[np.ndarray, pd.arrays.BooleanArray]:
    """Each row's score and whether its option is a preferred one (NaN/NA for an unknown option).

    ``option_codes`` is ``pd.factorize(df["option_id"])`` when the caller has it.
    """
    case_codes = df["case_id"].cat.codes.to_numpy()
    option_codes, option_ids = option_codes if option_codes is not None else pd.factorize(df["option_id"])
    lookup = np.full((len(df["case_id"].cat.categories) + 1, len(option_ids) + 1), -1, dtype=np.int64)
    case_index = {c: i for i, c in enumerate(df["case_id"].cat.categories)}
    option_index = {str(o): i for i, o in enumerate(option_ids)}
    for row, (case_id, option_id) in enumerate(zip(options["case_id"].astype(str), options["option_id"])):
        if case_id in case_index and option_id in option_index:
            lookup[case_index[case_id], option_index[option_id]] = row
    # Code -1 (missing) picks the last row and column of the table, which hold no option.
    found = lookup[case_codes, option_codes]
    known = found >= 0
    score = np.where(known, options["score"].to_numpy(dtype=float)[found], np.nan)
    preferred = pd.arrays.BooleanArray(options["preferred"].to_numpy(dtype=bool)[found], ~known)
    return score, preferred


def _sort_codes(values: pd.Series) -> np.ndarray:
    """Integer codes that sort like ``values`` do in ``sort_values`` (missing values last)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        missing = len(values.cat.categories)
    elif values.dtype.kind in "iub":
        return values.to_numpy()
    else:
        codes, uniques = pd.factorize(values, sort=True)
        missing = len(uniques)
    return _missing_last(codes, missing)


def _missing_last(codes: np.ndarray, missing: int) -> np.ndarray:
    """Codes with -1 (missing) replaced by ``missing``, in the smallest type that holds both."""
    kind = np.promote_types(codes.dtype, np.min_scalar_type(missing))
    return np.where(codes < 0, np.array(missing, dtype=kind), codes.astype(kind, copy=False))


def options_frame(library: Library | None = None) -> pd.DataFrame:
    """Every option of every case: its label, stance, score and whether it is the reference.

    Examples
    --------
    >>> options_frame().columns.tolist()[:4]
    ['case_id', 'option_id', 'label', 'stance']
    """
    library = library if library is not None else load_library()
    rows = [
        {"case_id": c.id, "option_id": o.id, "label": o.label, "stance": o.stance,
         "score": c.score(o.id), "preferred": o.id in c.preferred, "acceptable": o.id in c.acceptable,
         "module": c.module, "contested": c.contested, "context_dependent": c.context_dependent, "title": c.title}
        for c in library for o in c.options
    ]
    frame = pd.DataFrame(rows, columns=["case_id", "option_id", "label", "stance", "score", "preferred",
                                        "acceptable", "module", "contested", "context_dependent", "title"])
    frame["stance"] = pd.Categorical(frame["stance"], categories=STANCES, ordered=True)
    return frame


FLAGS = ["contested", "context_dependent"]
CASE_SETS = {"all": "All cases", "settled": "Without contested or context-dependent cases"}


def case_flags(library: Library | None = None) -> pd.DataFrame:
    """Per case, as its file marks it: ``contested`` (ethicists disagree on the reference) and
    ``context_dependent`` (the answer turns on facts the vignette leaves open).

    Neither kind of case has a single key, so matching its reference means less than on a settled
    case: every analysis carries these two columns, and pre/post change and calibration are also
    reported without such cases (``exclude_contested=True``).

    Examples
    --------
    >>> flags = case_flags()
    >>> list(flags.columns), flags.index.name
    (['contested', 'context_dependent'], 'case_id')
    """
    library = library if library is not None else load_library()
    flags = pd.DataFrame([{"case_id": c.id, "contested": bool(c.contested),
                           "context_dependent": bool(c.context_dependent)} for c in library],
                         columns=["case_id", *FLAGS]).set_index("case_id")
    # A matched pair of the assessment forms is one item of the pre/post tables: its cases are
    # matched on the contested flag, so either case's flags are the pair's.
    forms = assessment_forms()
    pairs = {forms.pair_label(i + 1): case_id for i, case_id in enumerate(forms.forms["A"]) if case_id in flags.index}
    if pairs:
        by_pair = flags.loc[list(pairs.values())].set_axis(pd.Index(list(pairs), name="case_id"))
        flags = pd.concat([flags, by_pair])
    return flags


def with_flags(table: pd.DataFrame, library: Library | None = None) -> pd.DataFrame:
    """``table`` (indexed by case id, alone or first in a MultiIndex) with the two case flags added."""
    flags = case_flags(library)
    ids = table.index.get_level_values(0).astype(str) if len(table) else pd.Index([], dtype=str)
    out = table.copy()
    for flag in FLAGS:
        out[flag] = flags[flag].reindex(ids).fillna(False).astype(bool).to_numpy()
    return out


def without_contested(df: pd.DataFrame, library: Library | None = None) -> pd.DataFrame:
    """The rows of ``df`` on settled cases only: neither contested nor context-dependent.

    Examples
    --------
    >>> frame = sample()
    >>> settled = without_contested(frame)
    >>> 0 < len(settled) < len(frame)
    True
    """
    flags = case_flags(library)
    unsettled = flags.index[flags["contested"] | flags["context_dependent"]]
    return rows(df, ~df["case_id"].isin(unsettled).to_numpy(dtype=bool))


def answers(df: pd.DataFrame, phase: str | None = None, attempt: str = "first") -> pd.DataFrame:
    """One answer per learner, case and phase: the first (before the reveal) or the final one.

    Examples
    --------
    >>> df = sample()
    >>> first = answers(df, phase="pre")
    >>> bool(first.duplicated(["learner", "case_id"]).any())
    False
    """
    return take(df, _answer_positions(df, phase, attempt))


def _answer_positions(df: pd.DataFrame, phase: str | None = None, attempt: str = "first") -> np.ndarray:
    """The positions of the rows :func:`answers` returns, in its order.

    Analyses that need a few columns of the answers take just those.
    """
    if attempt not in ("first", "final"):
        raise DualroleError(f"attempt must be 'first' or 'final', not {attempt!r}")
    if phase is not None and phase not in PHASES:
        raise DualroleError(f"no phase {phase!r}; phases are: {', '.join(PHASES)}")
    # Chosen among all rows, then the phase kept: phase is one of the keys, so the choice is the
    # same, and the whole frame's learner and cohort codes are already known.
    mask = _one_per_group(df, ANSWER_KEYS, df["attempt"], last=attempt == "final")
    if phase is not None:
        mask &= (df["phase"] == phase).to_numpy(dtype=bool, na_value=False)
    positions = np.flatnonzero(mask)
    if isinstance(df.index, pd.RangeIndex) and df.index.step > 0:  # labels ascend with positions
        return positions
    index = df.index[positions]
    if not index.is_monotonic_increasing:  # as answers() always gave them: in index order
        positions = pd.Series(positions, index=index).sort_index().to_numpy()
    return positions


def rows(df: pd.DataFrame, mask: np.ndarray) -> pd.DataFrame:
    """The rows of ``df`` where ``mask`` (a numpy bool array) is True, in their order: ``df[mask]``."""
    return take(df, np.flatnonzero(mask))


def take(df: pd.DataFrame, positions: np.ndarray) -> pd.DataFrame:
    """``df.iloc[positions]``, with Arrow text columns copied through Arrow's jemalloc pool.

    The analyses pick rows again and again (first answers, phases, pairs, the sorted frame). At
    a million responses, picking rows of an Arrow text column (learner, option, justification)
    through Arrow's default allocator on this platform (mimalloc) took 0.1 to 0.35 s per column
    and pick; through jemalloc, Arrow's other bundled allocator, 0.02 to 0.03 s (measured for
    ``ARROW_DEFAULT_MEMORY_POOL=jemalloc`` showed the same for the whole pipeline). The
    pool is passed to this one copy only: the process's default allocator is left alone. The
    result is the same frame, with the same ``str`` columns.
    """
    pool = _text_pool()
    texts = [c for c in df.columns if pool is not None and _arrow_text(df[c]) is not None] \
        if df.columns.is_unique else []
    if not texts:
        return df.iloc[positions]
    import pyarrow as pa
    import pyarrow.compute as pc

    others = [c for c in df.columns if c not in set(texts)]
    index = pa.array(np.asarray(positions, dtype=np.int64))

    def pick(array):
        if isinstance(array, pa.ChunkedArray) and array.num_chunks > 1:
            array = array.combine_chunks(memory_pool=pool)  # else take joins the chunks in the default pool
        return pc.take(array, index, memory_pool=pool)

    out = df[others].iloc[positions]
    picked = [pick(_arrow_text(df[c])) for c in texts]
    for column, array in zip(texts, picked):
        taken = array.to_pandas()
        if taken.dtype != df[column].dtype:  # another pandas: no zero-copy Arrow round trip
            taken = df[column].iloc[positions].reset_index(drop=True)
        out[column] = taken.set_axis(out.index)
    return out[list(df.columns)]


def _text_pool():
    """Arrow's jemalloc pool, if this pyarrow has it (see :func:`take`); else None."""
    global _POOL
    if _POOL is False:
        try:
            import pyarrow as pa

            _POOL = pa.jemalloc_memory_pool()
        except Exception:  # noqa: BLE001 - a build without jemalloc: pandas' own take
            _POOL = None
    return _POOL


_POOL = False


def _arrow_text(values: pd.Series):
    """The Arrow array behind a ``str`` column, or None when it is not one."""
    import pyarrow as pa

    array = _arrow_of(values)
    if array is None or not (pa.types.is_large_string(array.type) or pa.types.is_string(array.type)):
        return None
    return array


# In the order the tidy frame is sorted by (SORT_KEYS): its groups then come already in order.
ANSWER_KEYS = ["cohort", "learner", "case_id", "phase"]


def _one_per_group(df: pd.DataFrame, keys: list[str], order: pd.Series, last: bool) -> np.ndarray:
    """A mask of one row per group of ``keys``: the lowest ``order`` (the first such row), or the
    highest (the last such row), as a stable sort on ``order`` then ``drop_duplicates`` would pick.

    Works on integer codes: ``drop_duplicates`` on text keys is slow at a million rows.
    """
    if not len(df):
        return np.zeros(0, dtype=bool)
    changes = _changes_if_in_order(df, keys, order)
    if changes is not None:  # each group's rows together and in order: its edges are where a key changes
        return np.r_[changes, True] if last else np.r_[True, changes]
    group = _group_codes(df, keys)
    if group is None:  # too many distinct keys to number in 64 bits: let pandas do it
        ordered = df.assign(_row=np.arange(len(df))).sort_values(order.name, kind="stable")
        rows = ordered.drop_duplicates(keys, keep="last" if last else "first")["_row"].to_numpy()
        mask = np.zeros(len(df), dtype=bool)
        mask[rows] = True
        return mask
    sequence = _stable_order(group, order.to_numpy(dtype=float, na_value=np.nan))
    grouped = group[sequence]
    if last:
        edge = np.r_[grouped[1:] != grouped[:-1], True]
    else:
        edge = np.r_[True, grouped[1:] != grouped[:-1]]
    mask = np.zeros(len(df), dtype=bool)
    mask[sequence[edge]] = True
    return mask


def _changes_if_in_order(df: pd.DataFrame, keys: list[str], order: pd.Series) -> np.ndarray | None:
    """Where any of ``keys`` changes from one row to the next, if the rows are already in order of
    ``keys`` (categorical codes) then ``order`` (whole numbers); None if they are not, or cannot tell.

    A tidy frame is in this order (its sort keys begin with the answer keys), and checking it on the
    columns' own small codes costs a fraction of numbering every group in 64 bits and sorting.
    """
    columns = [df[key] for key in keys]
    if not all(isinstance(c.dtype, pd.CategoricalDtype) for c in columns) or order.dtype.kind not in "iu":
        return None
    changed = np.zeros(len(df) - 1, dtype=bool)  # a key checked so far differs between the rows
    for values in [c.cat.codes.to_numpy() for c in columns]:
        if (~changed & (values[1:] < values[:-1])).any():
            return None
        changed |= values[1:] != values[:-1]
    values = order.to_numpy()
    if (~changed & (values[1:] < values[:-1])).any():
        return None
    return changed


# Integer codes of text columns, remembered per Arrow array. Arrow arrays are immutable, so the
# codes of one stay right for as long as it lives; a column selection (``df[columns]``) shares
# its arrays, so the analyses of one frame number its learners and cohorts only once.
_CODES: dict[int, tuple] = {}


def _arrow_of(values: pd.Series):
    import pyarrow as pa

    dtype = values.dtype
    arrow_backed = isinstance(dtype, pd.ArrowDtype) or (isinstance(dtype, pd.StringDtype)
                                                         and dtype.storage == "pyarrow")
    if not arrow_backed:  # a numpy-backed column would be converted, not shared
        return None
    try:
        array = values.array.__arrow_array__()
    except Exception:  # noqa: BLE001 - no Arrow data behind this column: nothing to remember
        return None
    return array if isinstance(array, (pa.Array, pa.ChunkedArray)) else None


def _remember(values: pd.Series, codes: np.ndarray, uniques) -> None:
    array = _arrow_of(values)
    if array is None or len(codes) != len(array):
        return
    import weakref

    codes = np.asarray(codes, dtype=np.int64).copy()
    codes.flags.writeable = False
    key = id(array)
    _CODES[key] = (weakref.ref(array), codes, uniques)
    weakref.finalize(array, _CODES.pop, key, None)


def _text_codes(values: pd.Series) -> tuple[np.ndarray, object]:
    """``pd.factorize(values)``: integer codes (-1 for missing) and the distinct values they number.

    For a categorical (the tidy frame's learners, cohorts and options) its own codes and
    categories, which may include values no row holds.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values.cat.codes.to_numpy().astype(np.int64), values.cat.categories
    array = _arrow_of(values)
    if array is not None:
        found = _CODES.get(id(array))
        if found is not None and found[0]() is array:
            return found[1], found[2]
    codes, uniques = pd.factorize(values)
    codes = codes.astype(np.int64)
    if array is not None:
        _remember(values, codes, uniques)
    return codes, uniques


def _stable_order(group: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The rows in order of ``group`` then ``values`` (missing last), ties in row order.

    The same as ``np.lexsort((values, group))``. When the values are whole numbers (attempts), the
    two fit in one integer key, and numpy's stable sort of one key is fast on rows that are
    already in order, as a tidy frame's are (lexsort is not).
    """
    missing = np.isnan(values)
    present = values[~missing]
    if len(present) and np.isfinite(present).all() and (present == np.round(present)).all():
        low, high = present.min(), present.max()
        width = high - low + 2  # one more for missing values, after the highest
        if (group.max(initial=0) + 1) * width < 2**62:
            rank = np.where(missing, width - 1, values - low).astype(np.int64)
            key = group * np.int64(width) + rank
            if (key[1:] >= key[:-1]).all():  # a tidy frame, or a part of one: in order already
                return np.arange(len(key))
            return np.argsort(key, kind="stable")
    return np.lexsort((np.where(missing, np.inf, values), group))  # stable: ties keep their row order


def _group_codes(df: pd.DataFrame, keys: list[str]) -> np.ndarray | None:
    """One integer per distinct combination of ``keys`` (missing values form their own group)."""
    group = np.zeros(len(df), dtype=np.int64)
    span = 1
    for key in keys:
        values = df[key]
        if isinstance(values.dtype, pd.CategoricalDtype):
            codes, size = values.cat.codes.to_numpy().astype(np.int64), len(values.cat.categories)
        else:
            codes, uniques = _text_codes(values)
            size = len(uniques)
        size += 1
        if span > (2**62) // size:
            return None
        group = group * size + (codes + 1)
        span *= size
    return group


def is_synthetic(df: pd.DataFrame) -> bool:
    """True when every cohort in the frame was made by the simulator."""
    cohorts = df["cohort"].astype(str)
    return bool(len(cohorts)) and bool(cohorts.str.startswith(SYNTHETIC_PREFIX).all())


def _read(source, columns: list[str], snapshot: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The rows of ``source`` (a store reads only ``columns``; a file or frame is read whole) and the
    store's consent records (None for a file or frame)."""
    from widgets.store import Store, open_store

    if isinstance(source, pd.DataFrame):
        return source, None
    if source is None or isinstance(source, Store):
        return _read_store(source if isinstance(source, Store) else open_store(), columns, snapshot)
    text = str(source)
    if "://" in text:
        return _read_store(open_store(text), columns, snapshot)
    path = Path(text).expanduser()
    suffixes = "".join(path.suffixes[-2:]).lower()
    if not path.exists():
        raise DualroleError(f"{path}: no such file (give a store URL, or a .csv, .parquet or .sqlite file)")
    if suffixes.endswith((".csv", ".csv.gz")):
        return pd.read_csv(path, keep_default_na=False, na_values=[""]), None
    if suffixes.endswith(".parquet"):
        return pd.read_parquet(path), None
    if suffixes.endswith((".sqlite", ".db", ".sqlite3")):
        return _read_store(open_store(f"sqlite:///{path.resolve()}"), columns, snapshot)
    raise DualroleError(f"{path}: cannot read this file type (use .csv, .parquet or .sqlite)")


def _read_store(store: Store, columns: list[str], snapshot: bool = False) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    # Analyses read a store on this machine; a class's answers on the hub come here through
    # ``dualrole class-export``, which copies them into one.
    from widgets.analysis import snapshot as snapshots

    if snapshots.enabled(snapshot):
        read = snapshots.read(store, STORE_COLUMNS, columns)
        if read is not None:
            return read
    if store.sqlite_path is not None and _load.fast_read_available():
        # Arrow through ADBC (the same frame, ~4x faster), unless this process has the file open
        # through a store: ADBC links its own SQLite, and two on one file lose each other's WAL.
        with store.file_read_alone() as path:
            if path is not None:
                return _load.read_sqlite(path, columns)
    _, raw, consents = store.read_since(pd.read_sql, columns, None)
    return raw, consents


def _as_bool(values: pd.Series) -> pd.Series:
    if values.dtype == bool:
        return values
    mapping = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    # Decide once per distinct value, not once per row.
    distinct = pd.unique(values.dropna())
    chosen = {v: mapping.get(str(v).strip().lower(), False) for v in distinct}
    return values.map(chosen).fillna(False).astype(bool)


def _as_optional_bool(values: pd.Series) -> pd.Series:
    """True, False or missing (answers recorded before the store kept it), as pandas' nullable boolean."""
    if values.dtype == "boolean":
        return values
    mapping = {"true": True, "1": True, "1.0": True, "false": False, "0": False, "0.0": False}
    distinct = pd.unique(values.dropna())
    chosen = {v: mapping.get(str(v).strip().lower(), pd.NA) for v in distinct}
    return values.map(chosen).astype("boolean")


def _check_vocabulary(df: pd.DataFrame, column: str, allowed: tuple[str, ...]) -> None:
    bad = sorted(set(_distinct(df[column])) - set(allowed))
    if bad:
        values = df[column].astype("object")
        row = int(values.index[values.notna() & values.astype(str).isin(bad)][0])
        raise DualroleError(
            f"row {row}: {column}: unknown value(s) {', '.join(map(repr, bad))}; "
            f"allowed: {', '.join(allowed)}"
        )
