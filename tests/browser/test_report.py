"""The instructor's HTML report, opened in Chromium, shows an instructor's own case (with script in
its title and labels) as inert text, and passes axe-core.

The cohort is SYNTHETIC: two dozen made-up learners answering the injection probe case, with a
payload as every justification.
"""

from __future__ import annotations

import pandas as pd
import pytest

from .conftest import AXE
from .jlab import run_axe, screenshot, serious
from .payloads import JUSTIFICATION, PROBE_ID

LEARNERS = 24


def synthetic_probe_frame(case) -> pd.DataFrame:
    """Store-shaped SYNTHETIC rows: pre and post answers to the probe case, some revoted."""
    from widgets.responses.contract import Response

    rows = []
    for phase in ("pre", "post"):
        for i in range(LEARNERS):
            option = case.options[i % 3]
            for attempt in (1, 2) if phase == "post" and i % 4 == 0 else (1,):
                rows.append(Response(
                    learner=f"synthetic-learner-9{i:03d}", cohort="synthetic-cohort-1", case_id=case.id,
                    case_version=case.case_version, option_id=option.id, stance=option.stance,
                    confidence=50, justification="[synthetic] " + JUSTIFICATION, attempt=attempt,
                    phase=phase, client="simulator",
                ).row())
    return pd.DataFrame(rows)


@pytest.mark.browser
def test_html_report_shows_case_payloads_as_text(chromium, instructor_cases, tmp_path, monkeypatch):
    monkeypatch.setenv("DUALROLE_CASES", str(instructor_cases))
    from widgets import analysis
    from widgets.cases.library import load_case
    from widgets.reporting.report import write_report

    probe = load_case(PROBE_ID)
    report = write_report(analysis.frame.responses(synthetic_probe_frame(probe)), tmp_path / "report")

    from .conftest import new_watched_page

    page = new_watched_page(chromium)
    try:
        page.goto(report.as_uri())
        body = page.locator("body")
        assert "Probe <script>" in body.inner_text()  # the title, as text
        assert page.watch.dialogs == []
        assert page.evaluate("() => typeof window.__pw") == "undefined"
        assert page.evaluate("() => document.querySelectorAll('script, iframe, [onerror], [onload]').length") == 0
        assert page.evaluate("() => document.documentElement.scrollWidth <= document.documentElement.clientWidth + 1")
        result = run_axe(page, "body", AXE)
        assert serious(result["violations"]) == [], result["violations"]
        screenshot(page, "report-injection")
    finally:
        page.context.close()
