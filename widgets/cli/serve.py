"""``dualrole serve`` (the class response service), ``dualrole class-export`` and ``dualrole notebooks``
(what an administrator and an instructor run on a JupyterHub).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from widgets.cli.options import friendly_errors, store_option
from widgets.errors import DualroleError
from widgets.responses.disclosure import MIN_CLASS, MIN_CLASS_FLOOR, check_min_class


@click.command()
@store_option
@click.option("--instructors", "group", default="instructors", show_default=True,
              envvar="DUALROLE_INSTRUCTORS_GROUP", help="Hub group whose members pace the class.")
@click.option("--store-file", envvar="DUALROLE_STORE_FILE", metavar="PATH",
              help="A root-only file holding the store URL (read at each attempt to open the store).")
@click.option("--cohort", envvar="DUALROLE_SERVICE_COHORT",
              help="Record every answer in this cohort, whatever the learner's kernel says.")
@click.option("--min-class", default=str(MIN_CLASS), show_default=True, envvar="DUALROLE_MIN_CLASS",
              help=f"A learner sees the class distribution only once this many have answered "
                   f"(at least {MIN_CLASS_FLOOR}).")
@click.option("--ip", help="Address to listen on (default: from JupyterHub, else 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: from JupyterHub, else 10101).")
@click.option("--prefix", envvar="JUPYTERHUB_SERVICE_PREFIX", default="/services/dualrole/",
              show_default=True, help="URL prefix (JupyterHub sets it for a managed service).")
@click.option("--processes", default="1", show_default=True, envvar="DUALROLE_PROCESSES",
              help="Service processes sharing the port (for a large class on a PostgreSQL store).")
@friendly_errors
def serve(store_url, store_file, group, cohort, min_class, ip, port, prefix, processes):
    """Run the class response service as a JupyterHub service.

    Learners' cards send answers here with their own Hub token; members of the instructors'
    group read the cohort and pace class mode. Register it in jupyterhub_config.py (see
    docs/deploy-jupyterhub.md); the Hub then starts it with the token it needs.

    A setting the service cannot work with (a minimum class below 3, several processes on a
    SQLite store, a store-URL file that is missing) does not stop it: it starts and answers every
    request 503 with the reason, because a service that exits while the Hub starts takes the Hub
    down with it.

    Example:

    \b
        export DUALROLE_STORE_FILE=/etc/dualrole/store-url
        dualrole serve --instructors instructors --min-class 5
    """
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        raise DualroleError("dualrole serve runs inside JupyterHub's environment: install dualrole there "
                            "from its repository with the hub extra, pip install '/path/to/dualrole[hub]' "
                            "(see docs/deploy-jupyterhub.md)") from None
    from widgets.service import serve as run
    from widgets.service.core import ServiceSettings
    from widgets.store import default_url
    from widgets.store.engine import read_url_file

    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        raise DualroleError("JUPYTERHUB_API_TOKEN is not set: dualrole serve must be started by JupyterHub "
                            "as a service (c.JupyterHub.services; see docs/deploy-jupyterhub.md)")
    problems = []
    try:
        min_class = check_min_class(int(str(min_class).strip()))
    except (ValueError, DualroleError):
        problems.append(f"--min-class (DUALROLE_MIN_CLASS, MIN_CLASS in jupyterhub_config.py) must be a whole "
                        f"number of at least {MIN_CLASS_FLOOR}, not {str(min_class)!r}")
        min_class = MIN_CLASS
    try:
        processes = int(str(processes).strip())
        if processes < 1:
            raise ValueError
    except ValueError:
        problems.append(f"--processes (DUALROLE_PROCESSES) must be a whole number of at least 1, not {processes!r}")
        processes = 1
    store_file = (store_file or "").strip() or None
    if store_file and store_url:
        problems.append("give the store either as a URL (--store, DUALROLE_STORE) or as a file "
                        "(--store-file, DUALROLE_STORE_FILE), not both")
    settings = ServiceSettings(store_url=None if store_file else (store_url or default_url()), store_file=store_file,
                               instructors_group=group, cohort=cohort or None, min_class=min_class, prefix=prefix)
    if processes > 1:
        try:
            url = settings.store_url or read_url_file(store_file)
        except DualroleError:
            url = None
        if url is None:
            processes = 1  # the store-URL file is not there yet: one process reports that, and waits for it
        elif not url.startswith("postgresql"):
            problems.append(f"{processes} service processes (DUALROLE_PROCESSES, PROCESSES in jupyterhub_config.py) "
                            "need a PostgreSQL store: SQLite lets one process write at a time; set it to 1 "
                            "(see 'A large class' in docs/deploy-jupyterhub.md)")
    settings.problem = "; ".join(problems) or None
    run(settings, ip, port, processes=processes)


@click.command("class-export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to write the class's answers into (created or added to).")
@click.option("--cohort", help="Cohort to export (default: your DUALROLE_COHORT).")
@click.option("--service", "service_url", envvar="DUALROLE_SERVICE_URL", help="The class service URL.")
@friendly_errors
def class_export(out, cohort, service_url):
    """Copy a class's answers from the class service into a SQLite store (instructors only).

    OUT is written where you say (a bare name: in the current folder), with mode 600; the command
    prints its full path. --cohort is the name in DUALROLE_COHORT on the hub (COHORT in
    jupyterhub_config.py); a cohort without answers is an error that lists those with answers.
    Review it with DUALROLE_STORE=OUT and notebooks/instructor_cohort_review.ipynb, or with
    dualrole report. Running it twice adds nothing twice.

    Example:

        dualrole class-export --out psy501-2025.sqlite --cohort psy501-2025
    """
    from widgets.exchange.class_export import export_class
    from widgets.learner import identity
    from widgets.learner.client import ServiceClient
    from widgets.learner.connect import service_from_env

    client = ServiceClient(service_url) if service_url else service_from_env()
    if client is None:
        raise DualroleError("no class service found: set DUALROLE_SERVICE_URL or pass --service URL")
    cohort = cohort or identity.cohort()
    total, added = export_class(client, cohort, out)
    click.echo(f"Exported {total} answer(s) of cohort '{cohort}' to {out.expanduser().resolve()} ({added} new).")

@click.command("notebooks")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite notebooks already in DEST (your edits are lost).")
@friendly_errors
def notebooks(dest, force):
    """Copy the curriculum's notebooks (lessons and the instructor's) into DEST.

    On a JupyterHub, run it once in a terminal of your own server: the live dashboard is then
    at .../user/<you>/voila/render/notebooks/instructor_live.ipynb. Notebooks already in DEST
    are left as they are unless --force is given.

    Example:

        dualrole notebooks ~/notebooks
    """
    from widgets.paths import copy_notebooks

    copied, kept = copy_notebooks(dest, force=force)
    click.echo(f"Copied {len(copied)} notebook(s) into {dest.expanduser().resolve()}.")
    if kept:
        click.echo(f"Left {len(kept)} that were already there as they are (--force overwrites them).")


COMMANDS = (serve, class_export, notebooks)
