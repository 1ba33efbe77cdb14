"""The HTML report: every count gated, nothing identifying, text escaped, synthetic labelled."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest
from click.testing import CliRunner

from widgets import analysis
from widgets.cli import cli
from widgets.errors import DualroleError
from widgets.privacy import passes
from widgets.reporting import report


class Cells(HTMLParser):
    """Collects the text of every <td>, with its classes."""

    def __init__(self):
        super().__init__()
        self.cells, self._open = [], None

    def handle_starttag(self, tag, attrs):
        if tag == "td":
            self._open = (dict(attrs).get("class", ""), [])

    def handle_data(self, data):
        if self._open:
            self._open[1].append(data)

    def handle_endtag(self, tag):
        if tag == "td" and self._open:
            self.cells.append((self._open[0].split(), "".join(self._open[1])))
            self._open = None


@pytest.fixture(scope="module")
def sample():
    return analysis.sample()


@pytest.fixture(scope="module")
def html(sample, tmp_path_factory):
    path = report.write_report(sample, tmp_path_factory.mktemp("report"))
    return path.read_text(encoding="utf-8")


def test_no_count_under_min_cell_appears(html, sample):
    parser = Cells()
    parser.feed(html)
    counts = [text for classes, text in parser.cells if "count" in classes]
    assert len(counts) > 100
    # The one exception: the revote timing table's structural zeros (empty rows and directions).
    structural = int(report.revote_timing_overview(sample).eq(0).sum().sum())
    assert structural > 0 and counts.count("0") == structural
    for text in counts:
        assert text in ("—", "0") or int(text) >= 10, text
    assert any(text == "—" for text in counts)  # the sample does have small cells


def test_numbers_in_prose_pass_the_gate_too(sample, tmp_path):
    small = sample[sample["learner"].isin(sorted(sample["learner"].unique())[:8])]
    # 8 learners: every count, and the learner total, must be hidden.
    text = report.write_report(small, tmp_path).read_text(encoding="utf-8")
    assert "Learners: —" in text
    parser = Cells()
    parser.feed(text)
    assert all(t == "—" or int(t) >= 10 for classes, t in parser.cells if "count" in classes)


def test_no_learner_id_and_no_justification_in_the_report(sample, html):
    for learner in sample["learner"].unique():
        assert learner not in html
    assert "[synthetic] I" not in html


def test_synthetic_data_is_labelled_in_the_title_and_every_plot(html):
    assert "<title>SYNTHETIC DATA: Cohort review</title>" in html
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', html)
    assert alts and all(a.startswith("SYNTHETIC DATA: ") for a in alts)


def test_text_from_the_data_is_escaped(sample, tmp_path):
    hostile = sample.copy()
    hostile["cohort"] = "synthetic-<script>alert(1)</script>"
    text = report.write_report(hostile, tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_overview_tables_are_gated(sample):
    for table in (report.case_overview(sample), report.prepost_overview(sample),
                  report.revote_overview(sample), report.option_breakdown(sample, "cosmetics"),
                  report.divided_cases(sample), report.calibration_overview(sample)):
        assert passes(table)


def _firsts(learners, case_ids, confidence, phase="practice"):
    """First answers (each matching the reference) by ``learners`` to ``case_ids``."""
    from widgets.cases.library import load_case

    rows = []
    for learner in learners:
        for case_id in case_ids:
            case = load_case(case_id)
            option = case.option(case.preferred[0])
            rows.append({"learner": learner, "cohort": "synthetic-c", "case_id": case_id,
                         "case_version": case.case_version, "phase": phase, "attempt": 1,
                         "option_id": option.id, "stance": option.stance, "confidence": confidence,
                         "justification": "x" * 20, "submitted_at": "2025-01-01T00:00:00Z", "consent": True})
    return rows


def test_a_calibration_bin_of_one_very_sure_learner_is_hidden():
    cases = list(analysis.options_frame()["case_id"].unique())[:12]
    crowd = _firsts([f"synthetic-{i:02d}" for i in range(30)], cases[:1], confidence=50)
    sure = _firsts(["synthetic-sure"], cases, confidence=100)  # 12 answers at 100%, one learner
    df = analysis.tidy(pd.DataFrame(crowd + sure))

    raw = analysis.calibration_table(analysis.answers(df))
    bins = report.calibration_bins(df, min_cell=10)

    assert raw[["n", "learners"]].values.tolist() == [[30, 30], [12, 1]]  # 12 answers, 1 person
    assert bins.loc[0, "mean_confidence"] == 0.5 and bins.loc[0, "learners"] == 30
    assert bins.loc[1].isna().all()
    assert passes(bins)


def test_revote_cells_are_gated_by_learners_not_answers():
    from widgets.cases.library import load_case

    cases = list(analysis.options_frame()["case_id"].unique())[:5]
    rows = _firsts([f"synthetic-{i:02d}" for i in range(40)], cases, confidence=60)
    # Three learners move away from the reference on all five cases: 15 answers, 3 people.
    for learner in ("synthetic-00", "synthetic-01", "synthetic-02"):
        for case_id in cases:
            case = load_case(case_id)
            other = next(o for o in case.options if o.id not in case.preferred and o.id not in case.acceptable)
            rows.append({**_firsts([learner], [case_id], 60)[0], "attempt": 2, "option_id": other.id,
                         "stance": other.stance, "submitted_at": "2025-01-01T00:05:00Z"})
    table = report.revote_overview(analysis.tidy(pd.DataFrame(rows)), min_cell=10)

    assert table.loc["practice", "away"] is pd.NA
    # Shown: 185 did not revote, of 200. The other 15 hide among four cells, so "away" stays unknown.
    assert table.loc["practice"].tolist() == [185, pd.NA, pd.NA, pd.NA, pd.NA, 200]
    assert passes(table)


def test_plots_refuse_ungated_tables(sample):
    raw = analysis.option_counts(sample, "cosmetics")
    with pytest.raises(DualroleError, match="gated"):
        report.plot_options(raw, "The cosmetics catalogue")
    plot = report.plot_options(report.option_breakdown(sample, "cosmetics"), "x", synthetic=True)
    assert plot.png.startswith(b"\x89PNG") and plot.title.startswith("SYNTHETIC DATA")
    assert 'alt="SYNTHETIC DATA: ' in plot._repr_html_()  # in Jupyter too, the image has alt text


def test_report_leaves_matplotlib_global_state_alone(sample, tmp_path):
    import sys

    import matplotlib

    had_pyplot = "matplotlib.pyplot" in sys.modules
    def settings():  # reading rcParams["backend"] would itself import pyplot
        return {k: matplotlib.rcParams[k] for k in matplotlib.rcParams if k != "backend"}

    before = settings()
    report.write_report(sample, tmp_path)
    assert settings() == before
    assert had_pyplot or "matplotlib.pyplot" not in sys.modules


def test_cli_report_on_the_sample(tmp_path):
    result = CliRunner().invoke(cli, ["report", "--sample", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").exists()
    result = CliRunner().invoke(cli, ["report", "--sample", "--out", str(tmp_path), "--cohort", "nope"])
    assert result.exit_code == 1 and "Error: no cohort nope; cohorts are: synthetic-cohort-1" in result.output
    result = CliRunner().invoke(cli, ["report", "--sample", "--out", str(tmp_path), "--min-cell", "4"])
    assert result.exit_code == 1 and "Error: min_cell must be a whole number of at least 5" in result.output


def test_a_report_on_one_phase_or_a_tiny_class_still_renders(sample, tmp_path):
    pre_only = report.write_report(sample[sample["phase"] == "pre"], tmp_path / "pre").read_text(encoding="utf-8")
    assert "Before and after" not in pre_only and "Nobody revoted." in pre_only
    few = sample[sample["learner"].isin(sorted(sample["learner"].unique())[:3])]
    text = report.write_report(few, tmp_path / "few").read_text(encoding="utf-8")
    assert "Fewer than 10 learners answered" in text and "<table" not in text


# -- the audience: public (gated, the default) or instructor (exact, with a banner) ------------------

def _split_class(split=(8, 4, 2, 1)):
    """A class of 15 (synthetic) on one case with four options, split 8/4/2/1 across them."""
    from widgets.cases.library import load_case

    options = analysis.options_frame()
    case_id = options.groupby("case_id")["option_id"].size().loc[lambda n: n == 4].index[0]
    case = load_case(case_id)
    rows, k = [], 0
    for option, count in zip(case.options, split):
        for _ in range(count):
            rows.append({"learner": f"synthetic-{k:02d}", "cohort": "synthetic-c", "case_id": case_id,
                         "case_version": case.case_version, "phase": "practice", "attempt": 1,
                         "option_id": option.id, "stance": option.stance, "confidence": 60,
                         "justification": "x" * 20, "submitted_at": "2025-01-01T00:00:00Z", "consent": True})
            k += 1
    return analysis.tidy(pd.DataFrame(rows)), case, rows


def _option_rows(html: str, case) -> dict[str, str]:
    """Each option's first count cell in the report's option table, by option label."""
    from widgets.render import text

    found = {}
    for option in case.options:
        match = re.search(r"<td class=\"[^\"]*text\" >" + re.escape(text(option.label)) + r"[^<]*</td>\s*"
                          r"<td class=\"([^\"]*)\" >([^<]*)</td>", html)
        assert match, option.label
        found[option.id] = match.group(2)
    return found


def test_the_public_report_hides_a_class_of_15_split_8_4_2_1(tmp_path):
    df, case, _ = _split_class()
    html = report.write_report(df, tmp_path).read_text(encoding="utf-8")
    assert set(_option_rows(html, case).values()) == {"—"}
    assert "instructor only" not in html.lower()
    assert "Learners: 15" in html


def test_the_instructor_report_shows_all_four_counts_under_a_banner(tmp_path):
    df, case, _ = _split_class()
    html = report.write_report(df, tmp_path, audience="instructor").read_text(encoding="utf-8")
    assert list(_option_rows(html, case).values()) == ["8", "4", "2", "1"]
    body = html[html.index("<body>"):]
    assert body.index("For the instructor only: do not share.") < body.index("<h1>")  # at the top
    assert "role='note'" in body[:400]
    for learner in df["learner"].unique():
        assert learner not in html
    assert passes(report.option_breakdown(df, case.id)) and not passes(
        report.option_breakdown(df, case.id, audience="instructor"))


def test_cli_report_audience(tmp_path):
    from widgets.responses.contract import Response
    from widgets.store import open_store

    _, case, rows = _split_class()
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"
    store = open_store(url)
    for row in rows:
        store.add(Response(learner=row["learner"], cohort="class-a", case_id=case.id, case_version=case.case_version,
                           option_id=row["option_id"], stance=row["stance"], confidence=60,
                           justification="because of the second role", attempt=1, phase="practice"))
    result = CliRunner().invoke(cli, ["report", "--store", url, "--out", str(tmp_path / "i"),
                                      "--audience", "instructor"])
    assert result.exit_code == 0, result.output
    html = (tmp_path / "i" / "report.html").read_text(encoding="utf-8")
    assert list(_option_rows(html, case).values()) == ["8", "4", "2", "1"]
    assert "keep it to yourself" in result.output
    result = CliRunner().invoke(cli, ["report", "--store", url, "--out", str(tmp_path / "p")])
    assert result.exit_code == 0, result.output
    assert set(_option_rows((tmp_path / "p" / "report.html").read_text(encoding="utf-8"), case).values()) == {"—"}
    result = CliRunner().invoke(cli, ["report", "--store", url, "--out", str(tmp_path / "c"), "--audience", "class"])
    assert result.exit_code == 2 and "'class' is not one of 'instructor', 'public'" in result.output


def test_a_report_for_the_class_audience_is_refused(tmp_path):
    df, _, _ = _split_class()
    with pytest.raises(DualroleError, match="a report is written for one of instructor, public"):
        report.write_report(df, tmp_path, audience="class")


def test_the_report_shows_change_and_calibration_with_and_without_contested_cases(html):
    for section in ("<h2>Before and after</h2>", "<h2>Confidence and accuracy</h2>"):
        part = html[html.index(section):]
        part = part[:part.index("<h2>", 5)] if "<h2>" in part[5:] else part
        assert "All cases" in part and "Without contested or context-dependent cases" in part
    assert ">Contested</th>" in html and ">Depends on context</th>" in html


def test_tables_are_styled_once_with_human_headings(sample, html):
    from widgets.reporting import tables

    assert "share_matching" not in html and "not_matching" not in html
    assert "<th scope=\"col\" class=\"col_heading level0 col0\" >Case</th>" in html
    styled = tables.styled(report.case_overview(sample), "overview").to_html()
    assert "Matching the reference" in styled and 'class="dataframe"' not in styled
    overview = report.case_overview(sample)
    assert overview["evenness"].dropna().is_monotonic_decreasing  # the most divided cases first
    with pytest.raises(DualroleError, match="gated"):
        tables.styled(analysis.case_summary(sample).reset_index(), "overview")


def test_research_tables_are_styled_by_their_own_path_and_never_pass_for_gated(sample):
    from widgets.reporting import tables

    summary = analysis.revote_summary(sample)  # exact, as the research notebook computes it from the export
    html = tables.research_styled(summary, "revote_summary").to_html()
    assert "Share revoted" in html and "revote_rate" not in html and 'class="dataframe"' not in html
    assert ">pre</td>" in html and ">post</td>" in html  # the phase, kept in the index, is shown as the first column
    with pytest.raises(DualroleError, match="gated"):
        tables.styled(summary.reset_index(), "revote")
    with pytest.raises(DualroleError, match="unknown kind"):
        tables.styled(summary, "revote_summary")  # a research kind is not a report's
    with pytest.raises(DualroleError, match="unknown kind of research table"):
        tables.research_styled(summary, "summary")
    pairs = pd.DataFrame({"n": [41], "pre_share": [0.44], "post_share": [0.71], "improved": [15], "worsened": [4],
                          "pvalue": [0.0192], "pvalue_holm": [0.0004]},
                         index=pd.Index(["pair 1: a / b"], name="case_id"))
    html = tables.research_styled(pairs, "prepost_pairs").to_html()
    assert ">McNemar p (Holm)</th>" in html and "><0.001</td>" in html and ">44%</td>" in html
    assert ">pair 1: a / b</td>" in html and ">Learners with both tests</th>" in html


def test_a_hostile_case_title_in_a_table_caption_stays_text(sample):
    from widgets.reporting import tables

    html = tables.table_html(report.case_overview(sample), "overview", caption="<script>alert(1)</script>")
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_revote_timing_is_reported_by_what_the_revote_came_after():
    df = analysis.sample()
    exact = report.revote_timing_overview(df, audience="instructor")
    assert list(exact.index) == ["the class", "nothing shown", "the reference", "not recorded", "Total"]
    assert int(exact.loc["the class", "Total"]) == int((analysis.revotes(df)["after"] == "the class").sum()) > 0
    public = report.revote_timing_overview(df)
    assert passes(public)  # the public view is gated
    # The sample's structural zeros (no revote after the reference, none lateral) show as 0 and
    # do not drag the occupied cells down with them: every total and the stayed counts show.
    assert public.loc[["the reference", "not recorded"]].eq(0).all().all() and public["lateral"].eq(0).all()
    shown = ["stayed", "Total"]
    assert public.loc[["the class", "nothing shown", "Total"], shown].equals(
        exact.loc[["the class", "nothing shown", "Total"], shown].astype("Int64"))
    assert public.loc["Total"].notna().all()


def test_structural_zeros_show_but_a_zero_among_occupied_cells_stays_hidden():
    from widgets.privacy import gate

    table = pd.DataFrame({"toward": [30, 0, 12], "away": [20, 0, 0], "lateral": [0, 0, 0]},
                         index=["the class", "the reference", "nothing shown"])
    gated = gate(table, 10, structural_zeros=True)
    assert gated.loc["the reference"].tolist() == [0, 0, 0, 0] and gated["lateral"].tolist() == [0, 0, 0, 0]
    assert gated.loc["nothing shown", "away"] is pd.NA  # a zero in an occupied row and column
    assert passes(gated)
    assert gate(table, 10).loc["the reference"].isna().all()  # without the option, zeros are hidden
    assert gate(table * 0, 10, structural_zeros=True).isna().all().all()  # no revotes at all: hidden whole
    gated.loc["the reference", "toward"] = 3  # a count dressed as a structural zero does not pass
    assert not passes(gated)


def test_sample_works_whatever_dualrole_store_says(tmp_path, monkeypatch):
    monkeypatch.setenv("DUALROLE_STORE", str(tmp_path / "someone-elses.sqlite"))
    result = CliRunner().invoke(cli, ["report", "--sample", "--out", str(tmp_path / "report")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report").exists() and not (tmp_path / "someone-elses.sqlite").exists()


@pytest.mark.parametrize("command", [["report", "--out", "r"], ["research-export", "--out", "e", "--crosswalk", "c.csv"]])
def test_a_mistyped_store_is_an_error_and_is_never_created(tmp_path, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, [*command, "--store", str(tmp_path / "clas.sqlite")])
    assert result.exit_code == 1 and f"there is no class store at {tmp_path / 'clas.sqlite'}" in result.output
    assert not (tmp_path / "clas.sqlite").exists()
