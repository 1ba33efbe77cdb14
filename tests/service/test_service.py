"""The class service's JSON API and its rules: who may write and read what, and class-mode pacing.

The service runs in a thread and is reached over real HTTP; only the Hub's token lookup is stood
in for (tests/hub/inprocess.py). tests/service/test_service_hub.py repeats the security checks against a
real JupyterHub.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx
import pytest

pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")

from hub.inprocess import InProcessService, answer  # noqa: E402

from widgets.responses.pacing import (  # noqa: E402
    ClassState,
    PacingError,
    advance,
    allowed_actions,
    learner_round,
    refusal,
)

NOW = datetime(2025, 3, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture
def service(tmp_path):
    running = InProcessService(f"sqlite:///{tmp_path / 'class.sqlite'}", min_class=3).start()
    yield running
    running.stop()


def api(service, who: str | None):
    headers = {"Authorization": f"token {service.token(who)}"} if who else {}
    return httpx.Client(base_url=service.url, headers=headers, timeout=10)


# -- pacing rules ----------------------------------------------------------------------------------

def test_a_case_moves_forward_through_the_peer_instruction_sequence_and_never_back():
    s = ClassState("psy501", "cosmetics")
    assert allowed_actions(s.stage) == ["hold", "open_voting", "close", "show_histogram", "open_revote", "reveal"]
    for action, stage in [("open_voting", "voting"), ("close", "closed"), ("show_histogram", "histogram"),
                          ("open_revote", "revote"), ("reveal", "revealed")]:
        s = advance(s, action, by="teacher", now=NOW)
        assert s.stage == stage
    with pytest.raises(PacingError, match="'open_voting' is not possible"):
        advance(s, "open_voting", by="teacher", now=NOW)
    assert advance(s, "release", by="teacher", now=NOW).stage == "self-paced"


def test_closing_records_when_so_an_answer_committed_before_the_close_still_counts():
    voting = advance(ClassState("c", "cosmetics"), "open_voting", by="t", now=NOW)
    closed = advance(voting, "close", by="t", now=NOW + timedelta(minutes=5))
    assert closed.voting_closed_at == NOW + timedelta(minutes=5)
    assert refusal(closed, 1, NOW + timedelta(minutes=4)) is None  # queued in an outbox, sent late
    assert refusal(closed, 1, NOW + timedelta(minutes=6)) == "voting on this case is closed"
    assert refusal(closed, 2, NOW + timedelta(minutes=6)) == "the revote on this case is not open"
    revote = advance(closed, "open_revote", by="t", now=NOW + timedelta(minutes=10))
    assert refusal(revote, 2, NOW + timedelta(minutes=11)) is None
    # Skipping straight to the reveal closes voting too.
    skipped = advance(voting, "reveal", by="t", now=NOW + timedelta(minutes=1))
    assert skipped.voting_closed_at == skipped.revote_closed_at == NOW + timedelta(minutes=1)


def test_learners_see_first_votes_during_discussion_and_latest_answers_after_the_reveal():
    stages = {stage: learner_round(ClassState("c", "x", stage)) for stage in
              ("self-paced", "waiting", "voting", "closed", "histogram", "revote", "revealed")}
    assert stages == {"self-paced": "latest", "waiting": None, "voting": None, "closed": None,
                      "histogram": "first", "revote": "first", "revealed": "latest"}


# -- authentication --------------------------------------------------------------------------------

def test_no_token_a_bad_token_or_one_without_the_access_scope_gets_403(service):
    for who, token, code in [(None, None, "no_token"), ("bad", "not-a-token", "no_token"),
                             ("noscope", "tok-noscope", "no_access")]:
        headers = {"Authorization": f"token {token}"} if token else {}
        reply = httpx.post(service.url + "api/responses", json=answer(), headers=headers)
        assert reply.status_code == 403, who
        assert reply.json()["code"] == code
    assert "access:services!service=dualrole" in reply.json()["error"]
    with api(service, "teacher") as teacher:
        assert teacher.get("api/responses").json()["count"] == 0  # nothing got in


def test_the_learner_recorded_is_the_token_owner_and_a_body_naming_another_is_refused(service):
    with api(service, "alice") as alice:
        foreign = alice.post("api/responses", json=answer(learner="bob"))
        reply = alice.post("api/responses", json=answer())
        own = alice.post("api/responses", json=answer(learner="alice", phase="pre"))
        contradicted = alice.post("api/responses", json=answer(stance="accept"))
    assert foreign.status_code == 400 and set(foreign.json()["fields"]) == {"learner"}
    assert reply.status_code == 201 and own.status_code == 201
    row = reply.json()["response"]
    assert row["learner"] == "alice"
    assert row["stance"] == "decline_and_explore"  # from the case
    assert contradicted.status_code == 400 and "stance" in contradicted.json()["fields"]
    with api(service, "bob") as bob:
        assert bob.get("api/responses").json()["responses"] == []


def test_a_learner_reads_only_their_own_answers_and_an_instructor_reads_everyone(service):
    with api(service, "alice") as alice, api(service, "bob") as bob, api(service, "teacher") as teacher:
        alice.post("api/responses", json=answer()).raise_for_status()
        bob.post("api/responses", json=answer()).raise_for_status()
        mine = alice.get("api/responses").json()["responses"]
        assert [r["learner"] for r in mine] == ["alice"]
        denied = alice.get("api/responses", params={"learner": "bob"})
        assert denied.status_code == 403 and denied.json() == {
            "error": "You can read only your own answers.", "code": "forbidden", "status": 403}
        everyone = teacher.get("api/responses", params={"cohort": "psy501"}).json()["responses"]
        assert sorted(r["learner"] for r in everyone) == ["alice", "bob"]
        assert teacher.get("api/responses", params={"learner": "bob"}).json()["count"] == 1
        assert teacher.get("api/").json()["instructor"] is True
        assert alice.get("api/").json() == {**alice.get("api/").json(), "user": "alice", "instructor": False}


def test_a_resent_answer_is_accepted_once_and_a_second_first_attempt_is_a_409(service):
    body = answer()
    with api(service, "alice") as alice, api(service, "bob") as bob:
        assert alice.post("api/responses", json=body).status_code == 201
        again = alice.post("api/responses", json=body)
        assert again.status_code == 200 and again.json()["created"] is False
        other = alice.post("api/responses", json=answer())
        assert other.status_code == 409 and other.json()["code"] == "already_answered"
        stolen = bob.post("api/responses", json=body)  # bob re-sends alice's response_id
        assert stolen.status_code == 409 and stolen.json()["code"] == "conflict"
        assert len(alice.get("api/responses").json()["responses"]) == 1
        assert bob.get("api/responses").json()["responses"] == []


def test_invalid_fields_are_named_in_a_400(service):
    bad = answer(option_id="no_such_option", confidence=140, attempt=3, phase="later", colour="red")
    del bad["justification"]
    with api(service, "alice") as alice:
        reply = alice.post("api/responses", json=bad)
        assert reply.status_code == 400
        assert reply.json()["fields"] == {
            "attempt": "expected 1 (first answer) or 2 (revote)",
            "colour": "unknown field (from a newer dualrole? upgrade dualrole)",
            "confidence": "expected a whole number from 0 to 100",
            "justification": "required",
            "option_id": "not an option of case 'cosmetics' (decline_explore, decline_only, one_small_order, "
                         "buy_regularly)",
            "phase": "expected practice, pre, post or delayed",
        }
        assert alice.post("api/responses", json=answer(case_id="cosmetics") | {"case_id": "nope"}
                          ).json()["fields"]["case_id"] .startswith("no case 'nope' in the case library")
        broken = alice.post("api/responses", content=b"{not json")
        assert broken.status_code == 400 and broken.json()["code"] == "invalid_json"
        assert alice.get("api/nothing-here").status_code == 404
        assert alice.get("api/nothing-here").json()["code"] == "not_found"


# -- class mode ------------------------------------------------------------------------------------

def test_only_instructors_pace_and_a_backward_step_is_a_409(service):
    with api(service, "alice") as alice, api(service, "teacher") as teacher:
        refused = alice.post("api/class/cosmetics", json={"cohort": "psy501", "action": "open_voting"})
        assert refused.status_code == 403 and refused.json()["code"] == "instructors_only"
        opened = teacher.post("api/class/cosmetics", json={"cohort": "psy501", "action": "open_voting"})
        assert opened.status_code == 200 and opened.json()["stage"] == "voting"
        back = teacher.post("api/class/cosmetics", json={"cohort": "psy501", "action": "hold"})
        assert back.status_code == 409 and "not possible" in back.json()["error"]
        assert teacher.post("api/class/cosmetics", json={"cohort": "psy501", "action": "dance"}).status_code == 400
        assert teacher.post("api/class/nope", json={"cohort": "psy501", "action": "close"}).status_code == 404
        states = alice.get("api/class", params={"cohort": "psy501"}).json()["cases"]
        assert states["cosmetics"]["stage"] == "voting" and states["cosmetics"]["voting_open"] is True


def test_no_histogram_before_the_instructor_shows_it_and_no_revote_before_it_opens(service):
    with api(service, "alice") as alice, api(service, "bob") as bob, api(service, "carol") as carol, \
            api(service, "teacher") as teacher:
        def pace(action):
            teacher.post("api/class/cosmetics", json={"cohort": "psy501", "action": action}).raise_for_status()

        pace("hold")
        early = alice.post("api/responses", json=answer())
        assert early.status_code == 409 and early.json()["error"] == "Voting on this case has not opened yet."
        pace("open_voting")
        alice.post("api/responses", json=answer(option="decline_only")).raise_for_status()
        bob.post("api/responses", json=answer(option="buy_regularly")).raise_for_status()
        assert alice.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()["code"] == "not_shown"
        assert carol.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()["code"] == "answer_first"
        assert alice.post("api/responses", json=answer(option="buy_regularly", attempt=2)).status_code == 409
        pace("close")
        late = carol.post("api/responses", json=answer())
        assert late.status_code == 409 and late.json()["error"] == "Voting on this case is closed."
        pace("show_histogram")
        shown = alice.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
        assert (shown["round"], shown["total"]) == ("first", 2)
        # Two answers are below the class minimum of three: a learner sees the total, never who chose what.
        assert shown["counts"] == {} and shown["shown"] is False
        pace("open_revote")
        alice.post("api/responses", json=answer(option="buy_regularly", attempt=2)).raise_for_status()
        no_first = carol.post("api/responses", json=answer(attempt=2))
        assert no_first.status_code == 409 and no_first.json()["code"] == "no_first_answer"
        during = alice.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
        assert during["round"] == "first"  # learners still see the first votes while revoting
        raw = teacher.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
        assert raw["first"] == {"decline_only": 1, "buy_regularly": 1} and raw["latest"] == {"buy_regularly": 2}
        pace("reveal")
        final = alice.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
        assert final["round"] == "latest" and final["counts"] == {}
        summary = teacher.get("api/summary", params={"cohort": "psy501", "cases": "cosmetics"}).json()
        case = summary["cases"]["cosmetics"]
        assert (case["stage"], case["answered"], case["revoted"]) == ("revealed", 2, 1)
        assert alice.get("api/summary", params={"cohort": "psy501"}).status_code == 403


def test_the_distribution_is_withheld_below_the_minimum_cohort(service):
    with api(service, "alice") as alice:
        alice.post("api/responses", json=answer()).raise_for_status()
        alone = alice.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
    assert (alone["total"], alone["shown"], alone["counts"], alone["min_class"]) == (1, False, {}, 3)


def test_a_fixed_cohort_overrides_what_the_kernel_says(tmp_path):
    running = InProcessService(f"sqlite:///{tmp_path / 'c.sqlite'}", cohort="psy501-2025").start()
    try:
        with api(running, "alice") as alice:
            row = alice.post("api/responses", json=answer(cohort="someone-elses-class")).json()["response"]
            assert row["cohort"] == "psy501-2025"
    finally:
        running.stop()


def test_a_learner_records_consent_and_erases_their_own_answers(service):
    with api(service, "alice") as alice, api(service, "bob") as bob:
        alice.post("api/responses", json=answer()).raise_for_status()
        bob.post("api/responses", json=answer()).raise_for_status()
        assert alice.post("api/consent", json={"consent": True}).json() == {"learner": "alice", "consent": True}
        assert alice.get("api/consent").json()["consent"] is True
        assert bob.get("api/consent").json()["consent"] is False
        assert alice.delete("api/responses").json() == {"erased": 1, "learner": "alice"}
        assert bob.get("api/responses").json()["count"] == 1


# -- the commands ----------------------------------------------------------------------------------

def test_serve_outside_a_hub_says_how_to_run_it(monkeypatch):
    from click.testing import CliRunner

    from widgets.cli import cli

    monkeypatch.delenv("JUPYTERHUB_API_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["serve"])
    assert result.exit_code == 1
    assert result.output == ("Error: JUPYTERHUB_API_TOKEN is not set: dualrole serve must be started by JupyterHub "
                             "as a service (c.JupyterHub.services; see docs/deploy-jupyterhub.md)\n")


def test_class_export_copies_the_cohort_for_an_instructor_and_refuses_a_learner(service, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from widgets.cli import cli
    from widgets.store import Store

    with api(service, "alice") as alice:
        alice.post("api/responses", json=answer()).raise_for_status()
    out = tmp_path / "exported.sqlite"
    args = ["class-export", "--out", str(out), "--cohort", "psy501", "--service", service.url]
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", service.token("teacher"))
    result = CliRunner().invoke(cli, args)
    assert result.output == f"Exported 1 answer(s) of cohort 'psy501' to {out} (1 new).\n"
    assert [r["learner"] for r in Store(f"sqlite:///{out}").responses()] == ["alice"]
    assert CliRunner().invoke(cli, args).output.endswith("(0 new).\n")  # a rerun adds nothing
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", service.token("alice"))
    assert CliRunner().invoke(cli, args).output == (
        "Error: only members of the Hub group 'instructors' can export a class (you are alice)\n")
    monkeypatch.delenv("DUALROLE_SERVICE_URL", raising=False)
    refused = CliRunner().invoke(cli, ["class-export", "--out", str(out)])
    assert refused.output == "Error: no class service found: set DUALROLE_SERVICE_URL or pass --service URL\n"


def test_a_class_of_fifteen_split_8_4_2_1_sees_every_count_once_enough_have_answered(service):
    # The class audience: anonymous counts shown as they are, once min_class (3 here) have answered.
    for i in range(15):
        service.tokens[f"tok-l{i}"] = {"name": f"l{i}", "scopes": list(service.tokens["tok-alice"]["scopes"])}
        with api(service, f"l{i}") as learner:
            option = ("decline_only" if i < 8 else "one_small_order" if i < 12 else
                      "decline_explore" if i < 14 else "buy_regularly")
            learner.post("api/responses", json=answer(option=option)).raise_for_status()
    with api(service, "l1") as learner:
        seen = learner.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
    assert seen["total"] == 15
    assert seen["counts"] == {"decline_explore": 2, "decline_only": 8, "one_small_order": 4, "buy_regularly": 1}
    assert "justification" not in str(seen)  # never another learner's reasoning
    with api(service, "teacher") as teacher:
        raw = teacher.get("api/cohort/cosmetics", params={"cohort": "psy501"}).json()
    assert raw["counts"]["buy_regularly"] == 1  # the instructor sees their own class exactly


def test_class_export_of_a_cohort_without_answers_fails_and_names_the_cohorts_that_have_some(
        service, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from widgets.cli import cli

    with api(service, "alice") as alice:
        alice.post("api/responses", json=answer()).raise_for_status()  # cohort psy501
    out = tmp_path / "exported.sqlite"
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", service.token("teacher"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["class-export", "--out", "exported.sqlite", "--cohort", "psy501-2025",
                                      "--service", service.url])
    assert result.exit_code == 1
    assert result.output == ("Error: the class service holds no answers of cohort 'psy501-2025'; cohorts with "
                             "answers: 'psy501'. Nothing was written to exported.sqlite.\n")
    assert not out.exists()
    done = CliRunner().invoke(cli, ["class-export", "--out", "exported.sqlite", "--cohort", "psy501",
                                    "--service", service.url])
    assert done.output == f"Exported 1 answer(s) of cohort 'psy501' to {out} (1 new).\n"  # the full path


def test_every_refusal_the_service_can_give_has_an_http_status():
    """The core refuses by code and knows nothing of HTTP; the handlers give each code its status."""
    import ast
    import inspect

    from widgets.responses import contract
    from widgets.service import core, handlers

    codes = set()
    for module in (core, handlers, contract):  # the contract's clashes are refused with their own codes
        for node in ast.walk(ast.parse(inspect.getsource(module))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("Refused", "ApiError", "Clash") \
                    and len(node.args) >= 2:
                codes |= {c.value for c in ast.walk(node.args[1]) if isinstance(c, ast.Constant)
                          and isinstance(c.value, str)}
    assert {"invalid", "stage", "no_first_answer", "not_found", "store_unavailable"} <= codes
    assert not codes - set(handlers.STATUS), f"codes without an HTTP status: {sorted(codes - set(handlers.STATUS))}"
    assert "tornado" not in inspect.getsource(core)
