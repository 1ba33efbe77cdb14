"""One term, start to finish, on SQLite and on PostgreSQL: what an instructor does with a class of 18.

Learners answer through the real cards in stores of their own, with varied reasoning (short but
accepted, Japanese, hyphenated, emoji); one only does lesson 2, one drops after three cases, one
never starts. Their bundles are collected into the class store; a semicolon roster (first with a
duplicate email, which is refused) is checked; two graders score blind in one review screen, the
differences are reconciled, released and exported as signed files that each learner imports. The
Canvas and Moodle files are then compared, cell by cell, with totals worked out here from the plan.
Every learner, name and address is synthetic.
"""

from __future__ import annotations

import csv
import io
import shutil

import pytest
from click.testing import CliRunner

from widgets.analysis.grades import roster_check
from widgets.cases.library import load_library
from widgets.cli import cli
from widgets.errors import InvalidFile
from widgets.exchange.bundle import write_bundle
from widgets.exchange.collect import collect
from widgets.exchange.feedback import export_feedback
from widgets.grading.files import default_rubric, read_roster
from widgets.store import open_store
from widgets.ui.card import CaseCard
from widgets.ui.feedback_panel import FeedbackImport
from widgets.ui.review import ReviewScreen

COHORT = "synthetic-psy612"
REASONS = [
    "Offer a sliding scale.",
    "贈り物は断り、その意味を一緒に話し合います。",
    "Decline-kindly-and-explore-what-it-means",
    "Decline 🙏 and explore why 👩‍⚕️ feels owed.",
    "The dual role would blur the frame; I would decline and say why, citing APA 3.05.",
    "Accept the small gift, note it, and talk about what giving means to her.",
]
LEARNERS = [f"synthetic-s{n:02d}" for n in range(1, 13)] + ["synthetic-zoë", "synthetic-zoé",
                                                              "synthetic-only-l2", "synthetic-dropped",
                                                              "synthetic-never", "synthetic-s18"]
RUBRIC = default_rubric()


def plan(library):
    """Which cases each learner answers, with which option and reasoning."""
    business, gifts = list(library.module("business")), list(library.module("gifts"))
    out = {}
    for i, learner in enumerate(LEARNERS):
        cases = {"synthetic-only-l2": business, "synthetic-dropped": business[:3],
                 "synthetic-never": []}.get(learner, business + gifts)
        out[learner] = [(case, case.options[(i + j) % len(case.options)].id, REASONS[(i + j) % len(REASONS)])
                        for j, case in enumerate(cases)]
    return out


def grader_levels(grader: str, learner: str, case_id: str) -> dict[str, int]:
    """Each grader's levels, worked out the same way here and at the keyboard; the TA is stricter on
    "standard" for some answers, so some pairs differ and need reconciling."""
    seed = sum(map(ord, learner + case_id))
    levels = {c.id: (seed + k) % 3 for k, c in enumerate(RUBRIC.criteria)}
    if grader == "ta.kim" and seed % 3 == 0:
        levels["standard"] = max(0, levels["standard"] - 1)
    return levels


def reconciled_levels(learner: str, case_id: str) -> dict[str, int]:
    return {**grader_levels("prof.alvarez", learner, case_id), "alternative": 1}


def final_levels(learner: str, case_id: str) -> dict[str, int]:
    a, b = grader_levels("prof.alvarez", learner, case_id), grader_levels("ta.kim", learner, case_id)
    return a if a == b else reconciled_levels(learner, case_id)


def press_levels(review: ReviewScreen, levels: dict[str, int]) -> None:
    for index, c in enumerate(RUBRIC.criteria):
        review.pad.press(str(levels[c.id]), criterion=index)


def csv_rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture(scope="module")
def learners_stores(tmp_path_factory):
    """Step 1, once for both class stores: learners answer through the cards in stores of their own.

    The learners' side never touches the class store, so SQLite and PostgreSQL collect the same
    answers; each run of the test works on its own copy of these files.
    """
    folder = tmp_path_factory.mktemp("learners")
    # A module fixture is made before the per-test isolation applies: the cards' drafts go to a data
    # folder of the fixture's own, and the library is read there too, so no case folder another test
    # named on this worker can enter the plan (the test reads the library inside the isolation).
    with pytest.MonkeyPatch.context() as env:
        env.setenv("DUALROLE_HOME", str(folder / "dualrole-home"))
        for name in ("DUALROLE_STORE", "DUALROLE_CASES", "DUALROLE_COHORT", "JUPYTERHUB_USER", "DUALROLE_SERVICE_URL"):
            env.delenv(name, raising=False)
        answers = plan(load_library())
        for learner, todo in answers.items():
            own = open_store(f"sqlite:///{folder / (learner + '.sqlite')}")
            for case, option, reasoning in todo:
                card = CaseCard(case, store=own, learner=learner, cohort=COHORT, min_class=3)
                card.options.value = option
                card.confidence.value = 70
                card.justification.value = reasoning
                assert not card.submit.disabled, (learner, reasoning, card.status.value)
                card.submit.click()
            assert own.count() == len(todo)
            own.engine.dispose()  # every connection closed, so the copies below are whole files
    return folder


def test_a_term_from_cards_to_canvas_and_moodle(store_url, tmp_path, learners_stores):
    library = load_library()
    answers = plan(library)
    # 1. Learners answered through the cards (the fixture): every accepted answer is kept exactly as typed.
    shutil.copytree(learners_stores, tmp_path / "learners")
    own = {learner: open_store(f"sqlite:///{tmp_path / 'learners' / (learner + '.sqlite')}") for learner in LEARNERS}
    for learner, todo in answers.items():
        assert [(r["case_id"], r["option_id"], r["justification"]) for r in own[learner].responses()] == [
            (case.id, option, reasoning) for case, option, reasoning in todo]

    # 2. Each learner who answered exports a bundle; the instructor collects the folder.
    bundles = tmp_path / "bundles"
    for learner in LEARNERS:
        if answers[learner]:
            write_bundle(own[learner], learner, bundles / f"{learner}.jsonl")
    store = open_store(store_url)
    report = collect([bundles], store, tmp_path / "quarantine")
    assert not report.problems
    assert store.count() == sum(len(todo) for todo in answers.values())

    # 3. The roster, saved by a European Excel: semicolons, a BOM, CRLF. A duplicate email is refused.
    listed = [learner for learner in LEARNERS if learner != "synthetic-dropped"]
    rows = [f"{learner};Person {i};p{i}@example.org;{5000 + i};S-{i}" for i, learner in enumerate(listed)]
    roster_path = tmp_path / "private" / "roster.csv"
    roster_path.parent.mkdir()
    header = "learner_id;name;email;lms_id;sis_id"
    duplicate = rows + [f"synthetic-extra;Someone;P0@example.org;{9999};S-X"]
    roster_path.write_bytes(("\ufeff" + "\r\n".join([header, *duplicate]) + "\r\n").encode("utf-8"))
    with pytest.raises(InvalidFile, match=f"roster.csv:{len(rows) + 2}: email: 'P0@example.org' is already on line 2"):
        read_roster(roster_path)
    roster_path.write_bytes(("\ufeff" + "\r\n".join([header, *rows]) + "\r\n").encode("utf-8"))
    roster = read_roster(roster_path)
    unknown, absent = roster_check({r["learner"] for r in store.responses()}, roster)
    assert unknown == ["synthetic-dropped"] and [e.learner_id for e in absent] == ["synthetic-never"]

    # 4. Two graders, blind, in one review screen per gifts case; then the differences reconciled.
    gifts = [c.id for c in library.module("gifts")]
    for case_id in gifts:
        review = ReviewScreen(store, scorer="prof.alvarez", case=case_id)
        n = len(review.items)
        assert n == sum(1 for todo in answers.values() for case, _, _ in todo if case.id == case_id)
        for i in range(n):
            review.show(i)
            press_levels(review, grader_levels("prof.alvarez", review.current["learner"], case_id))
            review.save()
        review.show(0)
        review.scorer.value = "ta.kim"
        assert review.pad.levels == {} and review.comment.value == ""  # the second sheet starts blank
        for i in range(n):
            review.show(i)
            assert review.pad.levels == {}
            press_levels(review, grader_levels("ta.kim", review.current["learner"], case_id))
            review.save()
        review.reconciling.value = True
        for i in range(n):
            review.show(i)
            learner = review.current["learner"]
            if grader_levels("prof.alvarez", learner, case_id) != grader_levels("ta.kim", learner, case_id):
                press_levels(review, reconciled_levels(learner, case_id))
                review.save()
        assert review.release_case() == n
        # Off the hub nothing is sent: the screen says so, and step 5 hands the feedback out as files.
        assert review.status.value.startswith(f"Released feedback on {n} of {n} answer(s): kept locally, not sent")
    agreement = review.agreement("prof.alvarez", "ta.kim").set_index("criterion")
    assert agreement.loc["roles", "exact"] == 1.0 and agreement.loc["standard", "exact"] < 1.0

    # 5. Feedback files: one per learner with gifts answers, unique names, each imported by its learner.
    files = export_feedback(store, tmp_path / "feedback")
    with_gifts = [learner for learner, todo in answers.items() if any(case.id in gifts for case, _, _ in todo)]
    assert sorted(files) == sorted(with_gifts)
    assert len(list((tmp_path / "feedback").iterdir())) == len(with_gifts)
    for learner in with_gifts:
        card = CaseCard(gifts[0], store=own[learner], learner=learner, cohort=COHORT, min_class=3)
        assert FeedbackImport(own[learner], learner).import_path(files[learner]) == len(gifts)
        shown = card.feedback.value
        assert shown.count("<h4>Feedback from your instructor</h4>") == 1 and "On your first answer: released by ta.kim" in shown

    # 6. The gradebooks, against totals worked out here.
    policy = tmp_path / "policy.yaml"
    policy.write_text("taught: [business, gifts]\nmissing: blank\nassignments:\n"
                      "  - {name: 2. Business relationships, lessons: [business], completion_points: 10}\n"
                      "  - {name: 4. Gifts and money, lessons: [gifts], completion_points: 10}\n"
                      "  - {name: Reasoning on gifts, lessons: [gifts], rubric_points: 20}\n", encoding="utf-8")
    n_business, n_gifts = len(library.module("business")), len(library.module("gifts"))

    def expected(learner: str) -> list[float | None]:
        done = answers[learner]
        business = sum(1 for case, _, _ in done if case.module == "business")
        scored = [final_levels(learner, case.id) for case, _, _ in done if case.id in gifts]
        rubric = (20 * sum(sum(levels.values()) / RUBRIC.top for levels in scored) / len(scored)) if scored else None
        return [10 * business / n_business if business else None,
                10 * len(scored) / n_gifts if scored else None, rubric]

    def same(cell: str, value: float | None) -> bool:
        return cell == "" if value is None else float(cell) == pytest.approx(value, abs=0.005)

    runner = CliRunner()
    for fmt in ("canvas", "moodle"):
        out = tmp_path / f"{fmt}.csv"
        result = runner.invoke(cli, ["grades", "--store", store_url, "--roster", str(roster_path), "--out", str(out),
                                     "--format", fmt, "--policy", str(policy)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert (f"  Reasoning on gifts (20 points, 50%, reasoning): {len(LEARNERS)} learner(s): {len(with_gifts)} complete, "
                f"{len(LEARNERS) - len(with_gifts)} blank, 0 excused, 0 zero; answers scored "
                f"{len(with_gifts) * n_gifts} of {len(with_gifts) * n_gifts}") in result.output
        table = csv_rows(out.read_text(encoding="utf-8"))
        if fmt == "canvas":
            assert table[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "2. Business relationships",
                                "4. Gifts and money", "Reasoning on gifts"]
            assert table[1][5:] == ["10", "10", "20"]
            by_learner = {row[3]: row[5:] for row in table[2:]}
        else:
            assert table[0] == ["Email address", "2. Business relationships", "4. Gifts and money",
                                "Reasoning on gifts"]
            emails = {e.email: e.learner_id for e in roster}
            by_learner = {emails[row[0]]: row[1:] for row in table[1:]}
        assert sorted(by_learner) == sorted(listed)
        for learner, cells in by_learner.items():
            assert all(same(cell, value) for cell, value in zip(cells, expected(learner))), (fmt, learner, cells)
        assert by_learner["synthetic-never"] == ["", "", ""]
        assert by_learner["synthetic-only-l2"][1:] == ["", ""]
