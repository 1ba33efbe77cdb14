"""The ``dualrole`` command: a thin layer over the public API.

Each command parses its options, calls one documented function and formats the result. A user's
mistake is an ``Error: ...`` line and exit status 1, never a traceback. Commands are grouped by who
runs them: :mod:`~widgets.cli.cases` (authors), :mod:`~widgets.cli.learner` (learners),
:mod:`~widgets.cli.exchange`, :mod:`~widgets.cli.serve`, :mod:`~widgets.cli.printouts` and
:mod:`~widgets.cli.grading` (instructors), :mod:`~widgets.cli.research` (instructors and researchers).
Options they share live in :mod:`~widgets.cli.options`.
"""

from __future__ import annotations

import click

from widgets.cli import cases, exchange, grading, learner, printouts, research, serve


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dualrole")
def cli():
    """Dual-role relationships and confidentiality: cases, responses and cohort data.

    Example:

        dualrole cases
    """


for _command in (*cases.COMMANDS, *learner.COMMANDS, *exchange.COMMANDS, *research.COMMANDS, *serve.COMMANDS,
                 *printouts.COMMANDS, *grading.COMMANDS):
    cli.add_command(_command)


def main():
    """The console script's entry point."""
    cli(prog_name="dualrole")
