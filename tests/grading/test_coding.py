"""Coding learners' reasoning: the codebook, coding sheets on both backends, the coding screen driven
by its keys (blind coders, spans, reconciliation) and agreement, checked against published values.

Every learner and coder here is synthetic.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from _store_workers import synthetic_response
from click.testing import CliRunner

from widgets.analysis.coded_reasoning import code_alpha, disagreements, nominal_alpha, pair_kappa, presence
from widgets.cli import cli
from widgets.errors import DualroleError, InvalidFile
from widgets.grading.codebook import default_codebook, load_codebook, qdc_bytes, read_qdc, write_qdc
from widgets.reporting.simulate import into_store, simulate
from widgets.store import open_store
from widgets.store.codings import CodingBook
from widgets.ui.coding import CodingScreen, ReviewApp

CASE = "cosmetics"
NAN = math.nan


@pytest.fixture
def store(tmp_path):
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    into_store(simulate(learners=6, cohorts=2, seed=5), store)
    return store


# -- the codebook ----------------------------------------------------------------------------------


def test_the_default_codebook_has_the_ten_codes_each_with_definition_example_and_counter_example():
    codebook = default_codebook()
    assert codebook.ids == ["autonomy", "beneficence", "nonmaleficence", "justice", "fidelity", "names_roles",
                            "names_risk", "cites_standard", "weighs_alternative", "refers_or_consults"]
    for code in codebook.codes:
        assert code.definition and code.example and code.counter_example
        assert code.example != code.counter_example
    assert {c.group for c in codebook.codes} == {"principle", "reasoning"}
    assert codebook.key_of("autonomy") == "1" and codebook.key_of("refers_or_consults") == "0"


def _write(tmp_path, text):
    path = tmp_path / "codebook.yaml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD = """id: mine
title: Mine
version: 2
codes:
  - id: roles
    name: Roles
    definition: Names a role.
    example: As her therapist and her landlord...
    counter_example: It is tricky.
"""


def test_a_codebook_problem_is_named_by_file_line_and_field(tmp_path):
    path = _write(tmp_path, GOOD.replace("    example: As her therapist and her landlord...\n", "")
                  + "  - id: roles\n    name: Roles again\n    definition: d\n    example: e\n    counter_example: c\n")
    with pytest.raises(InvalidFile) as caught:
        load_codebook(path)
    assert "codebook.yaml:5: codes[0]: missing required field 'example'" in str(caught.value)

    path = _write(tmp_path, GOOD + "  - id: roles\n    name: Other\n    definition: d\n    example: e\n"
                  "    counter_example: c\n")
    with pytest.raises(InvalidFile, match=r"codebook.yaml:10: codes\[1\].id: duplicate code id 'roles'"):
        load_codebook(path)


def test_the_command_checks_a_codebook_without_a_traceback(tmp_path):
    bad = _write(tmp_path, GOOD.replace("version: 2", "version: two"))
    result = CliRunner().invoke(cli, ["codebook", str(bad)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "codebook.yaml:3: version:" in result.output
    good = CliRunner().invoke(cli, ["codebook", "--qdc", str(tmp_path / "out.qdc")])
    assert good.exit_code == 0, good.output
    assert "1  autonomy: Principle: autonomy" in good.output and (tmp_path / "out.qdc").exists()


def test_the_codebook_goes_to_qdc_and_comes_back_whole(tmp_path):
    codebook = default_codebook()
    back = read_qdc(write_qdc(codebook, tmp_path / "codes.qdc"))
    assert back.codes == codebook.codes  # ids, names, groups, colours, definitions, examples, counter-examples
    assert load_codebook(tmp_path / "codes.qdc").codes == codebook.codes


def test_a_qdc_from_another_tool_is_read_by_its_names_and_a_broken_one_is_refused(tmp_path):
    other = tmp_path / "nvivo.qdc"
    other.write_text(
        '<?xml version="1.0" encoding="utf-8"?><CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="elsewhere"><Codes>'
        '<Code guid="1FF58B12-6F6F-4B0C-8BE5-BBDC91F55294" name="Trust talk" isCodable="true">'
        "<Description>Mentions trust.</Description></Code></Codes></CodeBook>", encoding="utf-8")
    codebook = read_qdc(other)
    assert [(c.id, c.name, c.definition) for c in codebook.codes] == [("trust_talk", "Trust talk", "Mentions trust.")]
    broken = tmp_path / "broken.qdc"
    broken.write_text(other.read_text().replace(' isCodable="true"', ""), encoding="utf-8")
    with pytest.raises(InvalidFile, match="broken.qdc"):
        read_qdc(broken)


def test_the_written_qdc_is_valid_against_the_published_codebook_schema():
    import xmlschema

    from widgets.paths import data_dir

    schema = xmlschema.XMLSchema(str(data_dir() / "schema" / "refi_qda" / "Codebook.xsd"))
    schema.validate(qdc_bytes(default_codebook()).decode("utf-8"))


def test_libxml2_and_xmlschema_agree_on_valid_and_broken_codebooks():
    """schema_problems trusts libxml2's "valid" and asks xmlschema about anything else (for the
    wording): the two must give the same verdict, so a document libxml2 passes is one xmlschema passes."""
    from widgets.grading import codebook as module

    good = qdc_bytes(default_codebook())
    broken = {
        "a required attribute missing": good.replace(b' isCodable="true"', b"", 1),
        "a GUID that is not one": re.sub(rb'guid="[0-9A-F]', b'guid="x', good, count=1),
        "an element the schema lacks": good.replace(b"<Codes>", b"<Codes><Colour/>", 1),
        "not well-formed": good[:-20],
        "an entity from outside the file": re.sub(
            rb"<\?xml[^>]*\?>", b'<!DOCTYPE CodeBook [<!ENTITY e SYSTEM "file:///etc/passwd">]>', good, count=1,
        ).replace(b"<Codes>", b"<Codes>&e;", 1),
    }
    assert b"<!ENTITY" in broken["an entity from outside the file"]
    assert module._fast_schema("Codebook") is not None  # lxml is a dependency: the fast path is tested
    assert module._valid_fast(good, "Codebook") and module._schema("Codebook").is_valid(good.decode("utf-8"))
    assert module.schema_problems(good, "Codebook") == []
    for what, data in broken.items():
        assert not module._valid_fast(data, "Codebook"), what
        assert module.schema_problems(data, "Codebook") != [], what


# -- coding sheets in the store --------------------------------------------------------------------


def test_coding_sheets_are_appended_and_the_latest_of_each_coder_counts(store_url):
    store = open_store(store_url)
    store.add(synthetic_response("synthetic-ana"))
    codebook = default_codebook()
    book = CodingBook(store)
    response = store.responses(learner="synthetic-ana")[0]
    text = response["justification"]
    book.record(response["response_id"], "coder-a", codebook, ["autonomy"])
    book.record(response["response_id"], "coder-a", codebook, [{"code": "names_roles", "start": 0, "end": 5}, "autonomy"])
    book.record(response["response_id"], "coder-b", codebook, [])
    book.record(response["response_id"], "coder-c", codebook, ["fidelity"], reconciled=True)

    assert len(book.sheets(latest=False, reconciled=None)) == 4  # nothing overwritten
    latest = {s["coder"]: s for s in book.sheets()}
    assert set(latest) == {"coder-a", "coder-b"}  # reconciled sheets apart
    assert latest["coder-a"]["segments"] == [{"code": "autonomy", "start": None, "end": None},
                                             {"code": "names_roles", "start": 0, "end": 5}]
    assert latest["coder-b"]["segments"] == []
    sheet = latest["coder-a"]
    assert sheet["codebook_id"] == codebook.id and sheet["codebook_version"] == codebook.version
    assert sheet["coded_at"].tzinfo is not None and sheet["origin"] == "review"
    assert [s["coder"] for s in book.sheets(coder="coder-b")] == ["coder-b"]  # a coder sees only their own
    assert book.reconciled()[response["response_id"]]["segments"][0]["code"] == "fidelity"
    with pytest.raises(DualroleError, match=r"the span 3-9999 is not inside the answer"):
        book.record(response["response_id"], "coder-a", codebook, [{"code": "autonomy", "start": 3, "end": 9999}])
    with pytest.raises(DualroleError, match="'tone' is not a code of codebook"):
        book.record(response["response_id"], "coder-a", codebook, ["tone"])
    assert len(book.sheets(latest=False, reconciled=None)) == 4 and len(text) > 5
    assert store.erase_learner("synthetic-ana") == 1
    assert book.sheets(reconciled=None) == []  # codings go with the learner's answers


# -- the coding screen -----------------------------------------------------------------------------


def test_keys_apply_codes_to_the_whole_answer_or_a_selected_span_and_n_saves(store):
    screen = CodingScreen(store, coder="coder-a", case=CASE)
    first = screen.current
    screen.pad.press("1")                 # autonomy, whole answer
    screen.pad.press("6", start=12, end=30)  # names_roles on a span
    screen.pad.press("8")
    screen.pad.press("8")                 # pressed again: removed
    screen.pad.press("n")

    sheets = screen.book.sheets(coder="coder-a")
    assert [(s["response_id"], s["segments"]) for s in sheets] == [
        (first["response_id"], [{"code": "autonomy", "start": None, "end": None},
                                {"code": "names_roles", "start": 12, "end": 30}])]
    assert screen.index == 1 and screen.pad.segments == [] and screen.pad.text == screen.current["justification"]
    screen.pad.press("p")
    assert screen.current["response_id"] == first["response_id"] and len(screen.pad.segments) == 2
    assert len(screen.book.sheets(latest=False)) == 1  # going back and forth saves nothing unchanged


def test_moving_on_from_an_answer_with_no_code_records_that_none_applies(store):
    screen = CodingScreen(store, coder="coder-a", case=CASE)
    first = screen.current["response_id"]
    screen.pad.press("n")
    assert [(s["response_id"], s["segments"]) for s in screen.book.sheets()] == [(first, [])]


def test_coders_are_blind_to_each_other_until_they_reconcile(store):
    a = CodingScreen(store, coder="coder-a", case=CASE)
    target = a.current["response_id"]
    a.pad.press("1")
    a.pad.press("5")
    a.pad.press("n")

    b = CodingScreen(store, coder="coder-b", case=CASE)
    assert b.current["response_id"] == target and b.pad.segments == []  # nothing of coder-a's shows
    assert "coder-a" not in b.others.value and "coder-a" not in b.answer.value
    b.pad.press("1")
    b.pad.press("n")

    b.reconcile.value = True
    assert [r["response_id"] for r in b.items] == [target]  # only answers two coders coded
    assert "Principle: fidelity: applied by coder-a; not by coder-b" in b.others.value
    assert b.pad.segments == [{"code": "autonomy", "start": None, "end": None}]  # starts from what both applied
    b.pad.press("5")
    b.save()
    agreed = b.book.reconciled()[target]
    assert agreed["coder"] == "coder-b" and [s["code"] for s in agreed["segments"]] == ["autonomy", "fidelity"]
    assert {s["coder"] for s in b.book.sheets()} == {"coder-a", "coder-b"}  # the coders' own sheets unchanged


def test_the_review_app_switches_between_scoring_and_coding(store):
    app = ReviewApp(store, mode="coding", case=CASE, coder="coder-a", scorer="dr-lee")
    assert type(app.screen).__name__ == "CodingScreen" and app.screen.coder.value == "coder-a"
    app.screen.pad.press("2")
    app.mode.value = "scoring"  # switching saves the codes on screen
    assert type(app.screen).__name__ == "ReviewScreen" and app.screen.scorer.value == "dr-lee"
    assert [s["segments"][0]["code"] for s in CodingBook(store).sheets()] == ["beneficence"]
    with pytest.raises(DualroleError, match="mode 'grading' is not one of scoring, coding"):
        ReviewApp(store, mode="grading")


# -- agreement -------------------------------------------------------------------------------------


def test_alpha_reproduces_krippendorffs_published_nominal_example():
    # Krippendorff (2011), "Computing Krippendorff's alpha-reliability", section C: four observers,
    # twelve units, nominal values 1-5 with missing data; the published alpha is 0.743.
    data = [[1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
            [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
            [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
            [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN]]
    assert round(nominal_alpha(data), 3) == 0.743


def test_per_code_alpha_reproduces_the_published_binary_example():
    # Krippendorff (2011), section A: two observers, ten units, binary values; published alpha 0.095.
    first = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
    second = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]
    sheets = [{"response_id": f"r{i}", "case_id": CASE, "coder": coder, "segments": [{"code": "fidelity"}] * v}
              for coder, values in (("A", first), ("B", second)) for i, v in enumerate(values)]
    table = presence(sheets, ["fidelity"])
    alpha = code_alpha(table)
    assert alpha.to_dict("records") == [{"code": "fidelity", "alpha": pytest.approx(0.095, abs=5e-4),
                                         "answers": 10, "coders": 2}]


def test_kappa_per_pair_and_disagreements_count_only_answers_coded_independently():
    def sheet(rid, coder, *codes):
        return {"response_id": rid, "case_id": CASE, "coder": coder, "segments": [{"code": c} for c in codes]}

    sheets = [sheet("r1", "A", "autonomy"), sheet("r1", "B", "autonomy"),
              sheet("r2", "A", "autonomy"), sheet("r2", "B"),
              sheet("r3", "A"), sheet("r3", "B"), sheet("r4", "A"), sheet("r4", "B"),
              sheet("r5", "A", "autonomy")]  # coded by one coder only: not part of agreement
    table = presence(sheets, ["autonomy", "justice"])
    kappa = pair_kappa(table).set_index("code")
    from sklearn.metrics import cohen_kappa_score

    assert kappa.loc["autonomy", "n"] == 4
    assert kappa.loc["autonomy", "kappa"] == pytest.approx(cohen_kappa_score([1, 1, 0, 0], [1, 0, 0, 0]))
    assert kappa.loc["autonomy", "agreement"] == 0.75
    assert np.isnan(kappa.loc["justice", "kappa"])  # nobody applied it: kappa is undefined, not 1
    assert disagreements(table).to_dict("records") == [
        {"response_id": "r2", "case_id": CASE, "code": "autonomy", "applied_by": "A", "not_by": "B"}]


def test_the_screen_reports_alpha_over_two_coders(store):
    for coder, key in (("coder-a", "1"), ("coder-b", "1")):
        screen = CodingScreen(store, coder=coder, case=CASE)
        for _ in range(3):
            screen.pad.press(key)
            screen.pad.press("n")
        key = "2" if coder == "coder-a" else key
    table = screen.agreement().set_index("code")
    assert table.loc["autonomy", "answers"] == 3 and table.loc["autonomy", "coders"] == 2
    assert np.isnan(table.loc["autonomy", "alpha"])  # every answer got it from both: no variation to assess


# -- patterns in the codes, for an audience ----------------------------------------------------------


def _coded_frame(answers):
    """A tidy-like frame of first answers: (learner, case, option, phase, attempt, codes)."""
    import pandas as pd

    rows = [{"response_id": f"r{i}", "learner": learner, "cohort": "synthetic-cohort-1", "case_id": case,
             "option_id": option, "phase": phase, "attempt": attempt}
            for i, (learner, case, option, phase, attempt, _codes) in enumerate(answers)]
    sheets = [{"response_id": f"r{i}", "segments": [{"code": c} for c in codes]}
              for i, (*_rest, codes) in enumerate(answers)]
    from widgets.analysis.coded_reasoning import coded_answers

    frame = pd.DataFrame(rows)
    return frame, coded_answers(frame, sheets, ["autonomy", "justice"])


def test_codes_by_choice_hide_small_groups_and_small_shares_from_the_public():
    from widgets.privacy import passes
    from widgets.reporting import code_patterns as report

    answers = ([(f"l{i}", CASE, "a", "pre", 1, ["autonomy"] if i < 12 else []) for i in range(24)]
               + [(f"l{i}", CASE, "b", "pre", 1, ["autonomy"]) for i in range(24, 27)])
    _frame, coded = _coded_frame(answers)
    public = report.codes_by_choice(coded, ["autonomy", "justice"]).set_index("option_id")
    assert passes(public)
    assert public.loc["a", "n"] == 24 and public.loc["a", "autonomy"] == 0.5
    assert _hidden(public.loc["a", "justice"])  # no answer of 24 has it: the count 0 is under 10
    assert "b" not in public.index or _hidden(public.loc["b", "n"])  # 3 answers: never shown to the public
    exact = report.codes_by_choice(coded, ["autonomy", "justice"], audience="instructor").set_index("option_id")
    assert exact.loc["b", "n"] == 3 and exact.loc["b", "autonomy"] == 1.0 and exact.loc["a", "justice"] == 0.0
    import pandas as pd

    raw = pd.DataFrame(exact.reset_index().to_dict("records"))  # the same numbers, past no disclosure rule
    with pytest.raises(DualroleError, match="plots show only gated tables"):
        report.plot_codes_by(raw, ["autonomy"], {}, "option_id")
    assert report.plot_codes_by(public.reset_index(), ["autonomy"], {}, "option_id").png


def _hidden(value) -> bool:
    import pandas as pd

    return value is pd.NA or (isinstance(value, float) and np.isnan(value))


def test_codes_from_pre_to_post_pair_each_learners_phases():
    from widgets.analysis.coded_reasoning import codes_pre_post

    answers = []
    for i in range(4):
        answers.append((f"l{i}", "case_pre", "a", "pre", 1, []))
        answers.append((f"l{i}", "case_post", "a", "post", 1, ["autonomy"] if i < 3 else []))
    answers.append(("l9", "case_pre", "a", "pre", 1, ["autonomy"]))  # no post answer: not paired
    _frame, coded = _coded_frame(answers)
    table = codes_pre_post(coded, ["autonomy", "justice"]).set_index("code")
    assert table.loc["autonomy", ["pre", "post", "change"]].tolist() == [0.0, 0.75, 0.75]
    assert table.loc["autonomy", "learners"] == 4 and table.loc["justice", "change"] == 0.0


def test_learners_who_changed_their_answer_are_compared_with_those_who_kept_it():
    from widgets.analysis.coded_reasoning import codes_by_change

    answers = [("l1", CASE, "a", "post", 1, ["autonomy"]), ("l1", CASE, "b", "post", 2, []),
               ("l2", CASE, "a", "post", 1, []), ("l2", CASE, "a", "post", 2, []),
               ("l3", CASE, "a", "post", 1, ["justice"])]
    frame, coded = _coded_frame(answers)
    table = codes_by_change(coded, frame, ["autonomy", "justice"]).set_index("group")
    assert table.loc["changed", "n"] == 1 and table.loc["changed", "autonomy"] == 1.0
    assert table.loc["kept", "n"] == 2 and table.loc["kept", "justice"] == 0.5
