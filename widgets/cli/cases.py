"""``dualrole validate`` and ``dualrole cases``: check and list the case library."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from widgets.cases import load_library, validate_paths
from widgets.cases.cues import cue_statistics
from widgets.cases.library import stance_conflicts
from widgets.cli.options import friendly_errors
from widgets.vocab import STANCE_LABELS


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--cues", is_flag=True,
              help="Also report whether the option labels give the keys away: how often the key is the "
                   "longest or shortest label against chance, and how often keys and other options are "
                   "compound or use the cue words (see docs/item-writing.md).")
def validate(paths, cues):
    """Check case files or folders (default: every case folder).

    Prints every problem as FILE:LINE: FIELD: MESSAGE and exits 1 if there is any, including two cases
    of the same kind of request and codes whose keys share no stance and neither says why.

    Example:

        dualrole validate data/cases my-cases/new_case.md

        dualrole validate --cues my-cases
    """
    cases, problems = validate_paths(list(paths) or None)
    for problem in problems:
        click.echo(str(problem), err=True)
    files = len(cases) + len({str(p.path) for p in problems})
    if problems:
        bad_files = len({str(p.path) for p in problems})
        click.echo(f"{len(problems)} problem(s) in {bad_files} of {files} file(s).", err=True)
        sys.exit(1)
    conflicts = stance_conflicts(cases)
    for a, b in conflicts:
        click.echo(f"{a.path}:{_line_of(a.path, '  preferred:')}: reference.preferred: same kind of request "
                   f"({a.request}) and codes as {b.id}, but no preferred stance in common: share one, or say "
                   "why in reference.stance_reason (one line, shown in the reveal)", err=True)
    if conflicts:
        click.echo(f"{len(conflicts)} pair(s) of cases disagree without a reason.", err=True)
        sys.exit(1)
    click.echo(f"All {len(cases)} case(s) are valid.")
    if cues and cases:
        _report_cues(cases)


def _line_of(path: Path, start: str) -> int:
    """The 1-based number of the first line of ``path`` that begins with ``start`` (1 if none does)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return next((i for i, line in enumerate(lines, start=1) if line.startswith(start)), 1)


CUE_GAP = 0.10  # a gap this large between keys and chance (or other options) is worth a look


def _report_cues(cases) -> None:
    stats = cue_statistics(cases)
    click.echo(f"\nSurface cues in the option labels of {stats.cases} case(s): {stats.keys} key(s) "
               f"(preferred options), {stats.others} other option(s).")
    rows = stats.rows()
    width = max(len(cue) for cue, _, _ in rows)
    flagged = 0
    gaps = [stats.key_longest.excess, stats.key_shortest.excess, stats.compound[0] - stats.compound[1],
            *(k - o for k, o in stats.words.values())]
    for (cue, keys, other), gap in zip(rows, gaps):
        mark = "  <- check" if abs(gap) >= CUE_GAP else ""
        flagged += bool(mark)
        click.echo(f"  {cue.ljust(width)}  keys {keys.rjust(4)}   {other}{mark}")
    click.echo(f"{flagged} cue(s) differ by {CUE_GAP:.0%} or more. Aim for keys that look like the other "
               "options (docs/item-writing.md).")


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
