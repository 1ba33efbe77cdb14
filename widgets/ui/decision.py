"""``DecisionModel("lunch_at_termination")``: Kitchener's factors, then Gottlieb's dimensions, step by step.

The learner rates each factor, then sees the reference rating and its reason beside their own. The
ratings are kept in the learner's data folder, so a reopened notebook shows them again.
"""

from __future__ import annotations

import json
import os

import ipywidgets as ipw

from widgets.cases.library import Case, load_case
from widgets.errors import DualroleError
from widgets.paths import home
from widgets.render import text
from widgets.ui.a11y import LiveStatus
from widgets.vocab import GOTTLIEB_DIMENSIONS, KITCHENER_FACTORS, RISK_LEVELS

STEPS = {
    "kitchener": {f: (label, RISK_LEVELS) for f, label in KITCHENER_FACTORS.items()},
    "gottlieb": GOTTLIEB_DIMENSIONS,
}


def _saved_path():
    return home() / "decision_models.json"


def load_ratings() -> dict:
    try:
        return json.loads(_saved_path().read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def save_ratings(case_id: str, step: str, ratings: dict) -> None:
    data = load_ratings()
    data.setdefault(case_id, {})[step] = ratings
    path = _saved_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    os.replace(tmp, path)


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

    def __init__(self, case: Case, step: str):
        self.case, self.step = case, step
        saved = load_ratings().get(case.id, {}).get(step, {})
        self.dropdowns = {
            key: ipw.Dropdown(options=[("Not rated", None)] + [(lv.capitalize(), lv) for lv in levels],
                              value=saved.get(key), description=f"{label}:",
                              style={"description_width": "initial"}, layout=ipw.Layout(width="520px"))
            for key, (label, levels) in STEPS[step].items()
        }
        self.compare = ipw.Button(description="Compare with the reference", button_style="primary")
        self.result = ipw.HTML()
        self.status = LiveStatus()
        self.compare.on_click(self._on_compare)
        super().__init__(children=[*self.dropdowns.values(), self.compare, self.status, self.result])
        if saved:
            self.result.value = comparison_html(case, step, saved)

    @property
    def ratings(self) -> dict:
        return {key: w.value for key, w in self.dropdowns.items()}

    def _on_compare(self, _button=None) -> None:
        if not any(self.ratings.values()):
            self.status.say("Rate at least one factor first.", urgent=True)
            return
        save_ratings(self.case.id, self.step, self.ratings)
        self.result.value = comparison_html(self.case, self.step, self.ratings)
        self.status.say("Your ratings are shown beside the reference below.")


class DecisionModel(ipw.VBox):
    """A case worked through Kitchener's factors (step 1) and Gottlieb's dimensions (step 2)."""

    def __init__(self, case: str | Case):
        self.case = case if isinstance(case, Case) else load_case(case)
        if self.case.gottlieb is None:
            raise DualroleError(f"case '{self.case.id}' has no 'gottlieb' reference ratings to compare with")
        self.kitchener = DecisionStep(self.case, "kitchener")
        self.gottlieb = DecisionStep(self.case, "gottlieb")
        super().__init__(children=[
            ipw.HTML(f"<h3>{text(self.case.title)}</h3>"),
            ipw.HTML("<h4>Step 1: Kitchener's factors</h4><p>How much does each factor raise the risk of harm?</p>"),
            self.kitchener,
            ipw.HTML("<h4>Step 2: Gottlieb's dimensions</h4><p>Rate the relationship the therapist is "
                     "considering alongside the therapy.</p>"),
            self.gottlieb,
        ])
