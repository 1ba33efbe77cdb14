"""The shipped case library: complete, valid, balanced, reachable from a lesson, and not repetitive."""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import combinations
from pathlib import Path

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics.pairwise import cosine_similarity

from widgets.cases.casefile import code_registry
from widgets.cases.library import Library, validate_paths
from widgets.vocab import MODULES

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
OUTSIDE_CITIES = {"rural", "small_college", "military", "faith_community"}
PLAIN_DECLINE = {"decline", "decline_and_explore", "refer"}


@pytest.fixture(scope="module")
def library():
    return Library()


def test_every_shipped_case_is_valid():
    cases, problems = validate_paths()
    assert problems == [], "\n".join(map(str, problems))
    assert len(cases) >= 40


def test_eight_modules_with_at_least_four_cases_each(library):
    counts = Counter(c.module for c in library)
    assert set(counts) == set(MODULES)
    assert all(n >= 4 for n in counts.values()), counts


def test_each_module_has_a_case_outside_a_large_city(library):
    for module in MODULES:
        settings = {c.setting for c in library.module(module)}
        assert settings & OUTSIDE_CITIES, f"module {module} has no rural, small-college, military or faith case"


def test_vignettes_are_120_to_300_words(library):
    for case in library:
        words = len(re.findall(r"\b[\w'’-]+\b", case.vignette))
        assert 120 <= words <= 300, f"{case.id}: vignette has {words} words"


def test_options_have_two_to_five_sentence_rationales(library):
    for case in library:
        for option in case.options:
            sentences = len(re.findall(r"[.!?](?:\s|$)", option.rationale))
            assert 2 <= sentences <= 5, f"{case.id}.{option.id}: {sentences} sentences"


def test_every_code_reference_is_registered(library):
    registry = code_registry()
    for case in library:
        for ref in case.codes:
            assert str(ref["section"]) in registry[ref["code"]], f"{case.id}: {ref}"


def _is_plain_decline(case) -> bool:
    return set(case.reference_stances) <= PLAIN_DECLINE and not case.contested and not case.context_dependent


def test_answers_are_balanced(library):
    cases = list(library)
    n = len(cases)
    safeguards_or_context = [c for c in cases if "accept_with_safeguards" in c.reference_stances or c.context_dependent]
    contested = [c for c in cases if c.contested]
    plain = [c for c in cases if _is_plain_decline(c)]
    assert len(safeguards_or_context) >= 0.30 * n, f"{len(safeguards_or_context)}/{n} safeguards or context-dependent"
    assert len(contested) >= 8, f"only {len(contested)} contested cases"
    assert len(plain) <= 0.40 * n, f"{len(plain)}/{n} plain declines"


def test_contested_cases_name_who_holds_each_position(library):
    for case in library:
        if case.contested:
            assert len(case.positions) >= 2
            assert all(p["held_by"].strip() for p in case.positions)


def test_every_case_is_reachable_from_a_lesson(library):
    shown = set()
    for path in NOTEBOOKS.glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            if cell["cell_type"] == "code":
                shown |= set(re.findall(r"(?:CaseCard|DecisionModel)\(\s*[\"']([\w-]+)[\"']", src))
                for module in re.findall(r"CaseList\(\s*[\"'](\w+)[\"']", src):
                    shown |= {c.id for c in library.module(module)}
    missing = sorted({c.id for c in library if c.use == "lesson"} - shown)
    assert not missing, f"cases in no lesson: {missing}"
    bank = {c.id for c in library if c.use == "assessment"}
    assert not bank & shown, f"assessment-only cases shown in a lesson: {sorted(bank & shown)}"


def test_no_two_vignettes_are_near_duplicates(library):
    cases = list(library)
    tfidf = TfidfVectorizer(stop_words="english", ngram_range=(1, 2)).fit_transform(c.vignette for c in cases)
    similarity = cosine_similarity(tfidf)
    too_close = [(a.id, b.id, round(similarity[i, j], 2))
                 for (i, a), (j, b) in combinations(enumerate(cases), 2) if similarity[i, j] > 0.5]
    assert not too_close, f"near-duplicate vignettes: {too_close}"


def test_each_work_is_cited_in_one_form_across_the_library(library):
    # A learner comparing two cases should find the same reference written the same way.
    forms: dict[str, set[str]] = {}
    for case in library:
        for source in case.sources:
            authors_and_year = re.match(r"(.+?)\((\d{4})", source)
            work = " ".join(authors_and_year.groups()) if authors_and_year else source
            forms.setdefault(work, set()).add(source)
    assert {work: sorted(f) for work, f in forms.items() if len(f) > 1} == {}
