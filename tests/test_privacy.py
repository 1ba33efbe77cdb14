"""The small-cell gate, keyed pseudonyms, research codes and crosswalks."""

from __future__ import annotations

import ast
import hashlib
import hmac
import stat
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from widgets import privacy
from widgets.privacy import PrivacyError, gate, passes, recoverable, suppression_mask

REPO = Path(__file__).resolve().parent.parent


def test_min_cell_is_ten_by_default_and_never_below_five():
    assert privacy.MIN_CELL == 10
    assert gate(9) is pd.NA and gate(10) == 10
    assert gate(5, min_cell=5) == 5
    for bad in (4, 0, -1, 7.5, True):
        with pytest.raises(PrivacyError, match="at least 5"):
            gate(12, min_cell=bad)


def test_every_shown_count_is_at_least_min_cell():
    rng = np.random.default_rng(7)
    for _ in range(50):
        counts = pd.DataFrame(rng.integers(0, 40, size=(rng.integers(1, 7), rng.integers(1, 6))))
        gated = gate(counts)
        shown = gated.to_numpy(dtype=float, na_value=np.nan)
        assert np.all(np.isnan(shown) | (shown >= 10))
        assert passes(gated)


def test_a_single_hidden_cell_in_a_line_gets_a_partner():
    table = pd.DataFrame({"pre": [12, 3, 15], "post": [20, 11, 14]}, index=["a", "b", "c"])
    gated = gate(table)
    assert gated.loc["b", "pre"] is pd.NA
    for line in [*(gated.loc[r] for r in gated.index), *(gated[c] for c in gated.columns)]:
        assert line.isna().sum() != 1


def test_no_hidden_count_can_be_worked_out_from_the_totals():
    rng = np.random.default_rng(11)
    for _ in range(200):
        values = rng.integers(0, 30, size=(rng.integers(1, 8), rng.integers(1, 7)))
        hidden = suppression_mask(values, 10)
        padded = np.zeros((values.shape[0] + 1, values.shape[1] + 1))
        assert recoverable(padded, hidden) == []


def test_the_audit_finds_a_cell_that_the_two_per_line_rule_misses():
    # Two 2x2 blocks of hidden cells joined by one hidden "bridge" cell: every line has two or
    # more hidden entries, yet the bridge's value follows from the totals.
    hidden = np.zeros((6, 6), dtype=bool)
    for r, c in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[r, c] = True
    assert recoverable(np.zeros((6, 6)), hidden) == [(1, 2)]


def test_hidden_cells_never_add_up_to_less_than_min_cell_in_a_line():
    # Hidden 0 and 0 beside a visible total would each be known to be 0; in general each hidden
    # entry of a line is at most the hidden entries' sum, so that sum must not be small.
    table = pd.DataFrame({"x": [40, 30], "y": [0, 25], "z": [0, 20]}, index=["pre", "post"])
    gated = gate(table)
    assert gated.loc["pre", "x"] is pd.NA
    rng = np.random.default_rng(5)
    for _ in range(100):
        values = rng.integers(0, 25, size=(rng.integers(1, 6), rng.integers(1, 6)))
        hidden = suppression_mask(values, 10)
        full = np.zeros(hidden.shape)
        full[:-1, :-1] = values
        full[:-1, -1], full[-1, :-1], full[-1, -1] = values.sum(1), values.sum(0), values.sum()
        for line_hidden, line_values in [*zip(hidden, full), *zip(hidden.T, full.T)]:
            if 0 < line_hidden.sum() < len(line_hidden):
                assert line_values[line_hidden].sum() >= 10


def test_statistics_frames_hide_small_groups_and_small_parts():
    stats = pd.DataFrame({"n": [40, 8, 30], "n_matching": [20, 4, 25], "share": [0.5, 0.5, 25 / 30],
                          "mean_confidence": [60.0, 70.0, 80.0]})
    gated = gate(stats, n="n", counts={"n_matching": ["share"]})
    assert gated.loc[0].tolist() == [40, 20, 0.5, 60.0]
    assert gated.loc[1].isna().all()  # a group of 8
    assert gated.loc[2, "n"] == 30 and gated.loc[2, "mean_confidence"] == 80.0
    assert gated.loc[2, ["n_matching", "share"]].isna().all()  # 5 did not match
    assert passes(gated) and not passes(stats)


def test_a_cell_of_many_answers_from_few_learners_is_hidden_with_a_partner():
    answers = pd.DataFrame({"stayed": [30, 25], "away": [14, 20]}, index=["post", "practice"])
    # "post/away" holds 14 answers, but they came from 3 learners revoting many cases.
    learners = pd.DataFrame({"stayed": [20, 18, 30], "away": [3, 15, 17], "Total": [21, 24, 34]},
                            index=["post", "practice", "Total"])

    gated = gate(answers, learners=learners)

    assert gated.loc["post", "away"] is pd.NA
    # Its row and column totals would give it away, so a partner in each line is hidden too.
    assert gated.loc["post"].isna().sum() >= 2 and gated["away"].isna().sum() >= 2
    assert recoverable(privacy._with_totals(answers.to_numpy(float)), gated.isna().to_numpy()) == []
    assert gate(answers).loc["post", "away"] == 14  # counted as answers alone it would show


def test_a_learners_table_of_another_shape_is_refused():
    answers = pd.DataFrame({"stayed": [30], "away": [14]}, index=["post"])
    with pytest.raises(privacy.DualroleError, match="Total"):
        gate(answers, learners=answers)


def test_the_key_is_made_on_demand_in_the_data_folder_private_and_stable(isolated_home):
    path = isolated_home / privacy.KEY_FILE
    assert not path.exists()
    first = privacy.pseudonym("ana")
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert privacy.pseudonym("ana") == first != privacy.pseudonym("ben")
    # Keyed: it is the HMAC under that key, and no unkeyed hash of the id.
    key = path.read_bytes()
    assert first == "P" + hmac.new(key, b"ana", "sha256").hexdigest()
    assert first[1:] not in {hashlib.sha256(b"ana").hexdigest(), hashlib.sha1(b"ana").hexdigest()}


def test_the_key_may_not_live_in_the_repository(tmp_path):
    with pytest.raises(PrivacyError, match="outside the repository"):
        privacy.instructor_key(REPO / "notebooks" / "instructor.key")
    assert len(privacy.instructor_key(tmp_path / "k")) == 32


def test_research_codes_are_random_unique_and_kept_across_exports():
    codes = privacy.research_codes([f"learner-{i}" for i in range(500)])
    assert len(set(codes.values())) == 500
    assert all(len(c) == 9 and c.startswith("R") for c in codes.values())
    again = privacy.research_codes(["learner-1", "newcomer"], existing=codes)
    assert again["learner-1"] == codes["learner-1"] and again["newcomer"] not in codes.values()


def test_the_crosswalk_stays_out_of_the_export_folder(tmp_path):
    codes = {"ana": "R0000000A"}
    with pytest.raises(PrivacyError, match="must not be inside the export folder"):
        privacy.write_crosswalk(codes, tmp_path / "export" / "sub" / "cw.csv", tmp_path / "export")
    path = privacy.write_crosswalk(codes, tmp_path / "private" / "cw.csv", tmp_path / "export")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert privacy.read_crosswalk(path) == codes


def test_no_unkeyed_hash_of_an_identifier_in_the_research_modules():
    # cases.py hashes case *files* (not people); the modules that handle learner ids use hmac only.
    for name in ("privacy.py", "reporting/research_export.py", "reporting/report.py", "reporting/simulate.py", *[f"analysis/{p.name}" for p in (REPO / "widgets" / "analysis").glob("*.py")]):
        tree = ast.parse((REPO / "widgets" / name).read_text(encoding="utf-8"))
        imported = {a.name for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))
                    for a in node.names} | {getattr(node, "module", None) for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "hashlib" not in imported, name
        assert "mbox_sha1sum" not in (REPO / "widgets" / name).read_text(encoding="utf-8"), name


def test_an_empty_or_all_small_table_is_hidden_entirely():
    empty = gate(pd.DataFrame(columns=["a", "b"], dtype="int64"))
    assert empty.isna().all().all()
    small = gate(pd.DataFrame({"a": [1, 2], "b": [3, 0]}))
    assert small.isna().all().all()


def test_the_projected_dashboard_shows_class_counts_and_no_reference_before_the_reveal():
    from widgets.cases.library import load_case
    from widgets.ui.live import distribution_html

    case = load_case("cosmetics")
    info = {"stage": "histogram", "first": {"decline_only": 20, "one_small_order": 9, "buy_regularly": 1},
            "latest": {"decline_only": 20, "one_small_order": 9, "buy_regularly": 1}}
    projected = distribution_html(case, info, min_class=10)
    assert "<td>1</td><td>3%</td>" in projected and "<td>hidden</td>" not in projected
    assert "★" not in projected
    assert "★" in distribution_html(case, {**info, "stage": "revealed"}, min_class=10)
    assert "★" in distribution_html(case, info, min_class=10, audience="instructor")
    public = distribution_html(case, {**info, "stage": "revealed"}, min_class=10, audience="public")
    assert "<td>9</td>" not in public and public.count("<td>hidden</td>") == 12


def test_the_projected_dashboard_follows_the_stages_as_the_cards_do():
    from widgets.cases.library import load_case
    from widgets.ui.live import distribution_html

    case = load_case("cosmetics")
    counts = {"decline_only": 20, "one_small_order": 9, "buy_regularly": 1}
    info = {"first": counts, "latest": {**counts, "decline_only": 19, "buy_regularly": 2}}
    for stage in ("waiting", "voting", "closed"):  # the vote is forming: nothing of it on the wall
        projected = distribution_html(case, {**info, "stage": stage}, min_class=10)
        assert "<td>20</td>" not in projected and "First votes" not in projected, stage
        assert "<td>20</td>" in distribution_html(case, {**info, "stage": stage}, 10, audience="instructor")
    for stage in ("histogram", "revote"):  # the first votes, as the cards show them; the revote not yet
        projected = distribution_html(case, {**info, "stage": stage}, min_class=10)
        assert "First votes: 30 learner(s)" in projected and "Latest answers" not in projected, stage
    revealed = distribution_html(case, {**info, "stage": "revealed"}, min_class=10)
    assert "First votes" in revealed and "Latest answers" in revealed


def test_a_script_is_in_a_research_output_exactly_when_the_answer_it_follows_is():
    from widgets.errors import DualroleError
    from widgets.privacy import research_rows, research_scripts

    learners = [f"synthetic-l{i:02d}" for i in range(11)] + ["synthetic-no"]
    answers = pd.DataFrame({"response_id": [f"r{i}" for i in range(12)], "learner": learners,
                            "cohort": ["synthetic-c"] * 12, "consent": [True] * 11 + [False],
                            "submitted_at": pd.Timestamp("2026-09-08", tz="UTC")})
    rows = research_rows(answers, min_cell=10)
    scripts = [{"script_id": "s0", "response_id": "r0", "learner": "synthetic-l00", "cohort": "synthetic-old-code",
                "text": "kept"},
               {"script_id": "s11", "response_id": "r11", "learner": "synthetic-no", "cohort": "synthetic-c",
                "text": "never"},
               {"script_id": "sx", "response_id": "r-unknown", "learner": "synthetic-l01", "cohort": "synthetic-c",
                "text": "no answer of theirs names it"}]
    kept = research_scripts(rows, scripts)
    assert kept["script_id"].tolist() == ["s0"]
    assert kept["cohort"].tolist() == ["synthetic-c"]  # the answer's cohort, the learner's one cohort
    assert research_scripts(rows, []).empty
    with pytest.raises(DualroleError, match="must come from widgets.privacy.research_rows"):
        research_scripts(answers, scripts)
