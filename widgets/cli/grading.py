"""``dualrole roster check``, ``dualrole grades`` and ``dualrole feedback-export``: from answers to grades.

The instructor's roster, rubric and grading policy are files they keep outside the repository;
each is checked first, and a problem is reported with its file and line.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from widgets.cli.options import friendly_errors, run_until_stopped, store_option
from widgets.errors import DualroleError

_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


def _store(store_url):
    """The class store, opened to read: a missing or empty store is an error, and none is created."""
    from widgets.store import open_class_store

    if store_url is None:
        raise DualroleError("name the class store: --store FILE|URL (or set DUALROLE_STORE)")
    return open_class_store(store_url)


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
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="The gradebook CSV to write (not needed with --dry-run).")
@click.option("--format", "fmt", type=click.Choice(["canvas", "moodle", "plain"]), default="plain",
              show_default=True, help="Which gradebook import the file is for.")
@click.option("--policy", "policy_path", type=_FILE,
              help="A grading-policy YAML (default: completion per lesson taught and the mean rubric score).")
@click.option("--rubric", "rubric_path", type=_FILE, help="The rubric the answers were scored with (YAML).")
@click.option("--moodle-id", type=click.Choice(["email", "username", "idnumber"]), default="email",
              show_default=True, help="The Moodle user field of the identifier column.")
@click.option("--partial", is_flag=True,
              help="Write a rubric column even though not every answer has a final score yet.")
@click.option("--dry-run", is_flag=True, help="Print the summary per assignment and write nothing.")
@friendly_errors
def grades_(store_url, roster_path, out, fmt, policy_path, rubric_path, moodle_id, partial, dry_run):
    """Write a gradebook file for Canvas, Moodle or a plain CSV from a class store and roster.

    Only the lessons the term assigns get a column (the policy's taught:, else those the class
    answered). Completion counts cases committed with reasoning the card accepted, and the pre- and
    post-test by completion only, never correctness. Missing work is blank (or excused, or zero, as
    the policy says), never a silent 0. A rubric column is written only when every answer it counts
    has a final score, or with --partial. A summary is printed first: the weights (the share of
    the points for reasoning, the rubric scores, and for completion), then each assignment's points,
    share and counts; --dry-run prints only that. Learners not on the roster are reported, never silently dropped.

    Example:

        dualrole grades --store class.sqlite --roster roster.csv --out grades.csv --format canvas --dry-run
    """
    from widgets.analysis.grades import grade_summary
    from widgets.grading.files import lesson_label, load_policy, load_rubric, read_roster
    from widgets.reporting.gradebook import class_gradebook, grade_table

    if out is None and not dry_run:
        raise click.UsageError("name the gradebook file with --out (or use --dry-run to see the summary only)")
    entries = read_roster(roster_path)
    policy = load_policy(policy_path) if policy_path else None
    rubric = load_rubric(rubric_path) if rubric_path else None
    store = _store(store_url)
    table = grade_table(store, policy=policy, rubric=rubric, roster=entries)
    _summary(table, grade_summary(table), partial, lesson_label)
    if dry_run:
        return
    with click.progressbar(length=1, label="Grading", file=sys.stderr) as bar:
        book, table = class_gradebook(store, entries, out, fmt, policy=policy, rubric=rubric,
                                      moodle_id=moodle_id, partial=partial)
        bar.update(1)
    click.echo(f"Wrote {book.written} learner(s) to {book.path} ({fmt})"
               + (", with the rubric scores so far (--partial)." if partial and book.rubric_assignments else "."))
    if book.withheld:
        click.echo("Left out, not fully scored: " + ", ".join(book.withheld)
                   + " (score and reconcile every answer, or add --partial).", err=True)
    if book.not_on_roster:
        where = "kept in the file with on_roster=no" if fmt == "plain" else "left out of the file"
        click.echo(f"Not on the roster ({len(book.not_on_roster)}, {where}): " + ", ".join(book.not_on_roster),
                   err=True)
    if book.missing_id:
        click.echo(f"On the roster without the id this format needs ({len(book.missing_id)}): "
                   + ", ".join(book.missing_id), err=True)
        raise SystemExit(1)


def _summary(table, summary, partial: bool, lesson_label) -> None:
    taught = table.attrs["taught"]
    click.echo("Lessons counted: " + ", ".join(lesson_label(lesson) for lesson in taught)
               + (" (the policy's taught:)" if table.attrs["taught_from_policy"]
                  else " (those the class answered; name them with taught: in your policy)"))
    click.echo(f"Missing work is written as: {table.attrs['missing']}.")
    points = table.attrs["points"]
    total = sum(points.values())
    weights = table.attrs["weights"]
    click.echo(f"Weights: reasoning (rubric scores) {weights['reasoning']:.0%}, completion {weights['completion']:.0%} "
               f"of {_points(total)} points.")
    for row in summary.itertuples():
        scoring = (f"; answers scored {row.scored} of {row.to_score}" if row.assignment
                   in table.attrs["rubric_assignments"] else "")
        ready = ""
        if row.assignment in table.attrs["rubric_assignments"] and not table.attrs["rubric_complete"][row.assignment]:
            ready = " (PARTIAL: written only with --partial)" if not partial else " (PARTIAL)"
        share = points[row.assignment] / total if total else 0.0
        kind = "reasoning" if row.assignment in table.attrs["rubric_assignments"] else "completion"
        click.echo(f"  {row.assignment} ({_points(points[row.assignment])} points, {share:.0%}, {kind}): "
                   f"{row.learners} learner(s): {row.complete} complete, {row.blank} blank, "
                   f"{row.excused} excused, {row.zero} zero{scoring}{ready}")


def _points(value: float) -> str:
    return f"{value:g}"


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
    on_disk = {p for p in written.values() if p.is_file()}
    click.echo(f"Wrote {len(on_disk)} feedback file(s) to {out}, signed with the class's key (kept beside the "
               "store; never hand it out).")
    for learner, path in sorted(written.items()):
        click.echo(f"  {path.name}: {learner}")


@click.command("feedback-verify")
@store_option
@click.argument("files", nargs=-1, required=True, type=_FILE)
@friendly_errors
def feedback_verify_(store_url, files):
    """Check that feedback files are as this class exported them (signed with its key, unchanged).

    For a file a learner shows you; exits 1 when any is unsigned or changed.

    Example:

        dualrole feedback-verify --store class.sqlite feedback/feedback-ana-1a2b3c4d.jsonl
    """
    from widgets.exchange.feedback import FeedbackRefused, verify_feedback

    store = _store(store_url)
    bad = 0
    for path in files:
        try:
            click.echo(f"{path.name}: signed by this class, unchanged (for {verify_feedback(path, store)}).")
        except FeedbackRefused as exc:
            click.echo(f"Refused: {exc}", err=True)
            bad += 1
    if bad:
        raise SystemExit(1)


@click.group()
def rubric():
    """Rubric versions: carry scores given under one version over to the next, explicitly.

    Example:

        dualrole rubric migrate --store class.sqlite old_rubric.yaml rubric.yaml --map alternative:0=0,1=1,2=3
    """


@rubric.command("migrate")
@store_option
@click.argument("old", type=_FILE)
@click.argument("new", type=_FILE)
@click.option("--map", "maps", multiple=True, metavar="CRITERION:OLD=NEW[,OLD=NEW]",
              help="How a criterion's old levels become new ones, e.g. alternative:0=0,1=1,2=3. Needed for "
                   "every criterion whose number of levels changed.")
@click.option("--by", default=None, help="Who migrates (default: the hub user or this account).")
@friendly_errors
def rubric_migrate_(store_url, old, new, maps, by):
    """Re-record the scores given under rubric OLD under rubric NEW, mapping each level as told.

    A score is never rescaled silently: grades and release count only scores under the rubric's
    current version. After an edit that changes what a level means (bump version:), either score
    again or migrate. The old sheets stay on record.

    Example:

        dualrole rubric migrate --store class.sqlite old_rubric.yaml rubric.yaml --map alternative:0=0,1=1,2=3
    """
    from widgets.grading.files import load_rubric
    from widgets.store.scores import ScoreBook
    from widgets.ui.review import default_scorer

    before, after = load_rubric(old), load_rubric(new)
    if before.version == after.version:
        raise DualroleError(f"{old} and {new} are the same version of rubric '{before.id}': nothing to migrate")
    n = ScoreBook(_store(store_url)).migrate(before, after, _level_maps(maps), by or default_scorer())
    click.echo(f"Migrated {n} score(s) from version {before.number} to version {after.number} of rubric "
               f"'{after.id}'.")


def _level_maps(maps) -> dict[str, dict[int, int]]:
    out: dict[str, dict[int, int]] = {}
    for given in maps:
        try:
            criterion, pairs = given.split(":", 1)
            out[criterion.strip()] = {int(a): int(b) for a, b in (p.split("=") for p in pairs.split(","))}
        except ValueError:
            raise click.BadParameter(f"'{given}' is not CRITERION:OLD=NEW[,OLD=NEW]", param_hint="--map") from None
    return out


@click.command("review")
@store_option
@click.option("--lab", is_flag=True, help="Open it in JupyterLab instead of Voila.")
@click.option("--port", type=int, help="The port to serve on (default: the server's own choice).")
@friendly_errors
def review_(store_url, lab, port):
    """Open the review and grading app on your class store: Voila, or JupyterLab with --lab.

    The store is checked first (a missing or empty store is an error, and none is created), then
    passed to the app as DUALROLE_STORE, so the notebook opens it with no cell to edit. The server
    listens on this machine only (127.0.0.1). Voila comes with: pip install "dualrole[dashboard]".

    Example:

        dualrole review --store ~/psy501/class.sqlite
    """
    import importlib.util
    import os
    import subprocess

    from widgets.paths import notebooks_dir

    _store(store_url)
    module = "jupyterlab" if lab else "voila"
    if importlib.util.find_spec(module) is None:
        extra = "jupyterlab" if lab else '"dualrole[dashboard]"'
        raise DualroleError(f"{module} is not installed here: pip install {extra}")
    notebook = notebooks_dir() / "instructor_review.ipynb"
    options = (["--ServerApp.ip=127.0.0.1", *([f"--ServerApp.port={port}"] if port else [])] if lab
               else ["--Voila.ip=127.0.0.1", *([f"--port={port}"] if port else [])])
    env = {**os.environ, "DUALROLE_STORE": store_url}
    raise SystemExit(run_until_stopped(subprocess.Popen([sys.executable, "-m", module, str(notebook), *options],
                                                         env=env)))


COMMANDS = (roster, grades_, feedback_export_, feedback_verify_, rubric, review_)
