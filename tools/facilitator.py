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
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from tools import curriculum
from widgets.cases import load_library
from widgets.cases.library import Case

GUIDE = Path(__file__).resolve().parent.parent / "docs" / "facilitator-guide.md"
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


def closeness(case: Case) -> tuple[int, int, int]:
    """How close a case's options are, from the reference alone: contested first, then turning on open
    facts, then the number of options that earn credit."""
    return (int(case.contested), int(case.context_dependent), len(case.preferred) + len(case.acceptable))


def live_cases(cases: list[Case], slots: int) -> list[Case]:
    """The cases to pace live: the closest ones, in lesson order."""
    ranked = {c.id for c in sorted(cases, key=closeness, reverse=True)[:slots]}
    return [c for c in cases if c.id in ranked]


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


# -- the guide -----------------------------------------------------------------------------------

INTRO = """\
# Facilitator guide

This guide is for instructors teaching the curriculum live. It has one section per lesson: how long
the lesson takes, what its cases let you check, a 50-minute and a 90-minute session plan in class
mode, and the misconceptions its cases bring to the surface. Print the cases with
`dualrole handouts --module MODULE --out DIR` (see the README), and pace them live from
[`notebooks/instructor_live.ipynb`](../notebooks/instructor_live.ipynb).

**Class mode in one paragraph.** For each case you pace, open voting; learners choose an option and
commit on their own card. Close voting and show the class histogram (the class sees
the counts once enough have answered). Ask learners to find someone who chose differently and
convince them, then open the revote: each learner changes their answer once, with new reasoning, or
keeps it. Reveal the reference last, and discuss. A live case takes about
{live} minutes that way.

**How the numbers are made.** *Time estimates* are the ones under each lesson's title, computed by
`tools/curriculum.py` from the notebook and its cases: {rule}.
Fast readers and lively groups will differ. *Objectives* are the lesson's own, each with the cases that
match it most closely (the most code sections, regulations, authors and topic tags it names); an
objective no case matches is marked as taught in the prose.
*Cases to pace live* are those whose options are closest according to the case files: contested cases
first (ethicists disagree and both positions are recorded), then cases that turn on facts the vignette
leaves open, then cases where more than one option earns credit. This guide holds no survey of how
learners actually split; after a session, the cohort review shows how yours did.
*Misconceptions* are the options that earn no credit, each with the sentence of its own rationale that
says why it fails (not the sentence that grants what speaks for it). The 16 assessment-only cases (the
assessment bank) appear in no plan and no handout.

This file is generated by `python -m tools.facilitator` from the lessons and the case files; edit
those, not this file.
"""


# What the opening minutes cover, where it is not the lesson's own key distinction.
FRAMING = {
    "00_start_here": "how the curriculum works, the privacy notice and the research-consent choice",
    "09_decision_models": "Kitchener's three factors and Gottlieb's three dimensions, from the lesson's prose",
}


def _plan(stem: str, minutes: int, live: list[Case], others: list[Case], framing: int, wrap: int) -> list[str]:
    used = framing + wrap + LIVE_CASE_MINUTES * len(live)
    opening = FRAMING.get(stem, "the lesson's key distinction, from its prose")
    lines = [f"**{minutes}-minute session.**", "", f"1. Framing ({framing} min): {opening}."]
    for n, case in enumerate(live, 2):
        lines.append(f"{n}. Pace *{case.title}* (`{case.id}`) live ({LIVE_CASE_MINUTES} min).")
    n = len(live) + 2
    if minutes - used > 0:
        spare = minutes - used
        what = (f"small groups take the discussion questions of {', '.join(f'`{c.id}`' for c in others)}"
                if others else "the live cases' discussion questions in small groups, then the lesson's reflection "
                "prompts")
        lines.append(f"{n}. Discussion ({spare} min): {what}.")
        n += 1
    lines.append(f"{n}. Wrap-up ({wrap} min): the misconceptions below, and what to read next.")
    if others:
        lines += ["", "Learners work through " + ", ".join(f"`{c.id}`" for c in others)
                  + " in the notebook before or after the session."]
    return lines


def section(stem: str, title: str, library: dict[str, Case]) -> str:
    path = curriculum.NOTEBOOKS / f"{stem}.ipynb"
    estimate = time_estimate(path)
    lines = [f"## {title}", "", f"Notebook: [`{stem}.ipynb`](../notebooks/{stem}.ipynb). "
             f"Time on one's own (estimate): {estimate}.", ""]
    widgets = lesson_cases(path)
    if any(w == "Assessment" for w, _ in widgets):
        lines += [
            "Run this as an individual assessment, never in class mode: learners take the pre-test in the "
            "first session and the post-test in the last, each on their own. It draws on the assessment "
            "bank of assessment-only cases, in two matched forms (A and B, `data/assessment_forms.yaml`), "
            "which is never paced live or printed; do not discuss a pre-test case before the post-test is "
            "done.", ""]
        return "\n".join(lines)
    ids = dict.fromkeys(arg for w, arg in widgets if w in ("CaseCard", "DecisionModel"))
    cases = [library[i] for i in ids if library[i].use == "lesson"]
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
    lines += ["### Session plans in class mode", ""]
    live50 = live_cases(cases, 3)
    live90 = live_cases(cases, 5)
    lines += _plan(stem, 50, live50, [c for c in cases if c.id not in {x.id for x in live50}], 5, 9) + [""]
    lines += _plan(stem, 90, live90, [c for c in cases if c.id not in {x.id for x in live90}], 10, 10) + [""]
    lines += ["### The live cases: prompts, and where the options are closest", ""]
    for case in live90:
        lines += [f"**{case.title}** (`{case.id}`). {where_options_are_closest(case)}", ""]
        lines += [f"- {q}" for q in case.discussion] + [""]
    lines += ["### Common misconceptions the cases surface", ""]
    for case in cases:
        for item in misconceptions(case):
            lines.append(f"- *{case.title}*: {item}")
    lines.append("")
    return "\n".join(lines)


def guide() -> str:
    library = {c.id: c for c in load_library()}
    parts = [INTRO.format(live=LIVE_CASE_MINUTES, rule=curriculum.RULE)]
    for stem, title, _ in curriculum.LESSONS:
        if re.match(r"^\d\d_", stem):
            parts.append(section(stem, title, library))
    return "\n".join(parts).rstrip() + "\n"


if __name__ == "__main__":
    text = guide()
    if "--check" in sys.argv:
        current = GUIDE.read_text(encoding="utf-8") if GUIDE.exists() else ""
        sys.exit(0 if current == text else "docs/facilitator-guide.md is stale: run python -m tools.facilitator")
    GUIDE.write_text(text, encoding="utf-8")
    print(f"wrote {GUIDE.relative_to(GUIDE.parent.parent)}")
