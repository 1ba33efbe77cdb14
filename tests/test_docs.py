"""Every command is documented: help text, an Example, and a current entry in the README."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools import cli_reference as docs
from widgets.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_command_has_help_with_an_example(name):
    text = docs.command_help(name)
    assert cli.commands[name].help, f"dualrole {name} has no help"
    assert "Example:" in text, f"dualrole {name} help has no Example: block"


@pytest.mark.parametrize("name, sub", [(n, s) for n in sorted(cli.commands) for s in docs.subcommands(n)])
def test_subcommand_has_help_with_an_example(name, sub):
    assert "Example:" in docs.command_help(name, sub), f"dualrole {name} {sub} help has no Example: block"


def test_readme_command_reference_is_current():
    current = README.read_text(encoding="utf-8")
    assert docs.updated_readme(current) == current, "run: python -m tools.cli_reference"


def test_readme_puts_the_two_commands_first():
    text = README.read_text(encoding="utf-8")
    first_block = text.split("```bash", 1)[1].split("```", 1)[0]
    assert "make lab" in first_block and "make test" in first_block
