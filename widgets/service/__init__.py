"""``dualrole serve``: the class response service that JupyterHub runs beside the learners' servers.

Learners' kernels hold no database credentials: their cards send answers here with the learner's
own Hub token, and the service writes them to the class store (SQLite or PostgreSQL). It also keeps
each case's class-mode state, which instructors (a Hub group) pace from the live dashboard.

Importing this package is cheap: the web layer (JupyterHub, Tornado) loads only in :func:`serve`,
so a learner's kernel can use :mod:`widgets.responses.pacing` without JupyterHub installed.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from widgets.store import describe_url


def serve(settings, ip: str | None = None, port: int | None = None, *, ready=None) -> None:
    """Run the service until SIGTERM or SIGINT.

    Parameters
    ----------
    settings : ServiceSettings
        Store URL, instructors' group, cohort, minimum cohort size and URL prefix.
    ip, port : optional
        Where to listen; by default the address JupyterHub gave the service
        (``JUPYTERHUB_SERVICE_URL``), else 127.0.0.1:10101.
    ready : callable, optional
        Called with the bound (ip, port) once the service is listening.
    """
    from widgets.service.app import ServiceApp, bind_address

    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
    log = logging.getLogger("dualrole.service")
    app = ServiceApp(settings)  # tries the store first; if it is down, the service starts anyway (503s)
    host, bound_port = bind_address(ip, port)
    # ServiceApp parsed the case library before listening; report any broken case file at start-up.
    library = app.core.library
    for problem in library.problems:
        log.warning("case file skipped: %s", problem)
    log.info("%d cases loaded", len(library))

    async def main():
        server = app.listen(bound_port, address=host, xheaders=True, max_body_size=1_000_000)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("dualrole service on http://%s:%s%s; store %s; instructors: Hub group '%s'%s",
                 host, bound_port, app.settings_.prefix, describe_url(settings.store_url),
                 settings.instructors_group, f"; cohort '{settings.cohort}'" if settings.cohort else "")
        if not os.environ.get("JUPYTERHUB_API_TOKEN"):
            log.warning("JUPYTERHUB_API_TOKEN is not set: every request will be refused. Run the service "
                        "from JupyterHub (see docs/deploy-jupyterhub.md).")
        retry = None if app.core.ready else asyncio.create_task(app.keep_opening_store())
        if ready is not None:
            ready((host, bound_port))
        await stop.wait()
        if retry is not None:
            retry.cancel()
        server.stop()
        app.executor.shutdown(wait=True)
        log.info("dualrole service stopped")

    asyncio.run(main())
