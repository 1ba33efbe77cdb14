"""One-line lesson helpers: a whole module or list of cases, and the research-consent choice."""

from __future__ import annotations

import ipywidgets as ipw

from widgets.cases.library import load_library
from widgets.learner import identity
from widgets.learner.connect import response_store
from widgets.store.protocol import ResponseStore
from widgets.ui.a11y import LiveStatus, guarded
from widgets.ui.card import CaseCard


class CaseList(ipw.VBox):
    """Every case of a module, or the cases named, one card after another.

    Example::

        CaseList("business")                          # a module
        CaseList(["cosmetics", "car_repairs_at_cost"])  # chosen cases, in this order
    """

    def __init__(self, module_or_ids: str | list[str], **card_options):
        library = load_library()
        if isinstance(module_or_ids, str):
            cases = library.module(module_or_ids)
        else:
            cases = [library[case_id] for case_id in module_or_ids]
        store = card_options.pop("store", None) or response_store()
        self.cards = [CaseCard(case, store=store, **card_options) for case in cases]
        children: list[ipw.Widget] = []
        for i, card in enumerate(self.cards):
            if i:
                children.append(ipw.HTML("<hr>"))
            children.append(card)
        super().__init__(children=children)


class ConsentChoice(ipw.VBox):
    """The research-consent choice: off until the learner turns it on, and revocable at any time."""

    def __init__(self, store: ResponseStore | None = None):
        self.store = store or response_store()
        self.learner = identity.learner_id()
        self.checkbox = ipw.Checkbox(
            value=identity.research_consent(),
            description="Yes, my de-identified answers may be used for research",
            indent=False, layout=ipw.Layout(width="auto"),
        )
        self.status = LiveStatus()
        self.checkbox.observe(self._on_change, names="value")
        super().__init__(children=[self.checkbox, self.status])
        guarded(self)
        self._show()

    def _on_change(self, change) -> None:
        identity.save_settings(research_consent=bool(change["new"]))
        self.store.set_consent(self.learner, bool(change["new"]))
        self._show()

    def _show(self) -> None:
        if self.checkbox.value:
            self.status.say("Thank you. Research exports made while this is ticked include all your answers, "
                            "earlier ones too, under a random code. Untick to withdraw them all.")
        else:
            self.status.say("Not consented (the default). No research export made now includes any of your answers.")
