"""The class distribution is counted once per change and shared, yet every read is current.

When the histogram is shown, a lecture hall's cards all read the same distribution at once, so the
service keeps each case's counts and the class's view of them (``widgets/service/tally.py``) and
counts again only when the case's answers have changed. These tests hold it to what a learner
relies on: the kept view is what counting afresh gives; a new answer, an erasure or a stage change,
made through this service or through another one on the same store, shows in the very next read;
and a distribution below the class's threshold is never shown to the class.
"""

from __future__ import annotations

import json
from collections import Counter

import httpx
import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService, answer  # noqa: E402

from widgets.cases.library import load_case  # noqa: E402
from widgets.responses.disclosure import distribution  # noqa: E402
from widgets.service.core import ClassService, Refused, ServiceSettings  # noqa: E402
from widgets.store import Store  # noqa: E402

CASE = "wedding_invitation"
COHORT = "tally"
OPTIONS = load_case(CASE).option_ids


def service(store_url: str, min_class: int = 3) -> ClassService:
    return ClassService(ServiceSettings(store_url=store_url, min_class=min_class))


def vote(core: ClassService, learner: str, option: str, attempt: int = 1) -> None:
    row, created = core.submit(learner, answer(CASE, option, attempt=attempt, cohort=COHORT))
    assert created


def pace(core: ClassService, *actions: str) -> None:
    for action in actions:
        core.act("teacher", COHORT, CASE, action)


def shown(core: ClassService, learner: str) -> dict:
    return json.loads(core.distribution(learner, False, CASE, COHORT, "practice"))


def counted_afresh(store_url: str, which: str, min_class: int = 3) -> tuple[int, bool, dict]:
    """What the class may see, counted straight from the store's rows, bypassing the service."""
    rows = Store(store_url).responses(case_id=CASE, cohort=COHORT, phase="practice")
    if which == "first":
        counts = Counter(r["option_id"] for r in rows if r["attempt"] == 1)
    else:
        last = {}
        for r in sorted(rows, key=lambda r: r["attempt"]):
            last[r["learner"]] = r["option_id"]
        counts = Counter(last.values())
    view = distribution(dict(counts), OPTIONS, "class", min_class=min_class)
    return view.total, view.shown, view.counts


def seen(view: dict) -> tuple[int, bool, dict]:
    return view["total"], view["shown"], view["counts"]


def test_the_kept_distribution_is_what_counting_afresh_gives_in_every_round(store_url):
    core = service(store_url)
    pace(core, "open_voting")
    for i in range(7):
        vote(core, f"learner{i}", OPTIONS[i % 3])
    pace(core, "close", "show_histogram")
    first = [shown(core, f"learner{i}") for i in range(7)]
    assert all(view == first[0] for view in first)  # one view for the whole class
    assert first[0]["round"] == "first" and seen(first[0]) == counted_afresh(store_url, "first")

    pace(core, "open_revote")
    for i in range(3):
        vote(core, f"learner{i}", OPTIONS[3], attempt=2)
    assert seen(shown(core, "learner5")) == counted_afresh(store_url, "first")  # revotes wait for the reveal
    pace(core, "reveal")
    latest = shown(core, "learner6")
    assert latest["round"] == "latest" and latest["stage"] == "revealed"
    assert seen(latest) == counted_afresh(store_url, "latest")
    assert latest["counts"][OPTIONS[3]] == 3

    # The instructor's exact view comes from the same counts.
    raw = json.loads(core.distribution("teacher", True, CASE, COHORT, "practice"))
    assert raw["first"] == {k: v for k, v in counted_afresh(store_url, "first")[2].items() if v}
    assert raw["latest"] == {k: v for k, v in counted_afresh(store_url, "latest")[2].items() if v}


def test_a_new_answer_shows_in_the_next_read(store_url):
    core = service(store_url)  # self-paced: answers keep coming, and the class sees everyone's latest
    for i in range(3):
        vote(core, f"learner{i}", OPTIONS[0])
    assert shown(core, "learner0")["total"] == 3
    vote(core, "learner3", OPTIONS[1])
    after = shown(core, "learner0")
    assert after["total"] == 4 and after["counts"][OPTIONS[1]] == 1
    assert shown(core, "learner3") == after  # and the newcomer, just answered, may see it at once


def test_the_class_never_sees_a_distribution_below_its_threshold(store_url):
    core = service(store_url, min_class=5)
    for i in range(4):
        vote(core, f"learner{i}", OPTIONS[i % 2])
        for j in range(i + 1):  # read again and again: what is kept must stay withheld
            view = shown(core, f"learner{j}")
            assert view["shown"] is False and view["counts"] == {} and view["total"] == i + 1
    # The instructor sees exact counts meanwhile; that must not leak into the class's view.
    assert json.loads(core.distribution("teacher", True, CASE, COHORT, "practice"))["total"] == 4
    assert shown(core, "learner0")["counts"] == {}
    vote(core, "learner4", OPTIONS[2])
    view = shown(core, "learner0")
    assert view["shown"] is True and sum(view["counts"].values()) == 5
    # An erasure that takes the class back below the threshold withholds the counts again.
    core.erase("learner4")
    view = shown(core, "learner0")
    assert view["shown"] is False and view["counts"] == {} and view["total"] == 4


def test_a_stage_change_takes_effect_in_the_next_read(store_url):
    core = service(store_url)
    pace(core, "open_voting")
    for i in range(3):
        vote(core, f"learner{i}", OPTIONS[i])
    pace(core, "close")
    with pytest.raises(Refused) as refused:
        shown(core, "learner0")
    assert refused.value.code == "not_shown"
    pace(core, "show_histogram")
    assert shown(core, "learner0")["stage"] == "histogram"
    pace(core, "open_revote")
    vote(core, "learner0", OPTIONS[1], attempt=2)
    assert shown(core, "learner0")["stage"] == "revote" and shown(core, "learner0")["round"] == "first"
    pace(core, "reveal")
    view = shown(core, "learner0")
    assert view["stage"] == "revealed" and view["round"] == "latest" and view["counts"][OPTIONS[1]] == 2
    pace(core, "release")
    assert shown(core, "learner0")["stage"] == "self-paced"


def test_an_erased_learner_is_gone_from_the_next_read_even_when_the_count_is_back_where_it_was(store_url):
    core = service(store_url)
    for i, option in enumerate((OPTIONS[0], OPTIONS[0], OPTIONS[1])):
        vote(core, f"learner{i}", option)
    assert shown(core, "learner0")["counts"][OPTIONS[1]] == 1
    core.erase("learner2")
    vote(core, "learner3", OPTIONS[0])  # three answers again, but not the same three
    view = shown(core, "learner0")
    assert view["total"] == 3 and view["counts"][OPTIONS[1]] == 0 and view["counts"][OPTIONS[0]] == 3
    with pytest.raises(Refused) as refused:
        shown(core, "learner2")
    assert refused.value.code == "answer_first"


def api(running: InProcessService, who: str) -> httpx.Client:
    return httpx.Client(base_url=running.url, headers={"Authorization": f"token {running.token(who)}"},
                        timeout=10)


def test_two_services_on_one_store_each_show_what_the_other_recorded_in_the_next_read(store_url):
    one, two = InProcessService(store_url).start(), InProcessService(store_url).start()
    try:
        def read(running, who="alice"):
            return api(running, who).get(f"api/cohort/{CASE}", params={"cohort": COHORT}).json()

        def post(running, who, option):
            sent = api(running, who).post("api/responses", json=answer(CASE, option, cohort=COHORT))
            assert sent.status_code == 201, sent.text

        post(one, "alice", OPTIONS[0])
        post(one, "bob", OPTIONS[0])
        post(two, "carol", OPTIONS[1])
        assert read(two)["total"] == read(one)["total"] == 3  # both now keep a tally of three
        assert read(two, "teacher")["total"] == 3
        # An erasure through one and a new answer through the other: three again, but other three.
        assert api(one, "carol").delete("api/responses").json()["erased"] == 1
        post(one, "teacher", OPTIONS[2])
        for running in (two, one):
            view = read(running)
            assert view["total"] == 3 and view["counts"][OPTIONS[1]] == 0 and view["counts"][OPTIONS[2]] == 1
        assert read(two, "carol")["code"] == "answer_first"
        # Pacing through one holds the class view of the other at once.
        teacher = api(one, "teacher")
        assert teacher.post(f"api/class/{CASE}", json={"cohort": COHORT, "action": "hold"}).status_code == 200
        assert read(two)["code"] == "not_shown"
        for action in ("open_voting", "close", "show_histogram"):
            assert teacher.post(f"api/class/{CASE}", json={"cohort": COHORT, "action": action}).status_code == 200
        assert read(two)["stage"] == "histogram" and read(two)["total"] == 3
    finally:
        one.stop()
        two.stop()


def test_the_store_counts_its_erasures_with_the_deletion(store_url):
    store = Store(store_url)
    core = ClassService(ServiceSettings(store_url=store_url), store=store)
    assert store.erasures() == 0
    vote(core, "alice", OPTIONS[0])
    assert store.erase_learner("nobody") == 0 and store.erasures() == 0  # nothing removed, nothing counted
    assert store.erase_learner("alice") == 1 and store.erasures() == 1
    vote(core, "bob", OPTIONS[0])
    store.erase_learner("bob")
    assert store.erasures() == 2
