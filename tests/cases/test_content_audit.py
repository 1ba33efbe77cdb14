"""Regression tests for the content audit: each fix that a test can state stays fixed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from widgets.cases import Library
from widgets.cases.casefile import code_registry

REPO = Path(__file__).resolve().parents[2]
CASES = REPO / "data" / "cases"
LESSONS = sorted((REPO / "notebooks").glob("0*.ipynb"))


@pytest.fixture(scope="module")
def library():
    return Library()


def section_refs(case) -> set[str]:
    return {f"{ref['code']} {ref['section']}" for ref in case.codes}


def flat(text: str) -> str:
    return " ".join(text.split())


def learner_text(case) -> str:
    """Everything a learner can see for a case: vignette, options, rationale, positions, discussion, sources."""
    parts = [case.title, case.vignette, flat(case.rationale), *case.discussion, *case.sources]
    for option in case.options:
        parts += [option.label, option.rationale]
    for position in case.positions:
        parts += [position["position"], position["held_by"]]
    for model in (case.kitchener, case.gottlieb or {}):
        parts += [v["note"] for v in model.values() if isinstance(v, dict)]
    return "\n".join(" ".join(p.split()) for p in parts)


def lesson_prose(path: Path) -> dict[str, str]:
    """The Markdown cells of a lesson notebook, by cell id (navigation cells left out)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    out = {}
    for cell in cells:
        if cell["cell_type"] != "markdown" or cell.get("id", "").startswith("dualrole-nav"):
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        out[cell.get("id", "")] = " ".join(src.split())
    return out


def all_lesson_prose() -> str:
    return "\n".join(text for path in LESSONS for text in lesson_prose(path).values())


def lesson(name: str) -> str:
    [path] = [p for p in LESSONS if p.name.startswith(name)]
    return "\n".join(lesson_prose(path).values())


# --- Severe -------------------------------------------------------------------------------------------

def test_former_client_three_years_does_not_cite_aca_a6e(library):
    case = library["former_client_three_years"]
    assert "ACA A.6.e" not in section_refs(case)
    assert "A.6.e" not in learner_text(case)
    assert "ACA A.5.c" in section_refs(case)


def test_aca_a6e_title_says_it_excludes_sexual_and_romantic_relationships():
    title = code_registry()["ACA"]["A.6.e"].lower()
    assert "other than sexual or romantic" in title


def test_aamft_1_4_not_1_3_for_romance_with_current_clients_and_their_family(library):
    assert "1.4" in code_registry()["AAMFT"]
    for case_id in ("current_client_romance", "client_sibling_romance"):
        case = library[case_id]
        assert "AAMFT 1.4" in section_refs(case), case_id
        assert "AAMFT 1.3" not in section_refs(case), case_id
        assert "AAMFT 1.3" not in learner_text(case), case_id
    bright_line = lesson_prose(next(p for p in LESSONS if p.name.startswith("06")))
    assert "AAMFT 1.4" in bright_line["l06-02"] and "AAMFT 1.3" not in bright_line["l06-02"]
    assert "AAMFT 1.4" in bright_line["l06-15"] and "AAMFT 1.3" not in bright_line["l06-15"]


def test_client_sibling_romance_reaches_a_date_short_of_sex(library):
    case = library["client_sibling_romance"]
    assert "APA 3.05(a)" in section_refs(case)
    assert "3.05(a)(2)" in flat(case.rationale)


def test_hiring_client_contractor_reasons_from_the_promise_in_apa_3_05_a_3(library):
    case = library["hiring_client_contractor"]
    text = learner_text(case)
    assert "3.05(a)(3)" in text
    assert not re.search(r"planned future tie counts|counts a promised future relationship", text)
    assert "begun after therapy has ended" in flat(case.rationale)


# --- Major ----------------------------------------------------------------------------------------------

def test_commander_asks_follows_dodi_6490_08_and_prefers_asking_her_first(library):
    case = library["commander_asks"]
    text = learner_text(case)
    assert "6490.08" in text and "presumes" in text
    assert "contradicts" not in text
    assert "check_first" in case.preferred
    assert not re.search(r"Specialist Kayla\b(?! Little Thunder)", text), "a rank goes with the surname"


def test_missing_sections_are_registered_and_cited(library):
    registry = code_registry()
    for code, section in [("NASW", "1.10"), ("NASW", "4.07(b)"), ("ACA", "C.3.f"), ("APA", "9.01(b)"),
                          ("ACA", "A.10.c"), ("APA", "4.02"), ("ACA", "A.6.c"), ("AAMFT", "1.4")]:
        assert section in registry[code], f"{code} {section}"
    cited = {
        "hug_last_session": "NASW 1.10",
        "therapist_sells_supplements": "ACA C.3.f",
        "custody_opinion": "APA 9.01(b)",
        "sliding_fee_alternative": "ACA A.10.c",
        "commander_asks": "APA 4.02",
    }
    for case_id, ref in cited.items():
        assert ref in section_refs(library[case_id]), f"{case_id} should cite {ref}"
    assert "NASW 1.10" in lesson("08")
    assert "NASW 4.07(b)" in lesson("07")
    assert "A.10.c" in lesson("04")


def test_therapist_sells_supplements_drops_the_undated_state_rule(library):
    case = library["therapist_sells_supplements"]
    assert not case.contested
    assert "Texas" not in learner_text(case)


def test_apa_3_05_c_title_names_judicial_or_administrative_proceedings():
    title = code_registry()["APA"]["3.05(c)"]
    assert "judicial or administrative proceedings" in title
    assert "courts or institutions" not in title


def test_lesson_09_commentary_agrees_with_its_case(library):
    case = library["climbing_with_supervisee"]
    assert case.gottlieb["power"]["level"] == "high" and case.kitchener["power"]["level"] == "high"
    assert case.kitchener["obligations"]["level"] == "high" and case.gottlieb["termination"]["level"] == "clear"
    text = lesson("09")
    assert "power dimension both sit high" in text and "diverging obligations" in text
    assert "clear end date" in text


def test_ohio_is_not_offered_as_a_stricter_state_rule(library):
    for case in library:
        assert "Ohio" not in learner_text(case), case.id
    assert "Ohio" not in all_lesson_prose()


def test_aca_a10e_is_paraphrased_as_accepted_among_professionals(library):
    for case_id in ("labour_for_fees", "sliding_fee_alternative"):
        text = learner_text(library[case_id])
        assert "among professionals" in text, case_id
    assert "among professionals" in lesson("04")
    everything = "\n".join(learner_text(c) for c in library) + all_lesson_prose()
    assert "accepted practice in the community" not in everything
    assert "welding" not in library["labour_for_fees"].vignette


def test_former_partners_only_aca_names_romantic_partners(library):
    text = lesson("06")
    assert "APA 10.07, ACA A.5.b and NASW 1.09(d) each rule out taking a former sexual or romantic" not in text
    assert "former sexual or romantic partner into therapy" not in text
    vignette = library["former_partner_requests_therapy"].vignette
    assert "sexual relationship" in vignette
    assert "You dated him" not in vignette


def test_every_position_in_a_contested_case_defends_options_that_are_scored(library):
    # One rule: an option a named position defends is never scored wrong, and every position names its options.
    exempt: set = set()
    for case in library:
        if not case.contested:
            continue
        scored = set(case.preferred) | set(case.acceptable)
        for i, position in enumerate(case.positions):
            defends = position.get("defends")
            if (case.id, i) not in exempt:
                assert defends, f"{case.id}: position {i} names no options it defends"
            assert set(defends or ()) <= scored, f"{case.id}: position {i} defends an unscored option"


def test_minority_options_are_scored_where_their_view_is_named(library):
    assert "one_small_order" in library["cosmetics"].acceptable
    assert "full_price_discussed" in library["car_repairs_at_cost"].preferred
    assert "coffee_with_safeguards" in library["friendship_after_therapy"].acceptable
    assert "limited_opinion" in library["custody_opinion"].acceptable
    assert "barter_with_contract" in library["labour_for_fees"].acceptable


def test_positions_name_their_holders_accurately(library):
    for case_id in ("hug_last_session", "session_outside_office"):
        for position in library[case_id].positions:
            held_by = position["held_by"]
            assert re.search(r"\(?(19|20)\d\d\)?|APA|ACA|AAMFT|NASW|Sonne", held_by), f"{case_id}: {held_by}"
            assert not held_by.startswith(("Writers who hold", "Risk-management writers who hold")), case_id
    cosmetics = library["cosmetics"]
    minority = next(p for p in cosmetics.positions if "one_small_order" in p.get("defends", ()))
    assert minority["held_by"].startswith("Lazarus and Zur"), "Gutheil and Gabbard supplied the distinction, not the approval"
    car = library["car_repairs_at_cost"]
    decline = next(p for p in car.positions if "drive_elsewhere" in p.get("defends", ()))
    assert "A.6.b" not in decline["held_by"], "ACA A.6.b permits a purchase with safeguards"


def test_a_case_that_describes_disagreement_is_marked_contested(library):
    phrases = re.compile(r"writers differ widely|ethicists (?:also )?disagree|writers disagree|the case is contested", re.I)
    for case in library:
        if phrases.search(flat(case.rationale)):
            assert case.contested, f"{case.id} describes disagreement but is not contested"


def test_deciding_facts_left_open_widen_the_preferred_answers(library):
    assert {"brief_hug_her_terms", "warm_alternative"} <= set(library["hug_last_session"].preferred)
    assert {"accept_with_plan", "consult_first"} <= set(library["faith_community"].preferred)


# --- Minor ----------------------------------------------------------------------------------------------

INTERNAL_WORDS = re.compile(
    r"catalogue guidance|scenario catalogue|stored version|stored texas|our registry|code registry|the registry"
    r"|ethics-facts|\[(?:V|S|P|U)\]|unverified",
    re.I,
)


def test_no_internal_words_in_learner_facing_text(library):
    for case in library:
        found = INTERNAL_WORDS.findall(learner_text(case))
        assert not found, f"{case.id}: {found}"
    for path in LESSONS:
        for cell_id, text in lesson_prose(path).items():
            found = INTERNAL_WORDS.findall(text)
            assert not found, f"{path.name} cell {cell_id}: {found}"


def test_citations_and_scope(library):
    assert any(ref.startswith("ACA ") for ref in section_refs(library["small_college_counselor"]))
    gift = library["expensive_gift"]
    assert not {"APA 3.08", "NASW 1.06(b)"} & section_refs(gift)
    assert "no standard on gifts" in flat(gift.rationale)
    search = library["searching_client_online"]
    assert "news" in flat(search.rationale) and "H.6.c allows" not in learner_text(search)


def test_investment_tip_addresses_possible_inside_information(library):
    rationale = flat(library["investment_tip"].rationale)
    assert "inside information" in rationale
    assert "beyond this case" not in rationale


BRITISH = re.compile(
    r"\b(?:judgements?|counsell\w*|behaviour\w*|organis\w*|recognis\w*|realis(?:e|ed|es)|criticis\w*|socialis\w*"
    r"|summaris\w*|authoris\w*|colour\w*|honour\w*|favour\w*|labour(?!_for_fees)\w*|neighbour\w*|rumour\w*|centres?"
    r"|programmes?|licence|manoeuvr\w*|offence|defence|practis\w*|cancell(?:ed|ing)|labelled|metres?|per cent)\b",
    re.I,
)


def test_us_spelling_in_cases_and_lesson_prose(library):
    for case in library:
        text = learner_text(case).replace("\n".join(case.sources), "")  # cited titles keep their own spelling
        found = sorted(set(BRITISH.findall(text)))
        assert not found, f"{case.id}: {found}"
    for path in LESSONS:
        found = sorted(set(BRITISH.findall("\n".join(lesson_prose(path).values()))))
        assert not found, f"{path.name}: {found}"


CLIENT_NAMES = {
    "car_repairs_at_cost": "Earl", "client_hair_salon": "Thu", "client_sibling_romance": "Aaliyah",
    "commander_asks": "Kayla", "cosmetics": "Marisol", "current_client_romance": "Graham",
    "custody_opinion": "Tomás", "employer_asks": "Jun-ho", "expensive_gift": "Camille",
    "faith_community": "Yusuf", "former_client_three_years": "Ji-ho", "former_partner_requests_therapy": "Cody",
    "friend_request": "Ji-woo", "friends_teenager": "Bilal", "friendship_after_therapy": "Lindiwe",
    "grocery_store_encounter": "Walter", "hiring_client_contractor": "Sione", "housewarming_party": "Priya",
    "hug_last_session": "Rosa", "investment_tip": "Anjali", "labour_for_fees": "Wade",
    "lgbtq_community_overlap": "Jordan", "lunch_at_termination": "Keiko", "military_base": "Erin",
    "online_review_reply": "Marisa", "only_therapist_in_town": "Hannah", "parent_of_adult_client": "Lucía",
    "professor_as_therapist": "Nia", "searching_client_online": "Callum", "self_disclosure": "Darnell",
    "session_outside_office": "Hamid", "sliding_fee_alternative": "Mei-Ling", "small_college_counselor": "Mateo",
    "small_holiday_gift": "Lan", "spouse_phone_call": "Devika", "therapists_child_friend": "Mai",
    "therapists_public_posts": "Teresa", "wedding_invitation": "Daniel",
}


def test_no_client_name_is_used_in_two_cases(library):
    assert len(set(CLIENT_NAMES.values())) == len(CLIENT_NAMES)
    texts = {case.id: learner_text(case) for case in library}
    for case_id, name in CLIENT_NAMES.items():
        pattern = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])")
        assert pattern.search(library[case_id].vignette), f"{name} is not in {case_id}'s vignette"
        others = sorted(other for other, text in texts.items() if other != case_id and pattern.search(text))
        assert not others, f"client name {name} ({case_id}) is also used in {others}"


def test_survey_percentages_are_not_presented_as_a_trend(library):
    trend = re.compile(r"rose from \d+%|growing share|increased from \d+%", re.I)
    for case in library:
        assert not trend.search(learner_text(case)), case.id
    assert not trend.search(all_lesson_prose())


def test_unverified_citations_are_gone(library):
    everything = "\n".join(learner_text(c) for c in library) + all_lesson_prose()
    for gone in ("Landsinger", "Thomas (2002)", "Thomas, J. L.", "Zur (2008)", "Zur, O. (2008)", "pp. 394-408"):
        assert gone not in everything, gone


def test_spouse_phone_call_keeps_the_source_articles_reasons(library):
    case = library["spouse_phone_call"]
    assert "who he says" in flat(case.rationale) and "controlling" in flat(case.rationale)
    assert "release" in case.option("ncnd_listen_tell").rationale
    assert any("next time I see her" in q for q in case.discussion)
    assert "therapeutic bubble" in lesson("03")


def test_third_party_disclosure_cases_have_no_second_role(library):
    for case_id in ("employer_asks", "spouse_phone_call", "parent_of_adult_client", "online_review_reply"):
        assert library[case_id].second_role is False, case_id
    assert library["cosmetics"].second_role is True


# --- Review of 2026-12-07 -------------------------------------------------------------------------------


def test_no_credit_for_a_gift_of_labor_or_for_hiring_a_current_client(library):
    # M1: Lazarus's example was barter at a fair exchange, not free labor; A.10.f's value and motive tests
    # both point against accepting. M2: no named view defends a therapist-initiated hire of a current client.
    car = library["car_repairs_at_cost"]
    assert car.score("accept_at_cost") == 0
    lazarus = next(p for p in car.positions if p["held_by"].startswith("Lazarus"))
    assert lazarus["defends"] == ["full_price_discussed"] and "not free labor" in flat(lazarus["position"])
    assert "A.10.f" in flat(car.rationale) and "motive" in flat(car.rationale)
    hire = library["hiring_client_contractor"]
    assert hire.score("hire_with_contract") == 0 and not hire.contested
    assert not any("Lazarus" in s for s in hire.sources)


def test_client_hair_salon_weighs_the_adapted_articles_default(library):
    # M11: the seed author goes elsewhere; both discussed courses are preferred and the case is contested.
    salon = library["client_hair_salon"]
    assert salon.contested and {"discuss_ground_rules", "discuss_then_switch"} <= set(salon.preferred)
    assert "wonder what her therapist" in flat(salon.rationale)
    assert any("Restoring Balance" in p["held_by"] for p in salon.positions)


def test_a_policy_of_not_attending_is_not_called_stricter_than_the_code(library):
    # M7: codes set floors; an explained no-events policy is defensible, a bare rule is not.
    for case_id in ("arena_graduation", "father_in_hospice"):
        case = library[case_id]
        assert "stricter than the code" not in learner_text(case), case_id
        assert "permits" in flat(case.rationale) and "does not require" in flat(case.rationale), case_id
        assert case.contested, case_id
    arena = library["arena_graduation"]
    assert arena.option("decline_rule").label.endswith("say nothing more") and arena.score("decline_rule") == 0
    assert arena.score("card_and_talk") > 0 and "not attend" in arena.option("card_and_talk").label
    # M8: the contemplated crossing is one brief public event; a long therapy alone does not bar it.
    assert arena.gottlieb["duration"]["level"] == "brief"


def test_mandated_reporting_says_about_18_states_require_any_person(library):
    # M14: "a few require everyone" misinformed; the Gateway summary is cited with its date.
    welts = library["welts_on_his_legs"]
    assert "a few require" not in flat(welts.rationale)
    assert "about 18 states and Puerto Rico" in flat(welts.rationale)
    assert any("Child Welfare Information Gateway" in s and "May 2023" in s for s in welts.sources)


def test_kitcheners_factors_are_marked_as_borrowed_where_there_is_no_second_role(library):
    # m2: the dual-role model is not the framework for a third party's request; say it is borrowed.
    for case in library:
        if case.second_role or case.use != "lesson" or case.module != "confidentiality":
            continue
        assert "borrowed" in case.kitchener["expectations"]["note"], case.id
        assert not any(s.startswith("Kitchener") for s in case.sources), case.id


def test_duty_to_protect_tallies_are_qualified_before_the_numbers(library):
    # m32: 29 + 16 + 4 is 49 states; the caveat comes first.
    text = flat(library["threat_in_the_parking_lot"].rationale)
    assert text.index("tallies of them differ") < text.index("about 29 states")


def test_the_therapeutic_bubble_is_taught_from_the_clients_side_and_applied(library):
    # M15: a lesson section in lesson 2, in the key points of lessons 2 and 3, and used in case rationales.
    business = lesson("02")
    assert "## The therapeutic bubble" in business or "The therapeutic bubble" in business
    assert "that's the only relationship we have" in business
    assert "client" in business and "costs" in business.lower()
    applied = [c.id for c in library if c.use == "lesson" and "bubble" in flat(c.rationale)]
    assert {"cosmetics", "hiring_client_contractor", "housewarming_party"} <= set(applied), applied


def test_lesson_03_says_gottlieb_rates_both_relationships():
    # M8: the rule as taught must not contradict the keyed ceremony cases.
    social = lesson("03")
    assert "Gottlieb advises caution when any dimension is high" not in social
    assert "Both relationships are rated" in social and "not as a bar" in social


def test_start_here_says_what_a_minority_view_scores_and_cites_mazur():
    start = lesson("00")
    assert "half credit (0.5)" in start  # m30
    assert "Mazur, 1997" in start  # m34
