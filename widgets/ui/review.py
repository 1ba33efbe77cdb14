"""``ReviewScreen(store)``: the instructor scores each learner's reasoning against a rubric.

Pick a case; read every learner's answer (first attempt and revote), confidence and reasoning,
and their script (what they would say, or their chart note, with the checklist items they ticked),
filtered by option, cohort or "not yet scored"; score it from the keyboard. A rubric criterion that
reads the script (``id: script``) is scored on those words; its score belongs to the first answer,
which the script follows. Number keys set the
level of the criterion in focus and move on to the next criterion; ``n`` and ``p`` go to the next
and previous answer (saving the sheet first). Score sheets are appended to the store (who, when,
which rubric version); released feedback goes to the learner's card.

This screen shows individual answers, so it is for the ``instructor`` audience only
(:mod:`widgets.responses.disclosure`): open it on your own class store, never on a projector.
"""

from __future__ import annotations

import getpass
import os
from pathlib import Path

import anywidget
import ipywidgets as ipw
import traitlets as t

from widgets.cases.library import load_library
from widgets.errors import DualroleError
from widgets.grading.files import SCRIPT_CRITERION, Rubric, default_rubric, load_rubric
from widgets.grading.final import NOT_SCORED
from widgets.learner.identity import require_hub_login
from widgets.render import text
from widgets.responses.contract import ANALYSIS_LESSON, ANALYSIS_SECTIONS, analysis_sections
from widgets.responses.pacing import SELF_PACED
from widgets.store.scores import ScoreBook
from widgets.ui.a11y import LiveStatus, guarded

_HERE = Path(__file__).resolve().parent
_WIDE = ipw.Layout(width="100%", max_width="900px")
ALL = "(all)"
_CSS = """
.dualrole-scorepad-help { margin: 0 0 6px; }
.dualrole-criterion { border: 1px solid var(--jp-border-color2, #ccc); margin: 0 0 6px; padding: 4px 8px; }
.dualrole-criterion legend { font-weight: 600; padding: 0 4px; }
.dualrole-criterion label { display: flex; gap: 6px; align-items: baseline; padding: 1px 0; }
.dualrole-criterion-active { border-color: var(--jp-brand-color1, #1565c0); border-width: 2px; }
.dualrole-scorepad input:focus-visible { outline: 2px solid var(--jp-brand-color1, #1565c0); outline-offset: 2px; }
"""


def default_scorer() -> str:
    """Who is scoring: the hub user, else the account name on this machine."""
    return os.environ.get("JUPYTERHUB_USER", "").strip() or getpass.getuser()


def _revote_label(row: dict) -> str:
    """The second attempt's label, as the mode it was made in ordered it: in class mode the revote
    follows the class histogram, self-paced it follows the class's answers; both come before the
    reference is shown."""
    if row.get("stage") not in (None, "", SELF_PACED):
        return "Revote (after the class histogram, before the reveal)"
    return "Revote (after seeing the class's answers, before the reference)"


class ScorePad(anywidget.AnyWidget):
    """The rubric as one radio group per criterion, with the review screen's keys (``review.js``).

    :meth:`press` holds every key rule, so it is tested without a browser; the front end only
    forwards the keys it gets.
    """

    _esm = _HERE / "review.js"
    _css = _CSS
    criteria = t.List(t.Tuple(t.Unicode(), t.Unicode(), t.List(t.Unicode()))).tag(sync=True)
    levels = t.Dict().tag(sync=True)
    active = t.Int(0).tag(sync=True)
    disabled = t.Bool(False).tag(sync=True)
    instructions = t.Unicode("").tag(sync=True)
    focus_request = t.Int(0).tag(sync=True)

    def __init__(self, rubric: Rubric, on_move=None, **kwargs):
        top = max(c.top for c in rubric.criteria)
        super().__init__(criteria=[(c.id, c.label, list(c.levels)) for c in rubric.criteria], **kwargs)
        self.instructions = (f"Score: in each criterion press a number from 0 to {top} (or use the arrow keys); "
                             "n saves and goes to the next answer, p to the previous one.")
        self.rubric = rubric
        self.on_move = on_move
        self.on_msg(self._on_msg)

    def focus(self) -> None:
        """Move the keyboard focus to the active criterion."""
        self.focus_request += 1

    def press(self, key: str, criterion: int | None = None, advance: bool = True) -> None:
        """Handle one key: a level for a criterion (then on to the next), or ``n``/``p`` to move."""
        if key in ("n", "p"):
            if self.on_move:
                self.on_move(1 if key == "n" else -1)
            return
        if not key.isdigit() or self.disabled:
            return
        index = self.active if criterion is None else criterion
        if not 0 <= index < len(self.rubric.criteria):
            return
        c = self.rubric.criteria[index]
        if int(key) > c.top:
            return
        self.levels = {**self.levels, c.id: int(key)}
        if advance:  # the front end has already moved the focus on
            self.active = min(index + 1, len(self.rubric.criteria) - 1)
        else:
            self.active = index

    def _on_msg(self, _widget, content, _buffers) -> None:
        if isinstance(content, dict) and isinstance(content.get("key"), str):
            criterion = content.get("criterion")
            self.press(content["key"], criterion if isinstance(criterion, int) else None,
                       bool(content.get("advance", True)))


class ReviewScreen(ipw.VBox):
    """Score a class's answers against a rubric, from the keyboard.

    Parameters
    ----------
    store : Store
        The class store (the one ``dualrole collect`` or ``class-export`` wrote, or the service's).
    rubric : Rubric or path, optional
        The default is the shipped rubric for ethical reasoning (five criteria, 0 to 2).
    scorer : str, optional
        Who is scoring (default: the hub user or this machine's account name).
    case : str, optional
        The case to start on (default: the first with answers).
    service : ServiceClient, optional
        On a hub, released feedback is also sent through the class service to the learners' cards.
    """

    def __init__(self, store, *, rubric: Rubric | str | Path | None = None, scorer: str | None = None,
                 case: str | None = None, service=None):
        require_hub_login()  # never a learner's name or reasoning outside the Hub's login
        self.store = store
        self.book = ScoreBook(store)
        self.service = service
        self.rubric = rubric if isinstance(rubric, Rubric) else (load_rubric(rubric) if rubric else default_rubric())
        self.library = load_library()
        self.rows = store.responses()
        # Each learner's latest script, by the first answer it follows: shown under that answer.
        self.scripts = {s["response_id"]: s for s in store.latest_scripts()}
        case_ids = sorted({r["case_id"] for r in self.rows if r["case_id"] in self.library})
        if not case_ids:
            raise DualroleError("the store holds no answers to score yet")
        self.items: list[dict] = []
        self.index = 0
        self._saved: tuple | None = None
        self._resetting = False

        label = {"description_width": "initial"}
        # The scorer's name and the comment sync when the instructor leaves the box (continuous_update
        # off): that update is sent before the click or the score pad's key that saves them, whereas
        # keystrokes synced one by one can still be on their way. Nothing is saved per keystroke here.
        self.scorer = ipw.Text(value=scorer or default_scorer(), description="Scoring as:", style=label,
                               continuous_update=False)
        self.case = ipw.Dropdown(options=[(f"{self.library[c].title} ({c})", c) for c in case_ids],
                                 value=case if case in case_ids else case_ids[0], description="Case:", style=label,
                                 layout=ipw.Layout(width="100%", max_width="600px"))
        self.option_filter = ipw.Dropdown(description="Option:", style=label)
        self.cohort_filter = ipw.Dropdown(description="Cohort:", style=label)
        self.unscored = ipw.Checkbox(value=False, description="Not yet scored by me", indent=False)
        # Graders score blind: the pad shows only the sheet of who is scoring. Reconciling shows every
        # grader's levels, and what is then saved is the answer's final score, never a grader's sheet.
        self.reconciling = ipw.Checkbox(value=False, description="Reconcile: see every grader, record the final "
                                        "score", indent=False)
        self.others = ipw.HTML(layout=_WIDE)
        self.answer = ipw.HTML(layout=_WIDE)
        self.pad = ScorePad(self.rubric, on_move=self.move)
        self.comment = ipw.Textarea(description="Comment for the learner:", style=label, continuous_update=False,
                                    layout=ipw.Layout(width="100%", max_width="900px", height="70px"))
        self.previous_button = ipw.Button(description="Previous answer (p)", tooltip="Save and go back")
        self.save_button = ipw.Button(description="Save score", button_style="primary")
        self.next_button = ipw.Button(description="Next answer (n)", tooltip="Save and go on")
        self.release_button = ipw.Button(description="Release feedback for this case",
                                         tooltip="Show every saved score sheet of yours on this case to its learner")
        self.status = LiveStatus(layout=_WIDE)
        self.previous_button.on_click(lambda _b: self.move(-1))
        self.next_button.on_click(lambda _b: self.move(1))
        self.save_button.on_click(lambda _b: self.save())
        self.release_button.on_click(lambda _b: self.release_case())
        self.case.observe(self._on_case, names="value")
        self.scorer.observe(self._on_scorer, names="value")
        self.reconciling.observe(self._on_reconciling, names="value")
        for control in (self.option_filter, self.cohort_filter, self.unscored):
            control.observe(self._on_filter, names="value")
        super().__init__([
            ipw.HTML(f"<h3>Review answers: {text(self.rubric.title)}</h3>"),
            self.scorer, self.case, ipw.HBox([self.option_filter, self.cohort_filter, self.unscored]),
            self.reconciling, self.answer, self.others, self.pad, self.comment,
            ipw.HBox([self.previous_button, self.save_button, self.next_button, self.release_button]),
            self.status,
        ], layout=_WIDE)
        self.add_class("dualrole-review")
        guarded(self)  # the instructor's keys stay in the screen too
        self._on_case()

    # -- choosing answers ----------------------------------------------------------------------

    def _on_case(self, _change=None) -> None:
        self.save()
        case = self.library[self.case.value]
        rows = [r for r in self.rows if r["case_id"] == case.id]
        self._resetting = True  # the filters' own change events must not reselect half-way
        try:
            self.option_filter.options = [(ALL, ALL)] + [(o.label, o.id) for o in case.options]
            self.option_filter.value = ALL
            self.cohort_filter.options = [ALL] + sorted({r["cohort"] for r in rows})
            self.cohort_filter.value = ALL
        finally:
            self._resetting = False
        self._select(0)

    def _on_scorer(self, change) -> None:
        # What is on the pad belongs to the grader who entered it: save it under their name, then show
        # the new grader their own sheet (blank when they have none). Nothing carries over.
        self.save(scorer=change["old"])
        here = self.current["response_id"] if self.current else None
        self._select(0)
        self.show(next((i for i, r in enumerate(self.items) if r["response_id"] == here), 0))

    def _on_reconciling(self, _change=None) -> None:
        self.save(reconciling=not self.reconciling.value)
        self.show(self.index)

    def _on_filter(self, _change=None) -> None:
        if self._resetting:
            return
        self.save()
        self._select(0)

    def _select(self, index: int) -> None:
        mine = {s["response_id"] for s in self.book.sheets(case_id=self.case.value, scorer=self.scorer.value)
                if s["rubric_id"] == self.rubric.id}
        answers = sorted((r for r in self.rows if r["case_id"] == self.case.value),
                         key=lambda r: (r["cohort"], r["learner"], r["phase"], r["attempt"]))
        if self.reads_analysis:  # an analysis is scored once, with the answer the learner settled on
            last = {(r["cohort"], r["learner"], r["phase"]): r["response_id"] for r in answers}
            answers = [r for r in answers if last[(r["cohort"], r["learner"], r["phase"])] == r["response_id"]]
        self.items = [r for r in answers if self.option_filter.value in (ALL, r["option_id"])
                      and self.cohort_filter.value in (ALL, r["cohort"])
                      and not (self.unscored.value and r["response_id"] in mine)]
        self.show(index)

    @property
    def reads_analysis(self) -> bool:
        """True for a rubric that scores a written case analysis (read beside the learner's last answer)."""
        return any(c.reads == "analysis" for c in self.rubric.criteria)

    @property
    def current(self) -> dict | None:
        """The answer on screen (a store row), or None when the filters leave nothing."""
        return self.items[self.index] if 0 <= self.index < len(self.items) else None

    def show(self, index: int) -> None:
        """Show answer ``index`` of the filtered list, with this scorer's latest sheet for it."""
        self.index = max(0, min(index, len(self.items) - 1))
        row = self.current
        self.pad.disabled = row is None
        if row is None:
            self.answer.value = "<p>No answer matches these filters.</p>"
            self.pad.levels, self.comment.value, self._saved = {}, "", None
            self.status.say("No answer matches these filters.")
            return
        self.answer.value = self._answer_html(row)
        self.others.value = self._graders_html(row) if self.reconciling.value else ""
        if self.reconciling.value:
            sheet = next((s for s in reversed(self.book.reconciled(case_id=row["case_id"]))
                          if s["response_id"] == row["response_id"] and s["rubric_version"] == self.rubric.version),
                         None)
        else:
            sheet = next((s for s in reversed(self.book.sheets(case_id=row["case_id"], scorer=self.scorer.value))
                          if s["response_id"] == row["response_id"] and s["rubric_id"] == self.rubric.id), None)
        self.pad.levels = dict(sheet["levels"]) if sheet else {}
        self.comment.value = sheet["comment"] if sheet else ""
        self.pad.active = 0
        self._saved = self._sheet()
        self.status.say(f"Answer {self.index + 1} of {len(self.items)}: {row['learner']}"
                        + (" (scored)" if sheet else " (not yet scored)"))

    def _graders_html(self, row: dict) -> str:
        sheets = [s for s in self.book.sheets(case_id=row["case_id"]) if s["response_id"] == row["response_id"]
                  and s["rubric_version"] == self.rubric.version]
        if not sheets:
            return "<p>No grader has scored this answer under this rubric.</p>"
        head = "".join(f"<th scope='col'>{text(s['scorer'])}</th>" for s in sheets)
        body = "".join(f"<tr><th scope='row'>{text(c.label)}</th>"
                       + "".join(f"<td>{text(str(s['levels'].get(c.id, '–')))}</td>" for s in sheets) + "</tr>"
                       for c in self.rubric.criteria)
        return (f"<table aria-label='Every grader\'s levels'><tr><th scope='col'>Criterion</th>{head}</tr>{body}"
                "</table>")

    def _answer_html(self, row: dict) -> str:
        case = self.library[row["case_id"]]
        labels = {o.id: o.label for o in case.options}
        both = sorted((r for r in self.rows if r["learner"] == row["learner"] and r["case_id"] == row["case_id"]
                       and r["phase"] == row["phase"] and r["cohort"] == row["cohort"]), key=lambda r: r["attempt"])
        parts = [f"<p><strong>{text(row['learner'])}</strong> · {text(row['cohort'])} · {text(row['phase'])}</p>"]
        for r in both:
            which = "First attempt" if r["attempt"] == 1 else _revote_label(r)
            marker = " ◀ scoring this one" if r["response_id"] == row["response_id"] and len(both) > 1 else ""
            parts.append(f"<p><strong>{which}{marker}:</strong> {text(labels.get(r['option_id'], r['option_id']))}"
                         f" · confidence {int(r['confidence'])}%</p>"
                         f"<blockquote>{text(r['justification'])}</blockquote>")
            if r["response_id"] in self.scripts:
                parts.append(self._script_html(case, self.scripts[r["response_id"]]))
        if self.reads_analysis:
            parts.append(self._analysis_html(row))
        return '<section aria-label="The answer being scored">' + "".join(parts) + "</section>"

    def _analysis_html(self, row: dict) -> str:
        """The learner's latest written analysis of the case, part by part, for a rubric that reads one."""
        saved = [r for r in self.store.reflections(learner=row["learner"], lesson=ANALYSIS_LESSON, kind="case_analysis")
                 if r["case_id"] == row["case_id"]]
        sections = analysis_sections(saved[-1]["text"]) if saved else {}
        if not sections:
            return "<p><strong>Written analysis:</strong> none handed in for this case yet.</p>"
        body = "".join(f"<h5>{text(heading)}</h5><blockquote>{text(sections[key])}</blockquote>"
                       for key, heading, _ in ANALYSIS_SECTIONS if key in sections)
        return f"<h4>Written analysis</h4>{body}"

    def _script_html(self, case, script: dict) -> str:
        """The learner's words after their first answer, and which checklist items they ticked."""
        what = "Their chart note" if script["kind"] == "chart_note" else "What they would say"
        scored = [c.label for c in self.rubric.criteria if c.id == SCRIPT_CRITERION]
        note = f" (scored by the criterion “{text(scored[0])}”)" if scored else ""
        items = case.say.checklist if case.say else ()
        ticked = set(script["checks"])
        marks = "".join(f"<li>{'☑ ticked' if i in ticked else '☐ not ticked'}: {text(item)}</li>"
                        for i, item in enumerate(items))
        changed = ("" if script["case_version"] in case.current_versions
                   else " The case has changed since: its checklist may not be the one they ticked.")
        checklist = (f"<p>Checklist ({len(ticked & set(range(len(items))))} of {len(items)} ticked by the "
                     f"learner).{changed}</p><ul>{marks}</ul>") if items else ""
        return (f'<section aria-label="{what}"><p><strong>{what}{note}:</strong></p>'
                f"<blockquote>{text(script['text'])}</blockquote>{checklist}</section>")

    # -- scoring -------------------------------------------------------------------------------

    def _sheet(self) -> tuple:
        return tuple(sorted(self.pad.levels.items())), self.comment.value

    def save(self, *, scorer: str | None = None, reconciling: bool | None = None) -> bool:
        """Append the sheet on the pad for the answer on screen if it changed; True when one was saved.

        It is the grader's own sheet, or, while reconciling, the answer's final score (every
        criterion needed). ``scorer`` and ``reconciling`` name whose sheet it is when they have just
        been changed on screen.
        """
        row = self.current
        if row is None or self._sheet() == self._saved or (not self.pad.levels and not self.comment.value.strip()):
            return False
        scorer = scorer if scorer is not None else self.scorer.value
        reconciling = self.reconciling.value if reconciling is None else reconciling
        try:
            if reconciling:
                self.book.reconcile(row["response_id"], scorer, self.rubric, dict(self.pad.levels), self.comment.value)
            else:
                self.book.record(row["response_id"], scorer, self.rubric, dict(self.pad.levels), self.comment.value)
        except DualroleError as exc:
            self.status.say(f"Not saved: {exc}", urgent=True)
            return False
        self._saved = self._sheet()
        what = "the final score" if reconciling else f"{scorer}'s score"
        self.status.say(f"Saved {what} of {row['learner']} ({len(self.pad.levels)} of "
                        f"{len(self.rubric.criteria)} criteria).")
        return True

    def move(self, step: int) -> None:
        """Save, then go ``step`` answers on (1) or back (-1); the keyboard focus returns to the rubric."""
        self.save()
        if self.items:
            self.show(self.index + step)
            self.pad.focus()

    def release_case(self) -> int:
        """Release the final score of every answer of the case that has one; return how many.

        The status says why the others were not released (not scored, scored only under another
        rubric version, an unfinished sheet, graders who differ).
        """
        self.save()
        finals = self.book.finals(self.rubric, case_id=self.case.value)
        released = [self.book.release(response_id, self.scorer.value, self.rubric)
                    for response_id, final in finals.items() if final.levels is not None]
        answers = {r["response_id"] for r in self.rows if r["case_id"] == self.case.value}
        held: dict[str, int] = {}
        for response_id in answers:
            final = finals.get(response_id)
            if final is None or final.levels is None:
                reason = final.reason if final else NOT_SCORED
                held[reason] = held.get(reason, 0) + 1
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(held.items()))
        not_released = f" Not released: {why}." if why else ""
        done = f"Released feedback on {len(released)} of {len(answers)} answer(s)"
        if not released:
            self.status.say(f"{done}.{not_released}")
        elif self.service is None:
            self.status.say(f"{done}: kept locally, not sent (no class service found; hand it out as files with "
                            f"dualrole feedback-export).{not_released}")
        else:
            try:
                self.service.release_feedback(released)
            except DualroleError as exc:
                self.status.say(f"{done} here, but the class service did not take it, so the learners do not see "
                                f"it yet: {exc}. Release again to retry.{not_released}", urgent=True)
                return len(released)
            self.status.say(f"{done} to their learners, through the class service: each sees it on their card "
                            f"at its next poll.{not_released}")
        return len(released)

    def scores(self):
        """Every scorer's latest sheets under this rubric (:func:`~widgets.analysis.grades.score_table`)."""
        from widgets.analysis.grades import score_table

        return score_table(self.book.sheets(), self.rubric)

    def agreement(self, first: str | None = None, second: str | None = None, weights: str = "quadratic"):
        """Weighted Cohen's kappa per criterion between two scorers (by default the two with most sheets).

        Empty until two instructors have scored the same answers; see
        :func:`widgets.analysis.grades.scorer_agreement`.
        """
        from widgets.analysis.grades import scorer_agreement

        scores = self.scores()
        ranked = scores["scorer"].value_counts().index.tolist()
        first, second = first or (ranked[0] if ranked else ""), second or (ranked[1] if len(ranked) > 1 else "")
        table = scorer_agreement(scores, self.rubric, first, second, weights=weights)
        table.attrs["scorers"] = (first, second)
        return table

    def alpha(self):
        """Krippendorff's alpha (ordinal) per criterion across every grader; see
        :func:`widgets.analysis.grades.grader_alpha`."""
        from widgets.analysis.grades import grader_alpha

        return grader_alpha(self.scores(), self.rubric)
