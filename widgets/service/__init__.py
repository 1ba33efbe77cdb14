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


def serve(settings, ip: str | None = None, port: int | None = None, *, ready=None, processes: int = 1) -> None:
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
    processes : int
        How many service processes share the listening socket (the kernel hands each new
        connection to one of them). They share nothing but the store's database: answers, class
        state and pacing all live there (``widgets/store/class_state.py``), so any process can answer
        any request. Use more than one only with a PostgreSQL store: SQLite takes one writer at a time.
    """
    from widgets.service.app import ServiceApp, bind_address

    logging.basicConfig(level=logging.INFO, format="[%(levelname)1.1s %(asctime)s %(name)s] %(message)s")
    log = logging.getLogger("dualrole.service")
    host, bound_port = bind_address(ip, port)
    if settings.problem:
        # Misconfigured: one process that answers 503 with the reason. Exiting instead would take
        # the Hub down with it (the Hub waits for its managed services as it starts).
        log.error("dualrole service misconfigured: %s. It answers every request 503 not_configured "
                  "until the setting is fixed and the Hub restarted.", settings.problem)
        processes = 1
    sockets = None
    if processes > 1:
        from tornado.netutil import bind_sockets

        sockets = bind_sockets(bound_port, address=host)
        if not _fork(processes, log):
            return  # the supervising parent: its children have all stopped
    # Opened after any fork: each process has its own connections to the store.
    app = ServiceApp(settings)  # tries the store first; if it is down, the service starts anyway (503s)
    # ServiceApp parsed the case library before listening; report any broken case file at start-up.
    library = app.core.library
    for problem in library.problems:
        log.warning("case file skipped: %s", problem)
    log.info("%d cases loaded", len(library))

    async def main():
        if sockets is None:
            server = app.listen(bound_port, address=host, xheaders=True, max_body_size=1_000_000)
        else:
            from tornado.httpserver import HTTPServer

            server = HTTPServer(app, xheaders=True, max_body_size=1_000_000)
            server.add_sockets(sockets)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        log.info("dualrole service on http://%s:%s%s; store %s; instructors: Hub group '%s'%s",
                 host, bound_port, app.settings_.prefix, settings.describe_store(),
                 settings.instructors_group, f"; cohort '{settings.cohort}'" if settings.cohort else "")
        if not os.environ.get("JUPYTERHUB_API_TOKEN"):
            log.warning("JUPYTERHUB_API_TOKEN is not set: every request will be refused. Run the service "
                        "from JupyterHub (see docs/deploy-jupyterhub.md).")
        retry = None if app.core.ready or settings.problem else asyncio.create_task(app.keep_opening_store())
        if ready is not None:
            ready((host, bound_port))
        await stop.wait()
        if retry is not None:
            retry.cancel()
        server.stop()
        app.executor.shutdown(wait=True)
        log.info("dualrole service stopped")

    asyncio.run(main())


def _fork(processes: int, log) -> bool:
    """Start ``processes`` children; return True in each child. The parent passes SIGTERM and SIGINT
    on to them and waits; if one dies on its own, it stops the rest and exits with an error, so that
    JupyterHub restarts the whole service (its managed services are restarted when they exit)."""
    children: set[int] = set()
    for _ in range(processes):
        pid = os.fork()
        if pid == 0:
            return True
        children.add(pid)
    log.info("%d service processes: %s", processes, ", ".join(map(str, sorted(children))))
    stopping = False

    def forward(signum, _frame):
        nonlocal stopping
        stopping = True
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    failed = False
    while children:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            break
        children.discard(pid)
        if not stopping:
            log.error("service process %d stopped unexpectedly (status %d): stopping the others", pid, status)
            failed = True
            forward(signal.SIGTERM, None)
    if failed:
        raise SystemExit(1)
    return False
