"""The accessible controls keep the Python interface of the ipywidgets ones they replace.

Their front end (names, live regions, focus) is proved in a real browser by tests/browser/.
"""

from __future__ import annotations

import pytest
import traitlets

from widgets.ui.a11y import ChoiceGroup, LiveStatus, RangeInput, RevealPanel


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
