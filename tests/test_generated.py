"""A generated file's command line (tools/generated.py): it writes the file, ``--check`` says whether the
file is current, and a mistake in a source is a sentence naming it, with nothing written."""

from __future__ import annotations

import pytest

from tools import crosswalk, facilitator, generated
from widgets.errors import CaseProblem, InvalidFile


def test_it_writes_the_file_and_check_says_whether_it_is_current(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(generated, "ROOT", tmp_path)
    page = tmp_path / "docs" / "page.md"
    page.parent.mkdir()
    text = "# The page\n"
    assert generated.regenerate(["--check"], page, lambda: text, command="tools.page") == \
        "docs/page.md is stale: run python -m tools.page"
    assert not page.exists()
    assert generated.regenerate([], page, lambda: text, command="tools.page") == 0
    assert page.read_text(encoding="utf-8") == text and "wrote docs/page.md" in capsys.readouterr().out
    assert generated.regenerate(["--check"], page, lambda: text, command="tools.page") == 0
    assert generated.regenerate(["--check"], page, lambda: text + "more\n", command="tools.page") == \
        "docs/page.md is stale: run python -m tools.page"


def test_a_mistake_in_a_source_is_said_and_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.setattr(generated, "ROOT", tmp_path)
    page = tmp_path / "page.md"
    page.write_text("as it was\n", encoding="utf-8")

    def make() -> str:
        raise InvalidFile([CaseProblem(tmp_path / "page.yaml", 3, "lessons", "'x' is not a lesson")])

    said = generated.regenerate([], page, make, command="tools.page")
    assert said.endswith("page.yaml:3: lessons: 'x' is not a lesson\npage.md was not written.")
    assert page.read_text(encoding="utf-8") == "as it was\n"


BAD_DATA = {
    "crosswalk": (crosswalk, "DATA", ("  00_start_here:", "  00_begin_here:"),
                  ["lesson 00_start_here is missing", "'00_begin_here' is not a lesson",
                   "docs/crosswalk.md was not written."]),
    "facilitator": (facilitator, "FACILITATION", ("check_in: 15", "check_in: ten"),
                    ["facilitation.yaml:", "check_in", "docs/facilitator-guide.md was not written."]),
}


@pytest.mark.parametrize("tool", list(BAD_DATA))
def test_a_tool_reports_bad_data_without_a_traceback(tool, tmp_path, monkeypatch):
    module, name, (old, new), said = BAD_DATA[tool]
    source = getattr(module, name)
    path = tmp_path / source.name
    path.write_text(source.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")
    monkeypatch.setattr(module, name, path)
    message = module.main(["--check"])
    assert isinstance(message, str) and all(words in message for words in said), message
