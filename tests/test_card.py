"""The case card driven as a learner would: set .value, call .click(), read what is shown and stored."""

from __future__ import annotations

import subprocess
import sys

import pytest

from widgets.responses.contract import Response
from widgets.store import open_store
from widgets.ui.card import CaseCard

REASON = "The customer role would tangle money and approval for her."


def answer(card: CaseCard, option="decline_explore", reasoning=REASON, confidence=70):
    card.options.value = option
    card.confidence.value = confidence
    card.justification.value = reasoning


def test_submit_disabled_with_a_visible_reason_until_ready(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    assert card.submit.disabled
    assert "Choose one of the options" in card.status.value
    card.options.value = "decline_only"
    assert card.submit.disabled
    assert "at least 20 characters" in card.status.value
    card.justification.value = "too short"
    assert card.submit.disabled and "more to go" in card.status.value
    card.justification.value = REASON
    assert not card.submit.disabled
    assert fresh_store.count() == 0


def test_commit_is_on_disk_before_anything_is_revealed(fresh_store, monkeypatch):
    card = CaseCard("cosmetics", store=fresh_store, min_class=3)
    seen_at_save = {}
    real_add = fresh_store.add

    def spy(response):
        seen_at_save["reveal"] = card.reveal.value
        return real_add(response)

    monkeypatch.setattr(fresh_store, "add", spy)
    answer(card)
    card.submit.click()
    assert seen_at_save["reveal"] == ""  # nothing shown before the save
    # A second, independent connection (as another process would) sees the row.
    [row] = open_store(fresh_store.url).responses()
    assert (row["option_id"], row["attempt"], row["confidence"], row["stance"]) == (
        "decline_explore", 1, 70, "decline_and_explore")
    assert "Reference rationale" in card.reveal.value


def test_commit_locks_inputs_and_reveals_reference(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    card.kitchener["power"].value = "high"
    answer(card, option="buy_regularly")
    card.submit.click()
    assert all(w.disabled for w in (card.options, card.confidence, card.justification, *card.kitchener.values()))
    assert card.submit.disabled and card.submit.description == "Committed"
    html = card.reveal.value
    assert "differs from the reference" in html
    assert "Decline kindly, and explore" in html  # the preferred option is named
    assert "Ethicists disagree" in html and "Lazarus and Zur" in html  # contested: both positions
    assert "APA 3.05: Multiple relationships" in html  # code references with registry titles
    assert "A standing business relationship gives Marisol" in html  # the rationale for the learner's choice
    assert "<td>high</td><td>medium</td>" in html  # learner's Kitchener rating beside the reference


def _peers(store, option, n, start=0):
    for i in range(start, start + n):
        store.add(Response(learner=f"peer{i}", cohort="c1", case_id="cosmetics", case_version="x",
                           option_id=option, stance="decline", confidence=50, justification=REASON))


def test_cohort_distribution_suppressed_below_min_class(fresh_store):
    _peers(fresh_store, "decline_only", 8)
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me", min_class=10)
    answer(card)
    card.submit.click()
    assert "9 learner(s) have answered." in card.reveal.value
    assert "(1 more)" in card.reveal.value
    assert "Share" not in card.reveal.value  # no distribution table


def test_a_learner_sees_the_class_counts_as_they_are_once_enough_have_answered(fresh_store):
    # The class audience: anonymous counts, small ones included, as a classroom response system shows.
    _peers(fresh_store, "decline_only", 8)
    _peers(fresh_store, "one_small_order", 4, start=8)
    _peers(fresh_store, "decline_explore", 2, start=12)
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me")
    answer(card, option="buy_regularly")  # the only learner on this option
    card.submit.click()
    html = card.reveal.value
    assert "How 15 learners answered" in html
    assert "<td>8</td><td>53%</td>" in html and "<td>1</td><td>7%</td>" in html
    assert "<td>hidden</td>" not in html


def test_revote_once_is_recorded_as_attempt_two(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    answer(card, option="buy_regularly")
    card.submit.click()
    assert card.revote_button.layout.display is None  # offered after the reveal
    card.revote_button.click()
    assert not card.options.disabled
    card.options.value = "decline_explore"
    card.submit.click()
    rows = fresh_store.responses()
    assert [(r["attempt"], r["option_id"]) for r in rows] == [(1, "buy_regularly"), (2, "decline_explore")]
    assert card.revote_button.layout.display == "none"  # only once
    assert "Your revised answer" in card.reveal.value


def test_running_the_cell_again_resumes_the_committed_answer(fresh_store):
    first = CaseCard("cosmetics", store=fresh_store)
    answer(first, confidence=85)
    first.submit.click()
    again = CaseCard("cosmetics", store=fresh_store)
    assert again.options.value == "decline_explore" and again.confidence.value == 85
    assert again.options.disabled and again.submit.disabled
    assert again.reveal.value == first.reveal.value


def test_answer_survives_a_new_process(tmp_path, isolated_home):
    url = f"sqlite:///{tmp_path / 'store.sqlite'}"
    script = (
        "from widgets.ui.card import CaseCard; from widgets.store.sql import open_store\n"
        f"c = CaseCard('cosmetics', store=open_store({url!r}), learner='l1')\n"
        "c.options.value = 'decline_only'; c.justification.value = 'It would make me her customer.'\n"
        "c.submit.click()\n"
        "import os; os._exit(0)  # die at once, as a killed kernel would\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True)
    card = CaseCard("cosmetics", store=open_store(url), learner="l1")
    assert card.session.state == "committed"
    assert card.options.value == "decline_only"
    assert "Reference answer" in card.reveal.value


@pytest.mark.parametrize("payload", [
    "<script>alert('x')</script> I would decline this request",
    "<img src=x onerror=alert(1)> I would decline this request",
    "[click](javascript:alert(1)) I would decline this request",
])
def test_justification_with_markup_is_shown_as_inert_text(fresh_store, payload):
    card = CaseCard("cosmetics", store=fresh_store)
    answer(card, reasoning=payload)
    card.submit.click()
    html = card.reveal.value
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;" in html or "javascript:alert(1)" in html  # shown, escaped, not dropped
    assert fresh_store.responses()[0]["justification"] == payload.strip()  # stored exactly as typed


def test_reveal_can_be_held_back(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store, phase="pre", reveal_ready=lambda: False)
    answer(card)
    card.submit.click()
    assert fresh_store.responses()[0]["phase"] == "pre"
    assert card.reveal.value == ""
    assert "held back" in card.status.value
    assert card.revote_button.layout.display == "none"


def test_every_control_has_a_label(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    for control in (card.options, card.confidence, card.justification, *card.kitchener.values()):
        assert control.description.strip(), control
    assert card.submit.description and card.submit.tooltip


def test_a_second_tab_committing_first_does_not_duplicate(fresh_store):
    tab1 = CaseCard("cosmetics", store=fresh_store, learner="same")
    tab2 = CaseCard("cosmetics", store=fresh_store, learner="same")
    answer(tab1, option="decline_only")
    tab1.submit.click()
    answer(tab2, option="buy_regularly")
    tab2.submit.click()
    assert [r["option_id"] for r in fresh_store.responses()] == ["decline_only"]
    assert tab2.options.value == "decline_only"  # shows what is on disk
    assert "already committed" in tab2.status.value
