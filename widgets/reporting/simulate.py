"""A seeded simulator of synthetic cohorts, for demos, notebooks and tests.

Everything it makes is labelled synthetic: cohort names start ``synthetic-``, learner ids start
``synthetic-learner-`` and ``client`` is "simulator". The patterns are plausible, not real:
novices lean permissive on gifts and social contact, answers improve from pre to post,
confidence is only loosely tied to accuracy, and some learners revote after seeing how the class answered.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from widgets.analysis.frame import SYNTHETIC_PREFIX
from widgets.cases.forms import FORMS, assessment_forms, other_form
from widgets.cases.library import Library, load_library
from widgets.errors import DualroleError
from widgets.responses.disclosure import MIN_CLASS
from widgets.store.schema import COLUMNS
from widgets.vocab import KITCHENER_FACTORS, RISK_LEVELS, STANCES

# The committed sample is made with exactly these settings (see data/synthetic/README.md).
SAMPLE_SETTINGS = {"learners": 48, "cohorts": 2, "seed": 20240901}
SAMPLE_COMMAND = ("dualrole simulate --learners 48 --cohorts 2 --seed 20240901 "
                  "--out data/synthetic/responses.synthetic.csv")
PERMISSIVE_MODULES = ("gifts", "social")
START = datetime(2025, 1, 13, 9, 0, tzinfo=timezone.utc)

# Reasoning templates, so the sample's reasoning can be scored against the rubric for ethical
# reasoning: each of its five elements (roles, risks, standard, action, alternative) is written
# fully, partly or not at all, more often fully by stronger learners. Synthetic, and labelled so.
_SECOND_ROLE = {
    "confidentiality": "the go-between for someone asking about the client",
    "business": "a business partner or customer", "social": "a friend or guest",
    "gifts": "someone receiving a gift", "communities": "a neighbour in the same small community",
    "romantic": "a possible partner", "digital": "an online contact", "roles": "an evaluator or outside helper",
}
_ACTIONS = {
    "decline": "I would tell the client kindly that I cannot do this and explain that it protects our work.",
    "decline_and_explore": "I would decline and then explore with the client what the request means to them.",
    "refer": "I would offer a referral to a colleague and explain the reason in session.",
    "consult_first": "I would consult a colleague and note the consultation before deciding.",
    "accept_with_safeguards": "I would accept, set clear limits, talk it through with the client and note it "
                              "in the record.",
    "accept": "I would accept and mention it briefly in the next session.",
}
# The principle a learner appeals to, drawn from the same random number as the rest of the element,
# so the sample's answers stay as they were and only the wording varies; each sentence carries the
# cue that SYNTHETIC coders read in simulate_codings.
_PRINCIPLES = (
    "It comes down to trust and avoiding harm.",
    "The client should decide for themselves what happens here.",
    "What matters is what helps the client get better.",
    "The first thing is not to harm the client.",
    "It has to be fair to my other clients as well.",
    "It comes down to the trust between us.",
)
# Which codebook code each template's cue stands for (simulate_codings): the simulator knows what it wrote.
CODE_CUES = (
    ("fidelity", r"\btrust\b"),
    ("nonmaleficence", r"avoiding harm|not to harm"),
    ("autonomy", r"decide for themselves"),
    ("beneficence", r"helps the client"),
    ("justice", r"fair to my other clients"),
    ("names_roles", r"two roles|roles overlap"),
    ("names_risk", r"risk to the client"),
    ("cites_standard", r"\b(?:APA|ACA|AAMFT|NASW) \d"),
    ("weighs_alternative", r"I weighed"),
    ("refers_or_consults", r"referral|consult"),
)
# Thresholds on skill for writing each element at all: naming roles is easiest, weighing an alternative hardest.
_ELEMENT_EASE = (1.0, 0.4, -0.2, 0.6, -0.8)


def _reasoning(case, option, skill: float, u: np.ndarray, full: np.ndarray) -> str:
    """A synthetic reasoning for ``option``: each element present with a chance rising with ``skill``."""
    parts = []
    include = u < 1 / (1 + np.exp(-(skill + np.array(_ELEMENT_EASE))))
    if include[0]:
        parts.append(f"As the client's therapist I would also become {_SECOND_ROLE[case.module]}, and the two "
                     "roles overlap." if full[0] else "There are two roles here.")
    if include[1]:
        factor = max(KITCHENER_FACTORS, key=lambda f: RISK_LEVELS.index(case.kitchener[f]["level"]))
        parts.append(f"The main risk to the client is {KITCHENER_FACTORS[factor].lower()}."
                     if full[1] else "The client could be hurt.")
    if include[2]:
        code = case.codes[0] if case.codes else None
        principle = _PRINCIPLES[int(u[2] * 1_000_003) % len(_PRINCIPLES)]
        parts.append(f"{code['code']} {code['section']} applies, and {principle[0].lower()}{principle[1:]}"
                     if full[2] and code else principle)
    if include[3]:
        parts.append(_ACTIONS[option.stance] if full[3] else "I would handle it carefully.")
    if include[4]:
        others = [o for o in case.options if o.id != option.id]
        if full[4] and others:
            other = others[int(u.sum() * 1000) % len(others)]
            why = ("it would blur the roles more" if STANCES.index(other.stance) > STANCES.index(option.stance)
                   else "it could feel like a rejection")
            parts.append(f"I weighed \"{other.label}\" but {why}.")
        else:
            parts.append("Other answers are possible.")
    return "[synthetic] " + (" ".join(parts) or "I chose this because it felt right.")


def cohort_name(k: int) -> str:
    return f"{SYNTHETIC_PREFIX}cohort-{k + 1}"


def simulate(learners: int = 48, cohorts: int = 2, seed: int = 0, *, library: Library | None = None,
             revote_rate: float = 0.25, consent_rate: float = 0.8, form_b_harder: float = 0.0,
             design: str = "simulator", progress=None) -> pd.DataFrame:
    """Simulate ``learners`` learners in ``cohorts`` cohorts answering every case, pre and post.

    Parameters
    ----------
    learners, cohorts : int
        How many learners in all, spread evenly over the cohorts.
    seed : int
        The same seed and case library give the same rows, byte for byte.
    library : Library, optional
        The cases to answer (default: every valid lesson case in the library).
    revote_rate : float
        The mean probability of a revote after seeing the class, in the post phase.
    consent_rate : float
        The share of learners who consent to research use.
    form_b_harder : float
        How much harder every case of assessment form B is than its pair in form A, on the
        simulator's logit scale of skill (0: the forms are parallel). A model of the pre/post
        change that adjusts for the form should recover it.
    design : str
        ``"simulator"``: every lesson case answered pre and post, revotes in the post phase.
        ``"course"``: shaped like a real course: lesson cases answered once in practice (with
        revotes), the forms in the pre- and post-test, and one learner in ten gone before the post-test.
    progress : callable, optional
        Called with ``(done, total)`` after each case.

    Returns
    -------
    DataFrame
        The store's columns (``widgets.store.sql.COLUMNS``), one row per response.

    Examples
    --------
    >>> rows = simulate(learners=12, cohorts=2, seed=1)
    >>> rows["cohort"].str.startswith("synthetic-").all()
    np.True_
    >>> rows.equals(simulate(learners=12, cohorts=2, seed=1))
    True
    """
    if design not in ("simulator", "course"):
        raise DualroleError(f"design must be 'simulator' or 'course', not {design!r}")
    if learners < 1 or cohorts < 1 or cohorts > learners:
        raise DualroleError("need at least one learner and one cohort, and no more cohorts than learners")
    cases = [c for c in (library if library is not None else load_library()) if c.use == "lesson"]
    if not cases:
        raise DualroleError("the case library is empty: there is nothing to answer")
    rng = np.random.default_rng(seed)
    ids = np.array([f"{SYNTHETIC_PREFIX}learner-{i + 1:04d}" for i in range(learners)])
    cohort_of = np.arange(learners) % cohorts
    # Learner traits: ability, a permissive lean, a confidence trait only loosely tied to ability.
    ability = rng.normal(0, 1, learners) + rng.normal(0, 0.3, cohorts)[cohort_of]
    lean = rng.normal(0.8, 0.5, learners)
    confident = 0.3 * ability + np.sqrt(1 - 0.09) * rng.normal(0, 1, learners)
    cohort_bias = rng.normal(6, 4, cohorts)
    gain = rng.normal(1.2, 0.5, learners)
    revote_p = rng.beta(2, 2 / max(revote_rate, 1e-6) - 2, learners) if revote_rate > 0 else np.zeros(learners)
    consent = rng.random(learners) < consent_rate
    stays = rng.random(learners) >= (0.1 if design == "course" else 0.0)  # who takes the post-test
    rows: list[dict] = []
    lesson_phases = ("practice",) if design == "course" else ("pre", "post")
    for index, case in enumerate(cases):
        difficulty = rng.normal(0, 0.6)
        for phase in lesson_phases:
            rows += _answers(rng, case, index, phase, ids, cohort_of, ability, lean, confident,
                             cohort_bias, gain, revote_p, consent, difficulty, takes=stays if phase == "post" else None)
        if progress:
            progress(index + 1, len(cases))
    # The assessment bank: each learner takes their own form before the course and the other after
    # it, randomised in blocks of two within the cohort as the assessment does (widgets.cases.forms.first_form).
    forms = assessment_forms()
    bank = [c for c in (library if library is not None else load_library()) if forms.form_of(c.id)]
    first = blocked_first_forms(rng, cohort_of)
    orders = {"pre": first, "post": np.array([other_form(f) for f in first]) if len(first) else first}
    pair_difficulty = rng.normal(0, 0.6, len(forms.forms["A"]) + 1)
    for case in sorted(bank, key=lambda c: forms.case_ids.index(c.id)):
        level = pair_difficulty[forms.pair_of(case.id)] + (form_b_harder if forms.form_of(case.id) == "B" else 0)
        for phase in ("pre", "post"):
            rows += _answers(rng, case, len(cases) + forms.pair_of(case.id), phase, ids, cohort_of, ability, lean,
                             confident, cohort_bias, gain, revote_p, consent,
                             level,
                             takes=(orders[phase] == forms.form_of(case.id)) & (stays if phase == "post" else True))
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = frame.sort_values(["cohort", "learner", "submitted_at", "attempt"], kind="stable")
    return frame.reset_index(drop=True)


def blocked_first_forms(rng: np.random.Generator, cohort_of: np.ndarray) -> np.ndarray:
    """Each learner's pre-test form, randomised in blocks of two within their cohort (in order of id).

    >>> forms = blocked_first_forms(np.random.default_rng(0), np.zeros(15, dtype=int))
    >>> sorted([int((forms == "A").sum()), int((forms == "B").sum())])
    [7, 8]
    """
    first = np.empty(len(cohort_of), dtype=object)
    for cohort in np.unique(cohort_of):
        members = np.flatnonzero(cohort_of == cohort)
        blocks = [list(FORMS) if rng.random() < 0.5 else list(reversed(FORMS))
                  for _ in range((len(members) + 1) // 2)]
        first[members] = [form for block in blocks for form in block][:len(members)]
    return first.astype(str)


def _answers(rng, case, index, phase, ids, cohort_of, ability, lean, confident, cohort_bias, gain,
             revote_p, consent, difficulty, takes=None) -> list[dict]:
    n = len(ids)
    post = phase == "post"
    practice = phase == "practice"
    answered = rng.random(n) < (0.9 if post else 0.95)
    if takes is not None:
        answered &= takes
    scores = np.array([case.score(o.id) for o in case.options])
    permissive = np.array([STANCES.index(o.stance) / (len(STANCES) - 1) for o in case.options])
    skill = 1.2 + 0.9 * ability - difficulty + (gain if post else 0.5 * gain if practice else 0)
    pull = lean * (0.4 if post else 1.0) * (1.8 if case.module in PERMISSIVE_MODULES else 0.5)
    utility = np.outer(skill, scores) + np.outer(pull, permissive)
    choice = np.argmax(utility + rng.gumbel(0, 1, utility.shape), axis=1)
    correct = np.isin([case.options[c].id for c in choice], case.preferred)
    confidence = 55 + 8 * confident + cohort_bias[cohort_of] + 6 * correct + (5 if post else 0)
    confidence = np.clip(np.round((confidence + rng.normal(0, 14, n)) / 5) * 5, 0, 100).astype(int)
    day = START + timedelta(days=42 if post else 21 if practice else 0)
    minutes = rng.uniform(0, 90, n) + 4 * index
    shifts = {f: rng.integers(-1, 2, n) - (lean > 1.0) * (not post) for f in ("expectations", "obligations", "power")}
    revote = (post or practice) & (rng.random(n) < revote_p)
    switch_u = rng.random(n)
    other_u = rng.integers(0, len(case.options), n)
    element_u = rng.random((n, 5))
    element_full = rng.random((n, 5)) < 0.5 + 0.15 * np.clip(skill, -2, 2)[:, None]
    id_bytes = rng.bytes(16 * n * 2)
    # A simulated revote follows a look at the class, as at a card's peer step, and the class's
    # counts show once MIN_CLASS of the cohort have answered (the learner included): the first
    # few to answer a case revote with nothing shown.
    shown = np.zeros(n, dtype=bool)
    if post or practice:
        for cohort in np.unique(cohort_of[answered]):
            members = np.flatnonzero(answered & (cohort_of == cohort))
            ranks = np.empty(len(members), dtype=int)
            ranks[np.argsort(minutes[members], kind="stable")] = np.arange(1, len(members) + 1)
            shown[members] = ranks >= MIN_CLASS
    rows = []
    for i in np.flatnonzero(answered):
        submitted = day + timedelta(days=7 * int(cohort_of[i]), seconds=round(60 * float(minutes[i])))
        option = case.options[choice[i]]
        base = {
            "learner": ids[i], "cohort": cohort_name(int(cohort_of[i])), "case_id": case.id,
            "case_version": case.case_version, "phase": phase, "client": "simulator",
            "consent": bool(consent[i]), "started_at": submitted - timedelta(minutes=3),
            "option_order": ",".join(case.order_for(ids[i])), "reference_seen": False, "distribution_seen": False,
            "stage": "self-paced",
        }
        for f, shift in shifts.items():
            level = RISK_LEVELS.index(case.kitchener[f]["level"]) + int(shift[i])
            base[f"kitchener_{f}"] = RISK_LEVELS[min(max(level, 0), len(RISK_LEVELS) - 1)]
        rows.append(base | {
            "response_id": str(uuid.UUID(bytes=id_bytes[32 * i:32 * i + 16], version=4)),
            "option_id": option.id, "stance": option.stance, "confidence": int(confidence[i]),
            "justification": _reasoning(case, option, float(skill[i]), element_u[i], element_full[i]),
            "attempt": 1, "submitted_at": submitted,
        })
        if revote[i]:
            second = _revote(case, option.id, correct[i], switch_u[i], int(other_u[i]))
            rows.append(base | {
                "response_id": str(uuid.UUID(bytes=id_bytes[32 * i + 16:32 * i + 32], version=4)),
                "option_id": second.id, "stance": second.stance,
                "confidence": int(min(100, confidence[i] + 5)),
                "justification": "[synthetic] I changed my mind after seeing how the class answered.",
                "attempt": 2, "submitted_at": submitted + timedelta(minutes=2), "distribution_seen": bool(shown[i]),
            })
    return rows


def _revote(case, first: str, was_correct: bool, u: float, other: int):
    """Wrong first answers mostly move to the reference; right ones mostly stay."""
    preferred = [o for o in case.options if o.id in case.preferred]
    if not was_correct and u < 0.55:
        return preferred[other % len(preferred)]
    if was_correct and u < 0.12:
        others = [o for o in case.options if o.id not in case.preferred]
        return others[other % len(others)] if others else case.option(first)
    return case.option(first)


def write(frame: pd.DataFrame, out: Path | str) -> Path:
    """Write simulated rows to a ``.csv`` or ``.parquet`` file (timestamps in ISO 8601, UTC)."""
    out = Path(out)
    if out.suffix.lower() not in (".csv", ".parquet"):
        raise DualroleError(f"{out}: write a .csv or .parquet file")
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".parquet":
        frame.to_parquet(out, index=False)
    else:
        text = frame.copy()
        for column in ("started_at", "submitted_at"):
            text[column] = pd.to_datetime(text[column], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
        text.to_csv(out, index=False, lineterminator="\n")
    return out


def into_store(frame: pd.DataFrame, store) -> int:
    """Add simulated rows to a store; refuse a store that holds real (non-synthetic) responses."""
    real = store.count(except_cohorts_starting=SYNTHETIC_PREFIX)
    if real:
        raise DualroleError(
            f"this store holds {real} real response(s); simulate into a store of its own so "
            "synthetic answers never mix with a class's"
        )
    added = store.add_many(frame.to_dict("records"))
    for learner, consent in frame.groupby("learner")["consent"].first().items():
        store.set_consent(learner, bool(consent))
    return added


def sample_store(path: Path | str | None = None):
    """The committed SYNTHETIC sample in a SQLite store of its own (made on first use), for the review screen.

    The default file is ``review-sample.sqlite`` in the data folder; scores given in it stay there.
    """
    from widgets.analysis.frame import sample_path
    from widgets.paths import home
    from widgets.store import open_store

    path = Path(path) if path else home() / "review-sample.sqlite"
    fresh = not path.exists()
    path.parent.mkdir(parents=True, exist_ok=True)
    store = open_store(f"sqlite:///{path}")
    if fresh or store.count() == 0:
        frame = pd.read_csv(sample_path(), keep_default_na=False, na_values=[""])
        for column in ("started_at", "submitted_at"):
            frame[column] = pd.to_datetime(frame[column], utc=True).dt.to_pydatetime()
        frame = frame.astype(object).where(frame.notna(), None)
        into_store(frame, store)
    return store


SYNTHETIC_CODERS = ("synthetic-coder-a", "synthetic-coder-b")


@lru_cache(maxsize=1)
def _compiled_cues():
    import re

    return tuple((code, re.compile(cue)) for code, cue in CODE_CUES)


def template_segments(text: str, codebook) -> list[dict]:
    """The codes the simulator's templates put in ``text``: each on the sentence that carries its cue."""
    segments = []
    for code, cue in _compiled_cues():
        if code not in codebook.ids:
            continue
        for match in cue.finditer(text):
            start = text.rfind(". ", 0, match.start())
            start = 0 if start < 0 else start + 2
            end = text.find(".", match.end())
            segments.append({"code": code, "start": start, "end": len(text) if end < 0 else end + 1})
            break
    return segments


def simulate_codings(frame: pd.DataFrame, codebook, *, seed: int = 0, coders=SYNTHETIC_CODERS,
                     miss: float = 0.12, extra: float = 0.04) -> list[dict]:
    """SYNTHETIC coding sheets of the simulator's reasoning: two coders and the reconciled codes.

    Each synthetic coder reads the codes the templates wrote (:func:`template_segments`), missing one
    with probability ``miss`` and adding an absent one, on the whole answer, with probability
    ``extra``; the reconciled sheet is what the templates wrote. Only first attempts are coded.
    Rows are ready for :meth:`widgets.store.codings.CodingBook.record_many` (coders named
    ``synthetic-coder-...``; no real person coded anything).
    """
    rng = np.random.default_rng(seed)
    stamp = START
    sheets = []
    for row in frame[frame["attempt"] == 1].sort_values("response_id").itertuples():
        truth = template_segments(str(row.justification), codebook)
        base = {"response_id": row.response_id, "learner": row.learner, "case_id": row.case_id,
                "codebook_id": codebook.id, "codebook_version": codebook.version, "origin": "review",
                "coded_at": stamp}
        for coder in coders:
            kept = [s for s in truth if rng.random() >= miss]
            present = {s["code"] for s in truth}
            added = [{"code": c, "start": None, "end": None} for c in codebook.ids
                     if c not in present and rng.random() < extra]
            sheets.append(base | {"coder": coder, "segments": kept + added, "reconciled": False})
        sheets.append(base | {"coder": "synthetic-reconciler", "segments": truth, "reconciled": True})
    return sheets
