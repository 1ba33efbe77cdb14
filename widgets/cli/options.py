"""What ``dualrole`` commands share: the one ``--store`` and ``--min-cell`` options, friendly errors, and
waiting for a server a command starts."""

from __future__ import annotations

import functools
import os

import click

from widgets.errors import DualroleError

STORE_HELP = ("The response store: a file path (class.sqlite), sqlite:///FILE or "
              "postgresql+psycopg://USER@HOST/DB. Default: $DUALROLE_STORE, else your own store. "
              "Prefer $DUALROLE_STORE for a URL with a password (a command line is visible to all).")


def friendly_errors(func):
    """Turn the package's own errors into ``click`` errors: one line, no traceback."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except DualroleError as exc:
            raise click.ClickException(str(exc)) from None

    return wrapper


def run_until_stopped(server) -> int:
    """Wait for a server the command started (Voila, JupyterLab, a ``subprocess.Popen``) and return its exit
    status; stop it when the command is stopped.

    Ctrl+C, or SIGTERM or SIGHUP from whatever started the command (a service manager, a closing
    terminal), stops the server too: it and its kernels must not run on without the command.
    """
    import signal

    def stop(signum, frame) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    if os.name == "posix":
        signal.signal(signal.SIGHUP, stop)
    try:
        return server.wait()
    except KeyboardInterrupt:
        server.terminate()
        return server.wait()


def store_option(func):
    """``--store``, passed to the command as ``store_url``: a URL resolved by
    :func:`widgets.store.resolve_url`, or None for the default store.

    Every command reads a bare path the same way: a SQLite file, created when a command writes.
    """
    def resolve(ctx, param, value):
        from widgets.store import resolve_url

        try:
            return resolve_url(value) if value else None
        except DualroleError as exc:
            raise click.BadParameter(str(exc)) from None

    return click.option("--store", "store_url", metavar="PATH|URL", envvar="DUALROLE_STORE",
                        callback=resolve, help=STORE_HELP)(func)


def min_cell_option(what: str):
    """``--min-cell``, the small-cell threshold (:data:`widgets.privacy.MIN_CELL` by default), declared once
    for every command that gates counts; ``what`` says what it does in that command.

    The value is checked where it is used (:func:`widgets.privacy.check_min_cell`), so the command line,
    the notebooks and the API refuse a threshold under the floor with the same words.
    """
    from widgets.privacy import MIN_CELL, MIN_CELL_FLOOR

    return click.option("--min-cell", default=MIN_CELL, show_default=True, type=int,
                        help=f"{what} (at least {MIN_CELL_FLOOR}).")
