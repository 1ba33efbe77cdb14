"""Revotes: a learner may answer once more. Who switched, which way, and after what?

Today's cards offer the revote after the learner has seen the class and before the reference, as
peer instruction orders it; answers from before that recorded no ``reference_seen`` and came after
the reference. The class's counts show only once enough classmates have answered, so a revote may
also come with nothing shown: ``distribution_seen`` records whether the counts were on the learner's
card. :func:`revote_timing` keeps the three apart: a change after peers is reconsidering, a change
after the key may be copying it, and a change with nothing shown is the learner's second thought."""

from __future__ import annotations

import pandas as pd

DIRECTIONS = ("toward", "away", "lateral", "stayed")
#: What a revote came after: the class's counts (and not the reference), neither of them, the
#: reference, or not recorded (older answers, which kept neither flag or not the distribution's).
AFTER = ("the class", "nothing shown", "the reference", "not recorded")


def revotes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per revote: the first and second answer, and the direction of the change.

    ``direction`` is "toward" (to a preferred option from a non-preferred one), "away" (the
    reverse), "lateral" (between two options of the same standing) or "stayed" (same option).
    ``reference_seen`` and ``distribution_seen`` are the revote's own flags (missing where not
    recorded), and ``after`` (one of :data:`AFTER`) is what the revote came after.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> set(revotes(sample())["direction"]) <= {"toward", "away", "lateral", "stayed"}
    True
    """
    keys = ["learner", "cohort", "case_id", "phase"]
    cols = ["option_id", "matches_reference", "confidence"]
    first = df[df["attempt"] == 1].set_index(keys)[cols]
    second = df[df["attempt"] == 2].set_index(keys)[[*cols, "reference_seen", "distribution_seen"]]
    both = first.join(second, how="inner", suffixes=("_first", "_second")).reset_index()
    before = both["matches_reference_first"].fillna(False).astype(bool)
    after = both["matches_reference_second"].fillna(False).astype(bool)
    same = both["option_id_first"] == both["option_id_second"]
    direction = pd.Series("lateral", index=both.index)
    direction[~before & after] = "toward"
    direction[before & ~after] = "away"
    direction[same] = "stayed"
    both["switched"] = ~same
    both["direction"] = pd.Categorical(direction, categories=DIRECTIONS)
    reference = both["reference_seen"] = both["reference_seen"].astype("boolean")
    counts = both["distribution_seen"] = both["distribution_seen"].astype("boolean")
    before_key = reference.eq(False).fillna(False).to_numpy()
    after = pd.Series("not recorded", index=both.index)
    after[before_key & counts.eq(True).fillna(False).to_numpy()] = "the class"
    after[before_key & counts.eq(False).fillna(False).to_numpy()] = "nothing shown"
    after[reference.eq(True).fillna(False).to_numpy()] = "the reference"
    both["after"] = pd.Categorical(after, categories=AFTER)
    return both


def revote_timing(df: pd.DataFrame) -> pd.DataFrame:
    """Revotes split by what they came after: the class (peer instruction), nothing, or the reference.

    Every row of :data:`AFTER` and every direction is in the table, zeros included: a category no
    revote falls in (a design that never shows the reference first, say) is a zero, not a gap.

    Returns
    -------
    DataFrame
        Per ``after`` (the class, nothing shown, the reference, not recorded): ``revoted``,
        ``switched``, the four directions as counts, and ``switch_rate`` (switches / revotes;
        missing where there were no revotes).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = revote_timing(sample())
    >>> list(table.index)
    ['the class', 'nothing shown', 'the reference', 'not recorded']
    >>> bool((table["switched"] <= table["revoted"]).all())
    True
    """
    changes = revotes(df)
    table = pd.crosstab(changes["after"], changes["direction"], dropna=False)
    table = table.reindex(index=list(AFTER), columns=list(DIRECTIONS), fill_value=0).astype("int64")
    table["revoted"] = table[list(DIRECTIONS)].sum(axis=1)
    table["switched"] = table["revoted"] - table["stayed"]
    table = table[["revoted", "switched", *DIRECTIONS]]
    table["switch_rate"] = table["switched"] / table["revoted"].where(table["revoted"] > 0)
    table.index.name = "after"
    table.columns.name = None
    return table


def revote_summary(df: pd.DataFrame, by: str | None = "phase") -> pd.DataFrame:
    """How often learners revoted and switched after the reveal, and toward or away from the reference.

    Returns
    -------
    DataFrame
        Per group: ``n`` first answers, ``revoted``, ``switched``, the four directions as counts,
        ``revote_rate`` (revotes / first answers) and ``switch_rate`` (switches / revotes).

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> table = revote_summary(sample())
    >>> bool((table["switched"] <= table["revoted"]).all())
    True
    """
    firsts = df[df["attempt"] == 1]
    changes = revotes(df)
    if by is None:
        firsts, changes = firsts.assign(group="all"), changes.assign(group="all")
        by = "group"
    n = firsts.groupby(by, observed=True).size().rename("n")
    counts = pd.crosstab(changes[by], changes["direction"]).reindex(columns=list(DIRECTIONS), fill_value=0)
    table = pd.concat([n, counts], axis=1).fillna(0).astype("int64")
    table["revoted"] = table[list(DIRECTIONS)].sum(axis=1)
    table["switched"] = table["revoted"] - table["stayed"]
    table = table[["n", "revoted", "switched", *DIRECTIONS]]
    table["revote_rate"] = table["revoted"] / table["n"].where(table["n"] > 0)
    table["switch_rate"] = table["switched"] / table["revoted"].where(table["revoted"] > 0)
    table.index.name = by
    return table


OUTCOMES = ("no_revote", "stayed", "toward", "away", "lateral")


def first_answer_outcomes(df: pd.DataFrame) -> pd.DataFrame:
    """One row per first answer with what happened next: ``no_revote`` or the revote's direction.

    The columns are the learner, cohort, case, phase and ``outcome`` (categorical, in
    :data:`OUTCOMES` order): the long form from which both answer counts and learner counts follow.

    Examples
    --------
    >>> from widgets.analysis import sample
    >>> outcomes = first_answer_outcomes(sample())
    >>> len(outcomes) == int((sample()["attempt"] == 1).sum())
    True
    """
    keys = ["learner", "cohort", "case_id", "phase"]
    firsts = df.loc[df["attempt"] == 1, keys]
    changes = revotes(df)[[*keys, "direction"]]
    merged = firsts.merge(changes, on=keys, how="left")
    outcome = merged["direction"].astype("object").fillna("no_revote")
    return merged[keys].assign(outcome=pd.Categorical(outcome, categories=OUTCOMES))
