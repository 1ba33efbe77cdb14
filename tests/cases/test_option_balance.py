"""Option wording must not give the answer away: length, stance and tone words are checked across the library."""

from __future__ import annotations

import re

import pytest

from widgets.cases import load_library

# Tone words a writer tends to add to the good option only ("decline kindly"). Each may appear in a
# preferred label only if the same case also uses it in a label that is not preferred.
GIVEAWAY_ADVERBS = (
    "kindly", "gently", "warmly", "thoughtfully", "carefully", "respectfully",
    "sincerely", "calmly", "graciously", "tactfully", "compassionately", "sensitively",
)
MIN_ACCEPT_SCORED = 3


@pytest.fixture
def library():
    # Function-scoped so that conftest's isolated home (no DUALROLE_CASES) is in place first;
    # load_library() parses the folders once and serves the cached library after that.
    return load_library()


def _preferred_is_strictly_longest(case) -> bool:
    lengths = {o.id: len(o.label) for o in case.options}
    return any(all(lengths[p] > n for oid, n in lengths.items() if oid != p) for p in case.preferred)


def _adverbs(label: str) -> set[str]:
    words = set(re.findall(r"[a-z]+", label.lower()))
    return words & set(GIVEAWAY_ADVERBS)


def test_the_preferred_label_is_the_longest_in_at_most_a_third_of_lesson_cases(library):
    lessons = [c for c in library if c.use == "lesson"]
    assert lessons
    longest = [c.id for c in lessons if _preferred_is_strictly_longest(c)]
    assert len(longest) <= len(lessons) / 3, (
        f"the preferred label is the strictly longest in {len(longest)} of {len(lessons)} lesson cases "
        f"(at most a third allowed): {longest}"
    )


def test_plain_accept_is_sometimes_preferred_or_acceptable(library):
    scored = sorted(
        f"{c.id}.{o.id}" for c in library for o in c.options
        if o.stance == "accept" and (o.id in c.preferred or o.id in c.acceptable)
    )
    offered = sum(o.stance == "accept" for c in library for o in c.options)
    assert len(scored) >= MIN_ACCEPT_SCORED, (
        f"'accept' is offered {offered} times but preferred or acceptable only in {scored or 'no case'}; "
        f"a learner can treat it as always wrong (need at least {MIN_ACCEPT_SCORED} cases)"
    )


def test_no_tone_word_marks_only_the_preferred_option(library):
    giveaways = []
    for case in library:
        elsewhere = set().union(*(_adverbs(o.label) for o in case.options if o.id not in case.preferred))
        for option in case.options:
            if option.id in case.preferred:
                only_here = _adverbs(option.label) - elsewhere
                giveaways += [f"{case.id}.{option.id}: '{word}'" for word in sorted(only_here)]
    assert not giveaways, "tone words found only on a preferred label: " + "; ".join(giveaways)


def test_the_checks_see_what_they_claim_to():
    # The helpers themselves: a tie is not "longest", and a tone word counts only as a whole word.
    class Opt:
        def __init__(self, id, label):
            self.id, self.label = id, label

    class C:
        def __init__(self, preferred, *labels):
            self.preferred = preferred
            self.options = [Opt(f"o{i}", lab) for i, lab in enumerate(labels)]

    assert _preferred_is_strictly_longest(C(("o0",), "a much longer label", "short"))
    assert not _preferred_is_strictly_longest(C(("o0",), "same", "size"))
    assert _preferred_is_strictly_longest(C(("o1", "o0"), "short", "the long one"))
    assert _adverbs("Decline kindly, and explore") == {"kindly"}
    assert _adverbs("Send her a kind message") == set()
