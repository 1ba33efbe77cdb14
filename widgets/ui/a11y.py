"""Accessible controls for the case card, where ipywidgets falls short (ipywidgets #2650).

In ipywidgets 8 the slider's handle has no accessible name, radio buttons are not a named group
(no ``fieldset``/``legend``, no shared ``name``, so arrow keys do nothing), and an ``HTML`` widget
replaces its whole content on each update, so a ``role="status"`` inside it is a new region every
time and screen readers need not announce it. These four small anywidget components fill the gaps;
their front end is ``a11y.js``, and the browser tests prove them with axe-core.

A fifth, :class:`CommitButton`, fills a gap in ordering rather than in access: ipywidgets 8 sends a
control's state updates one at a time (later keystrokes wait in the browser until the kernel is idle),
while a button's click is a message of its own, sent at once, so a click right after typing could reach
the kernel before the last keystrokes did.

Each keeps the Python interface of the ipywidgets control it replaces (``value``, ``disabled``,
``description``, ``observe``), so the card's logic and its tests do not change.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import ipywidgets as ipw
import traitlets as t

_HERE = Path(__file__).resolve().parent


GUARD = "dualrole-guard"


def guarded(box: ipw.Box) -> ipw.Box:
    """Mark ``box`` as one dualrole widget: keys pressed inside it never reach JupyterLab's notebook
    shortcuts, and after a kernel restart it turns into a notice to run its cell again (``a11y.js``).

    The box must hold at least one control from this module (a :class:`LiveStatus` will do): its
    front end finds the box and guards it.
    """
    box.add_class(GUARD)
    return box


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
    inline : bool
        Lay the choices out in a row that wraps on a narrow screen (a rating: Low, Medium, High).
    """

    kind = t.Unicode("choice").tag(sync=True)
    options = t.List(t.Tuple(t.Unicode(), t.Unicode())).tag(sync=True)
    value = t.Unicode(None, allow_none=True).tag(sync=True)
    description = t.Unicode("").tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)
    inline = t.Bool(False).tag(sync=True)

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


class CommitButton(_Accessible):
    """A button that commits exactly what the learner sees: its click carries the values of ``sources``.

    The browser holds every keystroke in a text box at once, but sends them to the kernel one update at
    a time. This button's click sends, with the click, each source's value as the browser holds it; the
    kernel applies those values as an update from the browser (``set_state``, so the source's observers
    run and a draft is saved, as for any keystroke) and only then calls the click handlers. The boxes
    still sync as they are typed in, so drafts are still saved keystroke by keystroke.

    It keeps the interface of ``ipywidgets.Button`` that the cards use (``description``, ``tooltip``,
    ``button_style``, ``disabled``, ``on_click``, ``click``) and looks the same.

    Parameters
    ----------
    sources : sequence of Widget
        The controls whose values the click carries: text boxes, and any other control a commit reads
        (a control that syncs ``index`` rather than ``value``, like ``Dropdown``, carries its ``index``).
    """

    kind = t.Unicode("commit").tag(sync=True)
    description = t.Unicode("").tag(sync=True)
    tooltip = t.Unicode("").tag(sync=True)
    button_style = t.CaselessStrEnum(["", "primary", "success", "info", "warning", "danger"],
                                     default_value="").tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)
    sources = t.List(t.Instance(ipw.Widget)).tag(sync=True, **ipw.widget_serialization)
    # For each source, the synced trait its value travels in ("value", or "index" for a Dropdown).
    carried = t.List(t.Unicode()).tag(sync=True)

    def __init__(self, sources=(), **kwargs):
        super().__init__(sources=list(sources), **kwargs)
        self._click_handlers = ipw.CallbackDispatcher()
        self.on_msg(self._on_browser_message)

    @t.observe("sources")
    def _carry(self, change) -> None:
        self.carried = ["value" if "value" in w.keys else "index" for w in change["new"]]

    def on_click(self, callback, remove: bool = False) -> None:
        """Call ``callback(button)`` on each click (``remove=True`` stops it), as ``ipywidgets.Button`` does."""
        self._click_handlers.register_callback(callback, remove=remove)

    def click(self) -> None:
        """Call the click handlers, as a click in the browser does once its values are applied."""
        self._click_handlers(self)

    def _on_browser_message(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict) or content.get("event") != "click":
            return
        state = content.get("state")
        if isinstance(state, list) and len(state) == len(self.sources):
            for source, name, value in zip(self.sources, self.carried, state):
                try:
                    source.set_state({name: value})
                except t.TraitError:
                    pass  # a value the control refuses is left out, as the same update on its own would be
        # The values just applied may have changed whether a commit is allowed (the card checks its draft
        # on every change); a click the kernel now refuses is dropped, and the status already says why.
        if not self.disabled:
            self.click()
