"""Keys agree with each other and with the lessons: cases that put the same kind of request under the
same codes share a preferred stance, or one of them says in a line why it differs, and the reveal
shows that line to the learner."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widgets.cases import course, load_library
from widgets.cases.forms import assessment_forms
from widgets.cases.library import parse_case, preferred_stances, same_kind, stance_conflicts, validate_paths
from widgets.ui.reveal import reveal_html

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "data" / "cases"


@pytest.fixture(scope="module")
def library():
    return load_library()


def test_same_kind_cases_share_a_preferred_stance_or_say_why(library):
    conflicts = [f"{a.id} {sorted(preferred_stances(a))} / {b.id} {sorted(preferred_stances(b))}"
                 for a, b in stance_conflicts(library)]
    assert not conflicts, ("same kind of request, shared codes, no shared preferred stance and no "
                           "reference.stance_reason: " + "; ".join(conflicts))


def test_every_case_names_its_kind_of_request(library):
    # Every case, so that no pair of disagreeing keys can hide behind a missing request.
    ids = [i for lesson in course.lessons() for i in lesson.all_cases]
    ids += [i for form in assessment_forms().forms.values() for i in form]
    assert len(ids) > 40
    assert [i for i in ids if not library[i].request] == []
    assert [case.id for case in library if not case.request] == []


def test_each_assessment_pair_is_the_same_kind_of_request(library):
    forms = assessment_forms().forms
    for a, b in zip(forms["A"], forms["B"]):
        assert same_kind(library[a], library[b]), (a, b)
        assert preferred_stances(library[a]) == preferred_stances(library[b]), (a, b)


def _copy(tmp_path: Path, source: str, name: str, edit) -> Path:
    text = (CASES / f"{source}.md").read_text(encoding="utf-8").replace(f"id: {source}", f"id: {name}", 1)
    path = tmp_path / f"{name}.md"
    path.write_text(edit(text), encoding="utf-8")
    return path


def test_a_disagreeing_key_is_found_and_a_stated_reason_settles_it(tmp_path):
    # The daughter's case keyed to the explore option's stance would disagree with the son's case.
    def rekey(text):
        return text.replace("    stance: decline\n", "    stance: decline_and_explore\n")

    son = parse_case(CASES / "clients_son_asks_out.md")
    other = parse_case(_copy(tmp_path, "clients_daughter_asks_out", "daughter_rekeyed", rekey))
    assert same_kind(son, other)
    assert stance_conflicts([son, other]) == [(son, other)]

    def rekey_with_reason(text):
        return rekey(text).replace(
            "  preferred: [decline_plainly, decline_consult]\n",
            "  preferred: [decline_plainly, decline_consult]\n"
            "  stance_reason: Her father has asked you to explore with her what his illness means to the family.\n")

    explained = parse_case(_copy(tmp_path, "clients_daughter_asks_out", "daughter_explained", rekey_with_reason))
    assert explained.stance_reason.startswith("Her father has asked")
    assert stance_conflicts([son, explained]) == []


def test_an_unknown_kind_of_request_names_the_file_line_and_field(tmp_path):
    path = _copy(tmp_path, "clients_son_asks_out", "bad_request",
                 lambda t: t.replace("request: romance", "request: flirtation"))
    _, problems = validate_paths([path])
    [problem] = [str(p) for p in problems]
    line = next(i for i, text in enumerate(path.read_text().splitlines(), start=1) if text.startswith("request:"))
    assert f"bad_request.md:{line}" in problem and "request" in problem and "'flirtation' is not one of" in problem


def test_a_stance_reason_must_be_one_line(tmp_path):
    def two_lines(text):
        return text.replace("  preferred: [decline_plainly, decline_then_consult]\n",
                            "  preferred: [decline_plainly, decline_then_consult]\n"
                            "  stance_reason: |\n    First line of a reason.\n    Second line of it.\n")

    path = _copy(tmp_path, "clients_son_asks_out", "two_line_reason", two_lines)
    _, problems = validate_paths([path])
    [problem] = [str(p) for p in problems]
    assert re.search(r"two_line_reason\.md:\d+: reference\.stance_reason: must be one line", problem)


def test_the_reveal_shows_why_a_key_differs_from_similar_cases(library):
    case = library["commander_asks"]
    row = {"option_id": case.preferred[0], "confidence": 70, "justification": "Ask her first."}
    html = reveal_html(case, [row], None)
    # One section to open, the first after the verdict, so the first screen stays short.
    first_section = html[html.index("<details"):html.index("</details>")]
    assert "<summary>Why this answer differs from similar cases</summary>" in first_section
    assert "a commander&#x27;s question must be answered" in html or "a commander's question must be answered" in html
    plain = library["clients_son_asks_out"]
    row = {"option_id": plain.preferred[0], "confidence": 70, "justification": "No."}
    assert "differs from similar cases" not in reveal_html(plain, [row], None)


def test_validate_reports_a_disagreeing_key_with_file_line_and_field(tmp_path):
    from click.testing import CliRunner

    from widgets.cli import cli

    for source, name in (("clients_son_asks_out", "son_copy"), ("clients_daughter_asks_out", "daughter_copy")):
        _copy(tmp_path, source, name,
              (lambda t: t.replace("    stance: decline\n", "    stance: decline_and_explore\n"))
              if name == "daughter_copy" else (lambda t: t))
    # Through the group, as a user runs it: invoking the bare command would cache a help option
    # without the group's -h, which changes `dualrole validate --help` for later callers.
    result = CliRunner().invoke(cli, ["validate", str(tmp_path)])
    assert result.exit_code == 1
    line = next(i for i, text in enumerate((tmp_path / "daughter_copy.md").read_text().splitlines(), start=1)
                if text.startswith("  preferred:"))
    assert re.search(r"(daughter_copy|son_copy)\.md:\d+: reference\.preferred: same kind of request \(romance\)",
                     result.output)
    assert f"daughter_copy.md:{line}" in result.output or "son_copy.md:" in result.output
    assert "stance_reason" in result.output


def test_a_content_note_is_one_line_of_plain_text(tmp_path):
    def note(value):
        return lambda text: text.replace("tags:", f"content_note: {value}\ntags:", 1)

    good = parse_case(_copy(tmp_path, "clients_son_asks_out", "noted", note("A client's son asks you out.")))
    assert good.content_note == "A client's son asks you out."
    for name, value, message in [("marked", '"A *client* asks you out."', "must be plain text"),
                                 ("folded", "|\n  A client asks.\n  Then more.", "must be one line"),
                                 ("short", '"Abuse."', "is too short")]:
        path = _copy(tmp_path, "clients_son_asks_out", name, note(value))
        _, problems = validate_paths([path])
        [problem] = [str(p) for p in problems]
        assert re.search(rf"{name}\.md:\d+: content_note: .*{message}", problem), problem
