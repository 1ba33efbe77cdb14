"""A learner's ratings of a case on a decision model (Kitchener's factors, Gottlieb's dimensions).

Lesson 09 asks the learner to rate every factor of a step before the reference appears. Each
comparison is kept as a ``decision_ratings`` record (:class:`widgets.responses.contract.Reflection`)
in the learner's store, a new row each time with the latest counting, so a reopened notebook shows
the ratings again and they travel in the learner's bundle to the instructor's ``collect``. The
widget (:mod:`widgets.ui.decision`) only binds controls to these rules.
"""

from __future__ import annotations

import json

from widgets.errors import DualroleError
from widgets.learner import identity
from widgets.responses.codec import to_json
from widgets.responses.contract import Reflection, check_reflection
from widgets.store.protocol import ReflectionStore
from widgets.vocab import GOTTLIEB_DIMENSIONS, KITCHENER_FACTORS, RISK_LEVELS

LESSON = "09_decision_models"

STEPS = {
    "kitchener": {f: (label, RISK_LEVELS) for f, label in KITCHENER_FACTORS.items()},
    "gottlieb": GOTTLIEB_DIMENSIONS,
}


def load_ratings(store: ReflectionStore, learner: str, case_id: str, step: str) -> dict:
    """The learner's latest saved ratings of one case in one step ({} when none)."""
    rows = store.reflections(learner=learner, lesson=LESSON, kind="decision_ratings")
    saved = [json.loads(r["text"]) for r in rows if r["case_id"] == case_id]
    saved = [entry for entry in saved if entry.get("step") == step]
    return saved[-1]["ratings"] if saved else {}


def unrated(step: str, ratings: dict) -> list[str]:
    """The labels of the factors still without a rating, in the model's order."""
    return [label for key, (label, _levels) in STEPS[step].items() if not ratings.get(key)]


def save_ratings(store: ReflectionStore, learner: str, case_id: str, step: str, ratings: dict) -> None:
    """Keep the learner's ratings as a collectable record (a new row each time; the latest counts).

    Raises
    ------
    DualroleError
        When a factor is unrated or a rating is not one of the model's levels (nothing is saved).
    """
    if step not in STEPS:
        raise DualroleError(f"step must be one of {', '.join(STEPS)}, not {step!r}")
    missing = unrated(step, ratings)
    if missing:
        raise DualroleError("Rate every factor first; still to rate: " + "; ".join(missing) + ".")
    for key, (label, levels) in STEPS[step].items():
        if ratings[key] not in levels:
            raise DualroleError(f"{label}: {ratings[key]!r} is not one of {', '.join(levels)}")
    chosen = {key: ratings[key] for key in STEPS[step]}
    body = to_json(Reflection(learner=learner, cohort=identity.cohort(), lesson=LESSON, kind="decision_ratings",
                              case_id=case_id, text=json.dumps({"step": step, "ratings": chosen},
                                                               sort_keys=True)).row())
    reflection, problems = check_reflection(body, learner=learner)
    if problems:
        raise DualroleError("; ".join(f"{k}: {v}" for k, v in problems.items()))
    store.add_reflection(reflection)
