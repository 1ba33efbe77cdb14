"""The bibliography: generated from the case files, deduplicated, current, and complete for the lessons."""

from __future__ import annotations

import dataclasses
import json

import pytest

from tools import references
from widgets.cases import load_case


@pytest.fixture(scope="module")
def bibliography():
    return references.bibliography()


def test_the_references_notebook_is_current():
    assert references.is_current(), "notebooks/references.ipynb is stale: run python -m tools.references"


def test_every_citation_in_a_lesson_is_in_the_bibliography(bibliography):
    assert references.missing_citations(refs=bibliography) == []


def test_every_lesson_links_the_references():
    for path in references.lessons():
        assert "](references.ipynb)" in path.read_text(encoding="utf-8"), f"{path.name} does not link the references"


@pytest.mark.parametrize("text, names, years", [
    ("as Woody (1998) argued", ("Woody",), ("1998",)),
    ("Lazarus and Zur (2002) hold", ("Lazarus", "Zur"), ("2002",)),
    ("In Henretty and Levitt's (2010) review", ("Henretty", "Levitt"), ("2010",)),
    ("Gottlieb's (1993) model", ("Gottlieb",), ("1993",)),
    ("Gutheil and Gabbard (1993, 1998) taught", ("Gutheil", "Gabbard"), ("1993", "1998")),
    ("46% (Borys and Pope, 1989), 70%", ("Borys", "Pope"), ("1989",)),
    ("Johnson et al. (2006) describe", ("Johnson",), ("2006",)),
    ("The **ACA Code (2014)** has", ("ACA",), ("2014",)),
])
def test_citation_forms_are_recognized(text, names, years):
    [cite] = references.citations(text)
    assert (cite.names, cite.years) == (names, years)


def test_a_parenthetical_list_yields_each_citation():
    found = references.citations("unavoidable (Schank and Skovholt 1997, 2006; Lazarus and Zur 2002).")
    assert [(c.names, c.years) for c in found] == [(("Schank", "Skovholt"), ("1997", "2006")),
                                                   (("Lazarus", "Zur"), ("2002",))]


def test_a_book_title_with_a_year_and_code_sections_are_not_citations():
    assert references.citations("Their book, *Ethical Practice in Small Communities* (2006), widened it.") == []
    assert references.citations("APA 3.05 and NASW 1.06(c) apply; HIPAA 164.510(b) too.") == []


def test_a_citation_missing_from_the_bibliography_fails_the_check(tmp_path, bibliography):
    lesson = tmp_path / "11_new.ipynb"
    text = ("Kitchener (1988) is listed, and so is Lazarus and Zur's (2002) view. Smith and Jones (1999) "
            "are not, nor are Roe et al. (2006) or (Doe, 2001), nor Kitchener's (1989) other paper.")
    lesson.write_text(json.dumps({"cells": [{"cell_type": "markdown", "metadata": {}, "source": text}]}))
    missing = references.missing_citations([lesson], refs=bibliography)
    assert len(missing) == 4
    for expected, cite in zip(["Smith and Jones (1999)", "Roe et al. (2006)", "Doe, 2001", "Kitchener's (1989)"],
                              missing):
        assert expected in cite
    assert all(m.startswith("11_new.ipynb: ") for m in missing)


def test_each_reference_appears_once_however_many_cases_cite_it(bibliography):
    texts = [ref.markdown for ref in bibliography]
    assert len(texts) == len(set(texts))
    kitchener = [t for t in texts if t.startswith("Kitchener, K. S. (1988)")]
    assert len(kitchener) == 1  # cited by dozens of cases
    assert sum(t.startswith("*HIPAA Privacy Rule*") for t in texts) == 1  # five differently worded notes
    assert sum("Borys" in t for t in texts) == 1


def test_entries_are_in_apa_style_and_alphabetical(bibliography):
    kitchener = next(r.markdown for r in bibliography if r.names == ("Kitchener",))
    assert kitchener == ("Kitchener, K. S. (1988). Dual role relationships: What makes them so problematic? "
                         "*Journal of Counseling & Development*, *67*(4), 217–221.")
    book = next(r.markdown for r in bibliography if r.names == ("Lazarus", "Zur"))
    assert book == "Lazarus, A. A., & Zur, O. (Eds.). (2002). *Dual relationships and psychotherapy*. Springer."
    keys = [r.sort_key or references._normal(r.markdown) for r in bibliography]
    assert keys == sorted(keys)
    # The codes the cases cite by section are listed in their editions.
    assert any(r.markdown.startswith("American Counseling Association. (2014).") for r in bibliography)


def test_a_source_that_is_not_a_reference_stops_the_generator_naming_the_file():
    case = dataclasses.replace(load_case("cosmetics"), sources=("see the handout from last year",))
    with pytest.raises(references.SourceError, match=r"cosmetics\.md: sources\[0\]: not an APA reference"):
        references.bibliography([case])


def test_same_authors_and_year_with_two_works_get_letter_suffixes():
    a = references.format_apa("Roe, A. (2001). First work. Journal of Tests, 1(1), 1-2.")
    b = references.format_apa("Roe, A. (2001). Second work. Journal of Tests, 1(2), 3-4.")
    out = references._deduplicated([b, a, a])
    assert [r.markdown.split(". ", 2)[1] for r in out] == ["(2001a)", "(2001b)"]
