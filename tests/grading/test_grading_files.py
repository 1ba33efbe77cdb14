"""The instructor's grading files: rubric and policy YAML (file:line errors) and the roster CSV."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widgets.errors import InvalidFile
from widgets.grading.files import default_policy, default_rubric, load_policy, load_rubric, read_roster, shipped_rubric

RUBRIC = """\
id: short
title: A short rubric
version: 1
criteria:
  - id: roles
    label: Names the roles
    levels: [absent, present]
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def problems(excinfo) -> list[str]:
    return [str(p) for p in excinfo.value.problems]


def test_the_default_rubric_has_five_criteria_each_scored_0_to_2():
    rubric = default_rubric()
    assert [c.id for c in rubric.criteria] == ["roles", "risks", "standard", "action", "alternative"]
    assert {c.top for c in rubric.criteria} == {2} and rubric.top == 10
    assert "Kitchener" in rubric.criterion("risks").label


def test_an_instructors_rubric_replaces_it_and_its_version_follows_its_meaning(tmp_path):
    rubric = load_rubric(write(tmp_path, "r.yaml", RUBRIC))
    changed = load_rubric(write(tmp_path, "r2.yaml", RUBRIC.replace("present", "clearly present")))
    assert rubric.criteria[0].levels == ("absent", "present")
    assert rubric.version != changed.version and rubric.version != default_rubric().version


@pytest.mark.parametrize("edit, expected", [
    (("levels: [absent, present]", "levels: [absent]"),
     "r.yaml:7: criteria[0].levels: needs at least 2 item(s), found 1"),
    (("    label: Names the roles\n", ""), "r.yaml:5: criteria[0]: missing required field 'label'"),
    (("version: 1", "version: one"), "r.yaml:3: version: 'one' should be of type integer"),
    (("  - id: roles", "  - id: Roles!"), "r.yaml:5: criteria[0].id: 'Roles!' must be a slug"),
    (("title: A short rubric", "title: [unclosed"), "r.yaml:3: YAML syntax error"),
])
def test_a_broken_rubric_names_the_file_line_and_field(tmp_path, edit, expected):
    path = write(tmp_path, "r.yaml", RUBRIC.replace(*edit))
    with pytest.raises(InvalidFile) as excinfo:
        load_rubric(path)
    assert any(p.endswith(expected) or expected in p for p in problems(excinfo)), problems(excinfo)


def test_the_case_analysis_rubric_has_six_criteria_on_four_levels_each_with_an_anchor():
    rubric = shipped_rubric("case_analysis")
    assert [c.id for c in rubric.criteria] == ["issue", "standard", "client_culture", "self_awareness",
                                               "alternatives", "action"]
    assert {c.top for c in rubric.criteria} == {3} and rubric.top == 18
    assert all(len(c.anchors) == len(c.levels) and c.reads == "analysis" for c in rubric.criteria)
    assert "AAC&U Ethical Reasoning VALUE rubric" in rubric.aligned_with and rubric.anchor_case == "small_holiday_gift"
    assert rubric.criterion("self_awareness").aligns_with == "AAC&U ethical self-awareness"


def test_the_anchors_cite_only_sections_their_cases_rationale_cites():
    from widgets.cases.library import load_library

    rubric = shipped_rubric("case_analysis")
    case = load_library()[rubric.anchor_case]
    assert case.use == "lesson"
    cited = {f"{c['code']} {c['section']}" for c in case.codes}
    anchors = " ".join(a for c in rubric.criteria for a in c.anchors)
    found = set(re.findall(r"\b(APA|ACA|AAMFT|NASW) (\d+\.\d+(?:\.[a-z])?(?:\([a-z]\))?|[A-H]\.\d+(?:\.[a-z])?)",
                           anchors))
    assert found and {f"{code} {section}" for code, section in found} <= cited
    rationale = " ".join(case.rationale.split())
    assert all(f"{code} {section}" in rationale for code, section in found)


ANCHORED = RUBRIC.replace("levels: [absent, present]", "levels: [absent, present]\n    anchors: [No., Partly., Yes.]")


@pytest.mark.parametrize("text, expected", [
    (ANCHORED, ["r.yaml:8: criteria[0].anchors: gives 3 anchor(s) for 2 level(s)",
                "r.yaml:8: criteria[0].anchors: anchors answer one case: name it with anchor_case:"]),
    (RUBRIC.replace("id: roles", "id: script").replace("levels: [absent", "reads: reasoning\n    levels: [absent"),
     ["r.yaml:7: criteria[0].reads: the script criterion reads the learner's script (reads: script)"]),
])
def test_anchors_and_the_script_criterion_are_checked_by_line(tmp_path, text, expected):
    with pytest.raises(InvalidFile) as excinfo:
        load_rubric(write(tmp_path, "r.yaml", text))
    assert [p.split(str(tmp_path) + "/")[-1][:len(e)] for p, e in zip(problems(excinfo), expected)] == expected


def test_a_script_criterion_reads_the_script_and_keeps_the_rubrics_version_meaning(tmp_path):
    text = RUBRIC.replace("id: roles", "id: script")
    rubric = load_rubric(write(tmp_path, "r.yaml", text))
    assert rubric.criteria[0].reads == "script"
    assert default_rubric().criteria[0].reads == "reasoning" and default_rubric().version == "4db78c45bb44e7d0"


def test_a_duplicate_criterion_is_named_by_line(tmp_path):
    path = write(tmp_path, "r.yaml", RUBRIC + "  - id: roles\n    label: Again\n    levels: [a, b]\n")
    with pytest.raises(InvalidFile) as excinfo:
        load_rubric(path)
    assert problems(excinfo)[0].endswith("r.yaml:8: criteria[1].id: duplicate criterion id 'roles'")


def test_the_default_policy_counts_completion_and_the_rubric_never_pre_post_correctness():
    policy = default_policy()
    by_name = {a.name: a for a in policy.assignments}
    assert by_name["Pre-test"].lessons == ("pre",) and by_name["Pre-test"].rubric_points == 0
    assert by_name["Ethical reasoning"].rubric_points > 0
    assert policy.missing == "blank" and policy.taught is None


def test_the_default_policy_weights_reasoning_over_completion():
    policy = default_policy()
    assert sum(a.points for a in policy.assignments) == 100
    assert policy.weights() == {"completion": pytest.approx(0.30), "reasoning": pytest.approx(0.70)}
    analyses = {a.name: a for a in policy.assignments}["Case analyses"]
    assert analyses.rubric == "case_analysis" and analyses.rubric_points == 45 and len(analyses.cases) == 3
    # Over the assignments of a term that teaches only lesson 1 and the pre-test: 3 + 3 completion, 25 + 45 rubric.
    assert policy.weights(["1. Confidentiality", "Pre-test", "Ethical reasoning", "Case analyses"]) == {
        "completion": pytest.approx(6 / 76), "reasoning": pytest.approx(70 / 76)}


def test_a_policy_still_asking_for_words_of_reasoning_is_told_the_cards_rule_counts(tmp_path):
    path = write(tmp_path, "p.yaml", "min_reasoning_words: 5\n" + POLICY)
    with pytest.raises(InvalidFile) as excinfo:
        load_policy(path)
    assert problems(excinfo) == [f"{path}:1: min_reasoning_words: is no longer used: a case counts as done by "
                                 "the card's own rule (at least 20 characters of reasoning), so a learner is never "
                                 "docked for an answer the card accepted; remove this line"]


POLICY = """\
assignments:
  - name: Week 1
    lessons: [confidentiality]
    completion_points: 10
"""


@pytest.mark.parametrize("edit, expected", [
    (("[confidentiality]", "[confidentialty]"), "p.yaml:3: assignments[0].lessons[0]: 'confidentialty' is not one of"),
    (("completion_points: 10", "completion_points: -1"), "p.yaml:4: assignments[0].completion_points"),
    (("completion_points: 10", "rubric_points: 5\n    completion_points: 1"), None),
    (("[confidentiality]", "[pre]\n    rubric_points: 4"),
     "p.yaml:4: assignments[0].rubric_points: the pre- and post-test count for completion only"),
    (("completion_points: 10", "weight: 10"), "p.yaml:2: assignments[0]: unknown field(s) not allowed"),
    (("completion_points: 10", "rubric_points: 5\n    cases: [spouse_phone_call, cosmetics]"),
     "p.yaml:5: assignments[0].cases[1]: 'cosmetics' is not a case of the lessons confidentiality"),
    (("completion_points: 10", "completion_points: 10\n    rubric: case_analysis"),
     "p.yaml:5: assignments[0].rubric: names a rubric but gives no rubric_points"),
])
def test_a_policy_file_with_an_error_names_the_file_line_and_field(tmp_path, edit, expected):
    path = write(tmp_path, "p.yaml", POLICY.replace(*edit))
    if expected is None:
        assert load_policy(path).assignments[0].rubric_points == 5
        return
    with pytest.raises(InvalidFile) as excinfo:
        load_policy(path)
    assert any(expected in p for p in problems(excinfo)), problems(excinfo)


def test_a_roster_reads_learner_ids_and_lms_fields(tmp_path):
    path = write(tmp_path, "roster.csv", "learner_id,name,email,lms_id,sis_id,section\n"
                 "synthetic-ana,Ana Example,ana@example.org,101,S1,A\n\nsynthetic-ben,Ben Example,,102,,B\n")
    entries = read_roster(path)
    assert [(e.learner_id, e.lms_id, e.section, e.line) for e in entries] == [
        ("synthetic-ana", "101", "A", 2), ("synthetic-ben", "102", "B", 4)]


@pytest.mark.parametrize("text, expected", [
    ("name,email\nAna,a@x\n", "roster.csv:1: learner_id: missing required column"),
    ("learner_id,nickname\nana,A\n", "roster.csv:1: nickname: unknown column"),
    ("learner_id,name\nana,A\nana,B\n", "roster.csv:3: learner_id: 'ana' is already on line 2"),
    ("learner_id,name\n,A\n", "roster.csv:2: learner_id: is empty"),
    ("learner_id,name\nana,A,extra\n", "roster.csv:2: has 3 field(s); the header has 2"),
    ("learner_id,lms_id\nana,1001\nben,1001\n", "roster.csv:3: lms_id: '1001' is already on line 2"),
    ("learner_id,sis_id\nana,S-1\nben,S-1\n", "roster.csv:3: sis_id: 'S-1' is already on line 2"),
    ("learner_id,email\nana,Ana@x.org\nben,ana@X.org\n", "roster.csv:3: email: 'ana@X.org' is already on line 2"),
    ("learner_id\nzo\u00eb\nzoe\u0308\n", "roster.csv:3: learner_id: 'zo\u00eb' is already on line 2"),
    ("", "roster.csv:1: is empty"),
])
def test_a_broken_roster_names_the_line(tmp_path, text, expected):
    with pytest.raises(InvalidFile) as excinfo:
        read_roster(write(tmp_path, "roster.csv", text))
    assert any(p.endswith(expected) or expected in p for p in problems(excinfo)), problems(excinfo)


@pytest.mark.parametrize("text", [
    "\ufefflearner_id;name;email\r\nana;Ana Synthetic;ana@example.org\r\nben;\"Ben; Jr\";ben@example.org\r\n",
    "learner_id\tname\temail\nana\tAna Synthetic\tana@example.org\nben\tBen; Jr\tben@example.org\n",
])
def test_a_roster_saved_with_semicolons_or_tabs_and_a_bom_is_read(tmp_path, text):
    entries = read_roster(write(tmp_path, "roster.csv", text))
    assert [(e.learner_id, e.name, e.email) for e in entries] == [
        ("ana", "Ana Synthetic", "ana@example.org"), ("ben", "Ben; Jr", "ben@example.org")]


def test_a_roster_typed_with_decomposed_accents_matches_the_composed_id(tmp_path):
    [entry] = read_roster(write(tmp_path, "roster.csv", "learner_id,name\nJose\u0301,Jose\u0301 Garci\u0301a\n"))
    assert entry.learner_id == "Jos\u00e9" and entry.name == "Jos\u00e9 Garc\u00eda"
