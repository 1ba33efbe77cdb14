"""Research exports: consent, codes, no identifiers, the codebook validates, xAPI statements."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from widgets import analysis
from widgets.cases.library import load_library
from widgets.cli import cli
from widgets.reporting.research_export import (
    JustificationWarning,
    research_export,
    statement_schema,
)
from widgets.reporting.simulate import simulate
from widgets.store import open_store
from widgets.vocab import PHASES, RISK_LEVELS, STANCES


@pytest.fixture(scope="module")
def class_store(tmp_path_factory):
    """30 synthetic learners in 2 cohorts (so ids are known), with controlled consent choices."""
    folder = tmp_path_factory.mktemp("class")
    rows = simulate(learners=30, cohorts=2, seed=5)
    learners = sorted(rows["learner"].unique())
    cohort_of = rows.groupby("learner")["cohort"].first()
    # Cohort 1: 13 consent, 2 do not. Cohort 2: only 4 consent (under min_cell: withheld).
    one = [learner for learner in learners if cohort_of[learner].endswith("-1")]
    two = [learner for learner in learners if cohort_of[learner].endswith("-2")]
    consenting = set(one[:13]) | set(two[:4])
    rows["consent"] = rows["learner"].isin(consenting)
    store = open_store(f"sqlite:///{folder / 'class.sqlite'}")
    store.add_many(rows.to_dict("records"))
    store.set_consent(one[12], False)  # consented in the rows, then withdrew
    return store, {"one": one, "two": two, "withdrawn": one[12], "exported": set(one[:12])}


@pytest.fixture(scope="module")
def export(class_store, tmp_path_factory):
    store, who = class_store
    out = tmp_path_factory.mktemp("export") / "out"
    crosswalk = tmp_path_factory.mktemp("private") / "crosswalk.csv"
    result = research_export(analysis.responses(store), out, crosswalk=crosswalk)
    return result, who


def test_only_consenting_learners_of_large_enough_cohorts_are_exported(export):
    result, who = export
    walk = pd.read_csv(result.crosswalk, dtype=str)
    assert set(walk["learner"]) == who["exported"]
    assert who["withdrawn"] not in set(walk["learner"])
    frame = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    assert set(frame["research_code"]) == set(walk["research_code"])
    assert set(frame["cohort"]) == {"synthetic-cohort-1"} and result.withheld_cohorts == 1


def test_the_export_holds_no_learner_id_and_no_justification(export):
    result, who = export
    everyone = who["one"] + who["two"]
    for path in result.out_dir.iterdir():
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
            assert "learner" not in frame.columns and "justification" not in frame.columns
            assert not set(frame.astype(str).to_numpy().ravel()) & set(everyone)
            continue
        content = path.read_text(encoding="utf-8")
        assert "synthetic-learner-" not in content, path.name
        assert "[synthetic] I chose" not in content, path.name
    assert not result.crosswalk.resolve().is_relative_to(result.out_dir.resolve())
    assert "justification" not in pd.read_csv(result.out_dir / "responses.csv", nrows=1).columns


def test_justifications_only_on_request_and_with_a_warning(class_store, tmp_path):
    store, _ = class_store
    df = analysis.responses(store)
    with pytest.warns(JustificationWarning):
        result = research_export(df, tmp_path / "out", crosswalk=tmp_path / "cw.csv", include_justifications=True)
    frame = pd.read_csv(result.out_dir / "responses.csv")
    assert frame["justification"].str.startswith("[synthetic]").all()
    fields = [f["name"] for f in json.loads((result.out_dir / "datapackage.json").read_text())["resources"][0]["schema"]["fields"]]
    assert "justification" in fields
    assert "INCLUDED" in (result.out_dir / "README.md").read_text()


def test_the_data_package_validates_with_frictionless(export):
    frictionless = pytest.importorskip("frictionless")
    result, _ = export
    report = frictionless.validate(result.out_dir / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
    package = json.loads((result.out_dir / "datapackage.json").read_text())
    assert package["synthetic"] is True and package["title"].startswith("SYNTHETIC")
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert all(f.get("description") and f.get("type") for f in fields.values())
    assert [c["value"] for c in fields["stance"]["categories"]] == list(STANCES)
    assert fields["stance"]["categoriesOrdered"] is True
    # Phases in time order, unranked: practice (the lessons) falls between the two tests.
    assert [c["value"] for c in fields["phase"]["categories"]] == ["pre", "practice", "post", "delayed"]
    assert set(PHASES) == {"pre", "practice", "post", "delayed"} and fields["phase"]["categoriesOrdered"] is False
    assert [c["value"] for c in fields["kitchener_power"]["categories"]] == list(RISK_LEVELS)
    assert package["resources"][0]["schema"]["missingValues"][0]["value"] == ""


def test_a_broken_row_fails_frictionless_validation(export, tmp_path):
    # The validation has teeth: a stance outside the codebook is caught.
    frictionless = pytest.importorskip("frictionless")
    result, _ = export
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(result.out_dir, copy)
    frame = pd.read_csv(copy / "responses.csv", dtype=str, keep_default_na=False)
    frame.loc[0, "stance"] = "shrug"
    frame.to_csv(copy / "responses.csv", index=False)
    assert not frictionless.validate(copy / "datapackage.json").valid


def test_every_xapi_statement_is_well_formed(export):
    result, _ = export
    validator = Draft202012Validator(statement_schema())
    cases = {c.id: c for c in load_library()}
    frame = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    lines = (result.out_dir / "xapi.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(frame)
    for line, (_, row) in zip(lines, frame.iterrows()):
        statement = json.loads(line)
        assert not list(validator.iter_errors(statement))
        assert statement["verb"]["id"] == "http://adlnet.gov/expapi/verbs/answered"
        definition = statement["object"]["definition"]
        assert definition["type"] == "http://adlnet.gov/expapi/activities/cmi.interaction"
        assert definition["interactionType"] == "choice"
        assert definition["correctResponsesPattern"] == list(cases[row["case_id"]].preferred)
        assert set(statement["actor"]) == {"objectType", "account"}
        assert statement["actor"]["account"]["name"] == row["research_code"]
        assert statement["result"]["response"] == row["option_id"]
        assert statement["result"]["success"] is (row["matches_reference"] == "true")


def test_the_statement_schema_rejects_an_email_actor(export):
    result, _ = export
    statement = json.loads((result.out_dir / "xapi.jsonl").read_text().splitlines()[0])
    statement["actor"] = {"objectType": "Agent", "mbox_sha1sum": "0" * 40}
    assert list(Draft202012Validator(statement_schema()).iter_errors(statement))


def test_parquet_keeps_ordered_categories(export):
    result, _ = export
    frame = pd.read_parquet(result.out_dir / "responses.parquet")
    assert list(frame["stance"].cat.categories) == list(STANCES) and frame["stance"].cat.ordered


def test_a_reused_crosswalk_keeps_codes(class_store, export, tmp_path):
    result, _ = export
    store, _ = class_store
    again = research_export(analysis.responses(store), tmp_path / "again", crosswalk=result.crosswalk)
    first = pd.read_csv(result.out_dir / "responses.csv", usecols=["research_code"])
    second = pd.read_csv(again.out_dir / "responses.csv", usecols=["research_code"])
    assert set(first["research_code"]) == set(second["research_code"])


def test_no_cohort_large_enough_means_no_export(class_store, tmp_path):
    store, _ = class_store
    from widgets.errors import DualroleError

    # 12 consenting learners remain in cohort 1: with a minimum of 13 nothing may be exported.
    with pytest.raises(DualroleError, match="at least 13 learners who consented"):
        research_export(analysis.responses(store), tmp_path / "out", crosswalk=tmp_path / "cw.csv", min_cell=13)
    assert not (tmp_path / "cw.csv").exists()


def test_times_become_weeks_and_a_late_learner_carries_no_blank_marker(class_store):
    from widgets.privacy import research_rows
    from widgets.reporting.research_export import research_frame

    store, who = class_store
    df = analysis.responses(store)
    df = df[df["learner"].isin(who["exported"])].copy()
    late = sorted(who["exported"])[0]
    df.loc[df["learner"] == late, "submitted_at"] += pd.Timedelta(days=3)  # the only learner on those days
    codes = {learner: f"R{i:08X}" for i, learner in enumerate(sorted(who["exported"]))}
    frame = research_frame(research_rows(df, min_cell=10), codes)
    # Every row has a week, the Monday of its answer's week: nothing is blanked, so no blank marks anyone.
    assert frame["submitted_week"].notna().all()
    assert all(day.weekday() == 0 for day in frame["submitted_week"])
    source = df.set_index("response_id")["submitted_at"]
    mondays = (source.dt.normalize() - pd.to_timedelta(source.dt.day_of_week, unit="D")).dt.date
    assert set(frame["submitted_week"]) == set(mondays)


def test_a_bare_frame_cannot_skip_the_consent_rule(class_store):
    from widgets.errors import DualroleError
    from widgets.reporting.research_export import research_frame

    store, _ = class_store
    with pytest.raises(DualroleError, match="must come from widgets.privacy.research_rows"):
        research_frame(analysis.responses(store), {})


def test_cli_research_export_on_the_sample(tmp_path):
    runner = CliRunner()
    out, crosswalk = tmp_path / "export", tmp_path / "private" / "cw.csv"
    result = runner.invoke(cli, ["research-export", "--sample", "--out", str(out), "--crosswalk", str(crosswalk)])
    assert result.exit_code == 0, result.output
    assert "synthetic response(s)" in result.output and crosswalk.exists()
    assert {p.name for p in out.iterdir()} == {"responses.csv", "responses.parquet", "options.csv",
                                                "datapackage.json", "xapi.jsonl", "README.md",
                                                "assessment_forms.yaml", "SHA256SUMS"}


@pytest.mark.parametrize("args, message", [
    (["--min-cell", "3"], "Error: min_cell must be a whole number of at least 5, not 3"),
    (["--store", "x.sqlite"], "Error: choose either --store or --sample, not both"),
    (["--crosswalk", "{out}/cw.csv"], "the crosswalk must be outside the export folder"),
])
def test_cli_research_export_errors(tmp_path, args, message):
    out = tmp_path / "export"
    args = [a.replace("{out}", str(out)) for a in args]
    result = CliRunner().invoke(cli, ["research-export", "--sample", "--out", str(out), *args])
    assert result.exit_code == 1 and message in result.output
    assert "Traceback" not in result.output


def test_the_row_level_export_is_restricted_and_never_called_public(export, tmp_path):
    """No audience can be chosen, and the row-level tier names itself restricted wherever it describes itself."""
    import inspect

    from widgets.privacy import PrivacyError

    assert "audience" not in inspect.signature(research_export).parameters
    result, _ = export
    package = json.loads((result.out_dir / "datapackage.json").read_text())
    readme = (result.out_dir / "README.md").read_text()
    assert package["dualrole"]["tier"] == "restricted" and "RESTRICTED" in package["description"]
    assert "RESTRICTED" in readme and "not a public release" in readme
    assert "public" not in package["title"].lower()
    result = CliRunner().invoke(cli, ["research-export", "--sample", "--out", str(tmp_path / "x"),
                                      "--audience", "instructor"])
    assert result.exit_code == 2 and "No such option '--audience'" in result.output
    with pytest.raises(PrivacyError, match="min_cell must be a whole number of at least 5"):
        research_export(analysis.sample(), tmp_path / "y", crosswalk=tmp_path / "cw.csv", min_cell=1)
    assert not (tmp_path / "y").exists()


def test_statements_carry_the_day_as_timestamp_and_keyed_ids_stable_across_exports(class_store, tmp_path):
    import uuid

    from widgets.privacy import instructor_key

    store, _ = class_store
    df = analysis.responses(store)
    first = research_export(df, tmp_path / "first")  # the default crosswalk and key, in the data folder
    second = research_export(df, tmp_path / "second")
    assert first.crosswalk == second.crosswalk
    lines = (first.out_dir / "xapi.jsonl").read_text(encoding="utf-8")
    assert lines == (second.out_dir / "xapi.jsonl").read_text(encoding="utf-8")
    assert (first.out_dir / "responses.csv").read_bytes() == (second.out_dir / "responses.csv").read_bytes()

    statements = [json.loads(line) for line in lines.splitlines()]
    frame = pd.read_csv(first.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    for statement, week in zip(statements, frame["submitted_week"]):
        assert statement["timestamp"] == f"{week}T00:00:00Z"  # the answer's week, no day or time of day
    ids = [s["id"] for s in statements]
    assert len(set(ids)) == len(ids) and all(uuid.UUID(i).version == 5 for i in ids)
    # Not guessable from the response id: no unkeyed UUID of a stored response id matches.
    response_ids = set(df["response_id"])
    unkeyed = {str(uuid.uuid5(ns, r)) for r in response_ids
               for ns in (uuid.NAMESPACE_URL, uuid.NAMESPACE_OID, uuid.NAMESPACE_DNS)}
    assert not unkeyed & set(ids) and not response_ids & set(ids)
    # Another instructor (another key) exports the same answers under other ids.
    other = research_export(df, tmp_path / "other", crosswalk=tmp_path / "cw.csv",
                            key_path=tmp_path / "other.key")
    other_ids = [json.loads(line)["id"] for line in (other.out_dir / "xapi.jsonl").read_text().splitlines()]
    assert len(other_ids) == len(ids) and not set(other_ids) & set(ids)
    assert instructor_key() != instructor_key(tmp_path / "other.key")


def test_an_export_from_rows_without_response_ids_is_refused(class_store, tmp_path):
    from widgets.errors import DualroleError

    store, _ = class_store
    df = analysis.responses(store).assign(response_id=pd.NA)
    with pytest.raises(DualroleError, match="no response_id"):
        research_export(df, tmp_path / "out", crosswalk=tmp_path / "cw.csv")


def test_the_export_records_each_answers_assessment_form(export):
    from widgets.cases.forms import assessment_forms

    result, _ = export
    forms = assessment_forms()
    frame = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    assert set(frame["form"]) == {"A", "B", "NA"}  # NA: not applicable, a lesson case
    for row in frame.itertuples():
        assert row.form == (forms.form_of(row.case_id) or "NA")
    fields = [f["name"] for f in json.loads((result.out_dir / "datapackage.json").read_text())["resources"][0]
              ["schema"]["fields"]]
    assert "form" in fields


@pytest.mark.parametrize("drop_parquet", [False, True], ids=["parquet", "csv"])
def test_the_analysis_layer_reads_an_export_and_reproduces_the_consenting_figures(export, tmp_path, drop_parquet,
                                                                                  class_store):
    import shutil

    result, who = export
    folder = tmp_path / "copy"
    shutil.copytree(result.out_dir, folder)
    if drop_parquet:
        (folder / "responses.parquet").unlink()
    df = analysis.read_export(folder)
    store, _ = class_store
    source = analysis.responses(store)
    source = source[source["learner"].isin(who["exported"])]
    assert df["learner"].nunique() == len(who["exported"]) and len(df) == len(source)
    assert df["consent"].all() and df["learner"].str.match(r"R[0-9A-F]{8}").all()
    mine, theirs = analysis.prepost(df), analysis.prepost(source)
    pd.testing.assert_frame_equal(mine[["n", "pre_matching", "post_matching"]], theirs[["n", "pre_matching", "post_matching"]])
    assert analysis.share_matching(df) == pytest.approx(analysis.share_matching(source))


def test_read_export_names_a_folder_that_is_no_export(tmp_path):
    from widgets.errors import DualroleError

    with pytest.raises(DualroleError, match="no responses.parquet or responses.csv"):
        analysis.read_export(tmp_path)


def test_the_package_records_provenance_and_checksums(export):
    import hashlib

    result, _ = export
    package = json.loads((result.out_dir / "datapackage.json").read_text())
    meta = package["dualrole"]
    assert meta["tier"] == "restricted" and meta["codebook_version"] == package["version"] == "2.1.0"
    assert meta["forms_file"] == "assessment_forms.yaml" and (result.out_dir / "assessment_forms.yaml").exists()
    assert meta["commit"] is None or len(meta["commit"].split("-")[0]) == 40
    sums = dict(line.split("  ")[::-1] for line in (result.out_dir / "SHA256SUMS").read_text().splitlines())
    assert set(sums) == {p.name for p in result.out_dir.iterdir()} - {"SHA256SUMS"}
    for name, digest in sums.items():
        assert hashlib.sha256((result.out_dir / name).read_bytes()).hexdigest() == digest
    for name, digest in meta["files"].items():
        assert sums[name] == digest.removeprefix("sha256:")


def test_case_version_changes_with_the_key_not_with_a_rationale():
    import dataclasses

    case = load_library()["cosmetics"]
    rekeyed = dataclasses.replace(case, acceptable=tuple(o.id for o in case.options if o.id not in case.preferred)[:1])
    assert rekeyed.case_version != case.case_version
    assert dataclasses.replace(case, rationale="reworded").case_version == case.case_version
    assert dataclasses.replace(case, contested=not case.contested).case_version != case.case_version


def test_table_headings_say_what_is_counted():
    from widgets.reporting import report

    df = analysis.sample()
    bins = report.styled(report.calibration_bins(df), "bins").to_html()
    assert "Answers in the bin" in bins and "Learners in the bin" in bins
    pooled = report.styled(report.prepost_cases(df), "prepost_cases").to_html()
    assert "Pairs (learner and case)" in pooled and "Set of cases" in pooled and "Cases in the set" in pooled
    assert ">Learners<" not in pooled
    timing = report.styled(report.revote_timing_overview(df, audience="instructor"), "revote_timing").to_html()
    assert "Seen before the revote" in timing and ">Phase<" not in timing


def test_each_revote_says_whether_the_class_counts_and_the_reference_were_seen(class_store, tmp_path):
    store, who = class_store
    df = analysis.responses(store)
    revote = df.index[(df["attempt"] == 2) & df["learner"].astype(str).isin(who["exported"])]
    assert len(revote) > 1
    df.loc[revote[0], "distribution_seen"] = pd.NA  # as saved by a dualrole that did not record it
    result = research_export(df, tmp_path / "out", crosswalk=tmp_path / "private" / "crosswalk.csv")
    frame = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    firsts, revotes = frame[frame["attempt"] == "1"], frame[frame["attempt"] == "2"]
    assert set(firsts["distribution_seen"]) == {"false"}  # nothing is shown before a first answer
    exported = df[df["learner"].astype(str).isin(who["exported"]) & (df["attempt"] == 2)]["distribution_seen"]
    assert (revotes["distribution_seen"] == "NR").sum() == 1
    assert (revotes["distribution_seen"] == "true").sum() == int(exported.eq(True).sum()) > 0
    assert (revotes["distribution_seen"] == "false").sum() == int(exported.eq(False).sum()) > 0
    assert set(frame["reference_seen"]) == {"false"}
    package = json.loads((result.out_dir / "datapackage.json").read_text())
    fields = {f["name"]: f for f in package["resources"][0]["schema"]["fields"]}
    assert "'NR' (not recorded)" in fields["distribution_seen"]["description"]
    assert "NR" in {m["value"] for m in package["resources"][0]["schema"]["missingValues"]}
    # The analysis layer reads it back, and tells the revotes apart as the store's frame does.
    timing = analysis.revote_timing(analysis.read_export(result.out_dir))
    assert int(timing.loc["not recorded", "revoted"]) == 1
    assert int(timing.loc["the class", "revoted"]) == int(exported.eq(True).sum())


def test_a_delayed_post_test_is_exported_as_its_own_phase_for_a_pre_post_delayed_comparison(tmp_path):
    """Some learners take the post-test's form again as the delayed post-test (the pre-test's form,
    in the course; any form's cases here): their three phases come out side by side, coded alike."""
    import uuid
    from datetime import timedelta

    rows = simulate(learners=10, cohorts=1, seed=11)
    rows["consent"] = True
    post = rows[rows["phase"] == "post"]
    delayed = post[post["learner"].isin(sorted(post["learner"].unique())[:5])].copy()
    delayed["phase"] = "delayed"
    delayed["response_id"] = [str(uuid.uuid4()) for _ in range(len(delayed))]
    delayed["submitted_at"] = delayed["submitted_at"] + timedelta(days=30)
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    store.add_many(pd.concat([rows, delayed]).to_dict("records"))
    result = research_export(analysis.responses(store), tmp_path / "out", crosswalk=tmp_path / "cw.csv")
    frame = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    assert set(frame["phase"]) == {"pre", "post", "delayed"}
    per_learner = frame.groupby("research_code")["phase"].agg(set)
    assert (per_learner == {"pre", "post", "delayed"}).sum() == 5
    key = ["research_code", "case_id", "attempt"]
    pairs = frame[frame["phase"] == "delayed"].merge(frame[frame["phase"] == "post"], on=key, suffixes=("", "_post"))
    assert len(pairs) == len(delayed) and (pairs["option_id"] == pairs["option_id_post"]).all()
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(result.out_dir / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]
