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


def keep_and_show(card: CaseCard):
    card.keep_button.click()
    card.show_button.click()


def test_submit_disabled_with_a_visible_reason_until_ready(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    assert card.submit.disabled
    assert "Choose one of the options" in card.status.value
    card.options.value = "decline_only"
    assert card.submit.disabled
    assert "at least 20 characters" in card.status.value
    card.justification.value = "too short"
    assert card.submit.disabled and "more characters" in card.status.value
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
    assert row["reference_seen"] is False and row["stage"] == "self-paced"
    assert sorted(row["option_order"].split(",")) == sorted(card.case.option_ids)


def test_after_a_commit_the_class_comes_first_and_the_reference_only_on_request(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1")
    answer(card)
    card.submit.click()
    assert card.reveal.value == ""  # no key yet
    assert "How the class answered" in card.peer.value and "★" not in card.peer.value
    assert card.revote_button.layout.display is None and card.keep_button.layout.display is None
    assert card.show_button.layout.display == "none"  # reconsider first
    card.keep_button.click()
    assert card.revote_button.layout.display == "none" and card.show_button.layout.display is None
    card.show_button.click()
    assert "The full rationale" in card.reveal.value
    assert card.revote_button.layout.display == "none"  # the key is out: no more changes


def test_commit_locks_inputs_and_reveals_reference(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    card.kitchener["power"].value = "high"
    answer(card, option="buy_regularly")
    card.submit.click()
    assert all(w.disabled for w in (card.options, card.confidence, card.justification, *card.kitchener.values()))
    assert card.submit.disabled and card.submit.description == "Committed"
    keep_and_show(card)
    html = card.reveal.value
    # Contested: the defensible positions with who holds them, no single key.
    assert "Ethicists disagree" in html and "Lazarus and Zur" in html and "no single key" in html
    assert "is not defended by either position" in html and "differs from the reference" not in html
    assert 'href="https://www.apa.org/ethics/code"' in html  # each code links to where it can be read
    assert card.case.option("decline_explore").label in html  # the options each position defends
    assert "APA 3.05</a>: Multiple relationships" in html  # code references with registry titles
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
    assert "9 learner(s) have answered." in card.peer.value
    assert "(1 more)" in card.peer.value
    assert "Share" not in card.peer.value  # no distribution table


def test_a_learner_sees_the_class_counts_as_they_are_once_enough_have_answered(fresh_store):
    # The class audience: anonymous counts, small ones included, as a classroom response system shows.
    _peers(fresh_store, "decline_only", 8)
    _peers(fresh_store, "one_small_order", 4, start=8)
    _peers(fresh_store, "decline_explore", 2, start=12)
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me")
    answer(card, option="buy_regularly")  # the only learner on this option
    card.submit.click()
    html = card.peer.value
    assert "How 15 learners answered" in html
    assert "<td>8</td><td>53%</td>" in html and "<td>1</td><td>7%</td>" in html
    assert "<td>hidden</td>" not in html


def test_a_revote_needs_new_reasoning_and_shows_the_first_read_only(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store)
    answer(card, option="buy_regularly")
    card.submit.click()
    assert card.revote_button.layout.display is None  # offered before the reference
    card.revote_button.click()
    assert not card.options.disabled and card.justification.value == ""  # not pre-filled
    assert "Your first reasoning" in card.peer.value and REASON in card.peer.value
    card.options.value = "decline_explore"
    card.justification.value = REASON  # the old reasoning, unchanged
    assert card.submit.disabled and "Write new reasoning" in card.status.value
    card.justification.value = "Seeing the class split, I think the customer role would colour the therapy."
    card.submit.click()
    rows = fresh_store.responses()
    assert [(r["attempt"], r["option_id"], r["reference_seen"]) for r in rows] == [
        (1, "buy_regularly", False), (2, "decline_explore", False)]  # changed after peers, not the key
    assert card.revote_button.layout.display == "none"  # only once
    card.show_button.click()
    assert "Your revised answer" in card.reveal.value


def _revote(card: CaseCard):
    card.revote_button.click()
    card.options.value = "decline_explore"
    card.justification.value = "Seeing the class split, I think the customer role would colour the therapy."
    card.submit.click()


def test_a_revote_records_that_the_class_counts_were_shown_even_after_a_restart(fresh_store):
    _peers(fresh_store, "decline_only", 4)
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me", min_class=5)
    answer(card, option="buy_regularly")
    card.submit.click()
    assert "How 5 learners answered" in card.peer.value  # the counts are on the card
    again = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me", min_class=5)  # a new kernel
    _revote(again)
    rows = fresh_store.responses(learner="me")
    assert [(r["attempt"], r["distribution_seen"], r["reference_seen"]) for r in rows] == [
        (1, False, False), (2, True, False)]


def test_a_revote_before_enough_classmates_answered_records_no_distribution(fresh_store):
    _peers(fresh_store, "decline_only", 2)
    card = CaseCard("cosmetics", store=fresh_store, cohort="c1", learner="me", min_class=5)
    answer(card, option="buy_regularly")
    card.submit.click()
    assert "2 more" in card.peer.value  # available to the card, but not yet shown to the learner
    _revote(card)
    rows = fresh_store.responses(learner="me")
    assert [(r["attempt"], r["distribution_seen"]) for r in rows] == [(1, False), (2, False)]


def test_running_the_cell_again_resumes_the_committed_answer(fresh_store):
    first = CaseCard("cosmetics", store=fresh_store)
    answer(first, confidence=85)
    first.submit.click()
    keep_and_show(first)
    again = CaseCard("cosmetics", store=fresh_store)
    assert again.options.value == "decline_explore" and again.confidence.value == 85
    assert again.options.disabled and again.submit.disabled
    assert again.reveal.value == first.reveal.value  # the steps taken are remembered too


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
    assert card.session.committed and not card.session.changed
    assert card.options.value == "decline_only"
    assert card.session.step == "reconsidering"


@pytest.mark.parametrize("payload", [
    "<script>alert('x')</script> I would decline this request",
    "<img src=x onerror=alert(1)> I would decline this request",
    "[click](javascript:alert(1)) I would decline this request",
])
def test_justification_with_markup_is_shown_as_inert_text(fresh_store, payload):
    card = CaseCard("cosmetics", store=fresh_store)
    answer(card, reasoning=payload)
    card.submit.click()
    keep_and_show(card)
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
    assert card.revote_button.layout.display == "none" and card.peer.value == ""  # no peer steps in a test


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


def test_options_come_in_each_learners_own_stable_order(fresh_store):
    orders = {learner: [v for _label, v in CaseCard("cosmetics", store=fresh_store, learner=learner).options.options]
              for learner in ("ana", "ben", "cy", "dee", "eve", "fay")}
    assert orders["ana"] == [v for _l, v in CaseCard("cosmetics", store=fresh_store, learner="ana").options.options]
    assert len({tuple(o) for o in orders.values()}) > 1  # not everyone sees the file's order


def test_a_draft_survives_a_restart_and_is_never_a_response(fresh_store):
    card = CaseCard("cosmetics", store=fresh_store, learner="ana")
    answer(card, option="one_small_order", reasoning="Half-written reasoning about the customer role")
    card.kitchener["power"].value = "high"
    again = CaseCard("cosmetics", store=fresh_store, learner="ana")  # the kernel restarted
    assert again.options.value == "one_small_order" and again.confidence.value == 70
    assert again.justification.value.startswith("Half-written") and again.kitchener["power"].value == "high"
    assert "draft was restored" in again.status.value
    assert fresh_store.count() == 0
    again.submit.click()
    assert fresh_store.count() == 1
    assert CaseCard("cosmetics", store=fresh_store, learner="ana").session.restored_draft() is None


def test_kitchener_ratings_only_where_taught_and_where_there_is_a_second_role(fresh_store):
    def shown(case_id):
        card = CaseCard(case_id, store=fresh_store)
        return card.ratings_box.layout.display != "none"

    assert shown("cosmetics")  # lesson 02, which teaches them
    assert not shown("spouse_phone_call")  # no second role, and before lesson 02
    assert not shown("running_group_invitation")  # lesson 00, before they are taught
    card = CaseCard("cosmetics", store=fresh_store, ratings=False)
    answer(card)
    card.submit.click()
    assert fresh_store.responses()[0]["kitchener_power"] is None


def test_a_commit_right_after_typing_stores_every_character_and_saves_the_draft_first(fresh_store, monkeypatch):
    """In the browser the last keystrokes can still be on their way when Commit is pressed; the click
    carries what the boxes hold there, so the commit (and the draft saved just before it) has them all."""
    from tests.ui.test_a11y import browser_click

    card = CaseCard("cosmetics", store=fresh_store, learner="ana")
    answer(card, reasoning=REASON[:30])  # what the kernel had received
    drafts = []
    real_save = card.session.save_draft
    monkeypatch.setattr(card.session, "save_draft", lambda draft: (drafts.append(draft.justification),
                                                                   real_save(draft)))
    state = [card.options.value, card.confidence.value, REASON, *(w.value for w in card.kitchener.values())]
    browser_click(card.submit, state)
    [row] = fresh_store.responses()
    assert row["justification"] == REASON
    assert drafts == [REASON]
    assert "See how the class answered" in card.status.value
    browser_click(card.submit, state)  # a double click: the second finds the answer committed
    assert fresh_store.count() == 1 and "Not saved" not in card.status.value


def _first_screen(html: str) -> str:
    """What a reveal shows before any section is opened, as plain words."""
    import re

    return " ".join(re.sub(r"<[^>]+>", " ", re.sub(r"<details.*?</details>", "", html, flags=re.S)).split())


def test_the_reveal_reads_at_a_glance_for_every_case_and_answer():
    """A verdict block first (your answer, the reference, one sentence of why), option lists as items, holders
    on a line of their own, never "the preferred answer" in a contested case, and a short first screen."""
    import re

    from widgets.cases.library import load_library
    from widgets.ui.reveal import WHY_WORDS, reveal_html

    for case in load_library():
        for option in case.options:
            row = {"option_id": option.id, "confidence": 60, "justification": REASON}
            html = reveal_html(case, [row], None)
            verdict = re.search(r'<div class="dualrole-verdict".*?</div>', html, flags=re.S).group(0)
            assert verdict.index("Your answer:") < verdict.index("The reference:") < verdict.index("Why:")
            why = verdict.split("<strong>Why:</strong>", 1)[1]
            assert len(re.sub(r"<[^>]+>", " ", why).split()) <= WHY_WORDS + 1, case.id
            assert html.index("dualrole-verdict") < html.index("<details"), case.id
            assert "(held by" not in html
            if case.contested:
                assert "preferred answer" not in html.lower() and "preferred response" not in html.lower(), case.id
                assert html.count('class="dualrole-sources"') == len(case.positions)
            else:
                # Each acceptable option is an item of its own.
                for i in case.acceptable:
                    assert f"</span> {html_text(case.option(i).label)}</li>" in html, (case.id, i)


def test_the_first_screen_of_every_reveal_stays_under_150_words():
    """Whatever the case, whichever option was chosen first and whichever after a revote, and even with the
    note that the case changed since: the reveal before any section is opened is at most 150 words."""
    from widgets.cases.library import load_library
    from widgets.ui.reveal import reveal_html

    counts = {}
    for case in load_library():
        for first in case.options:
            for latest in (None, *case.options):
                attempts = [{"option_id": first.id, "confidence": 60, "justification": REASON}]
                if latest is not None:
                    attempts.append({"option_id": latest.id, "confidence": 100, "justification": REASON})
                words = len(_first_screen(reveal_html(case, attempts, None, stale=True)).split())
                counts[(case.id, first.id, latest.id if latest else None)] = words
    worst = max(counts, key=counts.get)
    assert counts[worst] <= 150, f"{worst}: {counts[worst]} words on the first screen"
    # What the first screen leaves out is one section away.
    case = next(c for c in load_library() if c.contested)
    html = reveal_html(case, [{"option_id": case.options[0].id, "confidence": 60, "justification": REASON}], None)
    holders = html.index(f'<em>Held by:</em> {html_text(case.positions[0]["held_by"])}')
    opened_by = html.rindex("<summary>The positions in full, and who holds them</summary>", 0, holders)
    assert "</details>" not in html[opened_by:holders]


def html_text(value: str) -> str:
    from widgets.render import text

    return text(value)


def test_a_card_on_the_learners_own_store_never_promises_a_class_view_even_with_a_class_code():
    card = CaseCard("cosmetics", store=open_store(), cohort="psy612-f26", learner="synthetic-ana")
    answer(card)
    card.submit.click()
    assert "there is no class to compare with here" in card.peer.value + card.reveal.value
    assert "appears once" not in card.peer.value + card.reveal.value


def test_a_content_note_comes_before_the_vignette_with_the_opt_out(fresh_store):
    card = CaseCard("welts_on_his_legs", store=fresh_store)
    order = card.children.index(card.content_note), card.children.index(card.vignette)
    assert order[0] < order[1]
    assert "Content note:" in card.content_note.value and "belt" in card.content_note.value
    assert "You may skip this case" in card.content_note.value
    assert CaseCard("cosmetics", store=fresh_store).content_note.value == ""


# -- "own words first": the learner's answer in words before the options appear -----------------------------

OWN = "I would not buy; I would ask what the catalogue means to her."


def test_own_words_first_hides_the_options_until_the_learner_has_written_an_answer(fresh_store):
    from widgets.learner.session import OWN_WORDS_LABEL

    card = CaseCard("cosmetics", store=fresh_store, learner="ana", own_words=True)
    assert card.own_words_box in card.children and card.answer_box.layout.display == "none"
    assert card.options_button.disabled and card.submit.disabled
    card.own_words.value = "Decline it."
    assert card.options_button.disabled and "more characters" in card.status.value
    card.own_words.value = OWN
    assert not card.options_button.disabled
    card.options_button.click()
    assert card.answer_box.layout.display is None and card.own_words.disabled  # kept on show, locked
    card.options.value = "decline_explore"
    card.justification.value = "Too short."
    assert card.submit.disabled and "more characters" in card.status.value  # the reasoning needs its own why
    answer(card)
    card.submit.click()
    [row] = fresh_store.responses()
    assert row["justification"] == f"{OWN_WORDS_LABEL} {OWN}\n\n{REASON}"
    assert card.own_words_box.layout.display == "none" and OWN in card.justification.value


def test_own_words_and_shown_options_survive_a_reload_and_a_revote_has_no_label(fresh_store):
    from widgets.learner.session import OWN_WORDS_LABEL

    card = CaseCard("cosmetics", store=fresh_store, learner="ana", own_words=True)
    card.own_words.value = OWN
    card.options_button.click()
    again = CaseCard("cosmetics", store=fresh_store, learner="ana", own_words=True)
    assert again.own_words.value == OWN and again.answer_box.layout.display is None and again.own_words.disabled
    answer(again)
    again.submit.click()
    again.revote_button.click()
    answer(again, option="decline_only", reasoning="On reflection a plain refusal is kinder here.")
    again.submit.click()
    first, second = sorted(fresh_store.responses(), key=lambda r: r["attempt"])
    assert first["justification"].startswith(OWN_WORDS_LABEL)
    assert second["justification"] == "On reflection a plain refusal is kinder here."


def test_own_words_first_is_the_learners_setting_and_never_changes_the_assessment(fresh_store):
    from widgets.ui.myanswers import MyAnswers

    assert not CaseCard("cosmetics", store=fresh_store, learner="ana").session.asks_own_words  # off by default
    panel = MyAnswers(store=fresh_store)
    panel.own_words_first.value = True
    assert "first asks for your own answer" in panel.status.value
    card = CaseCard("cosmetics", store=fresh_store, learner="ana")
    assert card.session.asks_own_words and card.answer_box.layout.display == "none"
    assert not CaseCard("cosmetics", store=fresh_store, learner="ana", phase="pre").session.asks_own_words
    assert MyAnswers(store=fresh_store).own_words_first.value  # kept in the learner's settings
