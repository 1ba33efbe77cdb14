"""The ``dualrole`` command: a thin layer over the public API.

Each command parses its options, calls one documented function and formats the result. A user's
mistake is an ``Error: ...`` line and exit status 1, never a traceback.
"""

from __future__ import annotations

import functools
import importlib
import json
import sys
from pathlib import Path

import click

from . import identity
from .cases import load_library, validate_paths
from .errors import DualroleError
from .store import describe_url, open_store
from .vocab import STANCE_LABELS


def friendly_errors(func):
    """Turn the package's own errors into ``click`` errors: one line, no traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DualroleError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dualrole")
def cli():
    """Dual-role relationships and confidentiality: cases, responses and cohort data.

    Example:

        dualrole cases
    """


@cli.command()
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
        click.echo(f"{len(problems)} problem(s) in {len({str(p.path) for p in problems})} of {files} file(s).", err=True)
        sys.exit(1)
    click.echo(f"All {len(cases)} case(s) are valid.")


@cli.command("cases")
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


@cli.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The bundle file to write (JSON Lines).")
@click.option("--store", "url", help="Store URL (default: your own store).")
@friendly_errors
def export(out, url):
    """Write your own responses to a bundle file you can hand in.

    Nothing leaves your machine until you send the file yourself.

    Example:

        dualrole export --out my-answers.jsonl
    """
    from .bundle import write_bundle

    learner = identity.learner_id()
    n = write_bundle(open_store(url), learner, out)
    click.echo(f"Wrote {n} response(s) of learner {learner} to {out}.")


@cli.command()
@click.option("--me", is_flag=True, required=True, help="Erase your own responses (required).")
@click.option("--store", "url", help="Store URL (default: your own store).")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def erase(me, url, yes):
    """Delete all your own responses and consent records from a store.

    Example:

        dualrole erase --me
    """
    store = open_store(url)
    learner = identity.learner_id()
    n = len(store.responses(learner=learner))
    if not yes:
        click.confirm(f"Delete {n} response(s) of learner {learner} from {describe_url(store.url)}?", abort=True)
    removed = store.erase_learner(learner)
    click.echo(f"Erased {removed} response(s).")


@cli.command()
@friendly_errors
def where():
    """Show where your answers are stored and who you are recorded as.

    Example:

        dualrole where
    """
    from .discovery import service_from_env
    from .store import default_url

    click.echo(f"learner: {identity.learner_id()}")
    click.echo(f"cohort:  {identity.cohort()}")
    service = service_from_env()
    if service is not None:
        click.echo(f"store:   the class service at {service.url} (answers leave this machine when you commit)")
    else:
        click.echo(f"store:   {describe_url(default_url())}")
    click.echo(f"research consent: {'yes' if identity.research_consent() else 'no'}")


# Commands that live in their own modules register themselves on ``cli`` when imported.
for _module in ("cli_research", "cli_collect", "cli_serve"):
    try:
        importlib.import_module(f".{_module}", __package__)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{_module}":
            raise


def main():
    cli(prog_name="dualrole")
