"""``DecisionModel("lunch_at_termination")``: Kitchener's factors, then Gottlieb's dimensions, step by step.

The case's vignette comes first. The learner rates every factor of a step before the reference
ratings appear beside their own. Keeping the ratings is :mod:`widgets.learner.ratings`' rule; this
module only binds the controls to it and shows the comparison.
"""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.library import Case, load_case
from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.learner.ratings import STEPS, load_ratings, save_ratings
from widgets.render import content_note, markdown, text
from widgets.store import open_store
from widgets.store.protocol import ReflectionStore
from widgets.ui.a11y import ChoiceGroup, LiveStatus, guarded


def comparison_html(case: Case, step: str, ratings: dict) -> str:
    """The learner's ratings beside the reference, with the reference's reason for each."""
    reference = case.kitchener if step == "kitchener" else case.gottlieb
    rows = "".join(
        f'<tr><th scope="row">{text(label)}</th><td>{text(ratings.get(key) or "not rated")}</td>'
        f"<td>{text(reference[key]['level'])}</td><td>{text(reference[key]['note'])}</td></tr>"
        for key, (label, _levels) in STEPS[step].items()
    )
    highest = [key for key, (_l, levels) in STEPS[step].items() if reference[key]["level"] == levels[-1]]
    if step == "kitchener":
        verdict = f"Overall reference risk: {text(case.kitchener['rating'])}."
    elif highest:
        verdict = ("The reference places " + ", ".join(text(STEPS[step][k][0].lower()) for k in highest)
                   + " at the highest level: on this model, that alone is a reason to avoid the second relationship.")
    else:
        verdict = "No dimension is at its highest level: weigh the remaining steps (consultation, the client's view)."
    return (
        '<div role="region" aria-label="Your ratings beside the reference">'
        '<table><thead><tr><th scope="col">Factor</th><th scope="col">You</th><th scope="col">Reference</th>'
        f'<th scope="col">Why</th></tr></thead><tbody>{rows}</tbody></table><p>{verdict}</p></div>'
    )


class DecisionStep(ipw.VBox):
    """One model applied to one case: rate, then compare."""

    def __init__(self, case: Case, step: str, *, store: ReflectionStore, learner: str):
        self.case, self.step, self.store, self.learner = case, step, store, learner
        saved = load_ratings(store, learner, case.id, step)
        # A row of radios per factor (not a select): arrow keys change the rating, and it wraps on a phone.
        self.choices = {
            key: ChoiceGroup(options=[(lv.capitalize(), lv) for lv in levels], value=saved.get(key),
                             description=f"{label}:", inline=True, layout=ipw.Layout(width="100%", max_width="900px"))
            for key, (label, levels) in STEPS[step].items()
        }
        self.compare = ipw.Button(description="Compare with the reference", button_style="primary")
        self.result = ipw.HTML()
        self.status = LiveStatus()
        self.compare.on_click(self._on_compare)
        super().__init__(children=[*self.choices.values(), self.compare, self.status, self.result])
        if saved:
            self.result.value = comparison_html(case, step, saved)

    @property
    def ratings(self) -> dict:
        return {key: w.value for key, w in self.choices.items()}

    def _on_compare(self, _button=None) -> None:
        # The reference stays hidden until the learner has committed to a rating of every factor.
        try:
            save_ratings(self.store, self.learner, self.case.id, self.step, self.ratings)
        except DualroleError as exc:
            self.status.say(f"Not saved: {exc}", urgent=True)
            return
        self.result.value = comparison_html(self.case, self.step, self.ratings)
        self.status.say("Your ratings are shown beside the reference below.")


class DecisionModel(ipw.VBox):
    """A case worked through Kitchener's factors (step 1) and Gottlieb's dimensions (step 2)."""

    def __init__(self, case: str | Case, *, store: ReflectionStore | None = None):
        self.case = case if isinstance(case, Case) else load_case(case)
        if self.case.gottlieb is None:
            raise DualroleError(f"case '{self.case.id}' has no 'gottlieb' reference ratings to compare with")
        self.store = store or open_store()
        learner = identity.learner_id()
        self.kitchener = DecisionStep(self.case, "kitchener", store=self.store, learner=learner)
        self.gottlieb = DecisionStep(self.case, "gottlieb", store=self.store, learner=learner)
        super().__init__(children=[
            ipw.HTML(f"<h3>{text(self.case.title)}</h3>"),
            # A content note, if the case has one, comes before the vignette, as on a card.
            ipw.HTML((content_note(self.case.content_note) if self.case.content_note else "")
                     + markdown(self.case.vignette), layout=ipw.Layout(max_width="900px")),
            ipw.HTML("<h4>Step 1: Kitchener's factors</h4><p>How much does each factor raise the risk of harm?</p>"),
            self.kitchener,
            ipw.HTML("<h4>Step 2: Gottlieb's dimensions</h4><p>Rate the relationship the therapist is "
                     "considering alongside the therapy.</p>"),
            self.gottlieb,
        ])
        guarded(self)
