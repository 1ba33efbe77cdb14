"""``dualrole collect``: merge learners' bundles into a cohort store (a thin layer over widgets.exchange.collect)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from widgets.cli.options import friendly_errors, store_option
from widgets.errors import DualroleError
from widgets.paths import QUARANTINE_DIR

SHOWN_PROBLEMS = 20


@click.command("collect")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@store_option
@click.option("--quarantine", type=click.Path(file_okay=False, path_type=Path), default=QUARANTINE_DIR,
              show_default=True, help="Folder for set-aside lines and report.csv (replaced on each run).")
@click.option("--allow-stale-cases", is_flag=True,
              help="Also import answers to case files edited since (they keep their own case_version).")
@friendly_errors
def collect_command(paths, store_url, quarantine, allow_stale_cases):
    """Merge learners' bundle files (or folders of them) into a cohort store.

    Safe to repeat: an answer already in the store counts as a duplicate. A bad line is set aside in
    the quarantine folder, with its file, line and reason in report.csv, and the rest of its bundle
    is still imported. Each bundle goes in whole or not at all. Exits 0 whenever it ran, whatever it
    set aside; 1 when it could not run (no bundle files, store unreachable).

    Example:

    \b
        dualrole collect ~/Downloads/week3 --store sqlite:///class.sqlite
        dualrole collect week3/*.jsonl --store postgresql+psycopg://teacher@db.example.org/ethics
    """
    from widgets.exchange.collect import CollectInterrupted, bundle_paths, collect, skipped_paths
    from widgets.store import describe_url, open_store

    if store_url is None:
        raise DualroleError("collect needs the cohort store: --store PATH|URL (or set DUALROLE_STORE)")
    files = bundle_paths(paths, exclude=quarantine)
    skipped = skipped_paths(paths, exclude=quarantine)
    if skipped:
        click.echo(f"Skipped {len(skipped)} file(s) that are not bundles (bundles end in .jsonl): "
                   + ", ".join(str(p) for p in skipped), err=True)
    if not files:
        where = ", ".join(str(p) for p in paths)
        raise click.ClickException(f"no bundle files in {where} (bundles end in .jsonl; make them with "
                                   "'dualrole export')")
    store = open_store(store_url)
    with click.progressbar(length=len(files), label=f"Collecting {len(files)} file(s)", file=sys.stderr) as bar:
        try:
            report = collect(files, store, quarantine, allow_stale_cases=allow_stale_cases,
                             on_file=lambda _result: bar.update(1))
        except CollectInterrupted as exc:
            if exc.report.files:
                click.echo(exc.report.table())
            raise
    click.echo(report.table())
    click.echo(f"\nStore: {describe_url(store.url)}")
    problems = report.problems
    if not problems:
        return
    click.echo(f"\n{len(problems)} problem(s); set-aside lines and report.csv are in {report.quarantine_dir}/:")
    for problem in problems[:SHOWN_PROBLEMS]:
        click.echo(f"  {problem}")
    if len(problems) > SHOWN_PROBLEMS:
        click.echo(f"  ... and {len(problems) - SHOWN_PROBLEMS} more in {report.report_path}")

COMMANDS = (collect_command,)
