"""The pre/post assessment bank: two matched forms, who takes which first, and when each part opens.

``data/assessment_forms.yaml`` lists forms A and B, pair by pair (``A[i]`` matches ``B[i]``), and
the course settings of the assessment. A learner's order (A then B, or B then A) is randomised in
blocks of two within the cohort (:func:`first_form`): each new learner takes first the form fewer
of their classmates took first, and a fair coin drawn from :mod:`secrets` settles a tie, so a
class of 15 splits 8:7 and nobody can work a learner's order out from their user name. Once a
learner has answered, their pre-test answers fix the order. Analyses read a response's form from
its case id, so the form needs no column of its own in the store.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from functools import lru_cache

import yaml

from widgets.errors import DualroleError
from widgets.paths import data_dir

FORMS = ("A", "B")
# When learners see the reference for their pre-test answers: after the post-test (so the
# post-test still measures the course), or right away as in the lessons.
REVEAL_POLICIES = ("after_post", "immediate")
# When the post-test opens: once the learner confirms they have finished the course (self-study),
# or only once the instructor releases it (``held`` until they set ``open``).
POST_TEST_POLICIES = ("learner_confirms", "held", "open")
FORMS_FILE = "assessment_forms.yaml"


@dataclass(frozen=True)
class AssessmentForms:
    """The two forms, pair by pair, and the assessment's course settings."""

    forms: dict[str, tuple[str, ...]]
    pre_reveal: str
    post_test: str
    #: Days after the post-test when it is offered again as the delayed post-test (None: not offered).
    delayed_post_test_days: int | None = None

    @property
    def case_ids(self) -> tuple[str, ...]:
        """Every case of the bank, form A's first."""
        return self.forms["A"] + self.forms["B"]

    def form_of(self, case_id: str) -> str | None:
        """'A' or 'B' for a case of the bank; None for any other case."""
        return next((form for form, ids in self.forms.items() if case_id in ids), None)

    def pair_of(self, case_id: str) -> int | None:
        """The 1-based number of the matched pair a bank case belongs to; None for any other case."""
        form = self.form_of(case_id)
        return None if form is None else self.forms[form].index(case_id) + 1

    def pair_label(self, pair: int) -> str:
        """How a matched pair is named in tables: 'pair 3: citizenship_oath / volunteer_award'."""
        return f"pair {pair}: {self.forms['A'][pair - 1]} / {self.forms['B'][pair - 1]}"


def first_form(taken: dict[str, int], coin: int | None = None) -> str:
    """The form a learner new to the cohort takes first: blocked randomisation in blocks of two.

    Parameters
    ----------
    taken : dict
        How many learners of the cohort took each form first so far (``{"A": 4, "B": 3}``).
    coin : int, optional
        0 or 1, settling a tie (A or B); drawn with :func:`secrets.randbelow` when not given, so
        the order depends on nothing an outsider knows.

    Examples
    --------
    >>> first_form({"A": 4, "B": 3})
    'B'
    >>> first_form({"A": 2, "B": 2}, coin=0), first_form({}, coin=1)
    ('A', 'B')
    """
    a, b = taken.get("A", 0), taken.get("B", 0)
    if a != b:
        return "A" if a < b else "B"
    coin = secrets.randbelow(2) if coin is None else coin
    return FORMS[coin]


def other_form(form: str) -> str:
    """The form a learner takes in the post-test, having taken ``form`` in the pre-test."""
    if form not in FORMS:
        raise DualroleError(f"form must be one of {', '.join(FORMS)}, not {form!r}")
    return FORMS[1 - FORMS.index(form)]


def assessment_forms() -> AssessmentForms:
    """The forms and settings; ``DUALROLE_PRE_REVEAL``, ``DUALROLE_POST_TEST`` and
    ``DUALROLE_DELAYED_POST_TEST_DAYS`` override the file's."""
    forms, pre_reveal, post_test, delayed = _read_forms_file(str(data_dir() / FORMS_FILE))
    pre_reveal = _setting("DUALROLE_PRE_REVEAL", pre_reveal, REVEAL_POLICIES)
    post_test = _setting("DUALROLE_POST_TEST", post_test, POST_TEST_POLICIES)
    return AssessmentForms(forms, pre_reveal, post_test, _days(delayed))


def _days(value) -> int | None:
    """The delayed post-test's days: ``DUALROLE_DELAYED_POST_TEST_DAYS`` or the file's (``off`` or 0:
    not offered), a whole number from 1 to 365."""
    given = os.environ.get("DUALROLE_DELAYED_POST_TEST_DAYS", "").strip()
    where = "DUALROLE_DELAYED_POST_TEST_DAYS" if given else f"{FORMS_FILE}: delayed_post_test_days"
    value = given or value
    if value in (None, "", "off", 0, "0", False):
        return None
    try:
        days = int(value)
    except (TypeError, ValueError):
        days = -1
    if isinstance(value, bool) or not 1 <= days <= 365 or str(days) != str(value).strip():
        raise DualroleError(f"{where} is {value!r}; give a whole number of days from 1 to 365, or off")
    return days


def _setting(variable: str, value: str, allowed: tuple[str, ...]) -> str:
    value = os.environ.get(variable, "").strip() or value
    if value not in allowed:
        raise DualroleError(f"{variable} is {value!r}; use one of: {', '.join(allowed)}")
    return value


@lru_cache(maxsize=4)
def _read_forms_file(path: str) -> tuple[dict[str, tuple[str, ...]], str, str, object]:
    where = path
    try:
        with open(path, encoding="utf-8") as stream:
            config = yaml.safe_load(stream)
    except (OSError, yaml.YAMLError) as exc:
        raise DualroleError(f"{where}: cannot read the assessment forms: {exc}") from exc
    forms = (config or {}).get("forms") if isinstance(config, dict) else None
    if not isinstance(forms, dict) or set(forms) != set(FORMS):
        raise DualroleError(f"{where}: forms: expected exactly the forms A and B")
    lists = {}
    for form in FORMS:
        ids = forms[form]
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise DualroleError(f"{where}: forms.{form}: expected a list of case ids")
        lists[form] = tuple(ids)
    if len(lists["A"]) != len(lists["B"]):
        raise DualroleError(f"{where}: forms: A has {len(lists['A'])} cases and B {len(lists['B'])}; "
                            "the forms are matched pair by pair, so they must be the same length")
    shared = set(lists["A"]) & set(lists["B"])
    if shared:
        raise DualroleError(f"{where}: forms: {', '.join(sorted(shared))} is in both forms; they must be disjoint")
    return (lists, config.get("pre_reveal", "after_post"), config.get("post_test", "learner_confirms"),
            config.get("delayed_post_test_days"))
