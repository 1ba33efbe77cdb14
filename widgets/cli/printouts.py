"""``dualrole handouts``: print-ready case handouts, role-play cards and a separate answer key for one module."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from widgets.cli.options import friendly_errors
from widgets.vocab import MODULES


@click.command("handouts")
@click.option("--module", required=True, metavar="MODULE",
              help=f"The module whose lesson cases to print: {', '.join(MODULES)}.")
@click.option("--out", required=True, type=click.Path(path_type=Path),
              help="The folder to write the handout, the answer key and the role-play cards into (created if needed).")
@click.option("--pdf/--no-pdf", default=True, show_default=True,
              help="Also print each to PDF with headless Chromium, when it is installed.")
@click.option("--force", is_flag=True, help="Replace handout files already in the folder.")
@friendly_errors
def handouts_(module, out, pdf, force):
    """Write a module's cases as a print-ready handout, one page per case, a separate answer key, and role-play cards.

    The handout has each case's vignette, its options (nothing marks the reference), space to
    write and the "what would you say" prompt with its checklist; the answer key has the reference,
    its rationale, the model script or chart note and, for contested cases, the positions. The
    role-play cards give a triad (therapist, the other person, an observer with the checklist) one
    card per case that asks for the therapist's words.
    All three are HTML with print CSS, and PDF too when Chromium is installed (apt-get install chromium).
    Assessment-only cases are never included.

    Example:

        dualrole handouts --module business --out handouts/
    """
    from widgets.reporting.handouts import find_pdf_engine, module_cases, write_handouts

    module_cases(module)  # an unknown module is reported before any progress is shown
    engine = find_pdf_engine() if pdf else None
    steps = 3 + (3 if engine else 0)
    with click.progressbar(length=steps, label="Writing handouts", file=sys.stderr,
                           item_show_func=lambda message: message) as bar:
        result = write_handouts(module, out, pdf=pdf, force=force, engine=engine,
                                progress=lambda message: bar.update(1, message))
    click.echo(f"Wrote {len(result.cases)} case(s) of module '{module}':")
    click.echo(f"  handout:    {result.handout}")
    click.echo(f"  answer key: {result.answer_key} (keep it from learners)")
    click.echo(f"  role-play:  {result.role_play} ({len(result.role_play_cases)} card(s), for the seminar "
               "once the cases are answered)")
    for path in result.pdfs:
        click.echo(f"  PDF:        {path}")
    if pdf and not engine:
        click.echo("No PDF engine found, so only HTML was written. Install Chromium (apt-get install chromium) "
                   "or set DUALROLE_CHROMIUM, or print the HTML from a browser.", err=True)


COMMANDS = (handouts_,)
