"""``dualrole serve`` (the class response service) and ``dualrole class-export``.

Registered on the ``dualrole`` group when :mod:`widgets.cli` imports this module.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from .cli import cli, friendly_errors
from .errors import DualroleError
from .session import DEFAULT_MIN_COHORT
from .store import default_url, resolve_url


@cli.command()
@click.option("--store", "url", envvar="DUALROLE_STORE", metavar="URL",
              help="Class store: a PostgreSQL or SQLite URL, or a file path. Prefer the DUALROLE_STORE "
                   "environment variable for a URL with a password (a command line is visible to all).")
@click.option("--instructors", "group", default="instructors", show_default=True,
              envvar="DUALROLE_INSTRUCTORS_GROUP", help="Hub group whose members pace the class.")
@click.option("--cohort", envvar="DUALROLE_SERVICE_COHORT",
              help="Record every answer in this cohort, whatever the learner's kernel says.")
@click.option("--min-cohort", type=click.IntRange(min=1), default=DEFAULT_MIN_COHORT, show_default=True,
              envvar="DUALROLE_MIN_COHORT", help="A learner sees the class distribution only once this "
                                                 "many have answered.")
@click.option("--ip", help="Address to listen on (default: from JupyterHub, else 127.0.0.1).")
@click.option("--port", type=int, help="Port to listen on (default: from JupyterHub, else 10101).")
@click.option("--prefix", envvar="JUPYTERHUB_SERVICE_PREFIX", default="/services/dualrole/",
              show_default=True, help="URL prefix (JupyterHub sets it for a managed service).")
@friendly_errors
def serve(url, group, cohort, min_cohort, ip, port, prefix):
    """Run the class response service as a JupyterHub service.

    Learners' cards send answers here with their own Hub token; members of the instructors'
    group read the cohort and pace class mode. Register it in jupyterhub_config.py (see
    docs/deploy-jupyterhub.md); the Hub then starts it with the token it needs.

    Example:

    \b
        export DUALROLE_STORE=postgresql://dualrole@db/class
        dualrole serve --instructors instructors --min-cohort 5
    """
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        raise DualroleError("dualrole serve runs inside JupyterHub's environment: "
                            "pip install 'dualrole[hub]'") from None
    from .service import serve as run
    from .service.core import ServiceSettings

    if not os.environ.get("JUPYTERHUB_API_TOKEN"):
        raise DualroleError("JUPYTERHUB_API_TOKEN is not set: dualrole serve must be started by JupyterHub "
                            "as a service (c.JupyterHub.services; see docs/deploy-jupyterhub.md)")
    settings = ServiceSettings(store_url=resolve_url(url) if url else default_url(), instructors_group=group,
                               cohort=cohort or None, min_cohort=min_cohort, prefix=prefix)
    run(settings, ip, port)


@cli.command("class-export")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="SQLite file to write the class's answers into (created or added to).")
@click.option("--cohort", help="Cohort to export (default: your DUALROLE_COHORT).")
@click.option("--service", "service_url", envvar="DUALROLE_SERVICE_URL", help="The class service URL.")
@friendly_errors
def class_export(out, cohort, service_url):
    """Copy a class's answers from the class service into a SQLite store (instructors only).

    Open the cohort review notebook on the file afterwards. Running it twice adds nothing twice.

    Example:

        dualrole class-export --out psy501-week3.sqlite --cohort psy501
    """
    from . import identity
    from .client import ServiceClient, export_class
    from .discovery import service_from_env

    client = ServiceClient(service_url) if service_url else service_from_env()
    if client is None:
        raise DualroleError("no class service found: set DUALROLE_SERVICE_URL or pass --service URL")
    cohort = cohort or identity.cohort()
    total, added = export_class(client, cohort, out)
    click.echo(f"Exported {total} answer(s) of cohort '{cohort}' to {out} ({added} new).")
