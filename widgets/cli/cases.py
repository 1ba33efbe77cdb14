"""``dualrole validate`` and ``dualrole cases``: check and list the case library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from widgets.cases import load_library, validate_paths
from widgets.cli.options import friendly_errors
from widgets.vocab import STANCE_LABELS


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
def validate(paths):
    """Check case files or folders (default: every case folder).

    Prints every problem as FILE:LINE: FIELD: MESSAGE and exits 1 if there is any.

    Example:

        dualrole validate data/cases my-cases/new_case.md
    """
    cases, problems = validate_paths(list(paths) or None)
    for problem in problems:
        click.echo(str(problem), err=True)
    files = len(cases) + len({str(p.path) for p in problems})
    if problems:
        bad_files = len({str(p.path) for p in problems})
        click.echo(f"{len(problems)} problem(s) in {bad_files} of {files} file(s).", err=True)
        sys.exit(1)
    click.echo(f"All {len(cases)} case(s) are valid.")


@click.command("cases")
@click.option("--module", help="Only this module (e.g. business).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def cases_(module, as_json):
    """List the cases: id, module, title and the reference stance.

    Example:

        dualrole cases --module confidentiality
    """
    library = load_library()
    chosen = library.module(module) if module else list(library)
    rows = [
        {"id": c.id, "module": c.module, "title": c.title,
         "reference": "/".join(STANCE_LABELS[s] for s in dict.fromkeys(c.reference_stances)),
         "contested": c.contested}
        for c in chosen
    ]
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        width = max((len(r["id"]) for r in rows), default=2)
        for r in rows:
            flag = " (contested)" if r["contested"] else ""
            click.echo(f"{r['id']:<{width}}  {r['module']:<15}  {r['title']}  [{r['reference']}{flag}]")
        click.echo(f"{len(rows)} case(s).")
    for problem in library.problems:
        click.echo(f"warning: skipped {problem}", err=True)


COMMANDS = (validate, cases_)
