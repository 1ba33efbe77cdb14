"""The ``say:`` block of a case file: parsed onto ``Case.say``, each mistake named by file, line and field."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from widgets.cases.authoring import new_case
from widgets.cases.library import Say, parse_case, validate_paths

GOOD = Path(__file__).resolve().parents[2] / "data" / "cases" / "cosmetics.md"

SCRIPT = """say:
  kind: script
  to: client
  prompt: >-
    Marisol is waiting for your answer about the catalogue. Write the two to four sentences you would say to her.
  checklist:
    - Thanks her and shows you see what the bonus means to her
    - Says plainly that you don't buy from clients
    - Explains that this keeps the sessions about her
  model: >-
    "Thank you for thinking of me, and I can see how much the bonus matters.
    I don't buy from the people I see, so that our time stays about you."
"""


def with_say(tmp_path: Path, block: str, name: str = "say_case") -> Path:
    """A copy of the shipped example whose say block (if it has one) is replaced by ``block``."""
    text = GOOD.read_text(encoding="utf-8").replace("id: cosmetics", f"id: {name}", 1)
    head, sep, body = text.partition("\n---\n")
    head = re.sub(r"^say:\n(?:[ #].*\n?|\n)*", "", head + "\n", flags=re.M).rstrip("\n")
    path = tmp_path / f"{name}.md"
    path.write_text(head + "\n" + block.rstrip("\n") + sep + body, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    _, problems = validate_paths([path])
    return [str(p) for p in problems]


def line_of(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line)


def test_a_say_block_is_read_onto_the_case(tmp_path):
    case = parse_case(with_say(tmp_path, SCRIPT))
    assert case.say == Say(
        kind="script", to="client",
        prompt="Marisol is waiting for your answer about the catalogue. "
               "Write the two to four sentences you would say to her.",
        checklist=("Thanks her and shows you see what the bonus means to her",
                   "Says plainly that you don't buy from clients",
                   "Explains that this keeps the sessions about her"),
        model='"Thank you for thinking of me, and I can see how much the bonus matters. '
              'I don\'t buy from the people I see, so that our time stays about you."',
    )
    assert case.say.heading == "A model script"


def test_a_chart_note_is_addressed_to_the_record(tmp_path):
    note = SCRIPT.replace("kind: script", "kind: chart_note").replace("to: client", "to: record")
    assert parse_case(with_say(tmp_path, note)).say.heading == "A model chart note"
    path = with_say(tmp_path, SCRIPT.replace("kind: script", "kind: chart_note"), "note_to_client")
    assert problems_of(path) == [f"{path}:{line_of(path, 'to: client')}: say.to: 'client' cannot be addressed "
                                 "by a chart note: use 'to: record'"]
    path = with_say(tmp_path, SCRIPT.replace("to: client", "to: record"), "script_to_record")
    [msg] = problems_of(path)
    assert msg.startswith(f"{path}:{line_of(path, 'to: record')}: say.to: 'record' is for a chart note")


def test_a_case_without_a_say_block_is_still_valid(tmp_path):
    # Optional in the schema: the lesson cases gain theirs in the content work, checked by test_say_coverage.
    assert parse_case(with_say(tmp_path, "")).say is None


# A whole block or list is located at the line of its first field or item, as elsewhere in a case file.
@pytest.mark.parametrize(("edit", "needle", "field", "message"), [
    (lambda b: b.replace("kind: script", "kind: roleplay"), "kind: roleplay", "say.kind",
     "'roleplay' is not one of script, chart_note"),
    (lambda b: b.replace("to: client", "to: landlord"), "to: landlord", "say.to",
     "'landlord' is not one of client, caller, colleague"),
    (lambda b: b.replace("    - Explains that this keeps the sessions about her\n", ""), "- Thanks her",
     "say.checklist", "needs at least 3 item(s), found 2"),
    (lambda b: b.replace("  checklist:\n", "  checklist:\n    - One more\n    - Two more\n    - Three more\n"),
     "- One more", "say.checklist", "allows at most 5 item(s), found 6"),
    (lambda b: b.replace("    - Says plainly", "    - " + "very " * 20 + "plainly"), "very very",
     "say.checklist[1]", "is too long (at most 90 characters, found"),
    (lambda b: b.replace("keeps the sessions about her", "keeps the sessions about her."), "about her.",
     "say.checklist[2]", "drop the final full stop"),
    (lambda b: b.replace("Thanks her", "<b>Thanks</b> her"), "<b>Thanks", "say.checklist[0]",
     "must be plain text: HTML tags are not allowed"),
    (lambda b: b.replace('"Thank you', '<script>alert(1)</script>"Thank you'), "model: >-", "say.model",
     "must be plain text: HTML tags are not allowed"),
    (lambda b: b.replace("  model: >-\n", "  mdoel: >-\n"), "kind: script", "say", "unknown field(s) not allowed"),
])
def test_each_mistake_in_a_say_block_names_file_line_and_field(tmp_path, edit, needle, field, message):
    path = with_say(tmp_path, edit(SCRIPT))
    found = problems_of(path)
    prefix = f"{path}:{line_of(path, needle)}: {field}: "
    assert any(p.startswith(prefix) and message in p for p in found), found


def test_a_missing_say_field_is_named(tmp_path):
    path = with_say(tmp_path, re.sub(r"  prompt: >-\n    .*\n", "", SCRIPT))
    assert problems_of(path) == [f"{path}:{line_of(path, 'kind: script')}: say: missing required field 'prompt'"]


def test_a_new_case_starts_with_a_say_block_to_fill_in(tmp_path, monkeypatch):
    monkeypatch.setenv("DUALROLE_CASES", str(tmp_path))
    path = new_case("tip_jar", module="gifts", folder=tmp_path)
    assert re.search(r"^say:", path.read_text(encoding="utf-8"), flags=re.M)
    case = parse_case(path)
    assert case.say is not None and 3 <= len(case.say.checklist) <= 5
