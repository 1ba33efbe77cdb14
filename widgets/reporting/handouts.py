"""Print-ready handouts of one module's cases, role-play cards, and a separate answer key for the instructor.

The learners' handout shows, for each case, its title, the vignette, the options as the case file
gives them (in file order, with nothing marking the reference) and ruled space to write a reasoning;
a case with a ``say:`` block adds its "what would you say" prompt, space to write and the checklist
to tick. Every case starts a new printed page. The answer key, a separate file, adds what the
handout must never show: the preferred and acceptable options, the reference rationale, each
option's rationale, the positions of a contested case, the code sections, the model script or chart
note, and the discussion questions.

The role-play cards, a third file for the seminar (handed out once the cases are answered), give a
triad one card per case that asks for words: the case's ``say:`` script, and each discussion
question that asks for the therapist's words (:func:`asks_for_words`). A card has the situation
(the vignette, which everyone reads), the other person's side (play what the vignette says they
want and feel, and add no fact it does not give), the therapist's task for each round, and the
observer's checklist: the case's own ``say.checklist``, or :data:`GENERAL_CHECKLIST` where the
case's checklist is for a chart note. A chart-note case ends its card with the note to write and
the documentation list to check it against. No card shows the model answer.

Both are HTML with print CSS. When a PDF engine is found (headless Chromium: ``DUALROLE_CHROMIUM``,
else ``chromium`` or ``chromium-browser`` on the PATH, else ``/usr/bin/chromium``) each is also
printed to PDF. Only lesson cases are used: the assessment bank never appears in a handout. All case
text passes through :mod:`widgets.render`, so a case file cannot put script or markup into either file.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from widgets.cases import load_library
from widgets.cases.casefile import code_registry, law_registry
from widgets.cases.library import Case
from widgets.errors import DualroleError
from widgets.render import content_note, markdown, text
from widgets.vocab import MODULES, STANCE_LABELS

HANDOUT = "{module}-handout"
ANSWER_KEY = "{module}-answer-key"
ROLE_PLAY = "{module}-role-play"
PDF_TIMEOUT = 180  # seconds for one file; a cold Chromium on a busy machine takes a few
WRITING_LINES = 7
# The reference is marked in words as well as symbols, as on the case card's reveal.
MARKS = {"preferred": "★ Preferred", "acceptable": "◆ Acceptable"}
SCRIPT_LINES = 5
# A discussion question asks for words when it asks what the therapist would say or tell someone,
# or how they would word, phrase or explain something; "what should a consent form say" does not.
_WORDS = re.compile(
    r"\bwhat (exact )?words\b|\bwhat(, if anything,)? (would|could|will|can|should) you (\w+ )?(say|tell)\b"
    r"|\bleast you could say\b|\bhow would you (word|say|phrase|explain|put|end)\b|\bin your own words\b",
    re.IGNORECASE)
#: The observer's list where a case has no checklist for spoken words (its ``say:`` is a chart note):
#: the moves the review of the course named for any boundary conversation.
GENERAL_CHECKLIST = (
    "Acknowledges what the person asks for or feels",
    "States the boundary as the therapist's own obligation, not a verdict on the person",
    "Keeps confidential what is confidential, and promises nothing it cannot keep",
    "Offers an alternative or a next step",
    "Sounds warm rather than procedural",
)


@dataclass
class HandoutResult:
    """What :func:`write_handouts` wrote."""

    module: str
    cases: list[str]
    handout: Path
    answer_key: Path
    role_play: Path
    pdfs: list[Path] = field(default_factory=list)
    engine: Path | None = None
    role_play_cases: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class RolePlay:
    """One case's role-play card: the rounds a triad plays, the observer's list, the chart note to write."""

    case: Case
    #: What the therapist is asked to say in each round: the ``say:`` prompt, then the words questions.
    rounds: tuple[str, ...]
    #: Whom the therapist addresses in the first round (``say.to``), or None when the rounds name them.
    to: str | None
    checklist: tuple[str, ...]
    #: True when :data:`GENERAL_CHECKLIST` stands in for a checklist the case does not give for words.
    general: bool
    #: The chart note to write after the rounds (its prompt and documentation list), when the case asks for one.
    chart_note: tuple[str, tuple[str, ...]] | None


def asks_for_words(question: str) -> bool:
    """Whether a discussion question asks for the therapist's own words (and so makes a role-play round).

    >>> asks_for_words("What exact words would you use to state the boundary?")
    True
    >>> asks_for_words("What should a written consent form say, and what should only a conversation do?")
    False
    """
    return bool(_WORDS.search(question))


def role_play(case: Case) -> RolePlay | None:
    """The role-play card of a case, or None when it asks for no words and no chart note."""
    say = case.say
    script = say is not None and say.kind == "script"
    rounds = ((say.prompt,) if script else ()) + tuple(q for q in case.discussion if asks_for_words(q))
    chart_note = (say.prompt, say.checklist) if say is not None and say.kind == "chart_note" else None
    if not rounds and chart_note is None:
        return None
    return RolePlay(case, rounds, say.to if script else None, say.checklist if script else GENERAL_CHECKLIST,
                    general=not script, chart_note=chart_note)


def find_pdf_engine() -> Path | None:
    """Headless Chromium, if installed: ``DUALROLE_CHROMIUM``, then the PATH, then Debian's path."""
    configured = os.environ.get("DUALROLE_CHROMIUM")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return Path(found)
    debian = Path("/usr/bin/chromium")
    return debian if debian.is_file() else None


def module_cases(module: str) -> list[Case]:
    """The lesson cases of a module, in curriculum order; an unknown module's error lists the modules."""
    cases = load_library().module(module)  # use="lesson": the assessment bank stays out
    if not cases:
        raise DualroleError(f"module '{module}' has no lesson cases to print")
    return cases


# -- HTML ----------------------------------------------------------------------------------------

_CSS = """
:root { color-scheme: light; }
body { font-family: Georgia, "Times New Roman", serif; font-size: 11.5pt; line-height: 1.45;
       color: #111; margin: 0 auto; max-width: 48rem; padding: 1.5rem; }
h1 { font-size: 1.5rem; margin: 0 0 .5rem; }
h2 { font-size: 1.05rem; margin: 1.1rem 0 .4rem; }
.module { font-size: .9rem; color: #333; margin: 0 0 .25rem; text-transform: uppercase; letter-spacing: .04em; }
.case { border-bottom: 1px solid #999; padding-bottom: 1rem; margin-bottom: 2rem; }
.options { padding-left: 0; list-style: none; }
.options li { margin: .35rem 0; padding-left: 2.2rem; text-indent: -2.2rem; }
.letter { display: inline-block; width: 2.2rem; text-indent: 0; font-weight: bold; }
.line { border-bottom: 1px solid #555; height: 1.9rem; }
.confidence { margin-top: .8rem; }
.key-banner { border: 2px solid #111; padding: .3rem .6rem; font-weight: bold; display: inline-block; }
table { border-collapse: collapse; width: 100%; }
th, td { border: 1px solid #777; padding: .3rem .45rem; text-align: left; vertical-align: top; }
.position { margin: .3rem 0 .6rem; }
.checklist { list-style: none; padding-left: 0; }
.checklist li { margin: .25rem 0; padding-left: 1.6rem; text-indent: -1.6rem; }
.checklist li::before { content: "☐"; display: inline-block; width: 1.6rem; text-indent: 0; }
.role { border: 1px dashed #555; padding: .4rem .8rem; margin: .8rem 0; }
.role h2 { margin-top: .3rem; }
.model { border-left: 3px solid #111; padding-left: .8rem; }
@page { margin: 16mm 18mm; }
th.narrow { width: 4.5rem; }
th.label { width: 28%; }
@media print {
  body { max-width: none; padding: 0; font-size: 10.5pt; line-height: 1.35; }
  h1 { font-size: 1.3rem; }
  h2 { margin: .7rem 0 .3rem; }
  .line { height: 1.6rem; }
  .case { border: 0; margin: 0; padding: 0; break-after: page; page-break-after: always; }
  .case:last-of-type { break-after: auto; page-break-after: auto; }
  .options li, tr, .position, .role { break-inside: avoid; }
}
"""


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{text(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n{body}</main>\n"
            "</body>\n</html>\n")


def _letter(i: int) -> str:
    return chr(ord("A") + i)


def _heading(case: Case) -> str:
    number, title = MODULES[case.module]
    return (f'<p class="module">Module {number}: {text(title)}</p>\n'
            f'<h1 id="case-{text(case.id)}">{text(case.title)}</h1>\n')


def student_html(cases: list[Case], module: str) -> str:
    """The learners' handout: one printed page per case, with nothing of the reference in it."""
    parts = []
    for case in cases:
        options = "".join(f'<li><span class="letter">{_letter(i)}.</span>{text(o.label)}</li>\n'
                          for i, o in enumerate(case.options))
        lines = "".join('<div class="line"></div>' for _ in range(WRITING_LINES))
        parts.append(
            f'<article class="case" aria-labelledby="case-{text(case.id)}">\n{_heading(case)}'
            f'{content_note(case.content_note) if case.content_note else ""}'
            f'<section aria-label="Vignette">{markdown(case.vignette)}</section>\n'
            f'<h2>What would you do? Circle one option.</h2>\n<ol class="options">\n{options}</ol>\n'
            f'<h2>Your reasoning</h2>\n<div role="group" aria-label="Space to write your reasoning">{lines}</div>\n'
            '<p class="confidence">How confident are you (0 to 100)? ______</p>\n'
            f"{_say_section(case)}</article>\n"
        )
    return _page(f"{MODULES[module][1]}: case handout", "".join(parts))


def _checklist(items) -> str:
    return '<ul class="checklist">' + "".join(f"<li>{text(item)}</li>" for item in items) + "</ul>\n"


def _say_section(case: Case) -> str:
    """The handout's "what would you say" step: the prompt, space to write, and the checklist to tick."""
    say = case.say
    if say is None:
        return ""
    heading = "Your chart note" if say.kind == "chart_note" else "What would you say?"
    lines = "".join('<div class="line"></div>' for _ in range(SCRIPT_LINES))
    return (f"<h2>{heading}</h2>\n<p>{text(say.prompt)}</p>\n"
            f'<div role="group" aria-label="Space to write your {"note" if say.kind == "chart_note" else "words"}">'
            f"{lines}</div>\n<p>Then tick what your words do:</p>\n{_checklist(say.checklist)}")


def role_play_html(cards: list[RolePlay], module: str) -> str:
    """The seminar's role-play cards: one printed page per case, with nothing of the reference or the model."""
    parts = []
    for card in cards:
        case = card.case
        person = f"the {card.to}" if card.to else "the person the therapist speaks to"
        if card.to and len(card.rounds) > 1:
            person += " (in later rounds, whoever the round names)"
        rounds = "".join(f"<li>{text(r)}</li>" for r in card.rounds)
        speech = ""
        if card.rounds:
            speech = (
                '<section class="role" aria-label="The other person">\n'
                f"<h2>You play {text(person)}</h2>\n"
                "<p>Play what the situation says they want and how they feel: open with what they ask or say "
                "there. Add no fact the situation does not give; if the therapist asks about something it "
                "leaves out, answer as they might without inventing it (\u201cI'd rather not say\u201d).</p>\n"
                "</section>\n"
                '<section class="role" aria-label="The therapist">\n<h2>You play the therapist</h2>\n'
                f"<p>Say it aloud, in your own words, in two to four sentences. One round each:</p>\n"
                f"<ol>{rounds}</ol>\n</section>\n"
                '<section class="role" aria-label="The observer">\n<h2>You observe</h2>\n'
                "<p>Tick what the therapist's words do. Then say one phrase that worked and one to try "
                "differently; talk about the words, not the decision.</p>\n"
                f"{_checklist(card.checklist)}"
                + ("<p><em>A general list: this case's own checklist is for its chart note.</em></p>\n"
                   if card.general else "")
                + "</section>\n")
        note = ""
        if card.chart_note is not None:
            prompt, items = card.chart_note
            note = ('<section class="role" aria-label="The chart note">\n'
                    f"<h2>{'Afterwards: ' if card.rounds else ''}the chart note</h2>\n"
                    f"<p>The therapist writes it: {text(prompt)}</p>\n"
                    "<p>A partner checks it against the documentation list:</p>\n"
                    f"{_checklist(items)}</section>\n")
        parts.append(
            f'<article class="case" aria-labelledby="case-{text(case.id)}">\n{_heading(case)}'
            "<p>Three people: the therapist, the other person and an observer. About six minutes a round; "
            "swap roles after each.</p>\n"
            f'{content_note(case.content_note) if case.content_note else ""}'
            f'<section aria-label="The situation"><h2>The situation (everyone reads it)</h2>\n'
            f"{markdown(case.vignette)}</section>\n{speech}{note}</article>\n")
    if not parts:
        parts.append("<p>No case of this module asks for the therapist's words yet: no role-play cards.</p>\n")
    return _page(f"{MODULES[module][1]}: role-play cards", "".join(parts))


def answer_key_html(cases: list[Case], module: str) -> str:
    """The instructor's key: the reference, its rationale, each option's rationale, the positions."""
    parts = []
    for case in cases:
        letters = {o.id: _letter(i) for i, o in enumerate(case.options)}
        rows = []
        for o in case.options:
            mark = (MARKS["preferred"] if o.id in case.preferred
                    else MARKS["acceptable"] if o.id in case.acceptable else "")
            rows.append(f"<tr><th scope=\"row\">{letters[o.id]}</th><td>{text(o.label)}</td>"
                        f"<td>{text(STANCE_LABELS[o.stance])}</td><td>{text(mark)}</td>"
                        f"<td>{markdown(o.rationale)}</td></tr>\n")
        notes = []
        if case.context_dependent:
            notes.append("<p><strong>Turns on facts the vignette leaves open.</strong></p>")
        if case.contested:
            positions = "".join(
                f'<div class="position"><p>{text(" ".join(p["position"].split()))}</p>'
                f'<p><em>Held by:</em> {text(p["held_by"])}'
                + (f"; <em>defends</em> {text(', '.join(letters.get(d, d) for d in p['defends']))}"
                   if p.get("defends") else "") + "</p></div>\n"
                for p in case.positions)
            notes.append(f"<h2>Contested: the positions</h2>\n{positions}")
        registry = code_registry()
        codes = "; ".join(f"{c['code']} {c['section']} ({registry[c['code']][str(c['section'])]})" for c in case.codes)
        law = law_registry()
        notes_on_law = "".join(f"<li><strong>{text(name)}</strong>: {text(law[name])}</li>" for name in case.law)
        discussion = "".join(f"<li>{text(q)}</li>" for q in case.discussion)
        if case.say is not None:
            notes.append(f"<h2>{text(case.say.heading)}</h2>\n<p>{text(case.say.prompt)}</p>\n"
                         f'<div class="model">{markdown(case.say.model)}</div>\n'
                         f"<p>The checklist:</p>\n{_checklist(case.say.checklist)}")
        parts.append(
            f'<article class="case" aria-labelledby="case-{text(case.id)}">\n'
            '<p class="key-banner">Answer key: for the instructor, not for learners</p>\n'
            f"{_heading(case)}<h2>Options and the reference</h2>\n"
            '<table><thead><tr><th scope="col" class="narrow">Option</th><th scope="col" class="label">Label</th>'
            '<th scope="col" class="narrow">Stance</th><th scope="col" class="narrow">Reference</th>'
            f'<th scope="col">Why</th></tr></thead>\n<tbody>\n{"".join(rows)}'
            f"</tbody></table>\n{''.join(notes)}<h2>Reference rationale</h2>\n{markdown(case.rationale)}\n"
            f"<p><strong>Code sections:</strong> {text(codes)}</p>\n"
            + (f"<p><strong>The law:</strong></p><ul>{notes_on_law}</ul>\n" if notes_on_law else "")
            + f"<h2>Discussion questions</h2>\n<ol>{discussion}</ol>\n</article>\n"
        )
    return _page(f"{MODULES[module][1]}: answer key", "".join(parts))


# -- writing -------------------------------------------------------------------------------------


def _prepare(out: Path, names: list[str], force: bool) -> None:
    """Make the output folder, refusing (before anything is written) to replace a file unless forced."""
    if out.exists() and not out.is_dir():
        raise DualroleError(f"{out}: is a file, not a folder; give --out a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DualroleError(f"{out}: cannot create the folder ({exc.strerror or exc})") from None
    existing = [out / n for n in names if (out / n).exists()]
    if existing and not force:
        raise DualroleError(f"{existing[0]}: already exists; pass --force to replace the handout files, "
                            "or choose another --out folder")
    if not os.access(out, os.W_OK):
        raise DualroleError(f"{out}: the folder is not writable")


def _write(path: Path, content: str) -> None:
    """Write via a temporary file in the same folder, so a failure never leaves half a file."""
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False,
                                         prefix=f".{path.name}.", suffix=".tmp") as fh:
            fh.write(content)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(fh.name, 0o666 & ~umask)  # an ordinary file, not the temporary file's private mode
        os.replace(fh.name, path)
    except OSError as exc:
        raise DualroleError(f"{path}: cannot write ({exc.strerror or exc})") from None


def print_pdf(engine: Path, html_path: Path, pdf_path: Path) -> None:
    """Print one HTML file to PDF with headless Chromium."""
    args = [str(engine), "--headless", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--no-pdf-header-footer", f"--print-to-pdf={pdf_path}", html_path.resolve().as_uri()]
    if os.geteuid() == 0:
        args.insert(1, "--no-sandbox")  # Chromium refuses to start its sandbox as root (containers, CI)
    with tempfile.TemporaryDirectory(prefix="dualrole-chromium-") as profile:
        args.insert(1, f"--user-data-dir={profile}")
        try:
            done = subprocess.run(args, capture_output=True, text=True, timeout=PDF_TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise DualroleError(f"{pdf_path}: Chromium could not print it ({exc}); the HTML is written") from None
    if done.returncode != 0 or not pdf_path.exists():
        detail = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise DualroleError(f"{pdf_path}: Chromium could not print it ({detail}); the HTML is written")


def write_handouts(module: str, out: Path | str, *, pdf: bool = True, force: bool = False,
                   engine: Path | None = None,
                   progress: Callable[[str], None] | None = None) -> HandoutResult:
    """Write ``<module>-handout.html``, ``<module>-answer-key.html`` and ``<module>-role-play.html`` into
    ``out`` (and PDFs of each when ``pdf`` and a PDF engine is found).

    Example::

        >>> write_handouts("business", "handouts/").handout   # doctest: +SKIP
        PosixPath('handouts/business-handout.html')
    """
    out = Path(out)
    cases = module_cases(module)
    engine = (engine or find_pdf_engine()) if pdf else None
    stems = [HANDOUT.format(module=module), ANSWER_KEY.format(module=module), ROLE_PLAY.format(module=module)]
    names = [f"{s}.html" for s in stems] + ([f"{s}.pdf" for s in stems] if engine else [])
    _prepare(out, names, force)
    step = progress or (lambda message: None)
    cards = [card for card in map(role_play, cases) if card is not None]
    result = HandoutResult(module, [c.id for c in cases], out / names[0], out / names[1], out / names[2],
                           engine=engine, role_play_cases=[card.case.id for card in cards])
    _write(result.handout, student_html(cases, module))
    step("handout")
    _write(result.answer_key, answer_key_html(cases, module))
    step("answer key")
    _write(result.role_play, role_play_html(cards, module))
    step("role-play cards")
    if engine:
        for html_path in (result.handout, result.answer_key, result.role_play):
            pdf_path = html_path.with_suffix(".pdf")
            print_pdf(engine, html_path, pdf_path)
            result.pdfs.append(pdf_path)
            step(pdf_path.name)
    return result
