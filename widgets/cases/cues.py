"""Surface cues in option labels: can a learner find the key without reading the case?

A test-wise learner looks at the labels alone: which is longest, which is shortest, which is a
compound "do X, and Y" label, which carries a word such as *explore* or *consult*. If any of these
predicts the key, a score partly measures test-wiseness. :func:`cue_statistics` measures each cue
over a set of cases, against what chance would give, so that an author can see it
(``dualrole validate --cues``) and the test suite can hold it. The rules behind it are in
``docs/item-writing.md``.

Pure: cases in, numbers out. The "key" of a case is its preferred option(s).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# The words the item-writing rules name: each should appear about as often in wrong options as in keys.
# Matched as word stems, so "declines", "declining" and "discussed" count.
CUE_WORDS: tuple[str, ...] = (
    "explore", "consult", "talk", "discuss", "document", "decline", "accept", "refer",
)
_STEMS = {word: re.compile(rf"\b{word[:-1] if word.endswith('e') else word}\w*", re.IGNORECASE)
          for word in CUE_WORDS}
# A label with more than one clause: a comma or semicolon, or a joined action ("and then", "then", "but").
_COMPOUND = re.compile(r"[,;](?:\s+(?:and|but|then)\b)*|\s(?:and|but|then)\b(?:\s+then\b)?", re.IGNORECASE)


def has_word(label: str, word: str) -> bool:
    """Whether ``label`` carries ``word`` (one of :data:`CUE_WORDS`) in any form.

    >>> has_word("Decline, and say why", "decline"), has_word("Declining is kind", "decline")
    (True, True)
    >>> has_word("Refer her on", "refer"), has_word("Preferably not", "refer")
    (True, False)
    """
    return bool(_STEMS[word].search(label))


def is_compound(label: str) -> bool:
    """Whether ``label`` joins more than one clause or action.

    >>> is_compound("Decline, and say why"), is_compound("Decline")
    (True, False)
    """
    return bool(_COMPOUND.search(label))


def clause_count(label: str) -> int:
    """How many clauses or actions ``label`` joins (1 for a plain label).

    >>> clause_count("Decline"), clause_count("Decline, explain, and then refer")
    (1, 3)
    """
    return 1 + len(_COMPOUND.findall(label))


@dataclass(frozen=True)
class Rate:
    """How often a cue marks the key, against how often it would by chance."""

    observed: float
    chance: float

    @property
    def excess(self) -> float:
        return self.observed - self.chance


@dataclass(frozen=True)
class CueStatistics:
    """The cue statistics of a set of cases (see :func:`cue_statistics`)."""

    cases: int
    keys: int
    others: int
    key_longest: Rate
    key_shortest: Rate
    compound: tuple[float, float]  # share of keys, share of other options
    words: dict[str, tuple[float, float]]  # word -> (share of keys, share of other options)

    def rows(self) -> list[tuple[str, str, str]]:
        """The statistics as (cue, keys, others or chance) rows of text, for a report."""
        def pct(x: float) -> str:
            return f"{100 * x:.0f}%"

        out = [("key is the longest label", pct(self.key_longest.observed), f"chance {pct(self.key_longest.chance)}"),
               ("key is the shortest label", pct(self.key_shortest.observed),
                f"chance {pct(self.key_shortest.chance)}"),
               ("compound label (several clauses)", pct(self.compound[0]), f"others {pct(self.compound[1])}")]
        out += [(f"label says '{w}'", pct(k), f"others {pct(o)}") for w, (k, o) in self.words.items()]
        return out


def _extreme(lengths: Sequence[int], pick) -> set[int]:
    """Indexes of the single longest (or shortest) label; empty when two labels tie for it."""
    target = pick(lengths)
    hits = [i for i, n in enumerate(lengths) if n == target]
    return set(hits) if len(hits) == 1 else set()


def cue_statistics(cases: Iterable) -> CueStatistics:
    """Measure the surface cues of option labels over ``cases``.

    Each case needs ``options`` (each with ``id`` and ``label``) and ``preferred`` (the key ids).
    Returns, for the key against chance: how often it is the single longest label and the single
    shortest (chance is the share of options that are keys, averaged over cases that have a single
    longest or shortest label); and, for keys against the other options, the share of compound labels
    and the share of labels carrying each word of :data:`CUE_WORDS`.

    >>> class Opt:
    ...     def __init__(self, id, label): self.id, self.label = id, label
    >>> class C:
    ...     def __init__(self, key, *labels):
    ...         self.preferred = (key,)
    ...         self.options = [Opt(f"o{i}", lab) for i, lab in enumerate(labels)]
    >>> s = cue_statistics([C("o0", "Decline, and explore why", "Accept", "Refer")])
    >>> s.key_longest.observed, round(s.key_longest.chance, 2), s.compound
    (1.0, 0.33, (1.0, 0.0))
    """
    cases = list(cases)
    keys: list[str] = []
    others: list[str] = []
    longest = shortest = longest_chance = shortest_chance = 0.0
    n_longest = n_shortest = 0
    for case in cases:
        labels = [o.label for o in case.options]
        key_at = {i for i, o in enumerate(case.options) if o.id in case.preferred}
        keys += [labels[i] for i in sorted(key_at)]
        others += [lab for i, lab in enumerate(labels) if i not in key_at]
        share = len(key_at) / len(labels)
        lengths = [len(lab) for lab in labels]
        for pick, which in ((max, "longest"), (min, "shortest")):
            extreme = _extreme(lengths, pick)
            if not extreme:
                continue
            if which == "longest":
                n_longest += 1
                longest += bool(extreme & key_at)
                longest_chance += share
            else:
                n_shortest += 1
                shortest += bool(extreme & key_at)
                shortest_chance += share

    def share_of(labels: list[str], test) -> float:
        return sum(map(test, labels)) / len(labels) if labels else 0.0

    return CueStatistics(
        cases=len(cases), keys=len(keys), others=len(others),
        key_longest=Rate(longest / n_longest if n_longest else 0.0,
                         longest_chance / n_longest if n_longest else 0.0),
        key_shortest=Rate(shortest / n_shortest if n_shortest else 0.0,
                          shortest_chance / n_shortest if n_shortest else 0.0),
        compound=(share_of(keys, is_compound), share_of(others, is_compound)),
        words={w: (share_of(keys, lambda lab, w=w: has_word(lab, w)),
                   share_of(others, lambda lab, w=w: has_word(lab, w))) for w in CUE_WORDS},
    )


# A reason given inside the label ("...; she clearly wants you there", "..., since it would help him").
_JUSTIFIED = re.compile(r";|\b(?:since|because|so that|so neither)\b", re.IGNORECASE)

FEATURES: tuple[str, ...] = (
    "length_rank", "length_z", "longest", "shortest", "clauses", "compound", "justified",
    *(f"says_{w}" for w in CUE_WORDS),
)


def option_features(case) -> list[list[float]]:
    """The surface features of each option's label, in option order, as :data:`FEATURES` names them.

    Only what a test-wise learner can see without reading the case: each label's length relative to
    the others in the case (rank from 0, shortest, to 1, longest; and distance from the mean in
    standard deviations), whether it is the single longest or shortest, its clause count, whether it
    is compound or carries its own justification, and which cue words it uses.

    >>> class Opt:
    ...     def __init__(self, label): self.label = label
    >>> class C:
    ...     options = [Opt("Decline"), Opt("Accept, since it helps"), Opt("Refer her on")]
    >>> [round(x, 2) for x in option_features(C())[1][:7]]
    [1.0, 1.34, 1.0, 0.0, 2.0, 1.0, 1.0]
    """
    labels = [o.label for o in case.options]
    lengths = [len(lab) for lab in labels]
    n = len(lengths)
    mean = sum(lengths) / n
    sd = (sum((x - mean) ** 2 for x in lengths) / n) ** 0.5
    # Tied labels share the mean of their ranks.
    rank = [sum(other < length for other in lengths) + (lengths.count(length) - 1) / 2 for length in lengths]
    longest, shortest = _extreme(lengths, max), _extreme(lengths, min)
    rows = []
    for i, label in enumerate(labels):
        rows.append([
            rank[i] / (n - 1) if n > 1 else 0.5,
            (lengths[i] - mean) / sd if sd else 0.0,
            float(i in longest), float(i in shortest),
            float(clause_count(label)), float(is_compound(label)), float(bool(_JUSTIFIED.search(label))),
            *(float(has_word(label, w)) for w in CUE_WORDS),
        ])
    return rows
