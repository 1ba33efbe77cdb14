"""The REFI-QDA project export (``research-export --qdpx``) and import, on a SYNTHETIC class.

The project is checked against the standard's published Project.xsd, read back with an independent
parser from the package index (pyrefiqda) and compared source by source, code by code and segment
by segment; nothing identifying leaves; a project coded elsewhere comes back as a coder's codes.
"""

from __future__ import annotations

import re
import shutil
import stat
import warnings
import zipfile

import pandas as pd
import pytest
from click.testing import CliRunner

from widgets import analysis
from widgets.analysis.coded_reasoning import code_alpha, presence
from widgets.cli import cli
from widgets.grading.codebook import default_codebook, schema_problems
from widgets.grading.files import read_roster
from widgets.paths import data_dir, private_folder
from widgets.privacy import key_path
from widgets.reporting.qdpx import PROJECT_FILE, import_qdpx, write_qdpx
from widgets.reporting.simulate import into_store, simulate, simulate_codings
from widgets.store import open_store
from widgets.store.codings import CodingBook

pytestmark = pytest.mark.filterwarnings("ignore::widgets.reporting.research_export.JustificationWarning")


def responses(store, url):
    """The tidy frame of the store. Its fast reader links a SQLite library of its own, whose closing
    connection would remove the WAL file under this process's open connections; so close them first."""
    store.engine.dispose()
    return analysis.responses(url)


def _export(coded, tmp_path):
    store, url, codebook, book = coded
    return write_qdpx(responses(store, url), book.reconciled(codebook), codebook, tmp_path / "out" / "reasoning.qdpx",
                      crosswalk=tmp_path / "private" / "crosswalk.csv")


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A synthetic class of 11 learners (10 consenting) in one cohort, with a small second cohort, coded and
    reconciled, and its project exported: made once, in a data folder of its own (its instructor key).
    Each test works on a copy of the class store (:func:`coded`); the tests that only read the project,
    or edit a copy of it, share this export rather than making the same one again."""
    folder = tmp_path_factory.mktemp("class")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DUALROLE_HOME", str(folder / "dualrole-home"))  # never the real data folder
        for name in ("DUALROLE_STORE", "DUALROLE_CASES", "DUALROLE_COHORT", "JUPYTERHUB_USER", "DUALROLE_SERVICE_URL"):
            patch.delenv(name, raising=False)
        url = f"sqlite:///{folder / 'class.sqlite'}"
        store = open_store(url)
        frame = simulate(learners=11, cohorts=1, seed=11)
        frame["consent"] = frame["learner"] != "synthetic-learner-0003"  # one learner said no
        small = simulate(learners=3, cohorts=1, seed=12)
        small["cohort"] = "synthetic-cohort-small"
        small["learner"] = small["learner"].str.replace("synthetic-learner-", "synthetic-small-")
        small["response_id"] = [f"00000000-0000-4000-8000-{i:012d}" for i in range(len(small))]
        small["consent"] = True
        for part in (frame, small):
            into_store(part, store)
        codebook = default_codebook()
        book = CodingBook(store)
        book.record_many(simulate_codings(pd.concat([frame, small]), codebook, seed=3))
        exported = _export((store, url, codebook, book), folder)
        store.engine.dispose()  # every connection closed: the file is whole, for the copies
        yield folder / "class.sqlite", key_path(), exported


@pytest.fixture
def coded(built, tmp_path):
    """This test's copy of the class store, with the class's instructor key in this test's data folder."""
    class_file, key, _ = built
    shutil.copy2(class_file, tmp_path / "class.sqlite")
    private_folder(key_path().parent)
    shutil.copy2(key, key_path())
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    store = open_store(url)
    return store, url, default_codebook(), CodingBook(store)


@pytest.fixture
def exported(built, coded):
    """The class's project, exported once (with the key ``coded`` puts in this test's data folder)."""
    return built[2]


def test_the_project_validates_against_the_published_schema_and_is_private(exported):
    result = exported
    with zipfile.ZipFile(result.path) as archive:
        document = archive.read(PROJECT_FILE)
        names = archive.namelist()
    import xmlschema

    # Checked straight against the published schema (write_qdpx ran schema_problems on it already).
    xmlschema.XMLSchema(str(data_dir() / "schema" / "refi_qda" / "Project.xsd")).validate(document.decode("utf-8"))
    assert len([n for n in names if n.startswith("sources/")]) == result.sources
    assert stat.S_IMODE(result.path.stat().st_mode) == 0o600
    assert result.synthetic and b"SYNTHETIC" in document


def test_an_independent_parser_reads_back_every_source_code_and_segment(coded, exported, tmp_path):
    from pyrefiqda import RefiProject

    store, url, codebook, book = coded
    result = exported
    project = RefiProject.load(result.path, extract_dir=str(tmp_path / "extracted"))

    # codes: the codebook, under its groups
    parsed = {c.guid: c for group in project.code_book.codes.code for c in group.code}
    assert {g.name for g in project.code_book.codes.code} == {"principle", "reasoning"}
    assert {(c.guid, c.name, c.color) for c in parsed.values()} == {(c.guid, c.name, c.color) for c in codebook.codes}

    # sources: one per consenting answer in a large enough cohort, with its text and its segments
    frame = responses(store, url)
    kept = frame[frame["consent"] & (frame["cohort"] != "synthetic-cohort-small")]
    texts = {str(r.justification) for r in kept.itertuples()}
    sources = project.sources.text_source
    assert len(sources) == len(kept) == result.sources
    reconciled = book.reconciled(codebook)
    by_text = {}
    for r in kept.itertuples():
        by_text.setdefault(str(r.justification), []).append(reconciled.get(r.response_id))
    variables = {v.guid: v.name for v in project.variables.variable}
    cases = {c.source_ref[0].target_guid: c for c in project.cases.case}
    segments = 0
    for source in sources:
        text = (tmp_path / "extracted" / "sources" / f"{source.guid}.txt").read_text(encoding="utf-8")
        assert text in texts
        got = sorted((parsed[s.coding[0].code_ref.target_guid].name, s.start_position, s.end_position)
                     for s in source.plain_text_selection)
        options = []
        for sheet in by_text[text]:
            segs = sheet["segments"] if sheet else []
            options.append(sorted((codebook.code(g["code"]).name, g["start"] or 0,
                                   len(text) if g["end"] is None else g["end"]) for g in segs))
        assert got in options
        segments += len(got)
        case = cases[source.guid]
        values = {variables[v.variable_ref.target_guid]: (v.text_value if v.text_value is not None else v.integer_value)
                  for v in case.variable_value}
        assert set(values) == {"case", "option", "stance", "confidence", "phase", "cohort", "research_code", "attempt",
                               "text"} and values["text"] == "reasoning"
        assert re.fullmatch(r"R[0-9A-F]{8}", values["research_code"]) and values["cohort"] == "synthetic-cohort-1"
    assert segments == result.segments > 0


def test_no_roster_name_learner_id_or_crosswalk_entry_leaves(coded, exported, tmp_path):
    store, url, codebook, book = coded
    roster_file = tmp_path / "private" / "roster.csv"
    roster_file.parent.mkdir()
    learners = sorted({r["learner"] for r in store.responses()})
    roster_file.write_text("learner_id,name,email,sis_id\n" + "".join(
        f"{lid},Synthetic Person {i:03d},person{i:03d}@example.invalid,SIS{i:06d}\n" for i, lid in enumerate(learners)),
        encoding="utf-8")
    roster = read_roster(roster_file)
    result = exported
    with zipfile.ZipFile(result.path) as archive:
        blob = b"\n".join(archive.read(n) for n in archive.namelist()) + "\n".join(archive.namelist()).encode()
    text = blob.decode("utf-8")
    for entry in roster:
        for value in (entry.learner_id, entry.name, entry.email, entry.sis_id):
            assert value and value not in text
    walk = pd.read_csv(result.crosswalk, dtype=str)
    assert not any(learner in text for learner in walk["learner"])
    for response in store.responses():
        assert response["response_id"] not in text
    assert "synthetic-small" not in text and "synthetic-cohort-small" not in text  # the small cohort stays home
    assert not result.crosswalk.resolve().is_relative_to(result.path.parent.resolve())
    assert result.withheld_cohorts == 1


def test_a_project_coded_elsewhere_comes_back_as_a_coders_codes(coded, exported, tmp_path):
    store, url, codebook, book = coded
    result = exported
    # A researcher removes one segment in their tool; the rest of their coding is the reconciled codes.
    with zipfile.ZipFile(result.path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    document = files[PROJECT_FILE].decode("utf-8")
    first = re.search(r"<PlainTextSelection [^>]*>.*?</PlainTextSelection>", document, re.S)
    files[PROJECT_FILE] = (document[:first.start()] + document[first.end():]).encode("utf-8")
    edited = tmp_path / "coded-elsewhere.qdpx"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)

    outcome = CliRunner().invoke(cli, ["qdpx-import", str(edited), "--store", url, "--coder", "dr-external"])
    assert outcome.exit_code == 0, outcome.output
    imported = book.sheets(coder="dr-external")
    assert f"on {len(imported)} answer(s) as dr-external's coding" in outcome.output
    assert {s["origin"] for s in imported} == {"qdpx"}
    reconciled = book.reconciled(codebook)
    texts = {r["response_id"]: r["justification"] for r in store.responses()}

    def spans(sheet):  # a segment over the whole text is the whole answer
        n = len(texts[sheet["response_id"]])
        return sorted((g["code"], g["start"] or 0, n if g["end"] is None else g["end"]) for g in sheet["segments"])

    differing = [s for s in imported if spans(s) != spans(reconciled[s["response_id"]])]
    assert len(differing) == 1  # exactly the segment removed
    assert sum(len(s["segments"]) for s in imported) == result.segments - 1
    table = presence(book.sheets(codebook=codebook), codebook.ids)
    assert "dr-external" in set(table["coder"]) and not code_alpha(table).empty


def test_an_import_with_a_code_outside_the_codebook_stores_nothing(coded, exported, tmp_path):
    store, url, codebook, book = coded
    result = exported
    with zipfile.ZipFile(result.path) as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    files[PROJECT_FILE] = files[PROJECT_FILE].replace(b'name="Principle: justice"', b'name="Care ethics"')
    edited = tmp_path / "other-codes.qdpx"
    with zipfile.ZipFile(edited, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    from widgets.grading.codebook import Code, Codebook

    renamed = Codebook(codebook.id, codebook.title, tuple(
        Code(c.id + "x", c.name, c.definition, c.example, c.counter_example) for c in codebook.codes))
    with pytest.raises(Exception, match="Care ethics"):
        import_qdpx(edited, store, "dr-external", renamed)
    assert book.sheets(coder="dr-external") == []


def test_the_command_writes_the_project_from_the_sample(tmp_path):
    out = tmp_path / "export"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = CliRunner().invoke(cli, ["research-export", "--sample", "--out", str(out), "--crosswalk",
                                          str(tmp_path / "private" / "cw.csv"), "--qdpx"])
    assert result.exit_code == 0, result.output
    assert "synthetic reasoning text(s)" in result.output and (out / "reasoning.qdpx").exists()
    with zipfile.ZipFile(out / "reasoning.qdpx") as archive:
        assert b"SYNTHETIC" in archive.read(PROJECT_FILE)  # checked against the schema as it was written


def test_the_shipped_codebook_schema_declares_the_same_code_structure_as_the_project_schema():
    from xml.etree import ElementTree as ET

    xsd = "{http://www.w3.org/2001/XMLSchema}"

    def attributes(name, type_name):
        root = ET.parse(data_dir() / "schema" / "refi_qda" / f"{name}.xsd").getroot()
        node = next(t for t in root.iter(f"{xsd}complexType") if t.get("name") == type_name)
        return {(a.get("name"), a.get("type"), a.get("use")) for a in node.iter(f"{xsd}attribute")}

    assert attributes("Codebook", "CodeType") == attributes("Project", "CodeType")


def test_the_command_exports_a_stores_reconciled_codes(coded, tmp_path):
    store, url, codebook, book = coded
    expected = _export(coded, tmp_path)
    store.engine.dispose()
    out = tmp_path / "cli-export"
    result = CliRunner().invoke(cli, ["research-export", "--store", url, "--out", str(out), "--crosswalk",
                                      str(tmp_path / "private" / "crosswalk.csv"), "--qdpx"])
    assert result.exit_code == 0, result.output
    assert (f"Wrote {expected.sources} synthetic reasoning text(s) and 0 script(s) with {expected.segments} "
            "reconciled coded segment(s)") in result.output
    with zipfile.ZipFile(out / "reasoning.qdpx") as mine, zipfile.ZipFile(expected.path) as theirs:
        assert sorted(mine.namelist()) == sorted(theirs.namelist())  # same keyed source ids, same crosswalk


def test_scripts_are_sources_beside_the_reasoning_and_come_back_as_script_codes(coded, tmp_path):
    from widgets.responses.contract import Script

    store, url, codebook, book = coded
    frame = responses(store, url)
    firsts = frame[(frame["attempt"] == 1) & (frame["cohort"] == "synthetic-cohort-1")].drop_duplicates("learner")
    for row in firsts.itertuples():
        store.save_script(Script(learner=row.learner, cohort=row.cohort, case_id=row.case_id,
                                 case_version=row.case_version, response_id=row.response_id, kind="script",
                                 text=f"[synthetic] what {row.learner} would say", checks=[1]))
    scripts = store.latest_scripts()
    ana = next(s for s in scripts if s["learner"] != "synthetic-learner-0003")
    book.record(ana["script_id"], "synthetic-reconciler", codebook, [{"code": "fidelity", "start": 12, "end": 16}],
                reconciled=True, unit="script")
    store.engine.dispose()
    result = write_qdpx(responses(store, url), book.reconciled(codebook), codebook, tmp_path / "out" / "r.qdpx",
                        crosswalk=tmp_path / "private" / "crosswalk.csv", scripts=scripts)
    assert result.scripts == len(scripts) - 1  # learner 0003 said no to research: nor their words
    with zipfile.ZipFile(result.path) as archive:
        document = archive.read(PROJECT_FILE)
        texts = [archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("sources/")]
    assert schema_problems(document, "Project") == []
    said = sorted(t for t in texts if t.startswith("[synthetic] what"))
    assert said == sorted(s["text"] for s in scripts if s["learner"] != "synthetic-learner-0003")
    assert len(texts) == result.sources and b" script\"" in document and b">script<" in document
    assert b"synthetic-learner-0003" not in document

    imported = import_qdpx(result.path, store, "synthetic-external", codebook)
    assert imported.unmatched_sources == 0
    [sheet] = book.sheets(coder="synthetic-external", unit="script")
    assert sheet["response_id"] == ana["script_id"] and sheet["origin"] == "qdpx"
    assert sheet["segments"] == [{"code": "fidelity", "start": 12, "end": 16}]
