"""Loading and validating case files: every malformed file gets its own clear, located message."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from widgets.cases.library import Library, load_case, parse_case, validate_paths
from widgets.errors import CaseError, UnknownCase

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "data" / "cases" / "cosmetics.md"


def variant(tmp_path: Path, name: str, edit) -> Path:
    """A copy of the good case, renamed and edited; the id follows the file name unless the edit changes it."""
    text = GOOD.read_text(encoding="utf-8").replace("id: cosmetics", f"id: {name}", 1)
    path = tmp_path / f"{name}.md"
    path.write_text(edit(text), encoding="utf-8")
    return path


def problems_of(path: Path) -> list[str]:
    _, problems = validate_paths([path])
    return [str(p) for p in problems]


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def test_shipped_example_is_valid():
    case = parse_case(GOOD)
    assert case.id == "cosmetics"
    assert case.preferred == ("decline_explore",)
    assert "Marisol" in case.vignette
    assert case.score("decline_explore") == 1 and case.score("decline_only") == 0.5 and case.score("buy_regularly") == 0


def test_bad_stance_names_file_line_field_and_choices(tmp_path):
    path = variant(tmp_path, "bad_stance", lambda t: t.replace("stance: accept\n", "stance: maybe\n", 1))
    [msg] = problems_of(path)
    line = line_of(path, "stance: maybe")
    assert msg.startswith(f"{path}:{line}: options[3].stance: 'maybe' is not one of decline, decline_and_explore, refer")


def test_yaml_syntax_error_is_located(tmp_path):
    path = variant(tmp_path, "bad_yaml", lambda t: re.sub(r"^version: (\d+)$", r"version: [\1", t, count=1, flags=re.M))
    [msg] = problems_of(path)
    assert "YAML syntax error" in msg
    assert re.match(rf"{re.escape(str(path))}:\d+: ", msg)


def test_missing_front_matter(tmp_path):
    path = tmp_path / "no_front.md"
    path.write_text("## Vignette\n\nText\n", encoding="utf-8")
    assert problems_of(path) == [f"{path}:1: must start with a '---' line that opens the YAML front matter"]


def test_unclosed_front_matter(tmp_path):
    path = tmp_path / "unclosed.md"
    path.write_text("---\nid: unclosed\ntitle: x\n", encoding="utf-8")
    assert problems_of(path) == [f"{path}:1: front matter is never closed: add a '---' line after it"]


def test_missing_body_section(tmp_path):
    path = variant(tmp_path, "no_rationale", lambda t: t.split("## Reference rationale")[0])
    [msg] = problems_of(path)
    assert "body: missing section '## Reference rationale'" in msg


def test_missing_required_field(tmp_path):
    path = variant(tmp_path, "no_title", lambda t: t.replace("title: The cosmetics catalogue\n", "", 1))
    [msg] = problems_of(path)
    assert msg == f"{path}:2: missing required field 'title'"


def test_unknown_option_in_reference(tmp_path):
    path = variant(tmp_path, "bad_ref", lambda t: t.replace("preferred: [decline_explore]", "preferred: [decline_exlpore]"))
    # The misspelt key is reported where it is; a position that defends the real id also loses its score.
    msg = next(m for m in problems_of(path) if "reference.preferred[0]" in m)
    assert f":{line_of(path, 'preferred:')}: reference.preferred[0]: 'decline_exlpore' is not an option id" in msg
    assert "decline_explore" in msg  # lists the real ids


def test_duplicate_option_id(tmp_path):
    path = variant(tmp_path, "dup_option", lambda t: t.replace("- id: decline_only", "- id: decline_explore", 1))
    msgs = problems_of(path)
    assert any("options[1].id: duplicate option id 'decline_explore'" in m for m in msgs)


def test_unregistered_code_section(tmp_path):
    path = variant(tmp_path, "bad_code", lambda t: t.replace('{code: APA, section: "3.06"}', '{code: APA, section: "3.99"}'))
    [msg] = problems_of(path)
    assert f":{line_of(path, '3.99')}: codes[1].section: APA 3.99 is not in the code registry" in msg


def test_too_few_options(tmp_path):
    def keep_two(text):
        start = text.index("  - id: one_small_order")
        end = text.index("reference:")
        return text[:start] + text[end:]

    path = variant(tmp_path, "two_options", keep_two)
    msgs = problems_of(path)
    assert any("options: needs at least 3 item(s), found 2" in m for m in msgs)


def test_contested_without_positions(tmp_path):
    def drop_positions(text):
        start = text.index("  positions:")
        end = text.index("codes:")
        return text[:start] + text[end:]

    path = variant(tmp_path, "no_positions", drop_positions)
    [msg] = problems_of(path)
    assert "reference: missing required field 'positions'" in msg


def test_id_must_match_file_name(tmp_path):
    path = tmp_path / "renamed.md"
    shutil.copy(GOOD, path)
    [msg] = problems_of(path)
    assert msg == f"{path}:{line_of(path, 'id: cosmetics')}: id: 'cosmetics' must match the file name 'renamed.md'"


def test_not_utf8(tmp_path):
    path = tmp_path / "latin1.md"
    path.write_bytes(GOOD.read_text(encoding="utf-8").replace("id: cosmetics", "id: latin1").encode("utf-8") + b"\xe9\xff")
    [msg] = problems_of(path)
    assert "is not UTF-8 text" in msg


def test_unknown_field_is_rejected(tmp_path):
    path = variant(tmp_path, "extra_field", lambda t: re.sub(r"^(version: \d+)$", r"\1\nauthour: me", t, count=1, flags=re.M))
    [msg] = problems_of(path)
    assert "unknown field(s) not allowed ('authour' was unexpected)" in msg


def test_every_problem_is_reported_not_just_the_first(tmp_path):
    def break_twice(text):
        return text.replace("stance: accept\n", "stance: maybe\n", 1).replace("rating: medium", "rating: severe", 1)

    path = variant(tmp_path, "two_problems", break_twice)
    msgs = problems_of(path)
    assert len(msgs) == 2
    assert any("kitchener.rating: 'severe' is not one of low, medium, high" in m for m in msgs)


def test_duplicate_case_id_across_folders_is_refused(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    shutil.copy(GOOD, mine / "cosmetics.md")
    monkeypatch.setenv("DUALROLE_CASES", str(mine))
    library = Library()
    assert library["cosmetics"].path == GOOD  # the shipped case is never overridden
    [problem] = [p for p in library.problems if "duplicate" in str(p)]
    assert "duplicate case id 'cosmetics': already defined in" in str(problem)


def test_instructor_folder_adds_cases(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    variant(mine, "my_own_case", lambda t: t)
    monkeypatch.setenv("DUALROLE_CASES", str(mine))
    assert load_case("my_own_case").title == "The cosmetics catalogue"


def test_unknown_case_suggests_close_ids():
    with pytest.raises(UnknownCase, match="Did you mean: cosmetics"):
        load_case("cosmetic")


def test_loading_a_broken_case_by_id_shows_its_problems(tmp_path, monkeypatch):
    mine = tmp_path / "mine"
    mine.mkdir()
    variant(mine, "broken_one", lambda t: t.replace("stance: accept\n", "stance: maybe\n", 1))
    monkeypatch.setenv("DUALROLE_CASES", str(mine))
    with pytest.raises(CaseError, match="options\\[3\\].stance: 'maybe'"):
        load_case("broken_one")


def test_case_version_changes_when_the_file_changes(tmp_path):
    path = variant(tmp_path, "versioned", lambda t: t)
    before = parse_case(path).case_version
    path.write_text(path.read_text(encoding="utf-8").replace("Marisol", "Mariela"), encoding="utf-8")
    assert parse_case(path).case_version != before


ODD_VALUES = [None, "", "text ending in a newline\n", 0, -1, 1.5, True, [], {}, ["a"], "Two Words", "é" * 300]


def test_the_compiled_case_schema_never_accepts_what_jsonschema_refuses():
    """Case files are checked by jsonschema-rs first and its "valid" is trusted: it may only ever say
    "valid" where jsonschema does, and it must pass the shipped cases (else it is no fast path)."""
    from widgets import paths
    from widgets.cases import casefile

    if paths._compiled_schema("case") is None:
        pytest.skip("jsonschema-rs is not installed: jsonschema alone judges every case file")
    python = casefile._validator()
    fronts = [casefile.read_case_file(path)[0] for path in sorted((REPO / "data" / "cases").glob("*.md"))]
    fronts = [front for front in fronts if front is not None]
    bodies = list(fronts)
    for front in fronts[:12]:
        for field in front:
            bodies += [{**front, field: value} for value in ODD_VALUES]
        option = front["options"][0]
        for field in option:
            bodies += [{**front, "options": [{**option, field: value}, *front["options"][1:]]} for value in ODD_VALUES]
    accepted = 0
    for data in bodies:
        fast = paths.schema_valid_fast(data, "case")
        assert not fast or python.is_valid(data), f"fast path accepted what jsonschema refuses: {data!r}"
        accepted += fast
    assert len(fronts) > 50 and all(paths.schema_valid_fast(front, "case") for front in fronts)
    assert len(bodies) - accepted > 500  # and the odd values do reach the check: most break the schema
