"""The reveal, and the class step before it, as safe HTML built from the case and the learner's answers.

The reveal comes in steps, not as a wall: first the learner's answer beside the reference (or, for a
contested case, beside the defensible positions and who holds them) and the reference rationale;
then labelled sections that open on demand (``<details>``, reachable and opened from the keyboard):
every option and why, the code sections, the risk factors, the class, and discussion questions.
Pure functions of their inputs; status is given in words and symbols with labels, never by colour.
"""

from __future__ import annotations

import re

from widgets.cases.casefile import code_link, code_registry
from widgets.cases.library import Case
from widgets.render import markdown, paragraphs, text
from widgets.responses.disclosure import Distribution, distribution_html
from widgets.vocab import GOTTLIEB_DIMENSIONS, KITCHENER_FACTORS, STANCE_LABELS

# How the reference marks an option: symbol and word.
_MARKS = {"preferred": ("★", "Preferred"), "acceptable": ("◆", "Acceptable")}


def defenders(case: Case, option_id: str) -> list[str]:
    """Who holds a position that defends this option (contested cases only)."""
    return [p["held_by"] for p in case.positions if option_id in p.get("defends", ())] if case.contested else []


def verdict(case: Case, option_id: str) -> str:
    """How an option relates to the reference, in a few words. In a contested case an option that a
    position defends is described by that position (its holders are listed with it), never as differing
    from the reference."""
    if case.contested:
        numbers = [str(i) for i, p in enumerate(case.positions, start=1) if option_id in p.get("defends", ())]
        if numbers:
            return "is defended by position " + " and ".join(numbers)
        return "is not defended by either position"
    if option_id in case.preferred:
        return "matches the reference (preferred)"
    if option_id in case.acceptable:
        return "is acceptable under the reference"
    return "differs from the reference"


# The case files' rationales were written around one reference answer. In a contested case there is no
# single key, so the reveal never calls an answer "the preferred" one there.
_ONE_KEY_WORDS = re.compile(r"\b(?:(The|the) preferred (answer|response|reply|course)|(equally|are) preferred)\b")


def _contested_words(case: Case, prose: str) -> str:
    if not case.contested:
        return prose

    def swap(m: re.Match) -> str:
        if m.group(1):
            return f"{'One' if m.group(1) == 'The' else 'one'} defensible {m.group(2)}"
        return f"{m.group(3)} defensible"

    return _ONE_KEY_WORDS.sub(swap, prose)


WHY_WORDS = 60  # the verdict's one sentence of why, at most
POSITION_WORDS = 14  # a position's gist on the first screen; the whole statement is a section away
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")


def first_sentence(prose: str, limit: int = WHY_WORDS) -> str:
    """The first sentence of some Markdown prose, as plain words, cut to ``limit`` words."""
    plain = re.sub(r"[*_`#>]+", "", " ".join((prose or "").split()))
    sentence = _SENTENCE_END.split(plain, maxsplit=1)[0]
    words = sentence.split()
    return sentence if len(words) <= limit else " ".join(words[:limit]) + " …"


def _standing(case: Case, option_id: str) -> str | None:
    if option_id in case.preferred:
        return "preferred"
    return "acceptable" if option_id in case.acceptable else None


def _defended_by(case: Case, option_id: str) -> str:
    numbers = [str(i) for i, p in enumerate(case.positions, start=1) if option_id in p.get("defends", ())]
    return "Defended by position " + " and ".join(numbers) if numbers else ""


def _mark(case: Case, option_id: str) -> str:
    if case.contested:
        return text(_defended_by(case, option_id))
    standing = _standing(case, option_id)
    if standing is None:
        return ""
    symbol, word = _MARKS[standing]
    return f'<span role="img" aria-label="{standing}">{symbol}</span> {word}'


def _mark_text(case: Case, option_id: str) -> str:
    if case.contested:
        return _defended_by(case, option_id)
    standing = _standing(case, option_id)
    return " ".join(_MARKS[standing]) if standing else ""


def _ordered(case: Case, order: tuple[str, ...] | None) -> list:
    return [case.option(i) for i in order] if order else list(case.options)


def options_table(case: Case, chosen: set[str], order: tuple[str, ...] | None = None) -> str:
    rows = []
    for o in _ordered(case, order):
        mine = "Your choice" if o.id in chosen else ""
        rows.append(
            f"<tr><td>{text(o.label)}</td><td>{text(STANCE_LABELS[o.stance])}</td>"
            f"<td>{_mark(case, o.id)}</td><td>{mine}</td><td>{text(_contested_words(case, o.rationale))}</td></tr>"
        )
    return (
        "<table><caption>Every option and why</caption><thead><tr>"
        '<th scope="col">Option</th><th scope="col">Stance</th><th scope="col">Reference</th>'
        '<th scope="col">You</th><th scope="col">Rationale</th></tr></thead><tbody>'
        + "".join(rows) + "</tbody></table>"
    )


def codes_list(case: Case) -> str:
    """The case's code sections with their short titles; each code links to where it can be read."""
    registry = code_registry()
    items = "".join(
        f'<li><a href="{text(code_link(ref["code"]))}" target="_blank" rel="noopener noreferrer">'
        f"{text(ref['code'])} {text(ref['section'])}</a>: {text(registry[ref['code']][str(ref['section'])])}</li>"
        for ref in case.codes
    )
    return f"<ul>{items}</ul><p>Each link opens the full code on its publisher's site.</p>"


def positions_block(case: Case) -> str:
    """A contested case's defensible positions as a short numbered list: each position's gist, with who
    holds it on a line of its own. The options each defends are in the options section."""
    items = [f"<li><p>{text(first_sentence(p['position'], POSITION_WORDS))}</p>"
             f'<p class="dualrole-sources"><em>Held by:</em> {text(p["held_by"])}</p></li>' for p in case.positions]
    return ("<h4>The defensible positions</h4>"
            f"<p>Ethicists disagree on this case: there is no single key.</p><ol>{''.join(items)}</ol>")


def positions_in_full(case: Case) -> str:
    """Each position's whole statement and the options it defends, for the section the learner opens."""
    items = []
    for p in case.positions:
        options = "".join(f"<li>{text(case.option(i).label)}</li>" for i in p.get("defends", ()))
        defends = f"<p>Defends:</p><ul>{options}</ul>" if options else ""
        items.append(f"<li><p>{text(' '.join(p['position'].split()))}</p>{defends}</li>")
    return f"<ol>{''.join(items)}</ol>"


def reference_block(case: Case) -> str:
    """Below the verdict: the defensible positions of a contested case, else the other acceptable options,
    each option an item of its own (labels may hold commas). The preferred option is in the verdict."""
    if case.contested:
        return positions_block(case)
    if not case.acceptable:
        return ""
    items = "".join(f'<li><span role="img" aria-label="acceptable">◆</span> {text(case.option(i).label)}</li>'
                    for i in case.acceptable)
    return f"<h4>Also acceptable</h4><ul>{items}</ul>"


def verdict_block(case: Case, attempts: list[dict]) -> str:
    """Three lines at a glance: your answer, the reference, and one sentence of why."""
    first, latest = attempts[0], attempts[-1]

    def yours(heading: str, row: dict) -> str:
        option = case.option(row["option_id"])
        return (f"<p><strong>{heading}:</strong> {text(option.label)} (confidence {int(row['confidence'])}%): "
                f"this {verdict(case, option.id)}.</p>")

    lines = [yours("Your answer" if len(attempts) == 1 else "Your first answer", first)]
    if len(attempts) > 1:
        lines.append(yours("Your revised answer", latest))
    if case.contested:
        reference = f"contested: {len(case.positions)} defensible positions, listed below."
    elif {row["option_id"] for row in attempts[-1:]} == set(case.preferred):
        reference = '<span role="img" aria-label="preferred">★</span> the option you chose (preferred).'
    else:
        reference = ('<span role="img" aria-label="preferred">★</span> '
                     + "; ".join(text(case.option(i).label) for i in case.preferred) + " (preferred).")
    lines.append(f"<p><strong>The reference:</strong> {reference}</p>")
    lines.append(f"<p><strong>Why:</strong> {text(first_sentence(_contested_words(case, case.rationale)))}</p>")
    return f'<div class="dualrole-verdict" role="group" aria-label="Verdict">{"".join(lines)}</div>'


def reasoning_html(attempts: list[dict]) -> str:
    """The learner's own reasoning, first and revised."""
    parts = [f"<h5>{'Your first reasoning' if len(attempts) > 1 else 'Your reasoning'}</h5>"
             + paragraphs(attempts[0]["justification"])]
    if len(attempts) > 1:
        parts.append("<h5>Your reasoning for the change</h5>" + paragraphs(attempts[-1]["justification"]))
    return "".join(parts)


def kitchener_table(case: Case, row: dict) -> str:
    body = []
    for factor, label in KITCHENER_FACTORS.items():
        ref = case.kitchener[factor]
        mine = row.get(f"kitchener_{factor}") or "not rated"
        body.append(
            f"<tr><th scope=\"row\">{text(label)}</th><td>{text(mine)}</td>"
            f"<td>{text(ref['level'])}</td><td>{text(ref['note'])}</td></tr>"
        )
    return (
        "<table><caption>Kitchener's factors: your rating beside the reference "
        f"(overall reference risk: {text(case.kitchener['rating'])})</caption>"
        '<thead><tr><th scope="col">Factor</th><th scope="col">You</th><th scope="col">Reference</th>'
        '<th scope="col">Why</th></tr></thead><tbody>' + "".join(body) + "</tbody></table>"
    )


def gottlieb_table(case: Case) -> str:
    if not case.gottlieb:
        return ""
    body = "".join(
        f"<tr><th scope=\"row\">{text(label)}</th><td>{text(case.gottlieb[dim]['level'])}</td>"
        f"<td>{text(case.gottlieb[dim]['note'])}</td></tr>"
        for dim, (label, _levels) in GOTTLIEB_DIMENSIONS.items()
    )
    return ("<table><caption>Gottlieb's dimensions of the second relationship</caption>"
            '<thead><tr><th scope="col">Dimension</th><th scope="col">Reference</th><th scope="col">Why</th>'
            "</tr></thead><tbody>" + body + "</tbody></table>")


def class_block(case: Case, shown: Distribution, *, marks: bool, order: tuple[str, ...] | None = None,
                alone: bool = False) -> str:
    """How the class answered, in the learner's option order; reference marks only once it is revealed."""
    if alone and not shown.shown:
        return ('<div class="dualrole-histogram" role="region" aria-label="Class distribution">'
                "<h4>How the class answered</h4><p>You are working on your own: your answers are kept on "
                "this computer, so there is no class to compare with here. In a class on your "
                "instructor's hub, you would see here how your class answered.</p></div>")
    labels = {o.id: o.label for o in _ordered(case, order)}
    return distribution_html(labels, shown, heading="How the class answered",
                             caption=f"How {shown.total} learners answered (latest answer each)",
                             marks={o.id: _mark_text(case, o.id) for o in case.options} if marks else None)


def first_reasoning_html(row: dict) -> str:
    """The first answer's reasoning, read-only, beside a revote."""
    return ('<div class="dualrole-first-reasoning" role="region" aria-label="Your first reasoning">'
            "<h4>Your first reasoning</h4>" + paragraphs(row["justification"]) + "</div>")


def _section(title: str, body: str) -> str:
    if not body:
        return ""
    return (f'<details class="dualrole-section" aria-label="{text(title)}"><summary>{text(title)}</summary>'
            f"{body}</details>")


def reveal_html(case: Case, attempts: list[dict], view: Distribution | None, stale: bool = False,
                order: tuple[str, ...] | None = None, alone: bool = False) -> str:
    """The reveal for a learner with one or two committed attempts. First what reads at a glance: the
    verdict (your answer, the reference, one sentence of why) and the reference's options or positions;
    then sections the learner opens: their reasoning, the full rationale, every option, the codes."""
    first, latest = attempts[0], attempts[-1]
    parts = ['<div class="dualrole-reveal" role="region" aria-label="Reference and feedback">',
             "<h3>Reference answer</h3>"]
    if stale:
        parts.append("<p><strong>Note:</strong> this case was edited after you answered it.</p>")
    parts.append(verdict_block(case, attempts))
    parts.append(reference_block(case))
    if case.context_dependent:
        parts.append("<p>The better answer here depends on facts the vignette leaves open; "
                     "the rationale says which.</p>")
    if case.stance_reason:  # one line: a key that looks unlike its neighbours says why at once
        parts.append(f"<p><strong>Why this answer differs from similar cases:</strong> {text(case.stance_reason)}</p>")
    parts.append(_section("Your reasoning", reasoning_html(attempts)))
    parts.append(_section("The full rationale", markdown(_contested_words(case, case.rationale))))
    if case.contested:
        parts.append(_section("The positions in full", positions_in_full(case)))
    parts.append(_section("Every option and why", options_table(case, {first["option_id"], latest["option_id"]},
                                                                order)))
    parts.append(_section("Code sections", codes_list(case)))
    if case.second_role:
        parts.append(_section("Kitchener's factors and Gottlieb's dimensions",
                              kitchener_table(case, latest) + gottlieb_table(case)))
    if view is not None:
        parts.append(_section("How the class answered", class_block(case, view, marks=True, order=order,
                                                                     alone=alone)))
    parts.append(_section("For discussion",
                          "<ul>" + "".join(f"<li>{text(q)}</li>" for q in case.discussion) + "</ul>"))
    parts.append("</div>")
    return "".join(parts)
