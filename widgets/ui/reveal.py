"""The reveal, and the class step before it, as safe HTML built from the case and the learner's answers.

The reveal comes in steps, not as a wall: first a screen of at most about 150 words, the verdict (the
learner's answer, the reference, one sentence of why) and, for a contested case, the gist of each defensible
position; then labelled sections that open on demand (``<details>``, reachable and opened from the keyboard):
why a key differs from similar cases, the other acceptable options, the positions with who holds them, the
full rationale, every option and why, the code sections, the risk factors, the class, and discussion questions.
Pure functions of their inputs; status is given in words and symbols with labels, never by colour.
"""

from __future__ import annotations

import re

from widgets.cases.casefile import code_link, code_registry, law_registry
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


WHY_WORDS = 40  # the verdict's one sentence of why, at most; the full rationale is a section away
POSITION_WORDS = 10  # a position's gist on the first screen; the whole statement is a section away
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
    """The case's code sections with their short titles (the shipped codes' and any an instructor
    registers); a code with a link opens where it can be read."""
    registry = code_registry()
    items = []
    for ref in case.codes:
        link = code_link(ref["code"])
        name = f"{text(ref['code'])} {text(ref['section'])}"
        if link:
            name = f'<a href="{text(link)}" target="_blank" rel="noopener noreferrer">{name}</a>'
        items.append(f"<li>{name}: {text(registry[ref['code']][str(ref['section'])])}</li>")
    return f"<ul>{''.join(items)}</ul><p>Each link opens the full code on its publisher's site.</p>"


def law_list(case: Case) -> str:
    """The law notes a case names (``law:``), each with what it requires ("" when it names none)."""
    if not case.law:
        return ""
    notes = law_registry()
    items = "".join(f"<li><strong>{text(name)}</strong>: {text(notes[name])}</li>" for name in case.law)
    return f"<ul>{items}</ul><p>Laws differ from place to place: check the rule where you practice.</p>"


def positions_block(case: Case) -> str:
    """A contested case's defensible positions as a short numbered list of their gists. Who holds each, the
    whole statement and the options it defends are in the section "The positions in full"."""
    items = "".join(f"<li>{text(first_sentence(p['position'], POSITION_WORDS))}</li>" for p in case.positions)
    return f"<h4>The defensible positions</h4><ol>{items}</ol>"


def positions_in_full(case: Case) -> str:
    """Each position's whole statement, who holds it on a line of sources of its own, and the options it
    defends, for the section the learner opens."""
    items = []
    for p in case.positions:
        options = "".join(f"<li>{text(case.option(i).label)}</li>" for i in p.get("defends", ()))
        defends = f"<p>Defends:</p><ul>{options}</ul>" if options else ""
        items.append(f"<li><p>{text(' '.join(p['position'].split()))}</p>"
                     f'<p class="dualrole-sources"><em>Held by:</em> {text(p["held_by"])}</p>{defends}</li>')
    return f"<ol>{''.join(items)}</ol>"


def also_acceptable(case: Case) -> str:
    """The options the reference also accepts, each an item of its own (labels may hold commas)."""
    items = "".join(f'<li><span role="img" aria-label="acceptable">◆</span> {text(case.option(i).label)}</li>'
                    for i in case.acceptable)
    return f"<ul>{items}</ul>" if items else ""


def verdict_block(case: Case, attempts: list[dict]) -> str:
    """Three lines at a glance: your answer, the reference, and one sentence of why. An option already
    named as the learner's answer is not spelled out again in the reference line."""
    first, latest = attempts[0], attempts[-1]
    revised = len(attempts) > 1 and latest["option_id"] != first["option_id"]

    def yours(heading: str, row: dict) -> str:
        option = case.option(row["option_id"])
        return (f"<p><strong>{heading}:</strong> {text(option.label)} (confidence {int(row['confidence'])}%): "
                f"this {verdict(case, option.id)}.</p>")

    if len(attempts) == 1:
        lines = [yours("Your answer", first)]
    elif revised:
        lines = [yours("Your first answer", first), yours("Your revised answer", latest)]
    else:
        lines = [yours("Your first answer", first),
                 f"<p><strong>Your revised answer:</strong> the same (confidence {int(latest['confidence'])}%).</p>"]
    named = {latest["option_id"]: "your revised answer" if revised else "your answer"}
    if revised:
        named[first["option_id"]] = "your first answer"
    if case.contested:
        reference = "contested. Ethicists disagree, so there is no single key."
    else:
        reference = ('<span role="img" aria-label="preferred">★</span> '
                     + "; ".join(named.get(i) or text(case.option(i).label) for i in case.preferred)
                     + " (preferred).")
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


def say_block(case: Case, script: dict | None) -> str:
    """The case's model script (or chart note) as a section under its own heading, the first one the
    learner opens, with their own saved words and checklist beside it. A section, not the first screen,
    which stays a glance (the verdict)."""
    say = case.say
    if say is None:
        return ""
    body = f'<div class="dualrole-model">{markdown(say.model)}</div>'
    if script is not None:
        ticked = set(script.get("checks") or ())
        items = "".join(f"<li>{'Ticked' if i in ticked else 'Not ticked'}: {text(item)}</li>"
                        for i, item in enumerate(say.checklist))
        mine = "Your chart note" if say.kind == "chart_note" else "Your words"
        body += (f"<p><strong>{mine}</strong></p>{paragraphs(script['text'])}"
                 f"<p>The checklist as you ticked it:</p><ul>{items}</ul>")
    else:
        body += "<p>You saved no words of your own for this case.</p>"
    return _section(say.heading, body)


def _section(title: str, body: str) -> str:
    if not body:
        return ""
    return (f'<details class="dualrole-section" aria-label="{text(title)}"><summary>{text(title)}</summary>'
            f"{body}</details>")


def reveal_html(case: Case, attempts: list[dict], view: Distribution | None, stale: bool = False,
                order: tuple[str, ...] | None = None, alone: bool = False, script: dict | None = None) -> str:
    """The reveal for a learner with one or two committed attempts. First what reads at a glance, kept to
    about 150 words: the verdict (your answer, the reference, one sentence of why) and, for a contested case,
    the gist of each position; then sections the learner opens: why the key differs from similar cases (where
    it does), the model script or chart note (when the case asks what the learner would say, with their saved
    ``script`` beside it), the other acceptable options, the positions with who holds them, their reasoning,
    the full rationale, every option, the codes."""
    first, latest = attempts[0], attempts[-1]
    parts = ['<div class="dualrole-reveal" role="region" aria-label="Reference and feedback">',
             "<h3>Reference answer</h3>"]
    if stale:
        parts.append("<p><strong>Note:</strong> this case changed after you answered.</p>")
    parts.append(verdict_block(case, attempts))
    if case.contested:
        parts.append(positions_block(case))
    if case.context_dependent:
        parts.append("<p>The answer turns on facts the vignette leaves open: the rationale says which.</p>")
    if case.stance_reason:  # a key that looks unlike its neighbours says why one line away, in the first section
        parts.append(_section("Why this answer differs from similar cases", f"<p>{text(case.stance_reason)}</p>"))
    parts.append(say_block(case, script))
    parts.append(_section("Also acceptable", also_acceptable(case)))
    if case.contested:
        parts.append(_section("The positions in full, and who holds them", positions_in_full(case)))
    parts.append(_section("Your reasoning", reasoning_html(attempts)))
    parts.append(_section("The full rationale", markdown(_contested_words(case, case.rationale))))
    parts.append(_section("Every option and why", options_table(case, {first["option_id"], latest["option_id"]},
                                                                order)))
    parts.append(_section("Code sections", codes_list(case)))
    parts.append(_section("The law", law_list(case)))
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
