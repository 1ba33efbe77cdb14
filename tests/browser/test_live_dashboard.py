"""The live class dashboard (``instructor_live.ipynb``) served by Voila, talking to a running class
service: it shows how many have answered, hides the reference until the reveal, paces the class from
a button click in the browser, and passes axe-core.

The service runs in this test's process with the Hub's token check stood in
(``tests/hub/inprocess.py``); Voila's kernel reaches it over HTTP, as an instructor's server would.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService  # noqa: E402

from widgets.cases.library import load_library  # noqa: E402
from widgets.exchange.outbox import Outbox  # noqa: E402
from widgets.learner.client import ServiceClient  # noqa: E402
from widgets.responses.contract import Response  # noqa: E402

from .conftest import AXE, NOTEBOOKS, harness_copy, new_watched_page, save_failure_screenshot  # noqa: E402
from .jlab import run_axe, screenshot, serious  # noqa: E402
from .test_dashboard import render  # noqa: E402

COHORT = "synthetic-live-class"
LEARNERS = ("alice", "bob", "carol")


def first_gifts_case():
    # The shipped notebook's dashboard shows the gifts module: answer its first case.
    return next(c for c in load_library() if c.module == "gifts")


def answer(service, who: str, case, tmp_path) -> None:
    client = ServiceClient(service.url, service.token(who), outbox=Outbox(tmp_path / who / "outbox.jsonl"))
    option = case.options[0]
    client.add(Response(learner=who, cohort=COHORT, case_id=case.id, case_version=case.case_version,
                        option_id=option.id, stance=option.stance, confidence=60,
                        justification="A synthetic answer from the browser test."))


def wait_until(condition, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


@pytest.mark.browser
def test_live_dashboard_in_voila_follows_the_class_and_paces_it(request, chromium, tmp_path):
    voila = request.getfixturevalue("voila")
    service = InProcessService(f"sqlite:///{tmp_path / 'class.sqlite'}", min_class=3).start()
    page = None
    try:
        case = first_gifts_case()
        teacher = ServiceClient(service.url, service.token("teacher"), outbox=Outbox(tmp_path / "teacher.jsonl"))
        teacher.act(COHORT, case.id, "open_voting")
        for who in LEARNERS:
            answer(service, who, case, tmp_path)
        # The instructor's server and the service must share one case library; this service has the
        # shipped one, so the kernel gets no instructor's cases (other tests add some to Voila's).
        shipped_only = tmp_path / "no-instructor-cases"
        shipped_only.mkdir()
        harness_copy(NOTEBOOKS / "instructor_live.ipynb", voila.root / "live-class.ipynb",
                     DUALROLE_SERVICE_URL=service.url, JUPYTERHUB_API_TOKEN=service.token("teacher"),
                     DUALROLE_COHORT=COHORT, DUALROLE_CASES=str(shipped_only))

        page = new_watched_page(chromium)
        text = render(page, voila.render_url("live-class.ipynb"))
        row = page.locator(".dualrole-live-case").filter(has_text=f"({case.id})")
        assert f"Class {COHORT}" in text
        assert "The class service refused" not in text
        assert "Voting open: 3 answered, 0 revoted." in row.inner_text()
        assert "Last updated: " in text and "Last updated: not yet" not in text
        # While the vote forms, the projected screen shows no counts, as the learners' cards show none.
        assert "100%" not in row.inner_text() and "counts stay off this screen" in row.inner_text()

        result = run_axe(page, "body", AXE)
        assert serious(result["violations"]) == [], result["violations"]

        row.get_by_role("button", name="2. Close").click()
        assert wait_until(lambda: teacher.class_state(COHORT, case.id)["stage"] == "closed"), \
            "the click in the browser did not close voting at the service"
        row.get_by_text("Voting closed: 3 answered").wait_for(timeout=30_000)  # the next refresh shows it
        row.get_by_role("button", name="3. Show histogram").click()
        row.get_by_text("Class histogram shown: 3 answered").wait_for(timeout=30_000)
        # Three answers reach the class minimum of 3: from the histogram on, the projected table shows
        # the counts as they are, and no reference mark before the reveal.
        assert "100%" in row.inner_text() and "★" not in row.inner_text()
        screenshot(page, "live-dashboard-voila")
        assert page.watch.console_errors == [] and page.watch.page_errors == [], page.watch.console_errors
        assert page.watch.dialogs == []
    except BaseException:
        if page is not None:
            save_failure_screenshot(page, "live-dashboard")
        raise
    finally:
        if page is not None:
            page.context.close()
        service.stop()
