"""The accessible controls keep the Python interface of the ipywidgets ones they replace.

Their front end (names, live regions, focus) is proved in a real browser by tests/browser/.
"""

from __future__ import annotations

import pytest
import traitlets

from widgets.ui.a11y import ChoiceGroup, CommitButton, LiveStatus, RangeInput, RevealPanel


def test_choice_group_accepts_only_its_options():
    group = ChoiceGroup(options=[("Decline", "decline"), ("Refer", "refer")], value=None, description="Your decision:")
    seen = []
    group.observe(lambda change: seen.append(change["new"]), names="value")
    group.value = "refer"
    assert seen == ["refer"]
    with pytest.raises(traitlets.TraitError, match="'accept' is not one of the options: decline, refer"):
        group.value = "accept"
    group.value = None  # no choice is allowed (a fresh card)
    assert [list(pair) for pair in group.get_state()["options"]] == [["Decline", "decline"], ["Refer", "refer"]]


def test_range_input_clamps_like_a_slider():
    confidence = RangeInput(value=50, min=0, max=100, step=5, unit="%", description="Confidence:")
    confidence.value = 140
    assert confidence.value == 100
    confidence.value = -3
    assert confidence.value == 0


def test_live_status_says_plain_text_politely_or_urgently():
    status = LiveStatus()
    status.say("Saved. The reference is shown below.")
    assert (status.value, status.urgent) == ("Saved. The reference is shown below.", False)
    status.say("Not saved: the store is locked", urgent=True)
    assert status.urgent and status.value.startswith("Not saved")


def test_focus_requests_are_counted_so_each_one_reaches_the_browser():
    reveal = RevealPanel(value="<div class='dualrole-reveal'>Reference</div>")
    reveal.focus()
    reveal.focus()
    assert reveal.focus_request == 2


def browser_click(button, state) -> None:
    """The message a click in the browser sends: the click, with the values the page holds."""
    button._handle_msg({"content": {"data": {"method": "custom", "content": {"event": "click", "state": state}}},
                        "buffers": []})


def test_a_commit_click_applies_the_values_the_browser_holds_before_its_handlers_run():
    import ipywidgets as ipw

    box = ipw.Textarea(value="what the kernel has so far")
    rating = ipw.Dropdown(options=[("Not rated", ""), ("Low", "low"), ("High", "high")], value="")
    commit = CommitButton(sources=[box, rating], description="Commit my answer", button_style="primary")
    assert commit.carried == ["value", "index"]  # a Dropdown syncs its index, not its value
    seen = []
    commit.on_click(lambda b: seen.append((box.value, rating.value)))
    browser_click(commit, ["what the kernel has so far, and the last words typed", 2])
    assert seen == [("what the kernel has so far, and the last words typed", "high")]
    commit.click()  # a click from Python carries nothing
    assert len(seen) == 2


def test_a_commit_click_the_kernel_now_refuses_runs_nothing_and_bad_values_are_left_out():
    import ipywidgets as ipw

    box = ipw.Textarea(value="long enough")
    commit = CommitButton(sources=[box])
    box.observe(lambda change: setattr(commit, "disabled", len(change["new"]) < 5), names="value")
    clicks = []
    commit.on_click(clicks.append)
    browser_click(commit, ["no"])  # the learner deleted text just before clicking
    assert box.value == "no" and commit.disabled and clicks == []
    commit.disabled = False
    browser_click(commit, [42])  # not text: refused as the same update on its own would be
    browser_click(commit, ["a", "b"])  # not one value per source: nothing applied
    assert box.value == "no" and len(clicks) == 2
