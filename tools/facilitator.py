"""The facilitator guide (``docs/facilitator-guide.md``), generated from the lessons and the case files.

``python -m tools.facilitator`` writes it; ``--check`` fails when it is stale. Every number and every
list in it comes from data a reader can check: time estimates from word counts and the number of
cases (:func:`time_estimate`), the cases each objective draws on from the code sections and authors
the objective names, the cases to pace live from the reference's own flags (contested, turns on open
facts, how many options earn credit), the discussion prompts from each case's ``discussion``, and the
misconceptions from the rationales of the options that earn no credit (the sentence that says why each
fails). Nothing is said about how learners actually split: no such data is shipped, and none is invented.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import jsonschema

from tools import curriculum
from tools.generated import ROOT, regenerate
from widgets.cases import course, load_library
from widgets.cases.casefile import problem_at, read_yaml_file
from widgets.cases.library import Case
from widgets.errors import CaseProblem, InvalidFile
from widgets.paths import read_schema
from widgets.reporting.handouts import role_play

GUIDE = ROOT / "docs" / "facilitator-guide.md"
LIVE_CASE_MINUTES = 12  # vote 2, histogram and peer discussion 4, revote 2, reveal and discussion 4
WIDGET = re.compile(r"\b(CaseCard|DecisionModel|Assessment)\(\"(\w+)\"\)")


@dataclass(frozen=True)
class Estimate:
    """A lesson's self-study time, as its title states it (:func:`tools.curriculum.lesson_time`)."""

    minutes: int
    counted: str

    def __str__(self) -> str:
        return f"about {self.minutes} minutes (from its {self.counted})"


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    src = cell["source"]
    return "".join(src) if isinstance(src, list) else src


def prose(path: Path) -> str:
    """A notebook's Markdown without navigation cells, comments or link targets."""
    text = "\n\n".join(_source(c) for c in _cells(path)
                       if c["cell_type"] == "markdown" and not _source(c).startswith(curriculum.NAV))
    return re.sub(r"<!--.*?-->|\]\([^)]*\)", " ", text, flags=re.S)


def lesson_cases(path: Path) -> list[tuple[str, str]]:
    """(widget, case id or phase) for each widget line in a notebook, in order."""
    return [m.groups() for c in _cells(path) if c["cell_type"] == "code" for m in WIDGET.finditer(_source(c))]


def time_estimate(path: Path) -> Estimate:
    """Minutes a learner needs for a lesson on their own: the estimate under the lesson's title."""
    return Estimate(*curriculum.lesson_time(_cells(path)))


# -- what the cases exercise ---------------------------------------------------------------------

_SECTION = re.compile(r"\b(APA|ACA|AAMFT|NASW)\s((?:\d+|[A-H])\.[\w.]+(?:\([a-z0-9]\))?)")
_AUTHORS = ("Kitchener", "Gottlieb", "Gutheil", "Sonne", "Lazarus", "Schank", "Woody", "Greenberg", "Heltzel",
            "Younggren", "Pope", "Knox", "Henretty", "Staal")


def objectives(path: Path) -> list[str]:
    """The bullet points under a lesson's "Learning objectives" heading."""
    text = prose(path)
    if "Learning objectives" not in text:
        return []
    block = text.split("Learning objectives", 1)[1]
    block = re.split(r"\n#+ ", block, maxsplit=1)[0]
    return [" ".join(line[2:].split()) for line in block.splitlines() if line.startswith("- ")]


def exercised_by(objective: str, cases: list[Case]) -> list[Case]:
    """The cases that exercise an objective most directly.

    Each case scores one point for every code or regulation section the objective names that it cites,
    every author the objective names that its sources or positions cite, and every multi-word topic tag
    whose words the objective uses (``incidental-contact`` for "an incidental contact"); a one-word tag
    such as ``intake`` is common, so it scores half a point. The cases with the highest score are returned, so an
    objective that names a section many cases cite goes to the cases that also share its topic, not to
    every case that cites the section.
    """
    sections = {(code, sec.rstrip(".")) for code, sec in _SECTION.findall(objective)}
    sections |= {("CFR", sec) for sec in re.findall(r"\b164\.\d+(?:\([a-z]\))?", objective)}
    authors = {a for a in _AUTHORS if a in objective}
    words = objective.lower()
    scored = []
    for case in cases:
        cited = {(c["code"], c["section"]) for c in case.codes}
        cited_loose = {(code, re.sub(r"\(.*$", "", sec)) for code, sec in cited}
        text = " ".join([*case.sources, *(p.get("held_by", "") for p in case.positions), case.rationale])
        cited |= {("CFR", sec) for sec in re.findall(r"\b164\.\d+(?:\([a-z]\))?", " ".join(case.sources))}
        score = len(sections & (cited | cited_loose)) + sum(a in text for a in authors)
        score += sum((1.0 if "-" in tag else 0.5) for tag in case.tags
                     if re.search(rf"\b{re.escape(tag.replace('-', ' '))}", words))
        scored.append((score, case))
    best = max((s for s, _ in scored), default=0)
    return [case for s, case in scored if s and s == best]


def where_options_are_closest(case: Case) -> str:
    labels = {o.id: o.label for o in case.options}
    credit = [f"preferred: “{labels[i]}”" for i in case.preferred]
    credit += [f"also acceptable: “{labels[i]}”" for i in case.acceptable]
    joined = "; ".join(credit)
    parts = [joined[0].upper() + joined[1:] + "."]
    if case.contested:
        held = [" ".join(p["held_by"].split()) for p in case.positions]
        parts.append(f"Contested: {len(case.positions)} positions, held by " + "; and by ".join(held) + ".")
    if case.context_dependent:
        parts.append("The answer turns on facts the vignette leaves open.")
    return " ".join(parts)


_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])")
# A sentence that turns from a concession to the reason ("But ...", "Yet ...").
_TURN = re.compile(r"^(?:But|Yet|However|Still),?\s+")
# A sentence that concedes and then turns inside itself ("X sounds careful, but Y").
_CONTRAST = re.compile(r"\b(?:but|yet)\b", re.IGNORECASE)
# A sentence that only concedes what speaks for the wrong option, with no turn in it.
_CONCESSION = re.compile(
    r"\b(?:some (?:writers|therapists|clinicians)|many good|generous|sincere|understandable|tempting|"
    r"feels kind|looks (?:kind|careful|patient)|sounds (?:kind|careful)|good intentions|is a limited|"
    r"has its place|is right|makes sense|is the motive|on your side)\b",
    re.IGNORECASE,
)


def why_it_fails(rationale: str) -> str:
    """The sentence of an uncredited option's rationale that says why it fails.

    Rationales of wrong options often open by granting what speaks for the option and then turn. A
    facilitator who read out the opening would endorse the error, so this returns the turn: the first
    sentence that begins "But" or "Yet" (without the conjunction), else the first sentence that holds
    its own "but", else the first sentence that does not merely concede.

    >>> why_it_fails("Some writers call it harmless. But it makes you her customer.")
    'It makes you her customer.'
    >>> why_it_fails("The safeguards are sincere, but they cannot remove the role. More follows.")
    'The safeguards are sincere, but they cannot remove the role.'
    >>> why_it_fails("Generous, and some keep unpaid places. It leaves her owing you. A third.")
    'It leaves her owing you.'
    """
    sentences = [s.strip() for s in _SENTENCE.split(" ".join(rationale.split())) if s.strip()]
    for sentence in sentences:
        if _TURN.match(sentence):
            rest = _TURN.sub("", sentence, count=1)
            return rest[:1].upper() + rest[1:]
    for sentence in sentences:
        if _CONTRAST.search(sentence):
            return sentence
    for sentence in sentences:
        if not _CONCESSION.search(sentence):
            return sentence
    return sentences[0]


def misconceptions(case: Case) -> list[str]:
    """Each option that earns no credit, with the sentence of its rationale that says why it fails."""
    return [f"“{option.label}”: {why_it_fails(option.rationale)}" for option in case.options
            if option.id not in case.preferred and option.id not in case.acceptable]



# -- the seminar: sessions and units from data/facilitation.yaml ---------------------------------

FACILITATION = ROOT / "data" / "facilitation.yaml"
SESSION_MINUTES = 90
PRE_POST = "10_pre_post"
# The two halves of lesson 10, as a week names them; each takes half of lesson 10's estimate.
TESTS = {"pre_test": "the pre-test (lesson 10, part 1)", "post_test": "the post-test (lesson 10, part 2)"}

# Each kind of block: its steps in the order the data may give them, what each step asks, and
# whether it is the learner's own time on the case (reading, deciding, writing, reading the reference),
# which must fit the lesson's estimate per case.
STEPS: dict[str, dict[str, tuple[str, bool]]] = {
    "model": {
        "read": ("each learner reads the vignette", True),
        "rate": ("each rates Kitchener's factors and Gottlieb's dimensions in the notebook", True),
        "compare": ("pairs compare their ratings, then the reference's; where the two models part, say why",
                    False),
    },
    "live": {
        "read_and_commit": ("each learner reads, chooses, rates their confidence and writes the reasoning "
                            "on the card", True),
        "peers": ("close voting, show the class histogram, and ask everyone to find someone who chose "
                  "differently", False),
        "revote": ("open the revote: change once, with new reasoning, or keep", False),
        "discuss": ("discussion", False),
        "reveal": ("reveal the reference; learners read its verdict", True),
    },
    "controversy": {
        "read": ("each learner reads the vignette", True),
        "prepare": ("each pair takes one named position and builds its strongest case", False),
        "present": ("pairs present; the other pair restates until the presenters agree", False),
        "switch": ("the pairs switch sides and argue the other position", False),
        "synthesis": ("the four drop the sides and seek an answer all can defend, or the fact they "
                      "still differ on", False),
        "reveal": ("learners read the reference's positions and who holds them; no key is announced", True),
    },
    "role_play": {
        "read": ("each learner rereads the vignette and the role-play card", True),
        "rounds": ("three rounds in triads, rotating the three parts", False),
        "debrief": ("the triads debrief on the words, then the room hears one thing that worked", False),
    },
    "silent_write": {
        "read": ("each learner reads the vignette", True),
        "write": ("each writes, in silence, what they would say, before anyone speaks", True),
        "pair_share": ("pairs read each other's words; a few volunteers read theirs to the room", False),
        "reveal": ("learners read the reference", True),
    },
    "draft": {
        "read": ("each learner reads the vignette", True),
        "draft": ("pairs draft the paragraph of an informed-consent form that would have prepared this "
                  "client for this moment", False),
        "swap": ("pairs swap drafts and check them against the lesson's objectives", False),
    },
}
KIND_NAMES = {"check_in": "Check-in", "model": "Decision model, worked together", "live": "Live case",
              "controversy": "Structured controversy", "role_play": "Role-play triads",
              "silent_write": "Silent write, then pair-share", "draft": "Pairs draft",
              "exit_ticket": "Exit ticket", "debrief": "Debrief"}
CASE_KINDS = (*STEPS, "exit_ticket")


@dataclass(frozen=True)
class Block:
    """One block of a session: its kind, its case (if any), and its steps in minutes, in order."""

    kind: str
    case: str | None
    steps: tuple[tuple[str, int], ...]

    @property
    def minutes(self) -> int:
        return sum(m for _, m in self.steps)

    @property
    def own_minutes(self) -> int:
        """The learner's own time on the case: what must fit the lesson's estimate per case."""
        return sum(m for step, m in self.steps if STEPS.get(self.kind, {}).get(step, ("", False))[1])


@dataclass(frozen=True)
class Session:
    """One 90-minute seminar."""

    id: str
    title: str
    lessons: tuple[str, ...]
    blocks: tuple[Block, ...]

    @property
    def minutes(self) -> int:
        return sum(b.minutes for b in self.blocks)

    @property
    def cases(self) -> tuple[str, ...]:
        """The distinct cases the session works on, in order."""
        return tuple(dict.fromkeys(b.case for b in self.blocks if b.case))

    @property
    def shape(self) -> str:
        return " → ".join(KIND_NAMES[b.kind].split(",")[0].lower() for b in self.blocks)


@dataclass(frozen=True)
class Week:
    week: int
    notebooks: tuple[str, ...]
    session: str
    product: str | None


@dataclass(frozen=True)
class Facilitation:
    """data/facilitation.yaml, checked."""

    text: dict
    sessions: dict[str, Session]
    units: dict[str, tuple[Week, ...]]


def per_case_estimate(case_id: str) -> int:
    """The lesson's estimate for one case, its reveal included, in whole minutes (rounded down, so a
    session that fits it fits the estimate): :func:`tools.curriculum.case_minutes` for a card, and
    ``MINUTES_PER_MODEL`` for a decision-model case."""
    models = {i for entry in course.lessons() for i in entry.decision_models}
    return curriculum.MINUTES_PER_MODEL if case_id in models else math.floor(curriculum.case_minutes(case_id))


def lesson_minutes(name: str) -> int:
    """A week's notebook item in minutes: a lesson's estimate, or half of lesson 10's for a test."""
    if name in TESTS:
        return time_estimate(curriculum.NOTEBOOKS / f"{PRE_POST}.ipynb").minutes // 2
    return time_estimate(curriculum.NOTEBOOKS / f"{name}.ipynb").minutes


def _block(raw: dict) -> tuple[Block | None, str | None]:
    kinds = [k for k in raw if k in KIND_NAMES]
    if len(kinds) != 1:
        return None, ("names no kind of block" if not kinds else f"names two kinds ({', '.join(kinds)})") + \
            f": give one of {', '.join(KIND_NAMES)}"
    kind = kinds[0]
    extra = set(raw) - {kind, "steps", "minutes"}
    if extra:
        return None, f"unknown field(s) {', '.join(sorted(extra))} in a {kind} block"
    if kind in ("check_in", "debrief"):
        value = raw[kind]
        return (Block(kind, None, ((kind, value),)), None) if isinstance(value, int) and value > 0 else \
            (None, f"{kind}: give its minutes as a whole number")
    case_id = raw[kind]
    if kind == "exit_ticket":
        value = raw.get("minutes")
        if not isinstance(value, int) or value <= 0:
            return None, "exit_ticket: give its minutes as a whole number (minutes: 8)"
        return Block(kind, case_id, (("write", value),)), None
    steps = raw.get("steps")
    wanted = list(STEPS[kind])
    if not isinstance(steps, dict) or set(steps) != set(wanted) or \
            not all(isinstance(m, int) and m > 0 for m in steps.values()):
        return None, f"{kind}: steps must give whole minutes for each of {', '.join(wanted)}"
    return Block(kind, case_id, tuple(steps.items())), None


def load_facilitation(path: Path | None = None) -> Facilitation:
    """Read and check data/facilitation.yaml against the course, the lessons and the case files.

    Raises
    ------
    InvalidFile
        Listing every problem, each with the file, its line and the field.
    """
    path = path or FACILITATION
    data, problems = read_yaml_file(path, jsonschema.Draft202012Validator(read_schema("facilitation")))
    if problems or data is None:
        raise InvalidFile(problems or [CaseProblem(path, None, None, "is empty")])

    def problem(field_path: list, message: str) -> None:
        problems.append(problem_at(path, field_path, message))

    library = {c.id: c for c in load_library()}
    lessons = {entry.stem: entry for entry in course.lessons()}
    sessions: dict[str, Session] = {}
    for i, raw in enumerate(data["sessions"]):
        where = ["sessions", i]
        for j, stem in enumerate(raw["lessons"]):
            if stem not in lessons:
                problem([*where, "lessons", j], f"{stem!r} is not a lesson in data/course.yaml")
        cases_here = {c for stem in raw["lessons"] if stem in lessons for c in lessons[stem].all_cases}
        blocks = []
        for j, raw_block in enumerate(raw["blocks"]):
            block, error = _block(raw_block)
            if error:
                problem([*where, "blocks", j], error)
                continue
            blocks.append(block)
            if block.case is None:
                continue
            here = [*where, "blocks", j, block.kind]
            if block.case not in library:
                problem(here, f"{block.case!r} is not a case in the library")
            elif block.case not in cases_here:
                problem(here, f"{block.case!r} is not a case of the session's lessons ({', '.join(raw['lessons'])})")
            elif block.kind == "model" and block.case not in {c for e in lessons.values() for c in e.decision_models}:
                problem(here, f"{block.case!r} is not a decision-model case in data/course.yaml")
            elif block.kind == "controversy" and not library[block.case].contested:
                problem(here, f"{block.case!r} is not contested: a structured controversy needs the named "
                              "positions of a contested case")
            elif block.kind == "live" and library[block.case].contested and \
                    [s for s, _ in block.steps].index("discuss") > [s for s, _ in block.steps].index("reveal"):
                problem([*where, "blocks", j, "steps"], f"{block.case!r} is contested: discuss before the reveal, "
                                                        "so the room ends on the positions, not on a key")
            elif block.own_minutes > per_case_estimate(block.case):
                problem([*where, "blocks", j, "steps"],
                        f"the learner's own steps take {block.own_minutes} min, more than the lesson's estimate "
                        f"of {per_case_estimate(block.case)} min per case (reference included)")
        session = Session(raw["id"], raw["title"], tuple(raw["lessons"]), tuple(blocks))
        if raw["id"] in sessions:
            problem([*where, "id"], f"duplicate session id {raw['id']!r}")
        sessions[raw["id"]] = session
        if session.minutes > SESSION_MINUTES:
            problem([*where, "blocks"], f"the blocks add up to {session.minutes} min, more than {SESSION_MINUTES}")
        if blocks and (blocks[0].kind != "check_in" or blocks[-1].kind != "debrief"):
            problem([*where, "blocks"], "a session opens with a check_in and closes with a debrief")
        if [b.kind for b in blocks].count("role_play") != 1:
            problem([*where, "blocks"], "a session has one role_play block")
        others = [c for c in session.cases if c not in {b.case for b in blocks if b.kind == "role_play"}]
        if not 2 <= len(others) <= 3:
            problem([*where, "blocks"],
                    f"a session works on two or three cases besides its role-play, not {len(others)}")

    order = [stem for stem in lessons if stem != PRE_POST]
    units = {}
    for unit, raw_weeks in data["units"].items():
        weeks = []
        done: set[str] = set()
        for i, raw in enumerate(raw_weeks):
            where = ["units", unit, i]
            if raw["week"] != i + 1:
                problem([*where, "week"], f"weeks are numbered in order: expected {i + 1}")
            for j, name in enumerate(raw["notebooks"]):
                if name not in lessons and name not in TESTS:
                    problem([*where, "notebooks", j], f"{name!r} is neither a lesson nor one of {', '.join(TESTS)}")
            done |= set(raw["notebooks"])
            if raw["session"] not in sessions:
                problem([*where, "session"], f"{raw['session']!r} is not a session id")
            else:
                early = [s for s in sessions[raw["session"]].lessons if s not in done]
                if early:
                    problem([*where, "session"], f"the session uses {', '.join(early)} before a week assigns it")
            weeks.append(Week(raw["week"], tuple(raw["notebooks"]), raw["session"], raw.get("product")))
        named = [n for w in weeks for n in w.notebooks]
        missing = [s for s in [*order, *TESTS] if s not in named]
        twice = sorted({n for n in named if named.count(n) > 1})
        if missing or twice:
            problem(["units", unit], "every lesson and each test comes once: "
                    + "; ".join(filter(None, [missing and f"missing {', '.join(missing)}",
                                              twice and f"twice {', '.join(twice)}"])))
        if weeks and not {"09_decision_models", "pre_test"} <= set(weeks[0].notebooks):
            problem(["units", unit, 0, "notebooks"], "week 1 takes the pre-test and the decision models (09)")
        if weeks and "post_test" not in weeks[-1].notebooks:
            problem(["units", unit, len(weeks) - 1, "notebooks"], "the last week takes the post-test")
        units[unit] = tuple(weeks)
    if problems:
        raise InvalidFile(problems)
    return Facilitation(data, sessions, units)


# -- the guide -----------------------------------------------------------------------------------

INTRO = """\
# Facilitator guide

This guide is for instructors teaching the curriculum live, as a four- or five-week unit with one
90-minute seminar a week. It opens with the ground rules and what to do when a case or a disclosure
touches someone; then how to run a contested case; then the unit week by week, and the seminar
sessions minute by minute; then one section per lesson: its time, its objectives and cases, and
where reasoning most often goes wrong. Print the cases and their role-play cards with
`dualrole handouts --module MODULE --out DIR` (see the README), and pace cases live from
[`notebooks/instructor_live.ipynb`](../notebooks/instructor_live.ipynb).

**Class mode in one paragraph.** For each case you pace, open voting; learners choose an option and
commit on their own card. Close voting and show the class histogram (the class sees the counts once
enough have answered). Ask learners to find someone who chose differently and convince them, then
open the revote: each learner changes their answer once, with new reasoning, or keeps it. Reveal the
reference last. A case answered once comes back locked, so **learners leave the cases a seminar paces
live unanswered in the notebook until the seminar**; each session lists them.

**How the numbers are made.** *Time estimates* are the ones under each lesson's title, computed by
`tools/curriculum.py` from the notebook and its cases: {rule}. In the sessions, a learner's own time on a case
(reading, choosing, writing, reading the reference) never exceeds that estimate per case, and the
blocks of a session add up to 90 minutes or less; a test checks both. Fast readers and lively groups
will differ. *Objectives* are the lesson's own, each with the cases that match it most closely (the
most code sections, regulations, authors and topic tags it names). This guide holds no survey of how
learners actually split; after a session, the cohort review shows how yours did. *Where reasoning
goes wrong* lists the options that earn no credit, each with the sentence of its own rationale that
says why it fails on these facts. The 16 assessment-only cases (the assessment bank) appear in no
session and no handout.

This file is generated by `python -m tools.facilitator` from `data/facilitation.yaml`,
`data/course.yaml`, the lessons and the case files; edit those, not this file.
"""


def _title(case: Case) -> str:
    return f"*{case.title}* (`{case.id}`)"


def _words_question(case: Case) -> str:
    """The discussion question that asks for words, else the first: the prompt while a case has no card."""
    return next((q for q in case.discussion if re.search(r"\b(words|say|tell)\b", q)), case.discussion[0])


def safety(f: Facilitation, library: dict[str, Case]) -> list[str]:
    text = f.text
    lines = ["## Ground rules and safety", "", "### Ground rules", "", " ".join(text["ground_rules_intro"].split()),
             ""]
    lines += [f"{n}. {rule}" for n, rule in enumerate(text["ground_rules"], 1)] + [""]
    lines += ["### Content notes and opting out", "", " ".join(text["opt_out"].split()), "",
              "The lesson cases with a content note (from each case file's `content_note`):", "",
              "| Lesson | Case | Content note |", "|---|---|---|"]
    for entry in course.lessons():
        for case_id in entry.all_cases:
            case = library[case_id]
            if case.content_note:
                lines.append(f"| {entry.title} | {_title(case)} | {case.content_note} |")
    lines += ["", "### Reflections are optional", "", " ".join(text["reflections"].split()), "",
              "Optional prompts for the end of a session (each debrief names one):", ""]
    lines += [f"- {prompt}" for prompt in text["reflection_prompts"]] + [""]
    protocol = text["disclosure_protocol"]
    lines += ["### If a student discloses harm by a therapist", "", " ".join(protocol["intro"].split()), ""]
    lines += [f"{n}. {step}" for n, step in enumerate(protocol["steps"], 1)] + [""]
    return lines


def controversy(f: Facilitation, library: dict[str, Case]) -> list[str]:
    text = f.text["controversy"]
    lines = ["## Contested cases: a structured controversy", "", " ".join(text["intro"].split()), ""]
    for n, step in enumerate(text["steps"], 1):
        (name, what), = step.items()
        lines.append(f"{n}. **{name.replace('_', ' ').capitalize()}.** {what}")
    lines += ["", " ".join(text["splits"].split()), "", "The contested lesson cases:", ""]
    for entry in course.lessons():
        contested = [library[i] for i in entry.all_cases if library[i].contested]
        if contested:
            lines.append(f"- {entry.title}: " + ", ".join(_title(c) for c in contested) + ".")
    return [*lines, ""]


def _notebook(name: str) -> str:
    if name in TESTS:
        return TESTS[name]
    return next(e.title for e in course.lessons() if e.stem == name)


def units(f: Facilitation) -> list[str]:
    lines = ["## The unit week by week", "",
             "One seminar a week. Learners work through the week's notebooks on their own (the minutes are "
             "the lessons' own estimates, with their core cases; optional cases add more, so the four-week "
             "unit's middle weeks are heavy), leaving the cases the seminar paces live for the seminar. The "
             "decision models (lesson 09) come in week 1, right after *Start here*, so that every later "
             "case can use them; the notebook's own order puts them last, so tell learners to open 09 "
             "first. The products are suggestions: grade them, or use them as practice.", ""]
    for unit, heading in (("five_weeks", "Five weeks"), ("four_weeks", "Four weeks")):
        lines += [f"### {heading}", "", "| Week | Notebooks, on one's own | Seminar (90 min) | Product |",
                  "|---|---|---|---|"]
        for week in f.units[unit]:
            minutes = sum(lesson_minutes(n) for n in week.notebooks)
            books = "; ".join(_notebook(n) for n in week.notebooks)
            session = f.sessions[week.session]
            lines.append(f"| {week.week} | {books} (about {minutes} min) | [{session.title}](#{_anchor(session)}) "
                         f"| {week.product or '—'} |")
        lines.append("")
    return lines


def _anchor(session: Session) -> str:
    heading = f"session: {session.title}".lower()
    return re.sub(r"[^a-z0-9 -]", "", heading).replace(" ", "-")


def _steps(block: Block, case: Case) -> str:
    parts = []
    for step, minutes in block.steps:
        what = STEPS[block.kind][step][0]
        if block.kind == "live" and step == "discuss":
            what = ("whole-class discussion before the reveal: the strongest version of each position, and "
                    "which fact would change each side's mind" if case.contested
                    else f"discussion: “{case.discussion[0]}”")
        if block.kind == "role_play" and step == "rounds":
            card = role_play(case)
            other = card.to if card and card.to else "the person they speak to"
            what = f"three rounds in triads, rotating counselor, {other} and observer"
        own = ", own time" if STEPS[block.kind][step][1] else ""
        parts.append(f"{what} ({minutes} min{own})")
    return "; ".join(parts)


def _role_play_card(case: Case) -> list[str]:
    """Where the case's role-play card is and what it asks (:func:`widgets.reporting.handouts.role_play`,
    the one rule for which cases have a card), or the discussion question to use while it has none."""
    card = role_play(case)
    where = f"`dualrole handouts --module {case.module} --out DIR`"
    if card is None:
        return [f"   - This case has no role-play card yet: print the case with {where} and use its discussion "
                f"question as the prompt: “{_words_question(case)}” The observer listens for an acknowledgment, "
                "a plain boundary, nothing confidential given away, and a next step."]
    lines = [f"   - The role-play card for {_title(case)} is in `{case.module}-role-play.html`, which {where} "
             "writes with the handout."]
    if card.rounds:
        lines.append(f"   - First round: {card.rounds[0]}"
                     + (f" The card has {len(card.rounds) - 1} more round(s) from the discussion questions."
                        if len(card.rounds) > 1 else ""))
    if card.chart_note:
        lines.append(f"   - Each learner then writes the chart note the card asks for: {card.chart_note[0]}")
    general = " (a general one: the case gives none for words)" if card.general else ""
    lines.append(f"   - The observer's checklist{general}: {'; '.join(card.checklist)}.")
    return lines


def session_section(f: Facilitation, session: Session, library: dict[str, Case], first: bool,
                    prompt: str) -> list[str]:
    cases = [library[i] for i in session.cases]
    weeks = [f"week {w.week} of {unit.replace('_', ' ')}" for unit, ws in f.units.items() for w in ws
             if w.session == session.id]
    live = dict.fromkeys(b.case for b in session.blocks if b.kind in ("live", "controversy", "silent_write"))
    lines = [f"### Session: {session.title}", "",
             f"Used in {' and '.join(weeks)}. Lessons: "
             + ", ".join(_notebook(s) for s in session.lessons) + f". Shape: {session.shape}. "
             f"Total: {session.minutes} min.", ""]
    before = [f"leave {', '.join(_title(library[c]) for c in live)} unanswered in the notebook"] if live else []
    before += [f"answer {_title(library[b.case])} on its card (the role-play starts from their words)"
               for b in session.blocks if b.kind == "role_play" and b.case not in live]
    lines += ["Before the seminar, learners " + " and ".join(before) + ".", ""]
    notes = [c for c in cases if c.content_note]
    for n, block in enumerate(session.blocks, 1):
        name = KIND_NAMES[block.kind]
        if block.kind == "check_in":
            rules = "agree the ground rules together" if first else "restate the ground rules in a sentence"
            named = ("; name today's content notes and the opt-out: "
                     + "; ".join(f"{_title(c)}: {c.content_note.rstrip('.')}" for c in notes)) if notes else \
                "; none of today's cases carries a content note"
            lines.append(f"{n}. {name} ({block.minutes} min): how everyone is arriving; {rules}{named}; "
                         "remind everyone to de-identify.")
        elif block.kind == "debrief":
            lines.append(f"{n}. {name} ({block.minutes} min): what was hardest to say, and one thing each will do "
                         "differently; after a loaded case, check how people are and name the support in the "
                         f"syllabus. Optional reflection: “{prompt}”")
        elif block.kind == "exit_ticket":
            case = library[block.case]
            lines.append(f"{n}. {name} ({block.minutes} min): each learner writes a three-sentence chart note on "
                         f"{_title(case)}: what was asked, what was decided and why (the standard or model "
                         "weighed, any consultation), and the plan for next session. Collect them as practice in "
                         "documentation.")
        else:
            case = library[block.case]
            label = f"{name}, contested" if block.kind == "live" and case.contested else name
            lines.append(f"{n}. {label}: {_title(case)} ({block.minutes} min): {_steps(block, case)}.")
            if block.kind == "role_play":
                lines += _role_play_card(case)
                if case.content_note:
                    lines.append(f"   - Content note: {case.content_note} Anyone may take the observer's part, or "
                                 "write their words instead of speaking them.")
            if block.kind == "controversy":
                for position in case.positions:
                    lines.append(f"   - Position: {' '.join(position['position'].split())} "
                                 f"(held by {' '.join(position['held_by'].split())})")
    return [*lines, ""]


def sessions(f: Facilitation, library: dict[str, Case]) -> list[str]:
    text = f.text
    lines = ["## Seminar sessions", "",
             "Each session is 90 minutes or less: two or three cases, a role-play on one more, a check-in to "
             "open and a debrief to close; the shapes differ, so that the unit does not run on one "
             "template. The minutes in brackets are a plan, not a rule: cut discussion before you cut "
             "the check-in or the debrief.", "",
             "**Role-play triads.** " + " ".join(text["role_play"].split()), "",
             "**Online sections.** " + " ".join(text["online"].split()), ""]
    first = f.units["five_weeks"][0].session
    prompts = text["reflection_prompts"]
    for n, session in enumerate(f.sessions.values()):
        lines += session_section(f, session, library, session.id == first, prompts[n % len(prompts)])
    return lines


def section(stem: str, title: str, library: dict[str, Case], f: Facilitation) -> str:
    path = curriculum.NOTEBOOKS / f"{stem}.ipynb"
    estimate = time_estimate(path)
    lines = [f"## {title}", "", f"Notebook: [`{stem}.ipynb`](../notebooks/{stem}.ipynb). "
             f"Time on one's own (estimate): {estimate}.", ""]
    widgets = lesson_cases(path)
    if any(w == "Assessment" for w, _ in widgets):
        lines += [
            "Run this as an individual assessment, never in class mode: learners take the pre-test in "
            "week 1 and the post-test in the last week, each on their own. It draws on the assessment "
            "bank of assessment-only cases, in two matched forms (A and B, `data/assessment_forms.yaml`), "
            "which is never paced live or printed; do not discuss a pre-test case before the post-test is "
            "done.", ""]
        return "\n".join(lines)
    ids = dict.fromkeys(arg for w, arg in widgets if w in ("CaseCard", "DecisionModel"))
    cases = [library[i] for i in ids if library[i].use == "lesson"]
    used = [s for s in f.sessions.values() if stem in s.lessons]
    if used:
        lines += ["Seminar: " + "; ".join(
            f"[{s.title}](#{_anchor(s)}) (" + (", ".join(_title(library[c]) for c in s.cases
                                                        if c in {x.id for x in cases}) or "its prose") + ")"
            for s in used) + ".", ""]
    goals = objectives(path)
    if goals:
        lines += ["### Objectives the cases exercise", ""]
        for goal in goals:
            hits = exercised_by(goal, cases)
            where = (", ".join(f"`{c.id}`" for c in hits) if hits else "taught in the prose; no case matches it")
            lines.append(f"- {goal} *Cases:* {where}.")
        lines.append("")
    if not cases:
        return "\n".join(lines)
    lines += ["### The cases: prompts, and where the options are closest", ""]
    for case in cases:
        note = f" Content note: {case.content_note}" if case.content_note else ""
        lines += [f"**{case.title}** (`{case.id}`). {where_options_are_closest(case)}{note}", ""]
        lines += [f"- {q}" for q in case.discussion] + [""]
    lines += ["### Where reasoning most often goes wrong", "",
              "The options that earn no credit, each with why it fails on these facts. An option that a "
              "position named in the case defends always earns credit, so none of those is listed here.", ""]
    for case in cases:
        for item in misconceptions(case):
            lines.append(f"- *{case.title}*: {item}")
    lines.append("")
    return "\n".join(lines)


def guide() -> str:
    """The whole facilitator guide, as ``docs/facilitator-guide.md`` should hold it."""
    library = {c.id: c for c in load_library()}
    f = load_facilitation()
    parts = [INTRO.format(rule=curriculum.RULE),
             "\n".join(safety(f, library)), "\n".join(controversy(f, library)), "\n".join(units(f)),
             "\n".join(sessions(f, library))]
    for stem, title, _ in curriculum.LESSONS:
        if re.match(r"^\d\d_", stem):
            parts.append(section(stem, title, library, f))
    return "\n".join(parts).rstrip() + "\n"


def main(argv: list[str]) -> int | str:
    return regenerate(argv, GUIDE, guide, command="tools.facilitator")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
