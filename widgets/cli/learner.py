"""``dualrole export``, ``erase`` and ``where``: a learner's own answers, on their own machine."""

from __future__ import annotations

from pathlib import Path

import click

from widgets.cli.options import friendly_errors, run_until_stopped, store_option
from widgets.learner import identity


@click.command()
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The bundle file to write (JSON Lines).")
@store_option
@friendly_errors
def export(out, store_url):
    """Write your own responses to a bundle file you can hand in.

    Nothing leaves your machine until you send the file yourself.

    Example:

        dualrole export --out my-answers.jsonl
    """
    from widgets.exchange.bundle import write_bundle
    from widgets.store import open_store

    learner = identity.learner_id()
    n = write_bundle(open_store(store_url), learner, out)
    click.echo(f"Wrote {n} response(s) of learner {learner} to {out}.")


@click.command()
@click.option("--me", is_flag=True, required=True, help="Erase your own responses (required).")
@store_option
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def erase(me, store_url, yes):
    """Delete all your own responses and consent records from a store.

    Example:

        dualrole erase --me
    """
    from widgets.store import describe_url, open_store

    store = open_store(store_url)
    learner = identity.learner_id()
    n = len(store.responses(learner=learner))
    if not yes:
        click.confirm(f"Delete {n} response(s) of learner {learner} from {describe_url(store.url)}?", abort=True)
    removed = store.erase_learner(learner)
    click.echo(f"Erased {removed} response(s).")


@click.command()
@friendly_errors
def where():
    """Show where your answers are stored and who you are recorded as.

    Example:

        dualrole where
    """
    from widgets.learner.connect import service_from_env
    from widgets.store import default_url, describe_url

    click.echo(f"learner: {identity.learner_id()}")
    click.echo(f"cohort:  {identity.cohort()}")
    service = service_from_env()
    if service is not None:
        click.echo(f"store:   the class service at {service.url} (answers leave this machine when you commit)")
    else:
        click.echo(f"store:   {describe_url(default_url())}")
    click.echo(f"research consent: {'yes' if identity.research_consent() else 'no'}")


@click.command()
@click.option("--port", type=int, default=8866, show_default=True, help="The local port to serve the course on.")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; print the address only.")
@friendly_errors
def course(port, no_browser):
    """Open the whole course as a web app: lessons, cases and My answers, with no code or notebook chrome.

    Each page is a lesson rendered by Voila, with links to the next and previous lessons and the
    contents. Answers and drafts go where they go in JupyterLab. Stop it with Ctrl+C.

    Example:

        dualrole course
    """
    import subprocess
    import sys
    import threading
    import urllib.request
    import webbrowser

    from widgets.paths import course_notebooks

    folder = course_notebooks()
    url = f"http://127.0.0.1:{port}/voila/render/00_start_here.ipynb"
    cmd = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--Voila.port={port}",
           "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False", str(folder)]
    click.echo(f"The course is at {url}\nStop it with Ctrl+C.")
    server = subprocess.Popen(cmd, cwd=folder)

    def open_when_ready() -> None:
        # Open the page once the server answers, so the browser never meets a refused connection.
        while server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/voila/tree", timeout=2):
                    webbrowser.open(url)
                    return
            except OSError:
                threading.Event().wait(0.3)

    if not no_browser:
        threading.Thread(target=open_when_ready, daemon=True).start()
    run_until_stopped(server)


COMMANDS = (export, erase, where, course)
