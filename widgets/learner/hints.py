"""An IPython extension that turns a lesson's most common slip into a plain instruction.

A learner who opens a lesson half-way and runs a card cell before the lesson's first code cell gets
``NameError: name 'CaseCard' is not defined``. With this extension loaded (``make lab`` loads it
into every kernel it starts), they read instead which cell to run; any other error is shown as usual.
"""

from __future__ import annotations

import widgets

_MESSAGE = ("{name} is not loaded yet: run the first code cell of this notebook (it loads the course's "
            "tools and shows My answers), then run this cell again.")


def hint(name: str) -> str | None:
    """The instruction for a NameError on ``name``, or None when it is not one of the course's tools."""
    return _MESSAGE.format(name=name) if name in widgets.__all__ else None


def load_ipython_extension(ipython) -> None:
    """Called by IPython (``%load_ext widgets.learner.hints``, or a kernel's configured extensions)."""

    def on_name_error(shell, etype, value, tb, tb_offset=None):
        message = hint(value.name or "")  # registered for NameError, which always names the name (or None)
        if message is None:
            shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
            return None
        print(message)
        return None

    ipython.set_custom_exc((NameError,), on_name_error)
