"""``dualrole roster check``, ``dualrole grades`` and ``dualrole feedback-export``: from answers to grades.

The instructor's roster, rubric and grading policy are files they keep outside the repository;
each is checked first, and a problem is reported with its file and line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from widgets.cli.options import friendly_errors, store_option
from widgets.errors import DualroleError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _store(store_url):
    from widgets.store import open_store

    if store_url is None:
        raise DualroleError("name the class store: --store FILE|URL (or set DUALROLE_STORE)")
    return open_store(store_url)


@click.group()
def roster():
    """Check a class roster (a CSV you keep) against the answers in a store.

    Example:

        dualrole roster check --store class.sqlite --roster ~/private/psy501-roster.csv
    """


@roster.command("check")
@store_option
@click.option("--roster", "roster_path", required=True, type=_FILE,
              help="The roster CSV: learner_id, and any of name, email, lms_id, sis_id, section.")
@friendly_errors
def roster_check_(store_url, roster_path):
    """List learners in the store who are not on the roster, and roster entries with no answers.

    Exits 1 when either list is not empty, so a script can stop before grading.

    Example:

        dualrole roster check --store class.sqlite --roster ~/private/psy501-roster.csv
    """
    from widgets.analysis.grades import roster_check
    from widgets.grading.files import read_roster

    entries = read_roster(roster_path)
    learners = {r["learner"] for r in _store(store_url).responses()}
    unknown, absent = roster_check(learners, entries)
    click.echo(f"{len(learners)} learner(s) with answers; {len(entries)} on the roster.")
    if unknown:
        click.echo(f"Not on the roster ({len(unknown)}): " + ", ".join(unknown))
    if absent:
        click.echo(f"On the roster with no answers ({len(absent)}): "
                   + ", ".join(f"{e.learner_id} (line {e.line})" for e in absent))
    if not unknown and not absent:
        click.echo("Every learner with answers is on the roster, and everyone on it has answered.")
    if unknown or absent:
        raise SystemExit(1)


@click.command("grades")
@store_option
@click.option("--roster", "roster_path", required=True, type=_FILE, help="The roster CSV.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The gradebook CSV to write.")
@click.option("--format", "fmt", type=click.Choice(["canvas", "moodle", "plain"]), default="plain",
              show_default=True, help="Which gradebook import the file is for.")
@click.option("--policy", "policy_path", type=_FILE,
              help="A grading-policy YAML (default: completion per lesson and the mean rubric score).")
@click.option("--rubric", "rubric_path", type=_FILE, help="The rubric the answers were scored with (YAML).")
@click.option("--moodle-id", type=click.Choice(["email", "username", "idnumber"]), default="email",
              show_default=True, help="The Moodle user field of the identifier column.")
@friendly_errors
def grades_(store_url, roster_path, out, fmt, policy_path, rubric_path, moodle_id):
    """Write a gradebook file for Canvas, Moodle or a plain CSV from a class store and roster.

    Completion counts cases committed (with reasoning) out of the cases in each lesson, and the pre-
    and post-test by completion only, never correctness; the mean rubric score goes in where scored.
    Learners not on the roster are reported, never silently dropped.

    Example:

        dualrole grades --store class.sqlite --roster roster.csv --out grades.csv --format canvas
    """
    from widgets.grading.files import load_policy, load_rubric, read_roster
    from widgets.reporting.gradebook import class_gradebook

    entries = read_roster(roster_path)
    policy = load_policy(policy_path) if policy_path else None
    rubric = load_rubric(rubric_path) if rubric_path else None
    with click.progressbar(length=1, label="Grading", file=sys.stderr) as bar:
        book, table = class_gradebook(_store(store_url), entries, out, fmt, policy=policy, rubric=rubric,
                                      moodle_id=moodle_id)
        bar.update(1)
    click.echo(f"Wrote {book.written} learner(s) to {book.path} ({fmt}).")
    unscored = table[table["points"].gt(0) & table["assignment"].isin(book.rubric_assignments) & ~table["scored"]]
    if len(unscored):
        click.echo(f"No rubric score yet ({unscored['learner'].nunique()} learner(s)): their grade holds the "
                   "completion points only.", err=True)
    if book.not_on_roster:
        where = "kept in the file with on_roster=no" if fmt == "plain" else "left out of the file"
        click.echo(f"Not on the roster ({len(book.not_on_roster)}, {where}): " + ", ".join(book.not_on_roster),
                   err=True)
    if book.missing_id:
        click.echo(f"On the roster without the id this format needs ({len(book.missing_id)}): "
                   + ", ".join(book.missing_id), err=True)


@click.command("feedback-export")
@store_option
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write one feedback file per learner into.")
@friendly_errors
def feedback_export_(store_url, out):
    """Write one feedback file per learner from the feedback released in a class store.

    Hand each learner their own file; their MyAnswers panel imports it (refusing a file for someone
    else, a changed file, or feedback on a case version they did not answer).

    Example:

        dualrole feedback-export --store class.sqlite --out feedback/
    """
    from widgets.exchange.feedback import export_feedback

    written = export_feedback(_store(store_url), out)
    if not written:
        click.echo("No feedback has been released yet: release it in the review screen first.")
        return
    click.echo(f"Wrote {len(written)} feedback file(s) to {out}.")


COMMANDS = (roster, grades_, feedback_export_)
