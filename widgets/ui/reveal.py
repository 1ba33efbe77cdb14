"""The reveal shown after a commit, as safe HTML built from the case and the learner's answers.

Pure functions of their inputs, so the same panel serves the card, the dashboard and the tests.
Status is given in words and symbols with labels, never by colour alone.
"""

from __future__ import annotations

from widgets.cases.casefile import code_registry
from widgets.cases.library import Case
from widgets.render import markdown, paragraphs, text
from widgets.responses.disclosure import Distribution, distribution_html
from widgets.vocab import KITCHENER_FACTORS, STANCE_LABELS


def verdict(case: Case, option_id: str) -> str:
    """How an option relates to the reference, in words."""
    if option_id in case.preferred:
        return "matches the reference (preferred)"
    if option_id in case.acceptable:
        return "is acceptable under the reference"
    return "differs from the reference"


# How the reference marks an option: symbol and word.
_MARKS = {"preferred": ("★", "Preferred"), "acceptable": ("◆", "Acceptable")}


def _standing(case: Case, option_id: str) -> str | None:
    if option_id in case.preferred:
        return "preferred"
    return "acceptable" if option_id in case.acceptable else None


def _mark(case: Case, option_id: str) -> str:
    standing = _standing(case, option_id)
    if standing is None:
        return ""
    symbol, word = _MARKS[standing]
    return f'<span role="img" aria-label="{standing}">{symbol}</span> {word}'


def _mark_text(case: Case, option_id: str) -> str:
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


def options_table(case: Case, chosen: set[str]) -> str:
    rows = []
    for o in case.options:
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
    registry = code_registry()
    items = "".join(
        f"<li>{text(ref['code'])} {text(ref['section'])}: {text(registry[ref['code']][str(ref['section'])])}</li>"
        for ref in case.codes
    )
    return f"<h4>Code sections</h4><ul>{items}</ul>"


def positions_block(case: Case) -> str:
    if not case.contested:
        return ""
    items = "".join(
        f"<li><strong>{text(p['held_by'])}:</strong> {text(' '.join(p['position'].split()))}</li>"
        for p in case.positions
    )
    return f"<h4>Ethicists disagree</h4><p>This case is contested. Both positions:</p><ul>{items}</ul>"


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


def cohort_block(case: Case, shown: Distribution) -> str:
    """The class's answers under the reveal, with the reference marks the learner has now seen."""
    return distribution_html({o.id: o.label for o in case.options}, shown, heading="Your class",
                             caption=f"How {shown.total} learners answered (latest answer each)",
                             marks={o.id: _mark_text(case, o.id) for o in case.options})



def reveal_html(case: Case, attempts: list[dict], view: Distribution | None, stale: bool = False) -> str:
    """The whole reveal panel for a learner with one or two committed attempts."""
    first, latest = attempts[0], attempts[-1]
    parts = ['<div class="dualrole-reveal" role="region" aria-label="Reference and feedback">',
             "<h3>Reference answer</h3>"]
    if stale:
        parts.append("<p><strong>Note:</strong> this case was edited after you answered it.</p>")
    parts.append(answer_summary(case, first, "Your first answer"))
    if len(attempts) > 1:
        parts.append(answer_summary(case, latest, "Your revised answer"))
    preferred = ", ".join(case.option(i).label for i in case.preferred)
    acceptable = ", ".join(case.option(i).label for i in case.acceptable) or "none besides the preferred"
    parts.append(f"<p><strong>Preferred:</strong> {text(preferred)}</p>"
                 f"<p><strong>Also acceptable:</strong> {text(acceptable)}</p>")
    if case.context_dependent:
        parts.append("<p>The better answer here depends on facts the vignette leaves open; "
                     "the rationale says which.</p>")
    parts.append(options_table(case, {first["option_id"], latest["option_id"]}))
    parts.append("<h4>Reference rationale</h4>" + markdown(case.rationale))
    parts.append(positions_block(case))
    parts.append(codes_list(case))
    parts.append(kitchener_table(case, latest))
    if view is not None:
        parts.append(cohort_block(case, view))
    parts.append("<h4>For discussion</h4><ul>" + "".join(f"<li>{text(q)}</li>" for q in case.discussion) + "</ul>")
    parts.append("</div>")
    return "".join(parts)
