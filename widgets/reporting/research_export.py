"""Research exports: consenting responses only, random research codes, a Frictionless codebook,
and the same answers as xAPI statements.

What leaves the instructor's machine (the export folder) never holds a learner id, a time of
day, or, unless explicitly asked for, a justification. The crosswalk from research codes back to
learners is written elsewhere and stays with the instructor.

Two exports of the same answers by the same instructor agree: the crosswalk is reused (same
research codes), each xAPI statement id is keyed from the response id with the instructor key,
and each statement's ``timestamp`` is the day of the answer. A learning record store that is sent
the same statements twice therefore sees identical statements and stores nothing new.
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from widgets import __version__
from widgets.analysis.prepost import with_forms
from widgets.cases.library import load_library
from widgets.errors import DualroleError
from widgets.paths import data_dir
from widgets.privacy import (
    MIN_CELL,
    check_min_cell,
    default_crosswalk_path,
    instructor_key,
    read_crosswalk,
    research_codes,
    statement_id,
    write_crosswalk,
)

XAPI_BASE = "https://dualrole.invalid/"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
# Columns the xAPI writer needs beside the export's own; they never reach the CSV or Parquet files.
XAPI_COLUMNS = ["statement_id", "timestamp"]
EXPORT_COLUMNS = [
    "research_code", "cohort", "case_id", "case_version", "phase", "form", "attempt", "option_id", "stance",
    "confidence", "kitchener_expectations", "kitchener_obligations", "kitchener_power",
    "justification", "submitted_on", "score", "matches_reference",
]


class JustificationWarning(UserWarning):
    """Free-text justifications are in the export: they may name people or describe clients."""


@dataclass
class ExportResult:
    """What an export wrote, and what it held back."""

    out_dir: Path
    crosswalk: Path
    rows: int
    learners: int
    cohorts: list[str]
    withheld_rows: int = 0
    withheld_cohorts: int = 0
    dates_withheld: int = 0
    synthetic: bool = False
    justifications: bool = False
    files: list[Path] = field(default_factory=list)


def codebook() -> dict:
    """The committed Frictionless data package template (``data/schema/responses.datapackage.json``)."""
    return json.loads((data_dir() / "schema" / "responses.datapackage.json").read_text(encoding="utf-8"))


def statement_schema() -> dict:
    """The JSON Schema every exported xAPI statement is checked against."""
    return json.loads((data_dir() / "schema" / "xapi_statement.schema.json").read_text(encoding="utf-8"))


def research_export(df: pd.DataFrame, out_dir: Path | str, *, crosswalk: Path | str | None = None,
                    include_justifications: bool = False, min_cell: int = MIN_CELL,
                    xapi_base: str = XAPI_BASE, key_path: Path | str | None = None,
                    progress=None) -> ExportResult:
    """Write a de-identified research export of a tidy response frame into ``out_dir``.

    Parameters
    ----------
    df : DataFrame
        From :func:`widgets.analysis.responses` (consent already resolved from the store).
    out_dir : path
        The export folder: ``responses.csv``, ``responses.parquet``, ``options.csv``,
        ``datapackage.json``, ``xapi.jsonl`` and ``README.md``.
    crosswalk : path, optional
        The crosswalk CSV (learner → research code), outside ``out_dir``. An existing file is
        reused and extended, so the same learners keep their codes; by default
        ``crosswalks/crosswalk.csv`` in the data folder, likewise reused by every export.
    include_justifications : bool
        Include the free-text justifications (off by default; warns when on).
    min_cell : int
        Cohorts with fewer consenting learners are left out; dates shared by fewer learners of a
        cohort are blanked.
    xapi_base : str
        The base IRI for activity ids and the account home page in the xAPI statements.
    key_path : path, optional
        The instructor key that derives the xAPI statement ids (default: the data folder's).
    progress : callable, optional
        Called with a short message before each step.

    Returns
    -------
    ExportResult
    """
    min_cell = check_min_cell(min_cell)
    say = progress or (lambda message: None)
    out_dir = Path(out_dir).expanduser()
    crosswalk_path = Path(crosswalk).expanduser() if crosswalk else default_crosswalk_path()
    if crosswalk_path.resolve().is_relative_to(out_dir.resolve()):
        raise DualroleError(f"{crosswalk_path}: the crosswalk must be outside the export folder {out_dir}")
    library = load_library()
    say("selecting consenting responses")
    consenting, kept, small = research_rows(df, library, min_cell)
    codes = research_codes(kept["learner"].unique(), read_crosswalk(crosswalk_path))
    if kept["response_id"].isna().any():
        raise DualroleError("these responses carry no response_id, which names each xAPI statement: "
                            "export from a store, or from a CSV written by dualrole")
    frame, dates_withheld = research_frame(kept, codes, include_justifications=include_justifications,
                                           min_cell=min_cell, key=instructor_key(key_path))
    xapi_columns = frame[XAPI_COLUMNS]
    frame = frame.drop(columns=XAPI_COLUMNS)
    from widgets.analysis.frame import is_synthetic

    synthetic = is_synthetic(kept)
    out_dir.mkdir(parents=True, exist_ok=True)
    say("writing the crosswalk (kept outside the export)")
    write_crosswalk(codes, crosswalk_path, out_dir)
    files = []
    say("writing responses.csv and responses.parquet")
    files.append(_write_csv(frame, out_dir / "responses.csv"))
    files.append(_write_parquet(frame, out_dir / "responses.parquet", synthetic))
    options = _options(library, set(frame["case_id"].astype(str)))
    files.append(_write_csv(options, out_dir / "options.csv"))
    say("writing datapackage.json")
    package = datapackage(frame, options, synthetic=synthetic, min_cell=min_cell,
                          justifications=include_justifications)
    (out_dir / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    files.append(out_dir / "datapackage.json")
    say("writing xapi.jsonl")
    files.append(write_xapi(pd.concat([frame, xapi_columns], axis=1), library, out_dir / "xapi.jsonl",
                            base=xapi_base, synthetic=synthetic))
    files.append(_write_readme(out_dir / "README.md", synthetic, include_justifications, min_cell))
    result = ExportResult(
        out_dir=out_dir, crosswalk=crosswalk_path, rows=len(frame), learners=frame["research_code"].nunique(),
        cohorts=sorted(frame["cohort"].unique()), withheld_rows=len(consenting) - len(kept),
        withheld_cohorts=len(small), dates_withheld=dates_withheld, synthetic=synthetic,
        justifications=include_justifications, files=files,
    )
    if include_justifications:
        warnings.warn(
            "the export includes free-text justifications, which may name people or describe "
            "clients: read them, or scrub them, before sharing", JustificationWarning, stacklevel=2)
    return result


def research_rows(df: pd.DataFrame, library, min_cell: int = MIN_CELL):
    """The rows every research writer may use: consenting learners' answers to library cases, in cohorts
    with at least ``min_cell`` consenting learners.

    Returns ``(consenting, kept, small)``: every consenting row, the rows kept, and the cohorts left
    out as too small. Every research writer (the tidy export, the xAPI statements, the REFI-QDA
    project) selects its rows here and nowhere else.
    """
    consenting = df[df["consent"].astype(bool) & df["case_id"].astype(str).isin({c.id for c in library})]
    per_cohort = consenting.groupby("cohort")["learner"].nunique()
    small = per_cohort[per_cohort < min_cell].index
    kept = consenting[~consenting["cohort"].isin(small)]
    if kept.empty:
        raise DualroleError(
            f"nothing to export: no cohort has at least {min_cell} learners who consented to research use"
        )
    return consenting, kept, small


def research_frame(df: pd.DataFrame, codes: dict[str, str], *, include_justifications: bool = False,
                   min_cell: int = MIN_CELL, key: bytes | None = None) -> tuple[pd.DataFrame, int]:
    """The export rows: research codes for learners, dates for times, and no justification unless asked.

    A date on which fewer than ``min_cell`` learners of a cohort answered is blanked (a quasi-
    identifier: "the only two who came on Tuesday"). Returns the frame and how many dates were blanked.

    With the instructor ``key``, two more columns serve the xAPI statements (:data:`XAPI_COLUMNS`):
    ``statement_id`` (:func:`widgets.privacy.statement_id` of the response id) and ``timestamp``,
    midnight UTC of ``submitted_on``. Where the day is blanked, the timestamp is the first of its
    month if ``min_cell`` learners of the cohort answered that month, else the first of the
    cohort's first month: an LRS needs a timestamp, and a fixed one makes a re-sent statement
    identical, while neither says more than the day that was withheld.
    """
    # The assessment form is read from the case id, so the store needs no column for it.
    frame = with_forms(df)
    frame.insert(0, "research_code", frame.pop("learner").astype(str).map(codes))
    if frame["research_code"].isna().any():
        raise DualroleError("internal: a learner has no research code")
    day = frame["submitted_at"].dt.tz_convert("UTC").dt.date
    crowd = frame.assign(day=day).groupby(["cohort", "day"])["research_code"].transform("nunique")
    frame["submitted_on"] = day.where(crowd >= min_cell, None)
    blanked = int((crowd < min_cell).sum())
    columns = [c for c in EXPORT_COLUMNS if include_justifications or c != "justification"]
    if key is not None:
        frame["statement_id"] = [statement_id(r, key) for r in frame["response_id"].astype(str)]
        frame["timestamp"] = _xapi_timestamps(frame, day, crowd >= min_cell, min_cell)
        columns += XAPI_COLUMNS
    frame = frame[columns].sort_values(["cohort", "research_code", "case_id", "phase", "attempt"], kind="stable")
    return frame.reset_index(drop=True), blanked


def _xapi_timestamps(frame: pd.DataFrame, day: pd.Series, shown: pd.Series, min_cell: int) -> pd.Series:
    """Midnight UTC of the shown day; of the month, or the cohort's first month, where the day is withheld."""
    month = day.map(lambda d: d.replace(day=1))
    month_crowd = frame.assign(month=month).groupby(["cohort", "month"])["research_code"].transform("nunique")
    first_month = month.groupby(frame["cohort"]).transform("min")
    chosen = day.where(shown, month.where(month_crowd >= min_cell, first_month))
    return chosen.map(lambda d: d.strftime("%Y-%m-%dT00:00:00Z"))


def datapackage(frame: pd.DataFrame, options: pd.DataFrame, *, synthetic: bool, min_cell: int,
                justifications: bool) -> dict:
    """The codebook filled in for one export: case ids, the justification field, and provenance."""
    package = codebook()
    responses, option_resource = package["resources"]
    fields = responses["schema"]["fields"]
    if not justifications:
        fields[:] = [f for f in fields if f["name"] != "justification"]
    case_ids = list(dict.fromkeys(options["case_id"]))
    for resource in (responses, option_resource):
        for f in resource["schema"]["fields"]:
            if f["name"] == "case_id":
                f["constraints"]["enum"] = case_ids
    if synthetic:
        package["title"] = "SYNTHETIC DATA: " + package["title"]
        package["description"] = ("SYNTHETIC: every row was made by `dualrole simulate`; no real learner "
                                  "answered. " + package["description"])
    package["created"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    package["synthetic"] = synthetic
    package["dualrole"] = {"version": __version__, "min_cell": min_cell, "justifications_included": justifications,
                           "consent": "only learners whose latest research-consent choice was yes"}
    return package


def xapi_statement(row: dict, case, base: str = XAPI_BASE, synthetic: bool = False) -> dict:
    """One response as an xAPI 1.0.3 statement: an account actor ``answered`` a choice interaction.

    ``row`` is a row of :func:`research_frame` made with the instructor key, so it carries the
    keyed ``statement_id`` and the day-precision ``timestamp``.
    """
    ext = base + "xapi/extensions/"
    statement = {
        "id": row["statement_id"],
        "timestamp": row["timestamp"],
        "actor": {"objectType": "Agent",
                  "account": {"homePage": base + "research-codes", "name": row["research_code"]}},
        "verb": {"id": ANSWERED, "display": {"en-US": "answered"}},
        "object": {
            "objectType": "Activity",
            "id": base + "cases/" + quote(case.id, safe=""),
            "definition": {
                "name": {"en-US": case.title},
                "type": INTERACTION,
                "interactionType": "choice",
                "correctResponsesPattern": list(case.preferred),
                "choices": [{"id": o.id, "description": {"en-US": o.label}} for o in case.options],
                "extensions": {ext + "case-version": row["case_version"]},
            },
        },
        "result": {
            "response": row["option_id"],
            "success": bool(row["matches_reference"]),
            "score": {"scaled": float(row["score"]), "raw": float(row["score"]), "min": 0.0, "max": 1.0},
            "extensions": {ext + "confidence": int(row["confidence"]), ext + "stance": str(row["stance"])},
        },
        "context": {
            "contextActivities": {"grouping": [
                {"objectType": "Activity", "id": base + "cohorts/" + quote(str(row["cohort"]), safe="")}]},
            "extensions": {ext + "phase": str(row["phase"]), ext + "attempt": int(row["attempt"]),
                           ext + "synthetic": synthetic},
        },
        "version": "1.0.3",
    }
    if row.get("justification") is not None and not pd.isna(row.get("justification")):
        statement["result"]["extensions"][ext + "justification"] = str(row["justification"])
    return statement


def write_xapi(frame: pd.DataFrame, library, path: Path, *, base: str = XAPI_BASE, synthetic: bool = False) -> Path:
    """Write one statement per row as JSON Lines, checking the first of each case against the schema.

    The statements of one case differ only in values the schema types, so one check per case
    catches a malformed definition without paying for thousands of identical checks (the tests
    validate every statement).
    """
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(statement_schema())
    cases = {c.id: c for c in library}
    checked: set[str] = set()
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for row in frame.to_dict("records"):
            case_id = str(row["case_id"])
            statement = xapi_statement(row, cases[case_id], base=base, synthetic=synthetic)
            error = None if case_id in checked else next(iter(validator.iter_errors(statement)), None)
            checked.add(case_id)
            if error is not None:
                where = "/".join(map(str, error.path))
                raise DualroleError(f"internal: an xAPI statement is invalid at {where}: {error.message}")
            handle.write(json.dumps(statement, ensure_ascii=False, sort_keys=True) + "\n")
    return path


def _options(library, case_ids: set[str]) -> pd.DataFrame:
    from widgets.analysis.frame import options_frame

    options = options_frame(library)
    return options[options["case_id"].isin(case_ids)].reset_index(drop=True)


def _write_csv(frame: pd.DataFrame, path: Path) -> Path:
    text = frame.copy()
    for column in text.columns:
        if pd.api.types.is_bool_dtype(text[column]):
            text[column] = text[column].map({True: "true", False: "false"})
    text.to_csv(path, index=False, lineterminator="\n", na_rep="")
    return path


def _write_parquet(frame: pd.DataFrame, path: Path, synthetic: bool) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    metadata[b"dualrole"] = json.dumps({"synthetic": synthetic, "codebook": "datapackage.json"}).encode()
    pq.write_table(table.replace_schema_metadata(metadata), path)
    return path


def _write_readme(path: Path, synthetic: bool, justifications: bool, min_cell: int) -> Path:
    lines = []
    if synthetic:
        lines += ["# SYNTHETIC DATA", "", "Every row was made by `dualrole simulate`. No real learner answered.", ""]
    lines += [
        "# Dual-role vignette responses (research export)", "",
        "- `responses.csv` / `responses.parquet`: one row per answer (see `datapackage.json` for every column).",
        "- `options.csv`: each case's options and reference answer; join on `case_id` and `option_id`.",
        "- `datapackage.json`: the codebook (Frictionless Data Package v2).",
        "- `xapi.jsonl`: the same answers as xAPI 1.0.3 statements. Each `timestamp` is the day of the answer at",
        "  midnight UTC (no time of day is exported; where the day is withheld, the first of its month, or of",
        "  the cohort's first month). Statement ids are stable across exports by the same instructor, so",
        "  sending the file to a learning record store twice stores each statement once.", "",
        f"Only learners who consented are included; cohorts with fewer than {min_cell} of them are left out.",
        "Learners appear as random research codes; the crosswalk is not part of this export.",
        "Justifications are "
        + ("INCLUDED: they may hold names or client details." if justifications else "not included."), "",
        "Python: `pandas.read_parquet('responses.parquet')`, or `frictionless.Package('datapackage.json')`.",
        "R: `frictionless::read_resource(frictionless::read_package('datapackage.json'), 'responses')`.", "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path
