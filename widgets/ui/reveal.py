"""The reveal, and the class step before it, as safe HTML built from the case and the learner's answers.

The reveal comes in steps, not as a wall: first the learner's answer beside the reference (or, for a
contested case, beside the defensible positions and who holds them) and the reference rationale;
then labelled sections that open on demand (``<details>``, reachable and opened from the keyboard):
every option and why, the code sections, the risk factors, the class, and discussion questions.
Pure functions of their inputs; status is given in words and symbols with labels, never by colour.
"""

from __future__ import annotations

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
    """How an option relates to the reference, in words. In a contested case an option that a named
    position defends is described by who defends it, never as differing from the reference."""
    if case.contested:
        held_by = defenders(case, option_id)
        if held_by:
            return "is one of the defensible positions (held by " + "; ".join(held_by) + ")"
        return "is not defended by either position"
    if option_id in case.preferred:
        return "matches the reference (preferred)"
    if option_id in case.acceptable:
        return "is acceptable under the reference"
    return "differs from the reference"


def _standing(case: Case, option_id: str) -> str | None:
    if option_id in case.preferred:
        return "preferred"
    return "acceptable" if option_id in case.acceptable else None


def _mark(case: Case, option_id: str) -> str:
    if case.contested:
        held_by = defenders(case, option_id)
        return f"Defended by {text('; '.join(held_by))}" if held_by else ""
    standing = _standing(case, option_id)
    if standing is None:
        return ""
    symbol, word = _MARKS[standing]
    return f'<span role="img" aria-label="{standing}">{symbol}</span> {word}'


def _mark_text(case: Case, option_id: str) -> str:
    if case.contested:
        held_by = defenders(case, option_id)
        return "Defended by " + "; ".join(held_by) if held_by else ""
    standing = _standing(case, option_id)
    return " ".join(_MARKS[standing]) if standing else ""


def answer_summary(case: Case, row: dict, heading: str) -> str:
    option = case.option(row["option_id"])
    return (
        f"<h4>{text(heading)}</h4>"
        f"<p><strong>{text(option.label)}</strong> ({text(STANCE_LABELS[option.stance])}), "
        f"confidence {int(row['confidence'])}%: this {verdict(case, option.id)}.</p>"
        f"<p>Your reasoning:</p>{paragraphs(row['justification'])}"
    )


def _ordered(case: Case, order: tuple[str, ...] | None) -> list:
    return [case.option(i) for i in order] if order else list(case.options)


def options_table(case: Case, chosen: set[str], order: tuple[str, ...] | None = None) -> str:
    rows = []
    for o in _ordered(case, order):
        mine = "Your choice" if o.id in chosen else ""
        rows.append(
            f"<tr><td>{text(o.label)}</td><td>{text(STANCE_LABELS[o.stance])}</td>"
            f"<td>{_mark(case, o.id)}</td><td>{mine}</td><td>{text(o.rationale)}</td></tr>"
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
    """A contested case's defensible positions, each with who holds it and the options it defends."""
    items = []
    for p in case.positions:
        options = ", ".join(case.option(i).label for i in p.get("defends", ()))
        defends = f" <em>Defends: {text(options)}.</em>" if options else ""
        items.append(f"<li><strong>{text(p['held_by'])}:</strong> {text(' '.join(p['position'].split()))}"
                     f"{defends}</li>")
    return ("<h4>Ethicists disagree</h4><p>This case is contested: there is no single key. "
            f"The defensible positions, and who holds them:</p><ul>{''.join(items)}</ul>")


def reference_block(case: Case) -> str:
    """The reference itself: the defensible positions of a contested case, else preferred and acceptable."""
    if case.contested:
        return positions_block(case)
    preferred = ", ".join(case.option(i).label for i in case.preferred)
    acceptable = ", ".join(case.option(i).label for i in case.acceptable) or "none besides the preferred"
    return (f"<p><strong>Preferred:</strong> {text(preferred)}</p>"
            f"<p><strong>Also acceptable:</strong> {text(acceptable)}</p>")


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
    """The reveal for a learner with one or two committed attempts: the essentials first, the rest
    in sections the learner opens."""
    first, latest = attempts[0], attempts[-1]
    parts = ['<div class="dualrole-reveal" role="region" aria-label="Reference and feedback">',
             "<h3>Reference answer</h3>"]
    if stale:
        parts.append("<p><strong>Note:</strong> this case was edited after you answered it.</p>")
    parts.append(answer_summary(case, first, "Your first answer"))
    if len(attempts) > 1:
        parts.append(answer_summary(case, latest, "Your revised answer"))
    parts.append(reference_block(case))
    if case.context_dependent:
        parts.append("<p>The better answer here depends on facts the vignette leaves open; "
                     "the rationale says which.</p>")
    if case.stance_reason:
        parts.append(f"<p><strong>Why this answer differs from similar cases:</strong> {text(case.stance_reason)}</p>")
    parts.append("<h4>Reference rationale</h4>" + markdown(case.rationale))
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
