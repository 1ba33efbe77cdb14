"""``CodingScreen(store)``: researchers code learners' reasoning with a codebook, blind to each other.

Pick a case and what to code, the reasoning or the scripts (what each learner would say after their
first answer, or their chart note, shown with that answer); read each text and apply codes from the
codebook from the keyboard: a
number key applies its code to the whole answer, or, with a span of the text selected (Shift and
the arrow keys in the answer), to that span; the same key again removes it. ``n`` and ``p`` save
and go to the next and previous answer. Sheets are appended to the store (who, when, which codebook
version). Each coder sees their own codes only, never another coder's, so that agreement measures
independent judgements; once two or more coders have coded an answer, **Reconcile** shows where
they differ and records the codes agreed on.

``ReviewApp(store)`` puts this screen beside the rubric scoring screen
(:class:`widgets.ui.review.ReviewScreen`), with a switch between the two modes.

Like the review screen, this shows individual answers: it is for the ``instructor`` audience
(:mod:`widgets.responses.disclosure`) and the researchers working with them, never a projector.
"""

from __future__ import annotations

from pathlib import Path

import anywidget
import ipywidgets as ipw
import traitlets as t

from widgets.cases.library import load_library
from widgets.errors import DualroleError
from widgets.grading.codebook import CODE_KEYS, Codebook, default_codebook, load_codebook
from widgets.render import text
from widgets.store.codings import CodingBook, check_segments
from widgets.ui.a11y import LiveStatus
from widgets.ui.review import ALL, ReviewScreen, default_scorer

_HERE = Path(__file__).resolve().parent
_WIDE = ipw.Layout(width="100%", max_width="900px")
_CSS = """
.dualrole-codepad-help { margin: 0 0 6px; }
.dualrole-codepad-text { width: 100%; max-width: 880px; font: inherit; }
.dualrole-codes { border: 1px solid var(--jp-border-color2, #ccc); margin: 6px 0; padding: 4px 8px; }
.dualrole-codes legend { font-weight: 600; padding: 0 4px; }
.dualrole-codes label { display: flex; gap: 6px; align-items: baseline; padding: 1px 0; }
.dualrole-codepad textarea:focus-visible, .dualrole-codepad input:focus-visible,
.dualrole-codepad button:focus-visible { outline: 2px solid var(--jp-brand-color1, #1565c0); outline-offset: 2px; }
"""


class CodePad(anywidget.AnyWidget):
    """The answer's text, the codes as checkboxes and the coded spans, with the coding keys (``coding.js``).

    :meth:`press` holds every key rule, so it is tested without a browser; the front end only
    forwards the keys and the selected span.
    """

    _esm = _HERE / "coding.js"
    _css = _CSS
    codes = t.List(t.Tuple(t.Unicode(), t.Unicode(), t.Unicode())).tag(sync=True)
    text = t.Unicode("").tag(sync=True)
    segments = t.List(t.Dict()).tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)
    instructions = t.Unicode("").tag(sync=True)
    focus_request = t.Int(0).tag(sync=True)

    def __init__(self, codebook: Codebook, on_move=None, **kwargs):
        super().__init__(codes=[(c.id, c.name, codebook.key_of(c.id)) for c in codebook.codes], **kwargs)
        keys = f"1 to {CODE_KEYS[min(len(codebook.codes), 10) - 1]}" if len(codebook.codes) > 1 else "1"
        self.instructions = (f"Code: press {keys} to apply a code to the whole answer, or select a span of the "
                             "answer first (Shift and the arrow keys) to apply it to that span; the same key "
                             "again removes it. n saves and goes to the next answer, p to the previous one.")
        self.codebook = codebook
        self.on_move = on_move
        self.on_msg(self._on_msg)

    def focus(self) -> None:
        """Move the keyboard focus into the answer's text."""
        self.focus_request += 1

    def press(self, key: str, start: int | None = None, end: int | None = None) -> None:
        """Handle one key: a code's key toggles it on the span (or whole answer); ``n``/``p`` move."""
        if key in ("n", "p"):
            if self.on_move:
                self.on_move(1 if key == "n" else -1)
            return
        if self.disabled or key not in CODE_KEYS or CODE_KEYS.index(key) >= len(self.codebook.codes):
            return
        code = self.codebook.codes[CODE_KEYS.index(key)].id
        span = (start, end) if start is not None and end is not None and start < end else (None, None)
        self.toggle(code, *span)

    def toggle(self, code: str, start: int | None = None, end: int | None = None) -> None:
        """Apply ``code`` (to a span, or the whole answer), or remove it if it is already there."""
        segment = {"code": code, "start": start, "end": end}
        if segment in self.segments:
            self.segments = [s for s in self.segments if s != segment]
            return
        try:
            self.segments = check_segments([*self.segments, segment], self.codebook, self.text)
        except ValueError:
            return  # a stale selection from a previous answer: nothing to apply it to

    def _on_msg(self, _widget, content, _buffers) -> None:
        if not isinstance(content, dict):
            return
        if isinstance(content.get("key"), str):
            start, end = content.get("start"), content.get("end")
            ok = isinstance(start, int) and isinstance(end, int)
            self.press(content["key"], start if ok else None, end if ok else None)
        elif isinstance(content.get("toggle"), str) and content["toggle"] in self.codebook.ids:
            self.toggle(content["toggle"])
        elif isinstance(content.get("remove"), int) and 0 <= content["remove"] < len(self.segments):
            self.segments = [s for i, s in enumerate(self.segments) if i != content["remove"]]


class CodingScreen(ipw.VBox):
    """Code a class's reasoning with a codebook, from the keyboard, blind to the other coders.

    Parameters
    ----------
    store : Store
        The class store (the one ``dualrole collect`` or ``class-export`` wrote, or the service's).
    codebook : Codebook or path, optional
        A codebook YAML or ``.qdc`` file; the default is the shipped codebook (five principles and
        five moves of the reasoning).
    coder : str, optional
        Who is coding (default: the hub user or this machine's account name).
    case : str, optional
        The case to start on (default: the first with answers).
    """

    def __init__(self, store, *, codebook: Codebook | str | Path | None = None, coder: str | None = None,
                 case: str | None = None):
        self.store = store
        self.book = CodingBook(store)
        self.codebook = codebook if isinstance(codebook, Codebook) else (
            load_codebook(codebook) if codebook else default_codebook())
        self.library = load_library()
        # Only answers with reasoning to code; a revote's stock sentence is not the learner's reasoning.
        answers = [r for r in store.responses() if r["case_id"] in self.library and r["attempt"] == 1]
        self.rows = [_unit(r, "reasoning", r["response_id"], r["justification"] or "") for r in answers
                     if (r["justification"] or "").strip()]
        # A script is coded beside the answer it follows, under that answer's option and cohort.
        first = {r["response_id"]: r for r in answers}
        self.rows += [_unit(first[s["response_id"]], "script", s["script_id"], s["text"], s["kind"])
                      for s in store.latest_scripts() if s["response_id"] in first]
        case_ids = sorted({r["case_id"] for r in self.rows})
        if not case_ids:
            raise DualroleError("the store holds no reasoning to code yet")
        self.items: list[dict] = []
        self.index = 0
        self._saved: tuple | None = None
        self._resetting = False

        label = {"description_width": "initial"}
        self.coder = ipw.Text(value=coder or default_scorer(), description="Coding as:", style=label,
                              continuous_update=False)
        self.case = ipw.Dropdown(options=[(f"{self.library[c].title} ({c})", c) for c in case_ids],
                                 value=case if case in case_ids else case_ids[0], description="Case:", style=label,
                                 layout=ipw.Layout(width="100%", max_width="600px"))
        self.option_filter = ipw.Dropdown(description="Option:", style=label)
        self.uncoded = ipw.Checkbox(value=False, description="Not yet coded by me", indent=False)
        self.reconcile = ipw.Checkbox(value=False, description="Reconcile (shows every coder's codes)",
                                      indent=False)
        self.unit = ipw.ToggleButtons(options=[("Reasoning", "reasoning"), ("Scripts", "script")], value="reasoning",
                                      description="Code:", style=label,
                                      tooltips=["The reasoning of each first answer",
                                                "What each learner would say after it, or their chart note"])
        self.answer = ipw.HTML(layout=_WIDE)
        self.others = ipw.HTML(layout=_WIDE)
        self.pad = CodePad(self.codebook, on_move=self.move)
        self.previous_button = ipw.Button(description="Previous answer (p)", tooltip="Save and go back")
        self.save_button = ipw.Button(description="Save codes", button_style="primary")
        self.next_button = ipw.Button(description="Next answer (n)", tooltip="Save and go on")
        self.status = LiveStatus(layout=_WIDE)
        self.previous_button.on_click(lambda _b: self.move(-1))
        self.next_button.on_click(lambda _b: self.move(1))
        self.save_button.on_click(lambda _b: self.save())
        self.case.observe(self._on_case, names="value")
        for control in (self.option_filter, self.uncoded, self.reconcile, self.unit):
            control.observe(self._on_filter, names="value")
        super().__init__([
            ipw.HTML(f"<h3>Code the reasoning: {text(self.codebook.title)}</h3>"),
            self.coder, self.case, self.unit, ipw.HBox([self.option_filter, self.uncoded, self.reconcile]),
            self.answer, self.others, self.pad,
            ipw.HBox([self.previous_button, self.save_button, self.next_button]),
            self.status,
        ], layout=_WIDE)
        self.add_class("dualrole-coding")
        self._on_case()

    # -- choosing answers ----------------------------------------------------------------------

    def _on_case(self, _change=None) -> None:
        self.save()
        case = self.library[self.case.value]
        self._resetting = True
        try:
            self.option_filter.options = [(ALL, ALL)] + [(o.label, o.id) for o in case.options]
            self.option_filter.value = ALL
        finally:
            self._resetting = False
        self._select(0)

    def _on_filter(self, _change=None) -> None:
        if self._resetting:
            return
        self.save()
        self._select(0)

    def _sheets(self, case_id: str) -> list[dict]:
        """What this coder may see: their own sheets, or in reconciliation every coder's and the reconciled ones."""
        if self.reconcile.value:
            return self.book.sheets(case_id=case_id, reconciled=None, codebook=self.codebook, unit=self.unit.value)
        return self.book.sheets(case_id=case_id, coder=self.coder.value.strip(), codebook=self.codebook,
                                unit=self.unit.value)

    def _select(self, index: int) -> None:
        sheets = self._sheets(self.case.value)
        if self.reconcile.value:
            coders: dict[str, set] = {}
            for s in sheets:
                if not s["reconciled"]:
                    coders.setdefault(s["response_id"], set()).add(s["coder"])
            keep = {rid for rid, who in coders.items() if len(who) >= 2}
        else:
            keep = None
        mine = {s["response_id"] for s in sheets if not s["reconciled"]}
        self.items = [r for r in self.rows if r["case_id"] == self.case.value and r["unit"] == self.unit.value
                      and self.option_filter.value in (ALL, r["option_id"])
                      and (keep is None or r["unit_id"] in keep)
                      and not (self.uncoded.value and not self.reconcile.value and r["unit_id"] in mine)]
        self.items.sort(key=lambda r: (r["cohort"], r["learner"], r["phase"]))
        self.show(index)

    @property
    def current(self) -> dict | None:
        """The answer on screen (a store row), or None when the filters leave nothing."""
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def show(self, index: int) -> None:
        """Show answer ``index`` of the filtered list, with this coder's latest codes for it."""
        self.index = max(0, min(index, len(self.items) - 1))
        row = self.current
        self.pad.disabled = row is None
        self.others.value = ""
        if row is None:
            self.answer.value = "<p>No answer matches these filters.</p>"
            self.pad.text, self.pad.segments, self._saved = "", [], None
            self.status.say("No answer to code here: two coders must code an answer before it can be reconciled."
                            if self.reconcile.value else "No answer matches these filters.")
            return
        case = self.library[row["case_id"]]
        labels = {o.id: o.label for o in case.options}
        what = "" if row["unit"] == "reasoning" else (
            " · <strong>their chart note</strong>" if row["kind"] == "chart_note" else " · <strong>what they would say"
            "</strong>, after this answer")
        self.answer.value = (f'<section aria-label="The answer being coded"><p><strong>{text(row["learner"])}'
                             f"</strong> · {text(row['cohort'])} · {text(row['phase'])} · "
                             f"{text(labels.get(row['option_id'], row['option_id']))} · confidence "
                             f"{int(row['confidence'])}%{what}</p>"
                             + (f"<p>Their reasoning: {text(row['justification'])}</p>"
                                if row["unit"] == "script" else "")
                             + "</section>")
        sheets = [s for s in self._sheets(row["case_id"]) if s["response_id"] == row["unit_id"]]
        if self.reconcile.value:
            own = [s for s in sheets if s["reconciled"]]
            coders = [s for s in sheets if not s["reconciled"]]
            self.others.value = self._comparison_html(coders)
            start = own[-1]["segments"] if own else _agreed(coders)
        else:
            start = sheets[-1]["segments"] if sheets else []
        with self.pad.hold_sync():
            self.pad.text = row["text"]
            self.pad.segments = [dict(s) for s in start]
        self._saved = self._sheet()
        done = " (reconciled)" if self.reconcile.value and any(s["reconciled"] for s in sheets) else (
            " (coded)" if sheets and not self.reconcile.value else " (not yet coded)" if not self.reconcile.value
            else " (not yet reconciled)")
        self.status.say(f"Answer {self.index + 1} of {len(self.items)}: {row['learner']}{done}")

    def _comparison_html(self, coders: list[dict]) -> str:
        names = {c.id: c.name for c in self.codebook.codes}
        applied = {s["coder"]: {g["code"] for g in s["segments"]} for s in coders}
        rows = []
        for code in self.codebook.ids:
            have = sorted(c for c, codes in applied.items() if code in codes)
            if have and len(have) < len(applied):
                rows.append(f"<li>{text(names[code])}: applied by {text(', '.join(have))}; not by "
                            f"{text(', '.join(sorted(set(applied) - set(have))))}</li>")
        body = "".join(rows) or "<li>None: the coders agree on every code.</li>"
        return ('<section aria-label="Where the coders differ"><p><strong>Where the coders differ:</strong></p>'
                f"<ul>{body}</ul></section>")

    # -- coding --------------------------------------------------------------------------------

    def _sheet(self) -> tuple:
        return tuple((s["code"], s["start"], s["end"]) for s in self.pad.segments)

    def save(self) -> bool:
        """Append this coder's sheet (or, in reconciliation, the reconciled sheet) if it changed."""
        row = self.current
        if row is None or self._sheet() == self._saved:
            return False
        try:
            self.book.record(row["unit_id"], self.coder.value, self.codebook, list(self.pad.segments),
                             reconciled=self.reconcile.value, unit=row["unit"])
        except DualroleError as exc:
            self.status.say(f"Not saved: {exc}", urgent=True)
            return False
        self._saved = self._sheet()
        what = "reconciled codes" if self.reconcile.value else "codes"
        self.status.say(f"Saved the {what} of {row['learner']} ({len(self.pad.segments)} code(s)).")
        return True

    def move(self, step: int) -> None:
        """Save, then go ``step`` answers on (1) or back (-1); the keyboard focus returns to the answer's text.

        An answer left with no code is saved as coded with none when the coder moves on to the next
        one: "no code applies" is a judgement agreement must count, not a gap. Going back records nothing.
        """
        row = self.current
        if step > 0 and row is not None and not self.pad.segments and self._saved == () and not self._has_sheet(row):
            self._saved = None  # force the empty sheet to be kept
        self.save()
        if self.items:
            self.show(self.index + step)
            self.pad.focus()

    def _has_sheet(self, row: dict) -> bool:
        return any(s["response_id"] == row["unit_id"] and s["reconciled"] == self.reconcile.value
                   for s in self._sheets(row["case_id"]))

    def agreement(self):
        """Krippendorff's alpha per code over the answers coded independently by two or more coders."""
        from widgets.analysis.coded_reasoning import code_alpha, presence

        return code_alpha(presence(self.book.sheets(codebook=self.codebook), self.codebook.ids))


def _unit(answer: dict, unit: str, unit_id: str, words: str, kind: str | None = None) -> dict:
    """A text to code: an answer's store row with what is coded (``unit``: reasoning or script), its id
    (the response's, or the script's) and its ``text``; ``kind`` is a script's (script or chart_note)."""
    return {**answer, "unit": unit, "unit_id": unit_id, "text": words, "kind": kind}


def _agreed(sheets: list[dict]) -> list[dict]:
    """The segments every coder's sheet has: where reconciliation starts."""
    if not sheets:
        return []
    common = [{k: s[k] for k in ("code", "start", "end")} for s in sheets[0]["segments"]]
    return [s for s in common if all(s in [{k: g[k] for k in ("code", "start", "end")} for g in other["segments"]]
                                     for other in sheets[1:])]


class ReviewApp(ipw.VBox):
    """The review app: scoring with the rubric, or coding with the codebook, one switch apart.

    Parameters
    ----------
    store : Store
        The class store.
    mode : {"scoring", "coding"}
        The mode to open in.
    **options
        ``case`` for both screens; ``rubric``, ``scorer`` and ``service`` for scoring; ``codebook``
        and ``coder`` for coding.
    """

    MODES = ("scoring", "coding")

    def __init__(self, store, *, mode: str = "scoring", case: str | None = None, **options):
        if mode not in self.MODES:
            raise DualroleError(f"mode '{mode}' is not one of {', '.join(self.MODES)}")
        self.store, self.case, self.options = store, case, options
        self.screens: dict[str, ipw.Widget] = {}
        self.mode = ipw.ToggleButtons(options=[("Scoring", "scoring"), ("Coding", "coding")], value=mode,
                                      description="Mode:", tooltips=["Score with the rubric",
                                                                     "Code with the codebook"])
        self.mode.observe(lambda _change: self._show(), names="value")
        super().__init__([self.mode], layout=_WIDE)
        self._show()

    @property
    def screen(self):
        """The screen of the current mode (:class:`ReviewScreen` or :class:`CodingScreen`)."""
        return self._screen(self.mode.value)

    def _screen(self, mode: str):
        if mode not in self.screens:
            if mode == "scoring":
                keep = {k: v for k, v in self.options.items() if k in ("rubric", "scorer", "service")}
                self.screens[mode] = ReviewScreen(self.store, case=self.case, **keep)
            else:
                keep = {k: v for k, v in self.options.items() if k in ("codebook", "coder")}
                self.screens[mode] = CodingScreen(self.store, case=self.case, **keep)
        return self.screens[mode]

    def _show(self) -> None:
        for screen in self.screens.values():
            screen.save()
        self.children = [self.mode, self.screen]
