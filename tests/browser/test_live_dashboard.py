"""Class mode in the browser, against a running class service. The live class dashboard
(``instructor_live.ipynb``) served by Voila shows how many have answered, hides the reference until
the reveal, paces the class from a button click in the browser, and passes axe-core. A learner's
card in JupyterLab follows the instructor's pacing through the "what would you say" step.

One service runs in this module's process, for both tests (each its own cohort), with the Hub's
token check stood in (``tests/hub/inprocess.py``); the kernels reach it over HTTP, as a learner's
or an instructor's server would.
"""

from __future__ import annotations

import time

import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService  # noqa: E402

from widgets.cases.library import load_case, load_library  # noqa: E402
from widgets.exchange.outbox import Outbox  # noqa: E402
from widgets.learner.client import ServiceClient  # noqa: E402
from widgets.responses.contract import Response  # noqa: E402
from widgets.store import open_store  # noqa: E402

from .conftest import AXE, NOTEBOOKS, harness_copy, new_watched_page, save_failure_screenshot  # noqa: E402
from .jlab import error_outputs, open_notebook, run_all, run_axe, screenshot, serious, widget_problems  # noqa: E402
from .test_dashboard import render  # noqa: E402

COHORT = "synthetic-live-class"
LEARNERS = ("alice", "bob", "carol")


@pytest.fixture(scope="module")
def class_service(tmp_path_factory):
    """The class service, with the shipped case library only (the kernels' extra cases leave the
    shipped ones as they are, so both sides agree on every case these tests answer)."""
    with pytest.MonkeyPatch.context() as env:
        env.delenv("DUALROLE_CASES", raising=False)
        store = tmp_path_factory.mktemp("class-service") / "class.sqlite"
        service = InProcessService(f"sqlite:///{store}", min_class=3).start()
    yield service
    service.stop()


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
def test_live_dashboard_in_voila_follows_the_class_and_paces_it(request, chromium, class_service, tmp_path):
    voila = request.getfixturevalue("voila")
    service = class_service
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


@pytest.mark.browser
def test_a_learner_in_class_mode_says_what_they_would_say_before_the_instructor_reveals(
        page, lab, learner_home, class_service, tmp_path):
    """In JupyterLab on the class service: the learner answers while voting is open, keeps the answer
    in the revote, writes and saves their words (kept on the service), and the instructor's reveal
    shows the model script beside them."""
    cohort, case = "synthetic-say-class", load_case("cosmetics")
    teacher = ServiceClient(class_service.url, class_service.token("teacher"),
                            outbox=Outbox(tmp_path / "teacher.jsonl"))
    teacher.act(cohort, case.id, "open_voting")
    setup = (f"os.environ.update(DUALROLE_SERVICE_URL={class_service.url!r}, "
             f"JUPYTERHUB_API_TOKEN={class_service.token('alice')!r}, JUPYTERHUB_USER='alice', "
             f"DUALROLE_COHORT={cohort!r})")
    path = lab.notebook("class-say", ["import os", setup, "from widgets import CaseCard",
                                      f'CaseCard("{case.id}")'], learner_home)
    open_notebook(page, lab, path)
    run_all(page)
    assert error_outputs(page) == [] and widget_problems(page) == []
    card = page.locator(".dualrole-card")
    words = card.get_by_role("textbox", name="Your words:")
    card.get_by_role("radio", name=case.option("decline_explore").label).check()
    card.get_by_role("textbox", name="Your reasoning:").fill(
        "Buying from her would make me her customer too, and her approval would follow me into sessions.")
    card.get_by_role("button", name="Commit my answer").click()
    card.get_by_role("status").filter(has_text="when your instructor shows them").wait_for()
    assert words.is_hidden()  # the answer may still change in a revote: the checklist would point to the key

    for action in ("close", "show_histogram", "open_revote"):
        teacher.act(cohort, case.id, action)
    keep = card.get_by_role("button", name="Keep my answer")
    keep.wait_for(timeout=30_000)  # the card's next poll of the service
    keep.click()
    words.wait_for()
    typed = "Thank you for thinking of me. I don't buy from the people I see, so our time stays about you."
    words.fill(typed)
    card.get_by_role("checkbox", name=case.say.checklist[1]).check()
    card.get_by_role("button", name="Save my words").click()
    card.get_by_role("status").filter(has_text="Saved, with 1 of 5 points ticked").wait_for()
    [row] = open_store(class_service.settings.store_url).scripts(learner="alice", cohort=cohort)
    assert (row["text"], row["checks"], row["case_id"]) == (typed, [1], case.id)

    teacher.act(cohort, case.id, "reveal")
    reveal = card.locator(".dualrole-reveal")
    reveal.wait_for(timeout=30_000)
    assert words.is_hidden()  # the step closes with the reveal
    reveal.locator("summary", has_text="A model script").click()
    section = reveal.locator("details", has_text="A model script").inner_text()
    assert case.say.model.strip('"')[:40] in section and typed in section
    assert page.watch.console_errors == [] and page.watch.page_errors == []
