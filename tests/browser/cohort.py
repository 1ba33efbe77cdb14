"""A SYNTHETIC cohort that answered only the injection probe (an instructor's own case, with script
in its title and labels), for the instructor views. Every learner's justification is a payload.

Forty made-up learners answer in the pre-test evenly over the four options (ten each), and in the
post-test mostly the preferred one (25, 8, 4, 3), so the privacy gate must hide the small counts.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from .payloads import JUSTIFICATION, PROBE_ID

REPO = Path(__file__).resolve().parents[2]
LEARNERS = 40
POST_SPLIT = (25, 8, 4, 3)  # learners per option in the post-test


def probe_rows(case) -> pd.DataFrame:
    """Store-shaped SYNTHETIC answers to the probe case."""
    from widgets.responses.contract import Response
    from widgets.store.schema import COLUMNS

    post_choice = [k for k, count in enumerate(POST_SPLIT) for _ in range(count)]
    rows = []
    for i in range(LEARNERS):
        for phase, k in (("pre", i % len(case.options)), ("post", post_choice[i])):
            option = case.options[k]
            rows.append(Response(
                learner=f"synthetic-learner-9{i:03d}", cohort="synthetic-cohort-9", case_id=case.id,
                case_version=case.case_version, option_id=option.id, stance=option.stance, confidence=50,
                justification="[synthetic] " + JUSTIFICATION, attempt=1, phase=phase, client="simulator",
            ).row())
    return pd.DataFrame(rows, columns=COLUMNS)


def probe_data_dir(target: Path, cases_dir: Path) -> Path:
    """A copy of ``data/`` (for ``DUALROLE_DATA``) whose synthetic sample is the probe cohort."""
    from widgets.cases.library import parse_case

    shutil.copytree(REPO / "data", target)
    frame = probe_rows(parse_case(cases_dir / f"{PROBE_ID}.md"))
    for column in ("started_at", "submitted_at"):
        frame[column] = pd.to_datetime(frame[column], utc=True).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    frame.to_csv(target / "synthetic" / "responses.synthetic.csv", index=False, lineterminator="\n")
    return target
