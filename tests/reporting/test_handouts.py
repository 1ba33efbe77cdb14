"""``dualrole handouts``: a learners' handout with nothing of the reference in it, a separate answer
key, and clear errors that lose nothing."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from click.testing import CliRunner

from widgets.cases import load_library
from widgets.cli import cli
from widgets.reporting import handouts
from widgets.vocab import MODULES


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def no_pdf_engine(monkeypatch, tmp_path):
    monkeypatch.setenv("DUALROLE_CHROMIUM", str(tmp_path / "no-chromium-here"))


def test_writes_a_handout_and_a_separate_answer_key(tmp_path, no_pdf_engine):
    result = run("handouts", "--module", "business", "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["business-answer-key.html",
                                                                     "business-handout.html",
                                                                     "business-role-play.html"]
    assert "Wrote 6 case(s) of module 'business'" in result.output
    assert "No PDF engine found" in result.output and "apt-get install chromium" in result.output


def test_the_handout_shows_each_case_and_its_options_in_file_order_and_no_reference(tmp_path, no_pdf_engine):
    handouts.write_handouts("business", tmp_path, pdf=False)
    html = (tmp_path / "business-handout.html").read_text(encoding="utf-8")
    cases = load_library().module("business")
    assert html.count('<article class="case"') == len(cases)
    for case in cases:
        assert f">{case.title}</h1>" in html.replace("&#x27;", "'")
        positions = [html.index(handouts.text(o.label)) for o in case.options]
        assert positions == sorted(positions), f"{case.id}: options out of file order"
        for leak in [case.rationale[:60], *(o.rationale[:60] for o in case.options), *case.discussion]:
            assert handouts.text(leak) not in html
    for word in ("Preferred", "Acceptable", "★", "◆", "Reference rationale", "Contested", "Held by"):
        assert word not in html
    assert "break-after: page" in html and "Space to write your reasoning" in html


def test_the_answer_key_marks_the_reference_and_sets_out_contested_positions(tmp_path, no_pdf_engine):
    handouts.write_handouts("business", tmp_path, pdf=False)
    key = (tmp_path / "business-answer-key.html").read_text(encoding="utf-8")
    cosmetics = load_library()["cosmetics"]
    block = key[key.index('id="case-cosmetics"'):]
    block = block[:block.index("</article>")]
    row = re.search(r"<tr><th scope=\"row\">A</th>(.*?)</tr>", block, re.S).group(1)
    assert "★ Preferred" in row and handouts.text(cosmetics.option(cosmetics.preferred[0]).label) in row
    assert block.count("◆ Acceptable") == len(cosmetics.acceptable)
    assert "Contested: the positions" in block and "Lazarus and Zur (2002)" in block
    assert "Buying from a client adds a second role" in block  # the reference rationale
    assert "defends</em> C" in block  # a position names the option letter it defends


@pytest.mark.parametrize("module", list(MODULES))
def test_assessment_cases_never_appear_in_a_handout(module, tmp_path, no_pdf_engine):
    result = handouts.write_handouts(module, tmp_path, pdf=False)
    html = result.handout.read_text(encoding="utf-8") + result.answer_key.read_text(encoding="utf-8")
    for case in load_library().module(module, use="assessment"):
        assert f'id="case-{case.id}"' not in html and handouts.text(case.title) not in html
    assert result.cases == [c.id for c in load_library().module(module)]


def test_an_unknown_module_lists_the_modules(tmp_path):
    result = run("handouts", "--module", "busyness", "--out", str(tmp_path / "out"))
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "Error: no module 'busyness'; modules are: " + ", ".join(MODULES))
    assert "Traceback" not in result.output and not (tmp_path / "out").exists()


def test_an_out_that_is_a_file_is_refused(tmp_path):
    target = tmp_path / "notes.txt"
    target.write_text("my notes")
    result = run("handouts", "--module", "gifts", "--out", str(target))
    assert result.exit_code == 1
    assert f"Error: {target}: is a file, not a folder; give --out a folder" in result.output
    assert target.read_text() == "my notes"


def test_an_out_that_cannot_be_created_is_refused(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run("handouts", "--module", "gifts", "--out", str(blocker / "sub"))
    assert result.exit_code == 1
    assert f"Error: {blocker / 'sub'}: cannot create the folder" in result.output


def test_existing_handouts_are_kept_unless_forced(tmp_path, no_pdf_engine):
    out = tmp_path / "out"
    out.mkdir()
    (out / "gifts-handout.html").write_text("annotated by hand")
    result = run("handouts", "--module", "gifts", "--out", str(out))
    assert result.exit_code == 1
    assert "gifts-handout.html: already exists; pass --force" in result.output
    assert (out / "gifts-handout.html").read_text() == "annotated by hand"
    assert not (out / "gifts-answer-key.html").exists()  # nothing half-written either
    assert run("handouts", "--module", "gifts", "--out", str(out), "--force").exit_code == 0
    assert "Small and large gifts" not in (out / "gifts-handout.html").read_text()
    assert '<article class="case"' in (out / "gifts-handout.html").read_text()


def test_case_text_with_markup_stays_inert(tmp_path, monkeypatch, no_pdf_engine):
    from tests.browser.payloads import PROBE_ID, write_injection_case

    write_injection_case(tmp_path / "cases")
    monkeypatch.setenv("DUALROLE_CASES", str(tmp_path / "cases"))
    result = handouts.write_handouts("business", tmp_path / "out", pdf=False)
    assert PROBE_ID in result.cases
    for path in (result.handout, result.answer_key, result.role_play):
        html = path.read_text(encoding="utf-8")
        found = _Elements()
        found.feed(html)
        assert not found.tags & {"script", "img", "iframe", "svg"}, path.name
        assert not [a for a in found.attributes if a[0].startswith("on")], path.name
        assert not [a for a in found.attributes if a[0] == "href" and "javascript" in (a[1] or "").lower()]
        assert "Probe &lt;script&gt;" in html  # the title, shown as text


class _Elements(HTMLParser):
    """Every tag and attribute a browser would build from a page."""

    def __init__(self):
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.attributes += attrs


def test_no_pdf_skips_the_engine(tmp_path):
    result = run("handouts", "--module", "romantic", "--out", str(tmp_path), "--no-pdf")
    assert result.exit_code == 0, result.output
    assert not list(tmp_path.glob("*.pdf")) and "No PDF engine" not in result.output


def test_a_content_note_is_printed_before_the_vignette(tmp_path, no_pdf_engine):
    handouts.write_handouts("romantic", tmp_path, pdf=False)
    html = (tmp_path / "romantic-handout.html").read_text(encoding="utf-8")
    case = load_library()["current_client_romance"]
    article = html[html.index(f'id="case-{case.id}"'):]
    article = article[:article.index("</article>")]
    assert "Content note:" in article and handouts.text(case.content_note) in article
    assert article.index("Content note:") < article.index('aria-label="Vignette"')
    cards = (tmp_path / "romantic-role-play.html").read_text(encoding="utf-8")
    card = _article(cards, case.id)
    assert card.index("Content note:") < card.index('aria-label="The situation"')


# -- the say step and the role-play cards ----------------------------------------------------------

CHART_NOTE = """say:
  kind: chart_note
  to: record
  prompt: >-
    Write the note you would put in Marisol's record after this session.
  checklist:
    - What she asked for, in her words
    - What you decided and why
    - The standard you weighed
    - What you plan to explore next session
  model: >-
    Client offered a skin-care catalogue and asked me to buy. I declined and said why; we agreed to talk
    next session about what the request meant to her.
"""


@pytest.fixture
def say_cases(tmp_path, monkeypatch, no_pdf_engine):
    """Three business cases of an instructor's folder: one asking for a script, one for a chart note,
    and one asking for no words at all (no say block, and no question asking for words)."""
    from tests.cases.test_say_block import SCRIPT, with_say

    folder = tmp_path / "cases"
    folder.mkdir()
    with_say(folder, SCRIPT, name="say_script")
    with_say(folder, CHART_NOTE, name="say_note")
    silent = with_say(folder, "", name="say_none")
    worded = "How would you word the refusal so that Marisol does not hear it as a judgment on her or her business?"
    silent.write_text(silent.read_text(encoding="utf-8").replace(worded, "What might a refusal mean to Marisol?"),
                      encoding="utf-8")
    monkeypatch.setenv("DUALROLE_CASES", str(folder))
    return load_library()


def _article(html: str, case_id: str) -> str:
    block = html[html.index(f'id="case-{case_id}"'):]
    return block[:block.index("</article>")]


def test_the_handout_asks_what_you_would_say_with_the_checklist_but_never_the_model(tmp_path, say_cases):
    result = handouts.write_handouts("business", tmp_path / "out", pdf=False)
    html = result.handout.read_text(encoding="utf-8")
    script, note = say_cases["say_script"], say_cases["say_note"]
    block = _article(html, "say_script")
    assert "What would you say?" in block and handouts.text(script.say.prompt) in block
    assert all(handouts.text(item) in block for item in script.say.checklist)
    assert "Your chart note" in _article(html, "say_note")
    for case in (script, note):
        assert handouts.text(case.say.model[:40]) not in html
    key = result.answer_key.read_text(encoding="utf-8")
    assert "A model script" in _article(key, "say_script") and "Thank you for thinking of me" in key
    assert "A model chart note" in _article(key, "say_note")


def test_role_play_cards_give_each_role_its_side_and_the_observer_the_case_checklist(tmp_path, say_cases):
    result = handouts.write_handouts("business", tmp_path / "out", pdf=False)
    assert result.role_play.name == "business-role-play.html"
    cards = result.role_play.read_text(encoding="utf-8")
    script = say_cases["say_script"]
    block = _article(cards, "say_script")
    assert "You play the client" in block and "You play the therapist" in block and "You observe" in block
    assert "Add no fact the situation does not give" in block
    assert handouts.text(script.vignette.split("\n")[0]) in block  # the situation is the vignette itself
    # Round 1 is the say prompt, then the discussion question that asks for words; the others are not rounds.
    rounds = re.findall(r"<li>(.*?)</li>", block[block.index("You play the therapist"):block.index("You observe")])
    assert rounds == [handouts.text(script.say.prompt),
                      handouts.text("How would you word the refusal so that Marisol does not hear it as a "
                                    "judgment on her or her business?")]
    observer = block[block.index("You observe"):]
    assert re.findall(r"<li>(.*?)</li>", observer) == [handouts.text(i) for i in script.say.checklist]
    assert "A general list" not in block
    for leak in (script.say.model[:40], script.rationale[:60], "Preferred", "★"):
        assert handouts.text(leak) not in cards


def test_a_chart_note_case_plays_its_words_question_on_the_general_list_then_writes_the_note(tmp_path, say_cases):
    result = handouts.write_handouts("business", tmp_path / "out", pdf=False)
    block = _article(result.role_play.read_text(encoding="utf-8"), "say_note")
    note = say_cases["say_note"]
    observer = block[block.index("You observe"):block.index("the chart note")]
    assert re.findall(r"<li>(.*?)</li>", observer) == [handouts.text(i) for i in handouts.GENERAL_CHECKLIST]
    assert "A general list" in observer and "You play the person the therapist speaks to" in block
    written = block[block.index("Afterwards: the chart note"):]
    assert handouts.text(note.say.prompt) in written
    assert re.findall(r"<li>(.*?)</li>", written) == [handouts.text(i) for i in note.say.checklist]


def test_a_case_asking_for_no_words_gets_no_card(tmp_path, say_cases):
    result = handouts.write_handouts("business", tmp_path / "out", pdf=False)
    cards = result.role_play.read_text(encoding="utf-8")
    silent = say_cases["say_none"]
    assert silent.say is None and not any(map(handouts.asks_for_words, silent.discussion))
    assert 'id="case-say_none"' not in cards and "say_none" not in result.role_play_cases
    assert cards.count('<article class="case"') == len(result.role_play_cases)
    assert {"say_script", "say_note"} <= set(result.role_play_cases)


@pytest.mark.parametrize(("question", "words"), [
    ("What would you say to Tobias at the front desk?", True),
    ("What exact words would you use on Thursday?", True),
    ("What is the least you could say to the commander?", True),
    ("If you pause the joint sessions, what can you truthfully tell Rosalind?", True),
    ("In your own words, how would you explain the exceptions to Tobias in under two minutes?", True),
    ("What should a written consent form say, and what should only a conversation do?", False),
    ("Would you tell Aaliyah about any of this, and if so what, when and why?", False),
    ("What might the request tell you about her finances?", False),
])
def test_which_discussion_questions_ask_for_words(question, words):
    assert handouts.asks_for_words(question) is words


def test_a_module_with_no_card_says_so_rather_than_printing_a_blank_page():
    html = handouts.role_play_html([], "gifts")
    assert "no role-play cards" in html and '<article class="case"' not in html
