"""The pre/post assessment: the same ten cases taken at the start (pre) and end (post) of a course.

In the pre phase the reference is held back until the learner has finished the post phase, so the
post-test measures what the course taught rather than what the pre-test revealed.
"""

from __future__ import annotations

import os

import ipywidgets as ipw
import yaml

from widgets.errors import DualroleError
from widgets.kernel import identity
from widgets.kernel.connect import response_store
from widgets.paths import data_dir
from widgets.store.protocol import ResponseStore
from widgets.ui.card import CaseCard

REVEAL_POLICIES = ("after_post", "immediate")


def assessment_config() -> dict:
    """The assessment's case ids and pre-phase reveal policy (``DUALROLE_PRE_REVEAL`` overrides)."""
    with open(data_dir() / "assessment.yaml", encoding="utf-8") as fh:
        config = yaml.safe_load(fh)
    policy = os.environ.get("DUALROLE_PRE_REVEAL", "").strip() or config.get("pre_reveal", "after_post")
    if policy not in REVEAL_POLICIES:
        raise DualroleError(f"DUALROLE_PRE_REVEAL is {policy!r}; use one of: {', '.join(REVEAL_POLICIES)}")
    return {"cases": list(config["cases"]), "pre_reveal": policy}


def post_done(store: ResponseStore, learner: str, cohort: str, case_ids: list[str]) -> bool:
    """True once the learner has committed a post-phase answer to every assessment case."""
    answered = {r["case_id"] for r in store.responses(learner=learner, cohort=cohort, phase="post")}
    return set(case_ids) <= answered


class Assessment(ipw.VBox):
    """The ten assessment cases in one phase: ``Assessment("pre")`` or ``Assessment("post")``."""

    def __init__(self, phase: str, *, store: ResponseStore | None = None, **card_options):
        if phase not in ("pre", "post"):
            raise DualroleError(f"phase must be 'pre' or 'post', not {phase!r}")
        config = assessment_config()
        self.store = store or response_store()
        learner = card_options.setdefault("learner", identity.learner_id())
        cohort = card_options.setdefault("cohort", identity.cohort())
        case_ids = config["cases"]
        if phase == "pre" and config["pre_reveal"] == "after_post":
            card_options["reveal_ready"] = lambda: post_done(self.store, learner, cohort, case_ids)
        self.cards = [CaseCard(case_id, phase=phase, store=self.store, **card_options) for case_id in case_ids]
        intro = ipw.HTML(
            f"<p><strong>{'Pre' if phase == 'pre' else 'Post'}-test:</strong> {len(self.cards)} cases. "
            + ("The reference answers for this part appear after you finish the post-test."
               if phase == "pre" and config["pre_reveal"] == "after_post" else
               "Each reference answer appears when you commit.")
            + "</p>"
        )
        children: list[ipw.Widget] = [intro]
        for i, card in enumerate(self.cards, start=1):
            children += [ipw.HTML(f"<h4>Case {i} of {len(self.cards)}</h4>"), card]
        super().__init__(children=children)
