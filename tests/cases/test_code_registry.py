"""An instructor's own code registry (``codes.yaml`` beside their cases): merged with the shipped codes,
cited by their cases, shown by the reveal and the answer key, and every mistake named by file, line and field.

The registry here is fictional (EXAMPLE-BODY), as in docs/code-registry.md: no real code's text.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from widgets.cases.casefile import code_link, code_registry, law_registry, registries
from widgets.cases.library import load_case, validate_paths
from widgets.paths import data_dir

GOOD = """\
# A fictional code, for the test (never a real body's text).
EXAMPLE-BODY:
  "1.2": "Dual roles are avoided where they could cloud judgment"
  "1.2(a)": "Unavoidable dual roles are discussed with the client and recorded"
links:
  EXAMPLE-BODY: "https://example.org/example-body-code"
law:
  "Example Province Records Act s. 12": "A client may read their own record, with stated exceptions, within 30 days"
"""


def own_case(folder, *, codes: str, law: str = "") -> None:
    """The shipped cosmetics case as an instructor's own, citing ``codes`` (and ``law``)."""
    source = (data_dir() / "cases" / "cosmetics.md").read_text(encoding="utf-8")
    source = source.replace("id: cosmetics", "id: my_cosmetics", 1)
    start = source.index("codes:\n")
    end = source.index("\n", source.index('{code: NASW, section: "1.06(c)"}'))
    source = source[:start] + codes.rstrip("\n") + (f"\n{law.rstrip()}" if law else "") + source[end:]
    (folder / "my_cosmetics.md").write_text(source, encoding="utf-8")


@pytest.fixture
def own_folder(tmp_path, monkeypatch):
    folder = tmp_path / "my-cases"
    folder.mkdir()
    monkeypatch.setenv("DUALROLE_CASES", str(folder))
    return folder


CITES = """codes:
  - {code: APA, section: "3.05"}
  - {code: EXAMPLE-BODY, section: "1.2(a)"}
"""


def test_a_registered_code_cited_by_an_instructors_case_renders_in_the_reveal_and_the_answer_key(own_folder):
    from widgets.reporting.handouts import answer_key_html
    from widgets.ui.reveal import reveal_html

    (own_folder / "codes.yaml").write_text(GOOD, encoding="utf-8")
    own_case(own_folder, codes=CITES, law='law: ["Example Province Records Act s. 12"]')
    cases, problems = validate_paths()
    assert problems == [] and "my_cosmetics" in {c.id for c in cases}
    assert code_registry()["EXAMPLE-BODY"]["1.2"].startswith("Dual roles") and "APA" in code_registry()
    case = load_case("my_cosmetics")
    html = reveal_html(case, [{"option_id": case.options[0].id, "confidence": 60, "justification": "x" * 30}], None)
    assert re.search(r'<a href="https://example.org/example-body-code"[^>]*>EXAMPLE-BODY 1.2\(a\)</a>: '
                     r"Unavoidable dual roles are discussed", html)
    assert "APA 3.05</a>: Multiple relationships" in html  # the shipped codes beside it, as before
    assert "<summary>The law</summary>" in html and "Example Province Records Act s. 12</strong>: A client" in html
    key = answer_key_html([case], "business")
    assert "EXAMPLE-BODY 1.2(a) (Unavoidable dual roles" in key and "Example Province Records Act s. 12" in key


def test_a_code_without_a_link_is_shown_without_one(own_folder):
    from widgets.ui.reveal import codes_list

    (own_folder / "codes.yaml").write_text(GOOD.split("links:")[0], encoding="utf-8")
    own_case(own_folder, codes=CITES)
    assert code_link("EXAMPLE-BODY") is None
    html = codes_list(load_case("my_cosmetics"))
    assert "<li>EXAMPLE-BODY 1.2(a): Unavoidable" in html


def test_without_a_registry_the_shipped_codes_alone_are_registered_and_a_case_citing_another_is_refused(own_folder):
    assert set(code_registry()) == {"APA", "ACA", "AAMFT", "NASW"} and registries().problems == ()
    own_case(own_folder, codes=CITES)
    _, problems = validate_paths()
    [problem] = problems
    assert str(problem).endswith("codes[1].code: 'EXAMPLE-BODY' is not a registered code (registered: APA, ACA, "
                                 "AAMFT, NASW); an instructor registers their own in a codes.yaml beside their "
                                 "cases (docs/code-registry.md)")
    assert re.search(r"my_cosmetics\.md:\d+: ", str(problem))


# Each mistake, the line it is on, the field, and words of the message.
MISTAKES = [
    (GOOD.replace("EXAMPLE-BODY:\n", "APA:\n", 1), 2, "APA", "already registered with the curriculum"),
    (GOOD.replace("Dual roles are avoided", "Dual roles are <b>avoided</b>"), 3, "EXAMPLE-BODY.1.2", "holds HTML"),
    (GOOD.replace("Dual roles are avoided where they could cloud judgment", "Too short" * 20), 3,
     "EXAMPLE-BODY.1.2", "180 characters long: write 3 to 120"),
    (GOOD.replace("EXAMPLE-BODY:\n", "example body:\n", 1), 2, "example body", "is not a code name"),
    (GOOD.replace('"1.2(a)"', '"1.2 (a) and more"'), 4, "EXAMPLE-BODY.1.2 (a) and more", "is not a section number"),
    (GOOD.replace('"https://example.org/example-body-code"', '"http://example.org/code"'), 6,
     "links.EXAMPLE-BODY", "is not an https:// link"),
    (GOOD.replace("  EXAMPLE-BODY: \"https", "  OTHER-BODY: \"https"), 6, "links.OTHER-BODY",
     "is not a code this file registers"),
    (GOOD.replace('"Example Province Records Act s. 12"', '"DoDI 6490.08"'), 8, "law.DoDI 6490.08",
     "already registered by the curriculum"),
    (GOOD.replace("A client may read", "A client may <script>read</script>"), 8,
     "law.Example Province Records Act s. 12", "holds HTML"),
    (GOOD.replace('  "1.2": "Dual', '  "1.2": ["Dual').replace('judgment"\n', 'judgment"]\n'), 3, "EXAMPLE-BODY.1.2",
     "expected a short paraphrase as text"),
    (GOOD.replace('  "1.2(a)":', '  "1.2":'), 4, "EXAMPLE-BODY.1.2", "registered twice"),
    (GOOD + "  broken: [unclosed\n", 10, None, "YAML syntax error"),
]


@pytest.mark.parametrize("text, line, field, words", MISTAKES)
def test_each_kind_of_registry_mistake_is_named_by_file_line_and_field(own_folder, text, line, field, words):
    (own_folder / "codes.yaml").write_text(text, encoding="utf-8")
    _, problems = validate_paths([own_folder])
    mine = [p for p in problems if str(p.path).endswith("codes.yaml")]
    assert mine, problems
    found = next((p for p in mine if words in p.message), None)
    assert found is not None, [str(p) for p in mine]
    assert (found.line, found.field) == (line, field), str(found)
    assert re.search(rf"codes\.yaml:{line}:", str(found))
    # A registry with a mistake adds nothing: its codes are not merged with ours.
    assert set(code_registry()) == {"APA", "ACA", "AAMFT", "NASW"}
    assert "Example Province Records Act s. 12" not in law_registry()


def test_a_code_registered_in_two_folders_is_named_in_the_second(tmp_path, monkeypatch):
    import os

    first, second = tmp_path / "a", tmp_path / "b"
    for folder in (first, second):
        folder.mkdir()
        (folder / "codes.yaml").write_text(GOOD.split("law:")[0], encoding="utf-8")
    monkeypatch.setenv("DUALROLE_CASES", f"{first}{os.pathsep}{second}")
    [problem] = registries().problems
    assert str(problem.path).startswith(str(second)) and problem.line == 2 and problem.field == "EXAMPLE-BODY"
    assert f"already registered in {first / 'codes.yaml'}" in problem.message
    assert "EXAMPLE-BODY" in code_registry()  # the first folder's registry still counts


def test_a_case_citing_an_unregistered_section_or_law_note_names_its_line(own_folder):
    (own_folder / "codes.yaml").write_text(GOOD, encoding="utf-8")
    own_case(own_folder, codes=CITES.replace('"1.2(a)"', '"9.9"'), law='law: ["Example Province Act"]')
    _, problems = validate_paths()
    fields = {p.field: p.message for p in problems}
    assert "EXAMPLE-BODY 9.9 is not in the code registry" in fields["codes[1].section"]
    assert "codes.yaml" in fields["codes[1].section"]  # where to add it
    assert "'Example Province Act' is not a registered law note" in fields["law[0]"]


def test_dualrole_validate_prints_a_registry_mistake_without_a_traceback(own_folder):
    from widgets.cli import cli

    (own_folder / "codes.yaml").write_text(GOOD.replace("EXAMPLE-BODY:\n", "NASW:\n", 1), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert re.search(r"codes\.yaml:2: NASW: the code 'NASW' is already registered with the curriculum", result.output)


def test_validating_a_folder_reads_the_registry_beside_its_cases(tmp_path):
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    (folder / "codes.yaml").write_text(GOOD, encoding="utf-8")
    own_case(folder, codes=CITES)
    cases, problems = validate_paths([folder])
    assert problems == [] and [c.id for c in cases] == ["my_cosmetics"]


def test_a_broken_registry_is_reported_with_its_folder_not_when_the_shipped_library_is_validated(own_folder):
    (own_folder / "codes.yaml").write_text(GOOD.replace("EXAMPLE-BODY:\n", "APA:\n", 1), encoding="utf-8")
    assert validate_paths([data_dir() / "cases" / "cosmetics.md"])[1] == []
    assert "APA" in [p.field for p in validate_paths([own_folder])[1]]
