"""``LiveDashboard("gifts")``: the instructor's live view of a class, and the buttons that pace it.

For each case: the stage, how many have answered (and revoted), and the class distribution once
enough have answered to show it without singling anyone out. It refreshes every few seconds on an
asyncio task, with a "last updated" time, and backs off while the service cannot be reached.
Served with Voila inside the instructor's own Hub server, so the instructor's token is the one used.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from pathlib import Path

import ipywidgets as ipw

from widgets.cases.library import Case, load_library
from widgets.errors import DualroleError
from widgets.exchange.class_export import export_class
from widgets.learner import identity
from widgets.learner.client import ServiceClient, ServiceRefused, ServiceUnavailable
from widgets.learner.connect import service_from_env
from widgets.paths import home
from widgets.render import text
from widgets.responses.disclosure import Audience, check_audience, distribution, shows_reference
from widgets.responses.disclosure import distribution_html as distribution_html_table
from widgets.responses.pacing import ACTION_LABELS, ACTIONS, SELF_PACED, STAGE_LABELS, ClassState, learner_round
from widgets.vocab import MODULES

log = logging.getLogger("dualrole.live")

REFRESH_SECONDS = 3.0
MAX_BACKOFF_SECONDS = 30.0
NO_SERVICE = ("<p><strong>No class service found.</strong> This dashboard runs on a JupyterHub where "
              "<code>dualrole serve</code> is registered as a service (see docs/deploy-jupyterhub.md), or with "
              "<code>DUALROLE_SERVICE_URL</code> set. Nothing else on this page works without it.</p>")


def distribution_html(case: Case, info: dict, min_class: int, *, audience: Audience = "class") -> str:
    """First votes and latest answers as ``audience`` may see them (the dashboard is often projected,
    so the class audience is the default); the reference is marked only once it is revealed.

    The class audience sees exactly what the learners' cards show at the case's stage
    (:func:`widgets.responses.pacing.learner_round`): no counts while the vote is forming, the first
    votes from the histogram on, the latest answers only after the reveal (or on a self-paced case).
    """
    labels = {o.id: o.label for o in case.options}
    marks = None
    if shows_reference(audience, info.get("stage") == "revealed"):
        marks = {o.id: "★ Preferred" if o.id in case.preferred else "" for o in case.options}
    rounds = ("first", "latest")
    if audience != "instructor":
        shown_round = learner_round(ClassState("", case.id, info.get("stage", SELF_PACED)))
        rounds = {None: (), "first": ("first",), "latest": rounds}[shown_round]
        if not rounds:
            return ("<p><em>The counts stay off this screen until you show the histogram, as they stay off "
                    "the learners' cards: each learner commits alone first.</em></p>")
    tables = []
    for which, heading in (("first", "First votes"), ("latest", "Latest answers")):
        if which not in rounds:
            continue
        counts = info.get(which, {})
        shown = distribution(counts, case.option_ids, audience, min_class=min_class)
        tables.append(distribution_html_table(labels, shown, heading=heading, marks=marks,
                                              caption=f"{heading}: {shown.total} learner(s)"))
    return "".join(tables)


def unavailable_words(problem: ServiceUnavailable) -> str:
    """What the dashboard says when the class service does not serve it: which part is down, and
    that learners' answers are safe meanwhile."""
    if problem.code == "store_unavailable":
        what = ("The class service is up, but the class database is not answering; the service keeps "
                "trying it")
    elif problem.code == "not_configured":
        what = "The class service is running but misconfigured; your hub administrator must fix a setting"
    else:
        what = "Cannot reach the class service"
    return f"{what} ({problem}). Retrying; learners' answers wait in their outboxes meanwhile."


class CaseRow(ipw.VBox):
    """One case on the dashboard: its title, stage, counts, distribution and pacing buttons."""

    def __init__(self, case: Case, on_action):
        self.case = case
        self.title = ipw.HTML(f"<h4>{text(case.title)} <small>({text(case.id)})</small></h4>")
        self.stage = ipw.HTML()
        self.distribution = ipw.HTML()
        self.buttons = {}
        for action in ACTIONS:
            button = ipw.Button(description=ACTION_LABELS[action], disabled=True,
                                layout=ipw.Layout(width="auto"),
                                tooltip=STAGE_LABELS.get(ACTIONS[action] or "self-paced", ""))
            button.on_click(lambda _b, a=action: on_action(case.id, a))
            self.buttons[action] = button
        super().__init__(children=[self.title, self.stage, ipw.HBox(list(self.buttons.values())),
                                   self.distribution])
        self.add_class("dualrole-live-case")

    def show(self, info: dict, min_class: int, audience: Audience = "class") -> None:
        self.stage.value = (f"<p><strong>{text(STAGE_LABELS[info['stage']])}</strong>: "
                            f"{info.get('answered', 0)} answered, {info.get('revoted', 0)} revoted.</p>")
        for action, button in self.buttons.items():
            button.disabled = action not in info.get("allowed_actions", [])
        self.distribution.value = distribution_html(self.case, info, min_class, audience=audience)


class LiveDashboard(ipw.VBox):
    """The instructor's live class dashboard.

    Parameters
    ----------
    cases : str or list of str
        A module (``"gifts"``), one case id, or a list of case ids.
    cohort : str, optional
        The class (default: ``DUALROLE_COHORT``).
    phase : str
        The phase whose answers are counted.
    refresh : float
        Seconds between refreshes.
    client : ServiceClient, optional
        Defaults to the hub's class service, found as the cards find it.
    audience : {"class", "instructor"}
        "class" (the default) for a projected screen: counts once ``min_class`` have answered, and
        no reference mark before the reveal. "instructor" for your own screen: exact counts and marks.
    """

    def __init__(self, cases: str | list[str], *, cohort: str | None = None, phase: str = "practice",
                 refresh: float = REFRESH_SECONDS, client: ServiceClient | None = None,
                 audience: Audience = "class"):
        identity.require_hub_login()  # pacing buttons and class counts only behind the Hub's login
        self.audience = check_audience(audience)
        self.cases = _resolve(cases)
        self.cohort = cohort or identity.cohort()
        self.phase = phase
        self.refresh_seconds = refresh
        self.client = client or service_from_env()
        self.task: asyncio.Task | None = None
        self.last_updated: datetime | None = None
        self.header = ipw.HTML()
        self.updated = ipw.HTML('<p role="status">Last updated: not yet</p>')
        self.problem = ipw.HTML()
        self.rows = {c.id: CaseRow(c, self.act) for c in self.cases}
        self.export_button = ipw.Button(description="Export answers for the cohort review", icon="download",
                                        layout=ipw.Layout(width="auto"))
        self.export_button.on_click(lambda _b: self.export())
        self.export_status = ipw.HTML()
        if self.client is None:
            super().__init__(children=[ipw.HTML(NO_SERVICE)])
            return
        self.header.value = (f"<h3>Class {text(self.cohort)}: {len(self.cases)} case(s)</h3>"
                             f"<p>Service: <code>{text(self.client.url)}</code>. Learners' cards follow "
                             "each stage within a few seconds.</p>")
        super().__init__(children=[self.header, self.updated, self.problem, *self.rows.values(),
                                   ipw.HBox([self.export_button]), self.export_status])
        self.add_class("dualrole-live")
        self.refresh()
        self._start()

    # -- refreshing ----------------------------------------------------------------------------

    def refresh(self) -> bool:
        """Read the service once and update every row; False when the service could not be read."""
        return self._show(self._fetch())

    def _fetch(self) -> dict | DualroleError:
        try:
            return self.client.summary(self.cohort, [c.id for c in self.cases], self.phase)
        except (ServiceUnavailable, ServiceRefused) as exc:
            return exc

    def _show(self, summary: dict | DualroleError) -> bool:
        if isinstance(summary, ServiceUnavailable):
            self.problem.value = f'<p role="alert">{text(unavailable_words(summary))}</p>'
            return False
        if isinstance(summary, ServiceRefused) and summary.code == "unknown_case":
            # The usual cause: the instructor's own cases are in this server's DUALROLE_CASES only.
            self.problem.value = (f'<p role="alert">The class service does not know a case on this dashboard '
                                  f'({text(summary)}). Give the service the same case folder as your server '
                                  "(<code>DUALROLE_CASES</code> in its environment), or leave that case out.</p>")
            return False
        if isinstance(summary, DualroleError):
            self.problem.value = f'<p role="alert">The class service refused: {text(summary)}</p>'
            return False
        self.problem.value = ""
        for case_id, info in summary["cases"].items():
            if case_id in self.rows:
                self.rows[case_id].show(info, summary["min_class"], self.audience)
        self.last_updated = datetime.now()
        self.updated.value = f'<p role="status">Last updated: {self.last_updated:%H:%M:%S}</p>'
        return True

    def _start(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (plain Python): call refresh() yourself
        self.task = loop.create_task(self._run())

    async def _run(self) -> None:
        delay = self.refresh_seconds
        while True:
            await asyncio.sleep(delay)
            try:  # the HTTP call on a thread; the widgets are updated here, on the kernel's loop
                ok = self._show(await asyncio.to_thread(self._fetch))
            except Exception:  # keep refreshing whatever one round hit
                log.exception("dashboard refresh failed")
                ok = False
            delay = self.refresh_seconds if ok else min(delay * 2, MAX_BACKOFF_SECONDS)

    def stop(self) -> None:
        """Stop refreshing."""
        if self.task is not None:
            self.task.cancel()

    # -- actions -------------------------------------------------------------------------------

    def act(self, case_id: str, action: str) -> None:
        """Pace one case (what the buttons do), then refresh."""
        try:
            self.client.act(self.cohort, case_id, action)
        except (ServiceUnavailable, ServiceRefused) as exc:
            self.problem.value = f'<p role="alert">{text(ACTION_LABELS[action])} failed: {text(exc)}</p>'
            return
        self.refresh()

    def export(self, out: Path | str | None = None) -> Path | None:
        """Copy the cohort's answers into a SQLite file in your data folder, for the cohort review."""
        out = Path(out) if out else home() / "class-exports" / f"{self.cohort}-{datetime.now():%Y%m%d-%H%M%S}.sqlite"
        try:
            total, added = export_class(self.client, self.cohort, out)
        except DualroleError as exc:
            self.export_status.value = f'<p role="alert">Export failed: {text(exc)}</p>'
            return None
        self.export_status.value = (f'<p role="status">Exported {total} answer(s) ({added} new) to '
                                    f"<code>{text(out)}</code>. To review it, set <code>DUALROLE_STORE</code> "
                                    "to this file and open <code>instructor_cohort_review.ipynb</code>.</p>")
        return out


def _resolve(cases: str | list[str]) -> list[Case]:
    library = load_library()
    if isinstance(cases, str):
        return library.module(cases) if cases in MODULES else [library[cases]]
    return [library[c] for c in cases]
