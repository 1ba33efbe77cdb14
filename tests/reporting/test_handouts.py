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
                                                                     "business-handout.html"]
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
    for path in (result.handout, result.answer_key):
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
