"""Research exports in two tiers, both of consenting learners only (:func:`widgets.privacy.research_rows`).

* :func:`research_export`, the **restricted** tier: one row per answer under random research codes,
  with a Frictionless codebook and the same answers as xAPI statements. Row-level data from a
  class can be recognized by a classmate, so it is for use under an ethics approval or a data-use
  agreement, never published.
* :func:`public_export`, the **public** tier: gated aggregates only, nothing per learner.

What leaves the instructor's machine (the export folder) never holds a learner id, a time of
day, or, unless explicitly asked for, a justification or a script's words (``scripts.csv`` then
holds only which checklist items each learner ticked). The crosswalk from research codes back to
learners is written elsewhere and stays with the instructor.

Two exports of the same answers by the same instructor agree: the crosswalk is reused (same
research codes), each xAPI statement id is keyed from the response id with the instructor key,
and each statement's ``timestamp`` is the day of the answer. A learning record store that is sent
the same statements twice therefore sees identical statements and stores nothing new.
"""

from __future__ import annotations

import json
import shutil
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import pandas as pd

from widgets import __version__
from widgets.analysis.prepost import with_forms
from widgets.cases.forms import FORMS_FILE, assessment_forms
from widgets.cases.library import load_library
from widgets.errors import DualroleError
from widgets.paths import data_dir, file_sha256
from widgets.privacy import (
    MIN_CELL,
    ResearchRows,
    check_min_cell,
    default_crosswalk_path,
    instructor_key,
    read_crosswalk,
    research_codes,
    research_rows,
    research_scripts,
    statement_id,
    write_crosswalk,
)

XAPI_BASE = "https://dualrole.invalid/"
ANSWERED = "http://adlnet.gov/expapi/verbs/answered"
INTERACTION = "http://adlnet.gov/expapi/activities/cmi.interaction"
# Columns the xAPI writer needs beside the export's own; they never reach the CSV or Parquet files.
XAPI_COLUMNS = ["statement_id", "timestamp"]
EXPORT_PHASES = ["pre", "practice", "post", "delayed"]  # time order
EXPORT_COLUMNS = [
    "research_code", "cohort", "case_id", "case_version", "phase", "form", "attempt", "option_id", "stance",
    "confidence", "kitchener_expectations", "kitchener_obligations", "kitchener_power",
    "justification", "submitted_week", "reference_seen", "distribution_seen", "score", "matches_reference",
]
# The scripts file: each consenting learner's latest words on a case (what they would say, or their
# chart note), the checklist items they ticked, and the text only where justifications are asked for.
SCRIPT_COLUMNS = ["research_code", "cohort", "case_id", "case_version", "kind", "checks", "checked", "items",
                  "text", "saved_week"]


class JustificationWarning(UserWarning):
    """Free-text justifications are in the export: they may name people or describe clients."""


@dataclass
class ExportResult:
    """What an export wrote, and what it held back."""

    out_dir: Path
    crosswalk: Path | None  # None for the public tier, which needs none
    rows: int
    learners: int
    cohorts: list[str]
    withheld_rows: int = 0
    withheld_cohorts: int = 0
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
                    progress=None, scripts=None) -> ExportResult:
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
    scripts : DataFrame or list of dict, optional
        The learners' scripts (:meth:`widgets.store.sql.Store.latest_scripts`). Those following an
        exported answer (:func:`widgets.privacy.research_scripts`) go to ``scripts.csv``: the
        checklist items ticked, and the words themselves only with ``include_justifications``.

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
    chosen = research_rows(df[df["case_id"].astype(str).isin({c.id for c in library}).to_numpy()],
                           min_cell=min_cell)
    kept = chosen.frame
    if kept.empty:
        raise DualroleError(
            f"nothing to export: no cohort has at least {min_cell} learners who consented to research use"
        )
    codes = research_codes(kept["learner"].unique(), read_crosswalk(crosswalk_path))
    if kept["response_id"].isna().any():
        raise DualroleError("these responses carry no response_id, which names each xAPI statement: "
                            "export from a store, or from a CSV written by dualrole")
    frame = research_frame(chosen, codes, include_justifications=include_justifications,
                           key=instructor_key(key_path))
    xapi_columns = frame[XAPI_COLUMNS]
    frame = frame.drop(columns=XAPI_COLUMNS)
    from widgets.analysis.frame import is_synthetic

    synthetic = is_synthetic(kept)
    out_dir.mkdir(parents=True, exist_ok=True)
    say("writing the crosswalk (kept outside the export)")
    write_crosswalk(codes, crosswalk_path, out_dir)
    files = []
    say("writing responses.csv and responses.parquet")
    files.append(_write_csv(frame, out_dir / "responses.csv", codes=True))
    files.append(_write_parquet(frame, out_dir / "responses.parquet", synthetic))
    options = _options(library, set(frame["case_id"].astype(str)))
    files.append(_write_csv(options, out_dir / "options.csv"))
    said = script_frame(chosen, scripts, codes, library, include_text=include_justifications)
    if said is not None:
        files.append(_write_csv(said, out_dir / "scripts.csv"))
    forms_file = out_dir / FORMS_FILE
    shutil.copyfile(data_dir() / FORMS_FILE, forms_file)
    files.append(forms_file)
    say("writing xapi.jsonl")
    files.append(write_xapi(pd.concat([frame, xapi_columns], axis=1), library, out_dir / "xapi.jsonl",
                            base=xapi_base, synthetic=synthetic))
    files.append(_write_readme(out_dir / "README.md", synthetic, include_justifications, min_cell,
                               scripts=said is not None))
    say("writing datapackage.json and SHA256SUMS")
    package = datapackage(frame, options, synthetic=synthetic, min_cell=min_cell,
                          justifications=include_justifications, files=files, scripts=said)
    (out_dir / "datapackage.json").write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    files.append(out_dir / "datapackage.json")
    files.append(_write_checksums(out_dir, files))
    result = ExportResult(
        out_dir=out_dir, crosswalk=crosswalk_path, rows=len(frame), learners=frame["research_code"].nunique(),
        cohorts=sorted(frame["cohort"].unique()), withheld_rows=chosen.withheld_rows,
        withheld_cohorts=chosen.withheld_cohorts, synthetic=synthetic,
        justifications=include_justifications, files=files,
    )
    if include_justifications:
        warnings.warn(
            "the export includes free-text justifications, which may name people or describe "
            "clients: read them, or scrub them, before sharing", JustificationWarning, stacklevel=2)
    return result


def research_frame(rows: ResearchRows, codes: dict[str, str], *, include_justifications: bool = False,
                   key: bytes | None = None) -> pd.DataFrame:
    """The export rows: research codes for learners, weeks for times, and no justification unless asked.

    ``rows`` come from :func:`widgets.privacy.research_rows`, the one consent rule; a bare frame
    is refused, so no writer can skip the rule.

    Every answer's time becomes the Monday of its week (UTC): no time of day, no day, and no
    value blanked, because a blank that only a late learner gets picks that learner out.

    With the instructor ``key``, two more columns serve the xAPI statements (:data:`XAPI_COLUMNS`):
    ``statement_id`` (:func:`widgets.privacy.statement_id` of the response id) and ``timestamp``,
    midnight UTC of ``submitted_week``, so a re-sent statement is identical.
    """
    if not isinstance(rows, ResearchRows):
        raise DualroleError("internal: research rows must come from widgets.privacy.research_rows")
    # The assessment form is read from the case id, so the store needs no column for it.
    frame = with_forms(rows.frame)
    frame.insert(0, "research_code", frame.pop("learner").astype(str).map(codes))
    if frame["research_code"].isna().any():
        raise DualroleError("internal: a learner has no research code")
    frame["submitted_week"] = week_of(frame["submitted_at"])
    columns = [c for c in EXPORT_COLUMNS if include_justifications or c != "justification"]
    if key is not None:
        frame["statement_id"] = [statement_id(r, key) for r in frame["response_id"].astype(str)]
        frame["timestamp"] = frame["submitted_week"].map(lambda d: d.strftime("%Y-%m-%dT00:00:00Z"))
        columns += XAPI_COLUMNS
    frame = frame[columns].sort_values(["cohort", "research_code", "case_id", "phase", "attempt"], kind="stable")
    # The codebook lists phases in time order and does not rank them.
    frame["phase"] = pd.Categorical(frame["phase"].astype(str), categories=EXPORT_PHASES)
    return frame.reset_index(drop=True)


def script_frame(rows: ResearchRows, scripts, codes: dict[str, str], library, *,
                 include_text: bool = False) -> pd.DataFrame | None:
    """The rows of ``scripts.csv``, or None when no exported answer has a script.

    Only scripts that follow an answer in ``rows`` (:func:`widgets.privacy.research_scripts`), under
    their learner's research code and week; ``checks`` lists the ticked checklist items by position
    (from 0, separated by spaces), ``checked`` counts them and ``items`` says how many the case's
    checklist has. The text is left out unless asked for.
    """
    if scripts is None:
        return None
    kept = research_scripts(rows, scripts)
    if kept.empty:
        return None
    cases = {c.id: c for c in library}
    frame = pd.DataFrame({
        "research_code": kept["learner"].map(codes), "cohort": kept["cohort"], "case_id": kept["case_id"],
        "case_version": kept["case_version"], "kind": kept["kind"],
        "checks": kept["checks"].map(lambda ticked: " ".join(str(i) for i in sorted(ticked))),
        "checked": kept["checks"].map(len).astype(int),
        "items": kept["case_id"].map(lambda c: len(cases[c].say.checklist) if c in cases and cases[c].say else None)
        .astype("Int64"),
        "text": kept["text"], "saved_week": week_of(kept["created_at"]),
    })
    if frame["research_code"].isna().any():
        raise DualroleError("internal: a script's learner has no research code")
    columns = [c for c in SCRIPT_COLUMNS if include_text or c != "text"]
    return frame[columns].sort_values(["cohort", "research_code", "case_id"], kind="stable").reset_index(drop=True)


def week_of(times: pd.Series) -> pd.Series:
    """The Monday (a date, UTC) of each time's week.

    >>> week_of(pd.Series(pd.to_datetime(["2026-09-10T21:30:00Z", "2026-09-14T08:00:00Z"]))).tolist()
    [datetime.date(2026, 9, 7), datetime.date(2026, 9, 14)]
    """
    utc = pd.to_datetime(times, utc=True).dt.tz_convert("UTC")
    return (utc.dt.normalize() - pd.to_timedelta(utc.dt.day_of_week, unit="D")).dt.date


def datapackage(frame: pd.DataFrame, options: pd.DataFrame, *, synthetic: bool, min_cell: int,
                justifications: bool, files: list[Path] = (), scripts: pd.DataFrame | None = None) -> dict:
    """The codebook filled in for one export: case ids, the justification field, and provenance.

    ``dualrole`` records what a citation needs: the package version, the commit of the source
    tree where it is a git checkout, the codebook version (the package's ``version``), the forms
    file, the rule that chose the learners, and the SHA-256 of every other file of the export.
    """
    package = codebook()
    responses, option_resource, script_resource = package["resources"]
    fields = responses["schema"]["fields"]
    if not justifications:
        fields[:] = [f for f in fields if f["name"] != "justification"]
        script_resource["schema"]["fields"][:] = [f for f in script_resource["schema"]["fields"]
                                                  if f["name"] != "text"]
    if scripts is None:
        package["resources"].remove(script_resource)
    case_ids = list(dict.fromkeys(options["case_id"]))
    for resource in package["resources"]:
        for f in resource["schema"]["fields"]:
            if f["name"] == "case_id":
                f["constraints"]["enum"] = case_ids
    if synthetic:
        package["title"] = "SYNTHETIC DATA: " + package["title"]
        package["description"] = ("SYNTHETIC: every row was made by `dualrole simulate`; no real learner "
                                  "answered. " + package["description"])
    package["created"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    package["synthetic"] = synthetic
    package["dualrole"] = {
        "tier": "restricted", "version": __version__, "commit": source_commit(), "codebook_version": package["version"],
        "forms_file": FORMS_FILE, "min_cell": min_cell, "justifications_included": justifications,
        "consent": ("learners whose research-consent choice at the time of export was yes, with all their "
                    "answers (widgets.privacy.research_rows)"),
        "files": {path.name: "sha256:" + file_sha256(path) for path in files},
    }
    return package


def source_commit() -> str | None:
    """The git commit of the dualrole source tree, or None where it is not a git checkout (an installed wheel)."""
    import subprocess

    root = data_dir().parent
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = done.stdout.strip()
    if done.returncode or len(commit) != 40:
        return None
    dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=10, check=False).stdout.strip()
    return commit + ("-modified" if dirty else "")


def _write_checksums(out_dir: Path, files: list[Path]) -> Path:
    """``SHA256SUMS`` in the format ``sha256sum -c`` checks."""
    path = out_dir / "SHA256SUMS"
    path.write_text("".join(f"{file_sha256(f)}  {f.name}\n" for f in sorted(files)), encoding="utf-8")
    return path


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


def _write_csv(frame: pd.DataFrame, path: Path, codes: bool = False) -> Path:
    """Write a frame as CSV; with ``codes``, the codebook's missing-value codes tell apart why a cell is empty.

    ``form`` is ``NA`` (not applicable) for a lesson case, and ``reference_seen`` and
    ``distribution_seen`` are ``NR`` (not recorded) where the answer's dualrole did not record them;
    any other empty cell was left blank.
    """
    text = frame.copy()
    # Booleans are written before the codes fill their gaps, so a column holding a code still reads true/false.
    for column in text.columns:
        values = text[column].dropna()
        if pd.api.types.is_bool_dtype(text[column]) or (len(values) and values.map(type).eq(bool).all()):
            text[column] = text[column].astype(object).map(lambda v: {True: "true", False: "false"}.get(v, v))
    if codes:
        for column, code in (("form", "NA"), ("reference_seen", "NR"), ("distribution_seen", "NR")):
            if column in text:
                text[column] = text[column].astype(object).where(text[column].notna(), code)
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


def _write_readme(path: Path, synthetic: bool, justifications: bool, min_cell: int, scripts: bool = False) -> Path:
    lines = []
    if synthetic:
        lines += ["# SYNTHETIC DATA", "", "Every row was made by `dualrole simulate`. No real learner answered.", ""]
    lines += [
        "# Dual-role vignette responses: RESTRICTED research export", "",
        "Row-level, pseudonymised data, for use under an ethics approval or a data-use agreement.",
        "This is not a public release: in a small class a classmate who knows who dropped out, or what",
        "someone answered, can recognize that learner's rows. Publish only the public tier",
        "(`dualrole research-export --tier public`), which holds gated aggregates.", "",
        "- `responses.csv` / `responses.parquet`: one row per answer (see `datapackage.json` for every column).",
        "- `options.csv`: each case's options and reference answer; join on `case_id` and `option_id`.",
        *(["- `scripts.csv`: each learner's latest words on a case (what they would say, or their chart note),",
           "  the checklist items they ticked and, only where justifications are included, the words themselves."]
          if scripts else []),
        "- `assessment_forms.yaml`: the matched pre/post forms, pair by pair.",
        "- `datapackage.json`: the codebook (Frictionless Data Package v2) and the provenance to cite:",
        "  dualrole version, commit, codebook version, and each file's SHA-256.",
        "- `SHA256SUMS`: the same checksums, for `sha256sum -c SHA256SUMS`.",
        "- `xapi.jsonl`: the same answers as xAPI 1.0.3 statements. Each `timestamp` is the Monday of the",
        "  answer's week at midnight UTC. Statement ids are stable across exports by the same instructor, so",
        "  sending the file to a learning record store twice stores each statement once.", "",
        "Only learners whose research-consent choice at the time of export was yes are included, with all",
        f"their answers; cohorts with fewer than {min_cell} of them are left out.",
        "Learners appear as random research codes; the crosswalk is not part of this export.",
        "Justifications" + (" and scripts' words" if scripts else "") + " are "
        + ("INCLUDED: they may hold names or client details." if justifications else "not included."), "",
        "Python: `widgets.analysis.read_export('.')`, `pandas.read_parquet('responses.parquet')`, or",
        "`frictionless.Package('datapackage.json')`.",
        "R: `frictionless::read_resource(frictionless::read_package('datapackage.json'), 'responses')`.", "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


# -- the public tier -----------------------------------------------------------------------------

PUBLIC_FILES = ("stance_counts.csv", "prepost_model.csv", "datapackage.json", "README.md")


def public_export(df: pd.DataFrame, out_dir: Path | str, *, min_cell: int = MIN_CELL, progress=None) -> ExportResult:
    """Write the public tier: aggregates only, every count gated, nothing per learner and no time.

    The same consent rule chooses the learners (:func:`widgets.privacy.research_rows`). What is
    written pools every exported cohort:

    * ``stance_counts.csv``: for each case and test or lesson, how many learners' first answers
      took each stance, through :func:`widgets.privacy.gate` (counts under ``min_cell`` hidden,
      with complementary suppression, so no hidden count can be worked out from the totals);
    * ``prepost_model.csv``: the learner-level model of the pre/post change on the forms
      (:func:`widgets.analysis.form_effect`), when at least ``min_cell`` learners took both tests.

    There is no research code, no cohort name, no date and no free text, so a row cannot be
    followed from one case to the next, and a classmate who knows one answer learns nothing more.

    Returns
    -------
    ExportResult
    """
    from widgets.analysis import answers, form_effect
    from widgets.privacy import gate

    min_cell = check_min_cell(min_cell)
    say = progress or (lambda message: None)
    out_dir = Path(out_dir).expanduser()
    library = load_library()
    say("selecting consenting responses")
    chosen = research_rows(df[df["case_id"].astype(str).isin({c.id for c in library}).to_numpy()],
                           min_cell=min_cell)
    if chosen.frame.empty:
        raise DualroleError(
            f"nothing to export: no cohort has at least {min_cell} learners who consented to research use")
    from widgets.analysis.frame import is_synthetic

    synthetic = is_synthetic(chosen.frame)
    first = answers(chosen.frame)
    counts = (first.groupby(["case_id", "phase", "stance"], observed=True).size()
              .unstack("stance", fill_value=0).reindex(columns=list(first["stance"].cat.categories), fill_value=0))
    counts.index = [f"{case} | {phase}" for case, phase in counts.index]
    counts.index.name = "case | phase"
    say("gating the counts")
    gated = gate(counts, min_cell)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [_write_csv(gated.reset_index(), out_dir / "stance_counts.csv")]
    bank = first[first["case_id"].astype(str).isin(assessment_forms().case_ids).to_numpy()]
    both = bank.groupby("learner", observed=True)["phase"].nunique()
    if int((both >= 2).sum()) >= min_cell:
        files.append(_write_csv(form_effect(chosen.frame).round(4), out_dir / "prepost_model.csv"))
    readme = out_dir / "README.md"
    readme.write_text("\n".join([
        *(["# SYNTHETIC DATA", "", "Every answer was made by `dualrole simulate`.", ""] if synthetic else []),
        "# Dual-role vignette responses: PUBLIC tier (aggregates)", "",
        f"Learners who consented to research use, in cohorts of at least {min_cell} of them, pooled.",
        f"Every count under {min_cell} is hidden (blank), and further counts where a total would give",
        "a hidden one away. There is nothing per learner: no research code, no cohort, no date, no text.", "",
        "- `stance_counts.csv`: first answers by case and phase (pre, practice, post), counted by stance.",
        "- `prepost_model.csv`: the pre/post change on the assessment forms, a GEE with learners as clusters,",
        "  unadjusted and adjusted for the form (log-odds with 95% intervals).", ""]), encoding="utf-8")
    files.append(readme)
    package = {
        "name": "dualrole-public-aggregates", "version": codebook()["version"],
        "title": ("SYNTHETIC DATA: " if synthetic else "") + "Dual-role vignette responses: public aggregates",
        "created": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "synthetic": synthetic,
        "resources": [{"name": p.stem, "path": p.name, "format": "csv"} for p in files if p.suffix == ".csv"],
        "dualrole": {"tier": "public", "version": __version__, "commit": source_commit(), "min_cell": min_cell,
                     "learners": chosen.learners, "files": {p.name: "sha256:" + file_sha256(p) for p in files}},
    }
    (out_dir / "datapackage.json").write_text(json.dumps(package, indent=2) + "\n", encoding="utf-8")
    files.append(out_dir / "datapackage.json")
    return ExportResult(out_dir=out_dir, crosswalk=None, rows=int(len(first)), learners=chosen.learners,
                        cohorts=[], withheld_rows=chosen.withheld_rows, withheld_cohorts=chosen.withheld_cohorts,
                        synthetic=synthetic, files=files)
