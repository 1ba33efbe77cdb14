"""From answers to grades at the command line: roster check, the three gradebook formats, feedback
files. Every learner, name and id here is synthetic.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from widgets.cases.course import core_case_ids
from widgets.cases.library import load_library
from widgets.cli import cli
from widgets.grading.files import assessment_cases, default_rubric
from widgets.responses.contract import Response
from widgets.store import open_store
from widgets.store.scores import ScoreBook

REASON = "The roles overlap, so I would decline kindly and refer her, citing APA 3.05."


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def answer(store, learner, case, phase="practice", why=REASON):
    option = case.options[0]
    store.add(Response(learner=learner, cohort="synthetic-seminar", case_id=case.id, case_version=case.case_version,
                       option_id=option.id, stance=option.stance, confidence=60, justification=why, phase=phase))
    return store.responses(learner=learner, case_id=case.id, phase=phase)[-1]["response_id"]


@pytest.fixture
def klass(tmp_path):
    """A class store: ana did all of module 1 and the pre-test, ben one case with a one-word reason,
    zed (not on the roster) one case; cy is on the roster and answered nothing."""
    library = load_library()
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    confidentiality = library.module("confidentiality")
    ana = [answer(store, "synthetic-ana", case) for case in confidentiality]
    for case_id in assessment_cases():
        answer(store, "synthetic-ana", library[case_id], phase="pre")
    # Completion counts the lesson's core cases (data/course.yaml): ben's are two of them.
    core = [library[case_id] for case_id in core_case_ids("confidentiality")]
    answer(store, "synthetic-ben", core[0], why="no")
    answer(store, "synthetic-ben", core[1])
    answer(store, "synthetic-zed", core[0])
    book = ScoreBook(store)
    book.record(ana[0], "dr-lee", default_rubric(), {c.id: 2 for c in default_rubric().criteria})
    book.record(ana[1], "dr-lee", default_rubric(), {c.id: 1 for c in default_rubric().criteria})
    roster = tmp_path / "roster.csv"
    roster.write_text("learner_id,name,email,lms_id,sis_id,section\n"
                      "synthetic-ana,Ana Synthetic,ana@example.org,1001,S-1,A\n"
                      "synthetic-ben,Ben Synthetic,ben@example.org,1002,S-2,A\n"
                      "synthetic-cy,Cy Synthetic,,1003,S-3,B\n", encoding="utf-8")
    return {"store": tmp_path / "class.sqlite", "roster": roster, "n1": len(core), "all": len(confidentiality),
            "tmp": tmp_path}


@pytest.fixture
def grades(klass):
    """``dualrole grades`` on the class store and roster, into ``out``: ``grades(out, "--partial")``."""
    return lambda out, *options, roster=None: run("grades", "--store", klass["store"], "--roster",
                                                  roster or klass["roster"], "--out", out, *options)


def table(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))


def test_roster_check_lists_the_unknown_learner_and_the_entry_with_no_answers(klass):
    result = run("roster", "check", "--store", klass["store"], "--roster", klass["roster"])
    assert result.exit_code == 1
    assert "Not on the roster (1): synthetic-zed" in result.output
    assert "On the roster with no answers (1): synthetic-cy (line 4)" in result.output


def test_roster_check_names_the_line_of_a_broken_roster(klass, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("learner_id,name\nsynthetic-ana,A\nsynthetic-ana,B\n", encoding="utf-8")
    result = run("roster", "check", "--store", klass["store"], "--roster", bad)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert result.output.startswith("Error: ") and "bad.csv:3: learner_id: 'synthetic-ana' is already on line 2" \
        in result.output


def test_plain_grades_count_completion_and_the_rubric_where_scored(klass, grades):
    out = klass["tmp"] / "grades.csv"
    result = grades(out, "--partial")
    assert result.exit_code == 0, result.output
    rows = {r["learner_id"]: r for r in table(out)}
    assert list(rows["synthetic-ana"])[3:-1] == ["1. Confidentiality", "Pre-test", "Ethical reasoning",
                                                 "Case analyses"]        # taught only
    assert rows["synthetic-ana"]["1. Confidentiality"] == "3"            # every core case of the lesson
    assert rows["synthetic-ana"]["Pre-test"] == "3"
    assert rows["synthetic-ana"]["Ethical reasoning"] == "18.75"         # mean of 10/10 and 5/10, of 25
    assert rows["synthetic-ana"]["Case analyses"] == ""                  # her analysis is not scored yet
    ben = float(rows["synthetic-ben"]["1. Confidentiality"])             # a reasoning of "no" does not count
    assert ben == pytest.approx(round(3 / klass["n1"], 2))
    assert rows["synthetic-ben"]["Ethical reasoning"] == ""              # not scored yet: blank, never 0
    assert rows["synthetic-ben"]["Pre-test"] == ""                       # missing work: blank by default
    assert rows["synthetic-cy"]["1. Confidentiality"] == "" and rows["synthetic-cy"]["on_roster"] == "yes"
    assert rows["synthetic-zed"]["on_roster"] == "no"                    # reported, never dropped
    assert "Not on the roster (1, kept in the file with on_roster=no): synthetic-zed" in result.output
    assert "with the rubric scores so far (--partial)" in result.output


def test_the_summary_counts_each_assignment_and_a_dry_run_writes_nothing(klass, grades):
    out = klass["tmp"] / "grades.csv"
    result = grades(out, "--dry-run")
    assert result.exit_code == 0, result.output
    assert not out.exists()
    n = klass["all"] + 3  # ana's lesson (optional cases too: each is scored), ben's two answers, zed's one
    assert ("Lessons counted: 1. Confidentiality and the fact of therapy, Pre-test (those the class answered; name them with taught: in "
            "your policy)") in result.output
    assert "Weights: reasoning (rubric scores) 92%, completion 8% of 76 points." in result.output
    assert "  1. Confidentiality (3 points, 4%, completion): 4 learner(s): 3 complete, 1 blank, 0 excused, 0 zero" \
        in result.output
    assert "  Pre-test (3 points, 4%, completion): 4 learner(s): 1 complete, 3 blank, 0 excused, 0 zero" in result.output
    assert ("  Ethical reasoning (25 points, 33%, reasoning): 4 learner(s): 1 complete, 3 blank, 0 excused, 0 zero; "
            f"answers scored 2 of {n} (PARTIAL: written only with --partial)") in result.output
    assert "  Case analyses (45 points, 59%, reasoning): " in result.output


def test_the_case_analyses_count_the_last_answer_on_their_own_rubric(klass, grades):
    from widgets.grading.files import shipped_rubric

    library = load_library()
    store = open_store(f"sqlite:///{klass['store']}")
    first = store.responses(learner="synthetic-ana", case_id="spouse_phone_call")[0]["response_id"]
    case = library["spouse_phone_call"]
    revote = case.options[1]
    store.add(Response(learner="synthetic-ana", cohort="synthetic-seminar", case_id=case.id,
                       case_version=case.case_version, option_id=revote.id, stance=revote.stance, confidence=70,
                       justification=REASON, phase="practice", attempt=2))
    last = store.responses(learner="synthetic-ana", case_id="spouse_phone_call")[-1]["response_id"]
    analysis, book = shipped_rubric("case_analysis"), ScoreBook(store)
    book.record(first, "dr-lee", analysis, {c.id: 0 for c in analysis.criteria})  # an earlier attempt: not counted
    book.record(last, "dr-lee", analysis, {**{c.id: 3 for c in analysis.criteria}, "action": 0})
    book.record(last, "dr-lee", default_rubric(), {c.id: 0 for c in default_rubric().criteria})  # its reasoning
    out = klass["tmp"] / "grades.csv"
    result = grades(out, "--partial")
    assert result.exit_code == 0, result.output
    ana = {r["learner_id"]: r for r in table(out)}["synthetic-ana"]
    assert ana["Case analyses"] == "37.5"                                # 15 of 18, of 45 points
    assert ana["Ethical reasoning"] == str(round(25 * (1 + 0.5 + 0) / 3, 2))  # the reasoning sheet on its own rubric
    others = {r["learner"] for r in store.responses(case_id="spouse_phone_call")} - {"synthetic-ana"}
    assert ("  Case analyses (45 points, 59%, reasoning): 4 learner(s): 1 complete, 3 blank, 0 excused, 0 zero; "
            f"answers scored 1 of {1 + len(others)}") in result.output  # each learner's last answer, once


def test_an_unfinished_rubric_column_is_left_out_unless_partial(klass, grades):
    out = klass["tmp"] / "grades.csv"
    result = grades(out)
    assert result.exit_code == 0, result.output
    assert "Ethical reasoning" not in table(out)[0]
    assert ("Left out, not fully scored: Case analyses, Ethical reasoning (score and reconcile every answer, or add "
            "--partial).") in result.output


def test_the_policy_names_the_lessons_taught_and_what_missing_work_gets(klass, grades, tmp_path):
    policy = tmp_path / "policy.yaml"
    policy.write_text("taught: [confidentiality, post]\nmissing: excused\nassignments:\n"
                      "  - {name: Week 1, lessons: [confidentiality], completion_points: 10}\n"
                      "  - {name: Week 2, lessons: [business], completion_points: 10}\n"
                      "  - {name: Post, lessons: [post], completion_points: 5}\n", encoding="utf-8")
    canvas, moodle = tmp_path / "canvas.csv", tmp_path / "moodle.csv"
    for out, fmt in ((canvas, "canvas"), (moodle, "moodle")):
        result = grades(out, "--format", fmt, "--policy", policy)
        assert "(the policy's taught:)" in result.output
    rows = {r["SIS Login ID"]: r for r in table(canvas)[1:]}
    assert list(rows["synthetic-ana"])[5:] == ["Week 1", "Post"]         # Week 2 is not taught this term
    assert rows["synthetic-ana"]["Post"] == "EX" and rows["synthetic-cy"]["Week 1"] == "EX"
    assert {r["Email address"]: r["Post"] for r in table(moodle)} == {"ana@example.org": "", "ben@example.org": ""}


@pytest.mark.parametrize("command", [("grades", "--out", "g.csv"), ("grades", "--dry-run"), ("roster", "check"),
                                     ("feedback-export", "--out", "fb")])
def test_a_mistyped_store_is_an_error_and_never_created(klass, tmp_path, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    typo = tmp_path / "clas.sqlite"
    extra = ("--roster", klass["roster"]) if command[0] in ("grades", "roster") else ()
    result = run(*command, "--store", typo, *extra)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"there is no class store at {typo}" in result.output
    assert not typo.exists() and not (tmp_path / "g.csv").exists()


def test_an_empty_store_is_an_error_naming_it(klass, tmp_path):
    empty = tmp_path / "empty.sqlite"
    open_store(f"sqlite:///{empty}")
    result = run("grades", "--store", empty, "--roster", klass["roster"], "--out", tmp_path / "g.csv")
    assert result.exit_code == 1 and f"the class store sqlite:///{empty} holds no answers" in result.output
    assert not (tmp_path / "g.csv").exists()


def test_a_moodle_gradebook_with_no_learner_is_refused(klass, grades, tmp_path):
    roster = tmp_path / "no-emails.csv"
    roster.write_text("learner_id,name\nsynthetic-ana,Ana\n", encoding="utf-8")
    out = tmp_path / "moodle.csv"
    result = grades(out, "--format", "moodle", roster=roster)
    assert result.exit_code == 1 and "the gradebook would hold no learner" in result.output
    assert not out.exists()


def test_canvas_grades_have_the_import_columns_and_points_possible(klass, grades):
    out = klass["tmp"] / "canvas.csv"
    result = grades(out, "--format", "canvas", "--partial")
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8").splitlines()
    header = next(csv.reader([lines[0]]))
    assert header[:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert header[5] == "1. Confidentiality" and header[-1] == "Case analyses"
    points = next(csv.reader([lines[1]]))
    assert points[0].strip() == "Points Possible" and points[5] == "3" and points[-1] == "45"
    rows = table(out)[1:]
    assert [(r["Student"], r["ID"], r["SIS Login ID"]) for r in rows] == [
        ("Ana Synthetic", "1001", "synthetic-ana"), ("Ben Synthetic", "1002", "synthetic-ben"),
        ("Cy Synthetic", "1003", "synthetic-cy")]
    assert "synthetic-zed" not in out.read_text(encoding="utf-8")
    assert "Not on the roster (1, left out of the file): synthetic-zed" in result.output


def test_moodle_grades_have_one_identifier_column_then_the_grade_items(klass, grades):
    out = klass["tmp"] / "moodle.csv"
    result = grades(out, "--format", "moodle")
    rows = table(out)
    assert list(rows[0])[0] == "Email address" and list(rows[0])[1] == "1. Confidentiality"
    assert [r["Email address"] for r in rows] == ["ana@example.org", "ben@example.org"]
    assert "On the roster without the id this format needs (1): synthetic-cy" in result.output
    assert result.exit_code == 1
    by_id = grades(out, "--format", "moodle", "--moodle-id", "idnumber")
    assert by_id.exit_code == 0 and [r["ID number"] for r in table(out)] == ["S-1", "S-2", "S-3"]


@pytest.mark.parametrize("policy, said", [
    ("assignments:\n  - name: Week 1\n    lessons: [confidentialty]\n    completion_points: 10\n",
     "policy.yaml:3: assignments[0].lessons[0]: 'confidentialty' is not one of"),
    ("assignments:\n  - {name: Analyses, lessons: [confidentiality], rubric: my_analysis, rubric_points: 10}\n",
     "no shipped rubric 'my_analysis' (shipped: case_analysis, ethical_reasoning)"),
])
def test_a_policy_file_with_a_mistake_is_an_error_naming_it_and_writes_nothing(grades, tmp_path, policy, said):
    (tmp_path / "policy.yaml").write_text(policy, encoding="utf-8")
    out = tmp_path / "never.csv"
    result = grades(out, "--policy", tmp_path / "policy.yaml")
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert said in result.output
    assert not out.exists()


def test_feedback_export_writes_one_file_per_learner_with_released_feedback(klass):
    store = open_store(f"sqlite:///{klass['store']}")
    rid = ScoreBook(store).sheets()[0]["response_id"]
    ScoreBook(store).release(rid, "dr-lee", default_rubric())
    out = klass["tmp"] / "feedback"
    result = run("feedback-export", "--store", klass["store"], "--out", out)
    assert result.exit_code == 0, result.output
    [path] = out.iterdir()
    assert path.name.startswith("feedback-synthetic-ana-")
    assert "Wrote 1 feedback file(s)" in result.output and f"  {path.name}: synthetic-ana" in result.output
    verified = run("feedback-verify", "--store", klass["store"], path)
    assert verified.exit_code == 0 and "signed by this class, unchanged (for synthetic-ana)" in verified.output


def test_a_roster_never_enters_a_research_export(tmp_path):
    from widgets.reporting.simulate import into_store, simulate

    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    into_store(simulate(learners=12, cohorts=1, seed=2), store)
    learners = sorted({r["learner"] for r in store.responses()})
    roster = tmp_path / "private" / "roster.csv"
    roster.parent.mkdir()
    roster.write_text("learner_id,name,email,lms_id,sis_id,section\n" + "".join(
        f"{learner},Synthetic Person {i},person{i}@example.org,LMS-{i:04d},SIS-{i:04d},SECTION-Q\n"
        for i, learner in enumerate(learners)), encoding="utf-8")
    assert run("grades", "--store", tmp_path / "class.sqlite", "--roster", roster,
               "--out", tmp_path / "private" / "grades.csv").exit_code == 0
    out = tmp_path / "export"
    result = run("research-export", "--store", tmp_path / "class.sqlite", "--out", out, "--crosswalk",
                 tmp_path / "private" / "crosswalk.csv", "--min-cell", 5, "--include-justifications")
    assert result.exit_code == 0, result.output
    written = "".join(p.read_bytes().decode("utf-8", errors="replace") for p in out.rglob("*") if p.is_file())
    assert len(written) > 1000
    for field in ("Synthetic Person", "@example.org", "LMS-0", "SIS-0", "SECTION-Q", *learners):
        assert field not in written


def test_a_roster_name_that_looks_like_a_formula_is_written_as_text(klass, grades):
    roster = klass["tmp"] / "formula-roster.csv"
    roster.write_text("learner_id,name,email,lms_id,sis_id,section\n"
                      'synthetic-ana,"=HYPERLINK(""http://x"",""Ana"")",ana@example.org,1001,S-1,A\n',
                      encoding="utf-8")
    out = klass["tmp"] / "formula.csv"
    result = grades(out, "--format", "canvas", roster=roster)
    assert result.exit_code == 0, result.output
    [row] = table(out)[1:]
    assert row["Student"].startswith("'=HYPERLINK")  # shown as text, never run as a formula


def grown_rubric(tmp_path) -> Path:
    """The shipped rubric with a fourth level on "alternative", its version bumped."""
    from widgets.paths import data_dir

    path = tmp_path / "rubric-v2.yaml"
    path.write_text((data_dir() / "rubrics" / "ethical_reasoning.yaml").read_text(encoding="utf-8")
                    .replace("version: 1", "version: 2")
                    .replace("      - Weighs another option and says why it was not chosen.",
                             "      - Weighs another option and says why it was not chosen.\n"
                             "      - Weighs two options against each other, with the client's view."),
                    encoding="utf-8")
    return path


def test_an_edited_rubric_never_rescales_old_scores_and_migrate_maps_them_explicitly(klass, grades, tmp_path):
    old, new = tmp_path / "rubric-v1.yaml", grown_rubric(tmp_path)
    from widgets.paths import data_dir

    old.write_text((data_dir() / "rubrics" / "ethical_reasoning.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    out = tmp_path / "g.csv"
    grades(out, "--partial", "--rubric", new)
    assert {r["learner_id"]: r["Ethical reasoning"] for r in table(out)}["synthetic-ana"] == ""  # not 18.75 rescaled

    refused = run("rubric", "migrate", "--store", klass["store"], old, new)
    assert refused.exit_code == 1 and "criterion 'alternative' has levels 0 to 2 in version 1 and 0 to 3" \
        in refused.output
    done = run("rubric", "migrate", "--store", klass["store"], old, new, "--map", "alternative:0=0,1=1,2=3",
               "--by", "dr-lee")
    assert done.exit_code == 0 and "Migrated 2 score(s) from version 1 to version 2" in done.output
    grades(out, "--partial", "--rubric", new)
    # ana's two sheets: every criterion 2 (alternative 2 -> 3), and every criterion 1, out of 4 * 2 + 3 = 11
    expected = 25 * ((2 * 4 + 3) / 11 + (1 * 4 + 1) / 11) / 2
    ana = float({r["learner_id"]: r["Ethical reasoning"] for r in table(out)}["synthetic-ana"])
    assert ana == pytest.approx(round(expected, 2))


def test_review_refuses_a_missing_store_before_starting_anything(tmp_path):
    result = run("review", "--store", tmp_path / "clas.sqlite")
    assert result.exit_code == 1 and f"there is no class store at {tmp_path / 'clas.sqlite'}" in result.output
    assert not (tmp_path / "clas.sqlite").exists()


def test_review_serves_the_app_on_the_store_named_by_store(klass, tmp_path):
    """dualrole review --store starts Voila on the review notebook, which opens that store, not the sample."""
    import os
    import sys
    import urllib.request

    from servers import free_port, running

    pytest.importorskip("voila")
    port = free_port()
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")])),
           "MPLBACKEND": "Agg"}
    env.pop("DUALROLE_STORE", None)
    page = []

    def rendered() -> bool:  # the page is rendered before it is sent
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=300) as response:
                page.append(response.read().decode("utf-8"))
                return True
        except OSError:
            return False

    with running([sys.executable, "-c", "from widgets.cli import cli; cli()", "review", "--store", str(klass["store"]),
                  "--port", str(port)], rendered, what="dualrole review", log=tmp_path / "review.log", env=env, timeout=120):
        assert "synthetic-ana" in page[0] and "synthetic-zed" in page[0]  # the class store's learners
        assert "synthetic-learner-0001" not in page[0]                     # not the synthetic sample
