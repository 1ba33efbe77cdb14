"""A module's handout printed to PDF by Chromium: one page per case, and none of the answer key."""

from __future__ import annotations

import io
import re
import unicodedata

import pytest

from .conftest import new_watched_page


def _plain(value: str) -> str:
    """PDF text as comparable words: ligatures undone, whitespace collapsed."""
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", value)).strip()


def _pages(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    return [_plain(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


@pytest.mark.browser
def test_a_printed_handout_has_a_page_per_case_and_no_answer_key(chromium, tmp_path):
    from widgets.cases import load_library
    from widgets.reporting.handouts import write_handouts

    result = write_handouts("business", tmp_path, pdf=False)
    cases = [load_library()[case_id] for case_id in result.cases]
    page = new_watched_page(chromium)
    try:
        page.goto(result.handout.as_uri())
        handout = _pages(page.pdf(format="Letter"))
        page.goto(result.answer_key.as_uri())
        key = " ".join(_pages(page.pdf(format="Letter")))
        assert page.watch.page_errors == [] and page.watch.dialogs == []
    finally:
        page.context.close()

    assert len(handout) >= len(cases)
    # Each case starts its own page: its title is on exactly one page, a different one for each case.
    starts = []
    for case in cases:
        on = [i for i, text in enumerate(handout) if _plain(case.title) in text]
        assert len(on) == 1, f"{case.id}: title on pages {on}"
        starts.append(on[0])
    assert len(set(starts)) == len(cases)
    everything = " ".join(handout)
    for case in cases:
        assert _plain(case.vignette.split("\n\n")[0])[:80] in everything
        assert _plain(case.options[0].label) in everything
    # What only the answer key may show: it is in the key's PDF, and nowhere in the handout's.
    secrets = ["Preferred", "Acceptable", "Reference rationale"]
    secrets += [_plain(c.rationale)[:60] for c in cases]
    for secret in secrets:
        assert secret in key, f"the check is void: {secret!r} is not in the answer key either"
        assert secret not in everything, f"answer-key content in the handout: {secret!r}"


@pytest.mark.browser
def test_the_command_prints_each_file_to_pdf_with_headless_chromium(chromium, tmp_path, monkeypatch):
    from widgets.reporting.handouts import write_handouts

    from .conftest import CHROMIUM

    monkeypatch.setenv("DUALROLE_CHROMIUM", str(CHROMIUM))
    result = write_handouts("gifts", tmp_path)
    assert [p.name for p in result.pdfs] == ["gifts-handout.pdf", "gifts-answer-key.pdf", "gifts-role-play.pdf"]
    handout = _pages(result.pdfs[0].read_bytes())
    assert len(handout) >= len(result.cases)
    assert "Preferred" not in " ".join(handout)
    assert "Preferred" in " ".join(_pages(result.pdfs[1].read_bytes()))
    cards = " ".join(_pages(result.pdfs[2].read_bytes()))
    assert "Preferred" not in cards and ("You observe" in cards or "no role-play cards" in cards)
