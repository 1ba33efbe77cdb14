"""Accessible controls for the case card, where ipywidgets falls short (ipywidgets #2650).

In ipywidgets 8 the slider's handle has no accessible name, radio buttons are not a named group
(no ``fieldset``/``legend``, no shared ``name``, so arrow keys do nothing), and an ``HTML`` widget
replaces its whole content on each update, so a ``role="status"`` inside it is a new region every
time and screen readers need not announce it. These four small anywidget components fill the gaps;
their front end is ``a11y.js``, and the browser tests prove them with axe-core.

Each keeps the Python interface of the ipywidgets control it replaces (``value``, ``disabled``,
``description``, ``observe``), so the card's logic and its tests do not change.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import traitlets as t

_HERE = Path(__file__).resolve().parent


class _Accessible(anywidget.AnyWidget):
    _esm = _HERE / "a11y.js"
    _css = _HERE / "a11y.css"
    focus_request = t.Int(0).tag(sync=True)

    def focus(self) -> None:
        """Move the keyboard focus to this control (in every open view of it)."""
        self.focus_request += 1


class ChoiceGroup(_Accessible):
    """A radio group named by its legend: Tab enters it once, arrow keys move the choice.

    Parameters
    ----------
    options : list of (label, value)
        Labels are shown as text (never parsed as HTML); values are what ``value`` holds.
    value : str or None
        The chosen value; ``None`` until the learner chooses.
    description : str
        The group's name (the question).
    """

    kind = t.Unicode("choice").tag(sync=True)
    options = t.List(t.Tuple(t.Unicode(), t.Unicode())).tag(sync=True)
    value = t.Unicode(None, allow_none=True).tag(sync=True)
    description = t.Unicode("").tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)

    def __init__(self, options=(), **kwargs):
        super().__init__(options=[(str(label), str(value)) for label, value in options], **kwargs)

    @t.validate("value")
    def _known_value(self, proposal):
        value = proposal["value"]
        if value is not None and value not in {v for _label, v in self.options}:
            raise t.TraitError(f"{value!r} is not one of the options: "
                               + ", ".join(v for _label, v in self.options))
        return value


class RangeInput(_Accessible):
    """A labelled slider (a native range input): arrow keys, Home/End and Page keys move it.

    Screen readers hear the value with its unit (``aria-valuetext``, for example "65%").
    """

    kind = t.Unicode("range").tag(sync=True)
    value = t.Int(50).tag(sync=True)
    min = t.Int(0).tag(sync=True)
    max = t.Int(100).tag(sync=True)
    step = t.Int(1).tag(sync=True)
    unit = t.Unicode("").tag(sync=True)
    description = t.Unicode("").tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)

    @t.validate("value")
    def _in_range(self, proposal):
        return max(self.min, min(self.max, int(proposal["value"])))


class LiveStatus(_Accessible):
    """A status line that screen readers announce on every change.

    ``value`` is plain text (shown with ``textContent``, so it can never carry markup). With
    ``urgent`` set it goes to a ``role="alert"`` region instead of the polite ``role="status"`` one.
    """

    kind = t.Unicode("status").tag(sync=True)
    value = t.Unicode("").tag(sync=True)
    urgent = t.Bool(False).tag(sync=True)

    def say(self, message: str, *, urgent: bool = False) -> None:
        """Show and announce ``message``."""
        with self.hold_sync():
            self.urgent = urgent
            self.value = message


class RevealPanel(_Accessible):
    """The reveal's HTML; :meth:`focus` moves the keyboard focus to its region (after a commit).

    ``value`` must be safe HTML: the card sets it only from :func:`widgets.ui.reveal.reveal_html`,
    which escapes or sanitises every piece of case and learner text.
    """

    kind = t.Unicode("reveal").tag(sync=True)
    value = t.Unicode("").tag(sync=True)
