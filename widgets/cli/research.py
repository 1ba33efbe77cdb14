"""``dualrole research-export``, ``dualrole report`` and ``dualrole simulate``.

The heavy libraries (pandas, statsmodels, matplotlib) load inside the commands, so other commands start fast.
"""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import click

from widgets.cli.options import friendly_errors, min_cell_option, store_option
from widgets.errors import DualroleError
from widgets.responses.disclosure import REPORT_AUDIENCES, gates_small_cells


def _source(url: str | None, sample: bool, columns=None):
    """The responses to report or export: ``columns``, the optional ones to read (default all)."""
    from widgets import analysis

    # DUALROLE_STORE names a default store; --sample asked for on the command line overrides it. Only
    # both given on the command line is a contradiction.
    given = click.get_current_context().get_parameter_source("store_url")
    if url and sample and given is not None and given.name == "COMMANDLINE":
        raise DualroleError("choose either --store or --sample, not both")
    if sample:
        url = None
    elif url:
        from widgets.store import open_class_store

        open_class_store(url)  # a missing or empty store is an error, and none is created
    with click.progressbar(length=1, label="Reading responses", file=sys.stderr) as bar:
        # Through the analysis snapshot: a report rerun as answers come in reads only the new ones.
        frame = analysis.sample() if sample else analysis.responses(url, snapshot=True, columns=columns)
        bar.update(1)
    if frame.empty:
        raise DualroleError("the store holds no responses yet")
    return frame


def _steps(label: str, total: int):
    """A progress bar on stderr advanced by a ``progress(message)`` callback."""
    bar = click.progressbar(length=total, label=label, file=sys.stderr,
                            item_show_func=lambda message: message)
    return bar, lambda message: bar.update(1, message)


@click.command("research-export")
@store_option
@click.option("--sample", is_flag=True, help="Use the committed synthetic sample instead of a store.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The export folder to write.")
@click.option("--crosswalk", type=click.Path(dir_okay=False, path_type=Path),
              help="Crosswalk CSV to write or extend, outside --out (default: crosswalks/crosswalk.csv in "
                   "your data folder, reused by every export so codes stay the same).")
@click.option("--include-justifications", is_flag=True,
              help="Include the free-text justifications and scripts (they may name people: read before sharing).")
@min_cell_option("Leave out cohorts with fewer consenting learners")
@click.option("--xapi-base", default="https://dualrole.invalid/", show_default=True,
              help="Base IRI for the xAPI statements (use your institution's).")
@click.option("--tier", type=click.Choice(["restricted", "public"]), default="restricted", show_default=True,
              help="restricted: one row per answer under research codes, for use under an ethics approval, "
                   "never published. public: gated aggregates only, nothing per learner.")
@click.option("--qdpx", is_flag=True,
              help="Restricted tier: also write reasoning.qdpx, the consenting learners' reasoning and the "
                   "reconciled codes as a REFI-QDA project for QualCoder, NVivo, ATLAS.ti or MAXQDA.")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The codebook of the project (YAML or .qdc; default: the shipped one).")
@friendly_errors
def research_export_(store_url, sample, out, crosswalk, include_justifications, min_cell, xapi_base, tier, qdpx,
                     codebook_path):
    """Write a research export of consenting learners: restricted rows, or public aggregates.

    The restricted tier writes responses.csv, responses.parquet, options.csv,
    assessment_forms.yaml, datapackage.json (the codebook and provenance), SHA256SUMS and
    xapi.jsonl into OUT, and scripts.csv when learners wrote what they would say (the checklist
    items ticked; the words too with --include-justifications); with --qdpx also reasoning.qdpx,
    a REFI-QDA project whose sources are the learners' reasoning and scripts and whose coded
    segments are the reconciled codes. The crosswalk from
    codes to learners is written elsewhere and stays with you. The public tier writes gated
    counts and the pre/post model, nothing per learner.

    Example:

    \b
        dualrole research-export --store sqlite:///class.sqlite --out export/
        dualrole research-export --store sqlite:///class.sqlite --out export/ --qdpx
        dualrole research-export --sample --out /tmp/export --crosswalk ~/private/crosswalk.csv
        dualrole research-export --store sqlite:///class.sqlite --tier public --out public/
    """
    from widgets.privacy import check_min_cell
    from widgets.reporting.research_export import JustificationWarning, public_export, research_export

    check_min_cell(min_cell)
    frame = _source(store_url, sample)
    if tier == "public":
        if include_justifications or crosswalk or qdpx:
            raise DualroleError("the public tier holds no text and no research codes: "
                                "drop --include-justifications, --crosswalk and --qdpx")
        result = public_export(frame, out, min_cell=min_cell)
        label = "synthetic " if result.synthetic else ""
        click.echo(f"Wrote public aggregates of {result.learners} consenting {label}learner(s) to {result.out_dir}.")
        return
    scripts = None
    if not sample:
        from widgets.store import open_store

        scripts = open_store(store_url).latest_scripts()
    bar, progress = _steps("Exporting", 6)
    with bar, warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", JustificationWarning)
        result = research_export(frame, out, crosswalk=crosswalk, include_justifications=include_justifications,
                                 min_cell=min_cell, xapi_base=xapi_base, progress=progress, scripts=scripts)
    for warning in caught:
        click.secho(f"warning: {warning.message}", fg="yellow", err=True)
    if result.withheld_cohorts:
        click.echo(f"Left out {result.withheld_rows} response(s) from {result.withheld_cohorts} cohort(s) "
                   f"with fewer than {min_cell} consenting learners.", err=True)
    label = "synthetic " if result.synthetic else ""
    click.echo(f"Wrote {result.rows} {label}response(s) of {result.learners} consenting learner(s) "
               f"to {result.out_dir} (restricted: for use under an ethics approval; do not publish).")
    if qdpx:
        project = _write_qdpx(store_url, sample, frame, out, crosswalk, min_cell, codebook_path)
        click.echo(f"Wrote {project.sources - project.scripts} {label}reasoning text(s) and {project.scripts} "
                   f"script(s) with {project.segments} reconciled coded segment(s) to {project.path}.")
    click.echo(f"Crosswalk (keep it private; never share it with the data): {result.crosswalk}")


def _write_qdpx(store_url, sample, frame, out, crosswalk, min_cell, codebook_path):
    from widgets.grading.codebook import default_codebook, load_codebook
    from widgets.reporting.qdpx import write_qdpx
    from widgets.reporting.research_export import JustificationWarning

    codebook = load_codebook(codebook_path) if codebook_path else default_codebook()
    scripts = None
    if sample:
        from widgets.reporting.simulate import simulate_codings

        reconciled = {s["response_id"]: s for s in simulate_codings(frame, codebook) if s["reconciled"]}
    else:
        from widgets.store import open_store
        from widgets.store.codings import CodingBook

        store = open_store(store_url)
        reconciled, scripts = CodingBook(store).reconciled(codebook), store.latest_scripts()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", JustificationWarning)
        project = write_qdpx(frame, reconciled, codebook, Path(out) / "reasoning.qdpx", crosswalk=crosswalk,
                             min_cell=min_cell, scripts=scripts)
    click.secho("warning: reasoning.qdpx holds the learners' free-text reasoning and scripts, which may name people "
                "or describe clients: read it, or scrub it, before sharing", fg="yellow", err=True)
    return project


@click.command("qdpx-import")
@store_option
@click.argument("project", type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--coder", required=True, help="Whose coding the project holds (a name for agreement tables).")
@click.option("--codebook", "codebook_path", type=click.Path(dir_okay=False, exists=True, path_type=Path),
              help="The codebook the project was coded with (YAML or .qdc; default: the shipped one).")
@friendly_errors
def qdpx_import_(store_url, project, coder, codebook_path):
    """Keep the codes of a REFI-QDA project (.qdpx) coded elsewhere as one coder's codes.

    The project must come from your own `research-export --qdpx` (its sources are matched to the
    answers with your instructor key). Its codes then count in agreement like any other coder's.

    Example:

        dualrole qdpx-import coded.qdpx --store sqlite:///class.sqlite --coder dr-researcher
    """
    from widgets.grading.codebook import default_codebook, load_codebook
    from widgets.reporting.qdpx import import_qdpx
    from widgets.store import open_store

    codebook = load_codebook(codebook_path) if codebook_path else default_codebook()
    result = import_qdpx(project, open_store(store_url), coder, codebook)
    click.echo(f"Kept {result.segments} code(s) on {result.sheets} answer(s) as {coder}'s coding.")
    if result.unmatched_sources:
        click.echo(f"{result.unmatched_sources} source(s) match no answer in this store (another class, or "
                   "another instructor key): left out.", err=True)


@click.command("codebook")
@click.argument("codebook_file", type=click.Path(dir_okay=False, exists=True, path_type=Path), required=False)
@click.option("--qdc", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the codebook as a REFI-QDA codebook (.qdc) here.")
@friendly_errors
def codebook_(codebook_file, qdc):
    """Check a codebook (YAML or .qdc) and list its codes; optionally write it as a .qdc file.

    Without a file, the shipped codebook. Every problem is named with its file, line and field.

    Example:

    \b
        dualrole codebook my_codebook.yaml
        dualrole codebook --qdc ethical_reasoning.qdc
        dualrole codebook from_nvivo.qdc
    """
    from widgets.grading.codebook import CODE_KEYS, default_codebook, load_codebook, write_qdc

    codebook = load_codebook(codebook_file) if codebook_file else default_codebook()
    click.echo(f"{codebook.title} ({codebook.id}, version {codebook.number}, {codebook.version}): "
               f"{len(codebook.codes)} code(s)")
    for index, code in enumerate(codebook.codes):
        key = CODE_KEYS[index] if index < len(CODE_KEYS) else " "
        click.echo(f"  {key}  {code.id}: {code.name}")
    if qdc:
        write_qdc(codebook, qdc)
        click.echo(f"Wrote {qdc}.")


@click.command("report")
@store_option
@click.option("--sample", is_flag=True, help="Use the committed synthetic sample instead of a store.")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="The folder to write report.html into.")
@click.option("--cohort", multiple=True, help="Only these cohorts (repeatable).")
@min_cell_option("Hide counts under this; public reports only")
@click.option("--audience", type=click.Choice(REPORT_AUDIENCES), default="public", show_default=True,
              help="public: small counts hidden, safe to share. instructor: exact counts, for your eyes only.")
@friendly_errors
def report_(store_url, sample, out, cohort, min_cell, audience):
    """Write an HTML cohort report: answers against the reference, divided cases, pre/post, plots.

    For the public audience (the default) every count under --min-cell is hidden, with complementary
    suppression. --audience instructor shows every count exactly, under a banner saying the file is
    for the instructor only and not for sharing.

    Example:

    \b
        dualrole report --store sqlite:///class.sqlite --out report/
        dualrole report --store sqlite:///class.sqlite --out ~/private/report --audience instructor
        dualrole report --sample --out /tmp/report
    """
    from widgets.privacy import check_min_cell
    from widgets.reporting.report import READS, write_report

    check_min_cell(min_cell)
    frame = _source(store_url, sample, READS)
    if cohort:
        unknown = sorted(set(cohort) - set(frame["cohort"]))
        if unknown:
            cohorts = ", ".join(sorted(set(frame["cohort"])))
            raise DualroleError(f"no cohort {', '.join(unknown)}; cohorts are: {cohorts}")
        frame = frame[frame["cohort"].isin(cohort)]
    bar, progress = _steps("Reporting", 6)
    with bar:
        path = write_report(frame, out, min_cell=min_cell, audience=audience, progress=progress)
    click.echo(f"Wrote {path}")
    if not gates_small_cells(audience):
        click.secho("This report shows exact counts: keep it to yourself, and share only a public one.",
                    fg="yellow", err=True)


@click.command("simulate")
@click.option("--learners", default=48, show_default=True, type=click.IntRange(min=1), help="Learners in all.")
@click.option("--cohorts", default=2, show_default=True, type=click.IntRange(min=1),
              help="Cohorts to spread them over.")
@click.option("--seed", default=0, show_default=True, type=int, help="Random seed: the same seed gives the same rows.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write a .csv or .parquet file.")
@store_option
@friendly_errors
def simulate_(learners, cohorts, seed, out, store_url):
    """Make a synthetic cohort (labelled synthetic everywhere) answering every case, pre and post.

    Example:

        dualrole simulate --learners 48 --cohorts 2 --seed 20240901 --out data/synthetic/responses.synthetic.csv
        dualrole simulate --learners 200 --cohorts 4 --seed 1 --store sqlite:///demo.sqlite
    """
    from widgets.reporting.simulate import into_store, simulate, write

    if click.get_current_context().get_parameter_source("store_url").name == "ENVIRONMENT":
        store_url = None  # simulated rows go only where the command line says
    if bool(out) == bool(store_url):
        raise DualroleError("give exactly one of --out FILE or --store URL")
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise DualroleError(f"{out}: write a .csv or .parquet file")
    with click.progressbar(length=1, label="Simulating cases", file=sys.stderr) as bar:
        def progress(done, total):
            bar.length = total
            bar.update(1)

        frame = simulate(learners, cohorts, seed, progress=progress)
    if out is not None:
        write(frame, out)
        where = str(out)
    else:
        from widgets.store import describe_url, open_store

        store = open_store(store_url)
        into_store(frame, store)
        where = describe_url(store.url)
    click.echo(f"Wrote {len(frame)} synthetic response(s) of {learners} learner(s) in {cohorts} cohort(s) to {where}.")

COMMANDS = (research_export_, qdpx_import_, codebook_, report_, simulate_)
