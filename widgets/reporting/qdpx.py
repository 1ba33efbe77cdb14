"""Learners' reasoning as a REFI-QDA project (``.qdpx``) for QualCoder, NVivo, ATLAS.ti or MAXQDA, and back.

The export follows the research export's rules (:func:`widgets.privacy.research_rows`, the one rule):
consenting learners only, cohorts under the small-cell minimum left out, learners under their
random research codes (the crosswalk stays with the instructor, outside the export). What it holds:

- **sources**: one plain-text source per answer with reasoning, named by research code, case,
  phase and attempt; its GUID is keyed from the response id with the instructor key, so nobody
  without the key can link it to a response, and the instructor can find the answer again on import;
  and one per script (what the learner would say after that answer, or their chart note), beside
  the reasoning it follows (:func:`widgets.privacy.research_scripts`: in exactly when its answer is),
  its GUID keyed from the script id the same way;
- **cases**: one per source, with the variables case, option, stance, confidence, phase and cohort
  (and research code, attempt, and ``text``: reasoning, script or chart_note);
- **codes**: the codebook (its groups as parent codes that are not codable);
- **coded segments**: the reconciled codes, each on its span, or on the whole text.

No learner id, name, e-mail, roster field, crosswalk entry or time of answer is written. The
project document is checked against the standard's ``Project.xsd`` before it is zipped.

:func:`import_qdpx` reads a project coded elsewhere back into the store as one coder's sheets, so
agreement can be computed between a researcher's external coding and the course's.
"""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from widgets import __version__
from widgets.cases.library import load_library
from widgets.errors import CaseProblem, DualroleError, InvalidFile
from widgets.grading.codebook import PROJECT_NS, Codebook, code_elements, guid, schema_problems
from widgets.privacy import (
    MIN_CELL,
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

PROJECT_FILE = "project.qde"
VARIABLES = (("case", "Text"), ("option", "Text"), ("stance", "Text"), ("confidence", "Integer"),
             ("phase", "Text"), ("cohort", "Text"), ("research_code", "Text"), ("attempt", "Integer"),
             ("text", "Text"))
REASONING = "reasoning"  # the ``text`` of a source holding an answer's reasoning (a script's is its kind)
RECONCILED_USER = "dualrole (reconciled codes)"


@dataclass
class QdpxResult:
    """What a ``.qdpx`` export wrote."""

    path: Path
    crosswalk: Path
    sources: int
    learners: int
    segments: int
    withheld_cohorts: int = 0
    synthetic: bool = False
    scripts: int = 0


def _q(tag: str) -> str:
    return f"{{{PROJECT_NS}}}{tag}"


def source_guid(response_id: str, key: bytes) -> str:
    """The source GUID of one answer (or, given a script id, one script): keyed with the instructor key,
    so only its holder can map it back."""
    return guid("source", statement_id(response_id, key))


def write_qdpx(df: pd.DataFrame, reconciled: dict[str, dict], codebook: Codebook, path: Path | str, *,
               crosswalk: Path | str | None = None, min_cell: int = MIN_CELL,
               key_path: Path | str | None = None, scripts=None) -> QdpxResult:
    """Write a REFI-QDA project of the consenting learners' reasoning and scripts, and the reconciled codes.

    Parameters
    ----------
    df : DataFrame
        From :func:`widgets.analysis.responses` (consent already resolved from the store).
    reconciled : dict
        Reconciled coding sheets by response id, and a script's by script id
        (:meth:`widgets.store.codings.CodingBook.reconciled`); sheets under another codebook version
        are left out.
    codebook : Codebook
        The codes of the project.
    path : path
        The ``.qdpx`` file to write.
    crosswalk : path, optional
        The crosswalk CSV, as for the research export (reused, so learners keep their codes).
    min_cell : int
        Cohorts with fewer consenting learners are left out.
    key_path : path, optional
        The instructor key that derives the source GUIDs (default: the data folder's).
    scripts : DataFrame or list of dict, optional
        The learners' scripts (:meth:`widgets.store.sql.Store.latest_scripts`); each one that
        follows an answer in the project becomes a source of its own.

    Returns
    -------
    QdpxResult
    """
    from widgets.analysis.frame import is_synthetic
    from widgets.reporting.research_export import JustificationWarning

    min_cell = check_min_cell(min_cell)
    path = Path(path).expanduser()
    crosswalk_path = Path(crosswalk).expanduser() if crosswalk else default_crosswalk_path()
    if crosswalk_path.resolve().is_relative_to(path.parent.resolve()):
        raise DualroleError(f"{crosswalk_path}: the crosswalk must be outside the folder of {path}")
    library = load_library()
    # The one consent and small-cell rule of every research writer (widgets.privacy.research_rows).
    chosen = research_rows(df[df["case_id"].astype(str).isin({c.id for c in library}).to_numpy()],
                           min_cell=min_cell)
    kept = chosen.frame
    if kept.empty:
        raise DualroleError(
            f"nothing to export: no cohort has at least {min_cell} learners who consented to research use")
    said = research_scripts(chosen, scripts) if scripts is not None else pd.DataFrame()
    kept = kept[kept["justification"].astype(str).str.strip() != ""]
    units = _units(kept, said, chosen.frame)
    codes = research_codes(units["learner"].unique(), read_crosswalk(crosswalk_path))
    key = instructor_key(key_path)
    synthetic = is_synthetic(kept)
    document, segments = project_document(units, codes, reconciled, codebook, key, synthetic=synthetic)
    problems = schema_problems(document, "Project")
    if problems:
        raise DualroleError("internal: the project does not match the REFI-QDA schema: " + problems[0])
    path.parent.mkdir(parents=True, exist_ok=True)
    write_crosswalk(codes, crosswalk_path, path.parent)
    # The learners' own words: private until the instructor has read them and chosen to share.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(PROJECT_FILE, document)
        for row in units.itertuples():
            archive.writestr(f"sources/{source_guid(row.unit_id, key)}.txt", str(row.justification))
    warnings.warn("the project holds the learners' free-text reasoning, which may name people or describe "
                  "clients: read it, or scrub it, before sharing", JustificationWarning, stacklevel=2)
    return QdpxResult(path=path, crosswalk=crosswalk_path, sources=len(units), learners=units["learner"].nunique(),
                      segments=segments, withheld_cohorts=chosen.withheld_cohorts, synthetic=synthetic,
                      scripts=len(said))


def _units(reasoning: pd.DataFrame, scripts: pd.DataFrame, answers: pd.DataFrame) -> pd.DataFrame:
    """The project's texts, one row each: the answers' reasoning, then each script under its answer's
    variables (``unit_id`` the response or script id, ``text`` what the text is, ``justification`` its words)."""
    columns = ["learner", "cohort", "case_id", "option_id", "stance", "confidence", "phase", "attempt"]
    rows = reasoning[[*columns, "response_id", "justification"]].astype({"learner": str, "cohort": str})
    rows = rows.assign(unit_id=rows["response_id"].astype(str), text=REASONING)
    if scripts.empty:
        return rows
    first = answers.astype({"response_id": str}).drop_duplicates("response_id").set_index("response_id")
    said = first.loc[scripts["response_id"].astype(str), columns].reset_index()
    said = said.assign(learner=said["learner"].astype(str), cohort=said["cohort"].astype(str),
                       unit_id=scripts["script_id"].astype(str).to_numpy(), text=scripts["kind"].astype(str).to_numpy(),
                       justification=scripts["text"].astype(str).to_numpy())
    return pd.concat([rows, said[rows.columns]], ignore_index=True)


def project_document(rows: pd.DataFrame, codes: dict[str, str], reconciled: dict[str, dict], codebook: Codebook,
                     key: bytes, *, synthetic: bool = False) -> tuple[bytes, int]:
    """The ``project.qde`` XML of ``rows`` (:func:`_units`: reasoning and scripts), and its number of coded segments."""
    ET.register_namespace("", PROJECT_NS)
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    user = guid("user", "reconciled")
    title = "Dual-role vignette reasoning" + (" (SYNTHETIC DATA)" if synthetic else "")
    root = ET.Element(_q("Project"), name=title, origin=f"dualrole {__version__}", creatingUserGUID=user,
                      creationDateTime=now)
    users = ET.SubElement(root, _q("Users"))
    ET.SubElement(users, _q("User"), guid=user, name=RECONCILED_USER)
    code_elements(codebook, ET.SubElement(ET.SubElement(root, _q("CodeBook")), _q("Codes")), PROJECT_NS)
    variables = ET.SubElement(root, _q("Variables"))
    for name, kind in VARIABLES:
        ET.SubElement(variables, _q("Variable"), guid=guid("variable", name), name=name, typeOfVariable=kind)
    cases = ET.SubElement(root, _q("Cases"))
    sources = ET.SubElement(root, _q("Sources"))
    count = 0
    for row in rows.sort_values(["cohort", "case_id", "phase", "attempt", "unit_id"]).itertuples():
        code = codes[str(row.learner)]
        source = source_guid(row.unit_id, key)
        name = f"{code} {row.case_id} {row.phase} attempt {int(row.attempt)}" + (
            "" if row.text == REASONING else f" {str(row.text).replace('_', ' ')}")
        values = {"case": str(row.case_id), "option": str(row.option_id), "stance": str(row.stance),
                  "confidence": int(row.confidence), "phase": str(row.phase), "cohort": str(row.cohort),
                  "research_code": code, "attempt": int(row.attempt), "text": str(row.text)}
        case = ET.SubElement(cases, _q("Case"), guid=guid("case", source), name=name)
        for variable, kind in VARIABLES:
            value = ET.SubElement(case, _q("VariableValue"))
            ET.SubElement(value, _q("VariableRef"), targetGUID=guid("variable", variable))
            ET.SubElement(value, _q("IntegerValue" if kind == "Integer" else "TextValue")).text = str(values[variable])
        ET.SubElement(case, _q("SourceRef"), targetGUID=source)
        element = ET.SubElement(sources, _q("TextSource"), guid=source, name=name,
                                plainTextPath=f"internal://{source}.txt", creationDateTime=now)
        text = str(row.justification)
        sheet = reconciled.get(row.unit_id)
        if sheet is not None and sheet["codebook_version"] == codebook.version:
            for segment in sheet["segments"]:
                start = 0 if segment["start"] is None else segment["start"]
                end = len(text) if segment["end"] is None else segment["end"]
                selection_id = guid("selection", f"{source}/{segment['code']}/{start}/{end}")
                selection = ET.SubElement(element, _q("PlainTextSelection"), guid=selection_id,
                                          name=text[start:end][:60], startPosition=str(start), endPosition=str(end),
                                          creatingUser=user, creationDateTime=now)
                coding = ET.SubElement(selection, _q("Coding"), guid=guid("coding", selection_id), creatingUser=user,
                                       creationDateTime=now)
                ET.SubElement(coding, _q("CodeRef"), targetGUID=codebook.code(segment["code"]).guid)
                count += 1
    ET.SubElement(root, _q("Description")).text = (
        ("SYNTHETIC: every answer was made by `dualrole simulate`; no real learner answered. " if synthetic else "")
        + "Consenting learners' reasoning, and what they would say after it (variable text), under random research "
        "codes; coded segments are the reconciled codes.")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True), count


# -- import ---------------------------------------------------------------------------------------


def read_project(path: Path | str) -> tuple[ET.Element, dict[str, str]]:
    """A ``.qdpx`` file's project element (checked against ``Project.xsd``) and its source texts by GUID."""
    path = Path(path)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InvalidFile([CaseProblem(path, None, None, f"is not a REFI-QDA project (.qdpx zip): {exc}")]) from None
    with archive:
        names = [n for n in archive.namelist() if n.lower().endswith(".qde")]
        if not names:
            raise InvalidFile([CaseProblem(path, None, None, "holds no .qde project document")])
        document = archive.read(names[0])
        problems = schema_problems(document, "Project")
        if problems:
            raise InvalidFile([CaseProblem(path, None, names[0], p) for p in problems[:20]])
        root = ET.fromstring(document)
        texts = {}
        for source in root.iter(_q("TextSource")):
            inline = source.findtext(_q("PlainTextContent"))
            where = source.get("plainTextPath", "")
            if inline is not None:
                texts[source.get("guid").upper()] = inline
            elif where.startswith("internal://") and f"sources/{where[len('internal://'):]}" in archive.namelist():
                texts[source.get("guid").upper()] = archive.read(f"sources/{where[len('internal://'):]}").decode("utf-8")
    return root, texts


@dataclass
class ImportResult:
    """What a ``.qdpx`` import kept."""

    sheets: int
    segments: int
    unmatched_sources: int


def import_qdpx(path: Path | str, store, coder: str, codebook: Codebook, *,
                key_path: Path | str | None = None) -> ImportResult:
    """Keep the codes of a ``.qdpx`` project coded elsewhere as ``coder``'s sheets in ``store``.

    Sources are matched to answers, and to scripts, through their keyed GUIDs (the project must come
    from this instructor's export); codes by GUID, else by name, against ``codebook``. A code the codebook does
    not have stops the import with its name, before anything is stored. A segment spanning the
    whole text is kept as a code on the whole answer; a source with no code at all is taken as not
    coded (so it does not count in agreement).
    """
    from widgets.store.codings import CodingBook, check_segments

    path = Path(path)
    if not coder.strip():
        raise DualroleError("an import needs the coder's name (whose coding it is)")
    root, _ = read_project(path)
    guids = {}
    for element in root.iter(_q("Code")):
        if element.get("isCodable") in ("true", "1"):
            guids[element.get("guid").upper()] = element.get("name", "")
    by_guid = {c.guid: c.id for c in codebook.codes}
    by_name = {c.name: c.id for c in codebook.codes}
    unknown = sorted({name for g, name in guids.items() if g not in by_guid and name not in by_name})
    if unknown:
        raise DualroleError(f"{path}: these codes are not in codebook '{codebook.id}': {', '.join(unknown)} "
                            f"(its codes: {', '.join(c.name for c in codebook.codes)})")
    key = instructor_key(key_path)
    # Each text of the project by its keyed GUID: an answer's reasoning, or a script (unit, id, text).
    ours = {source_guid(r["response_id"], key): ("reasoning", r["response_id"], r["justification"] or "", r)
            for r in store.responses()}
    ours |= {source_guid(r["script_id"], key): ("script", r["script_id"], r["text"], r) for r in store.scripts()}
    rows, unmatched, count = [], 0, 0
    for source in root.iter(_q("TextSource")):
        found = ours.get(source.get("guid", "").upper())
        if found is None:
            unmatched += 1
            continue
        unit, unit_id, text, coded = found
        segments = []
        for selection in source.findall(_q("PlainTextSelection")):
            start, end = int(selection.get("startPosition")), int(selection.get("endPosition"))
            whole = start <= 0 and end >= len(text)
            for coding in selection.findall(_q("Coding")):
                target = coding.find(_q("CodeRef")).get("targetGUID").upper()
                code = by_guid.get(target) or by_name.get(guids.get(target, ""))
                if code is None:
                    continue  # a code that is not codable (a group) cannot be applied
                segments.append({"code": code, "start": None if whole else start, "end": None if whole else end})
        for coding in source.findall(_q("Coding")):  # a code on the source itself: the whole answer
            target = coding.find(_q("CodeRef")).get("targetGUID").upper()
            code = by_guid.get(target) or by_name.get(guids.get(target, ""))
            if code is not None:
                segments.append({"code": code, "start": None, "end": None})
        if not segments:
            continue  # a source nobody coded there is not a judgement that no code applies
        try:
            checked = check_segments(segments, codebook, text)
        except ValueError as exc:
            raise DualroleError(f"{path}: source '{source.get('name', '')}': {exc}") from None
        count += len(checked)
        rows.append({"response_id": unit_id, "learner": coded["learner"], "unit": unit,
                     "case_id": coded["case_id"], "coder": coder.strip(), "codebook_id": codebook.id,
                     "codebook_version": codebook.version, "segments": checked, "origin": "qdpx"})
    CodingBook(store).record_many(rows)
    return ImportResult(sheets=len(rows), segments=count, unmatched_sources=unmatched)
