"""A synthetic LMS download for the instructor's collect notebook: bundles of made-up learners.

Every learner, answer and file name here is labelled synthetic. The folder looks like what an LMS
hands an instructor: one sub-folder per submission, one learner who handed in twice, one upload
cut off part-way and one empty upload.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from pathlib import Path

from widgets.cases.library import load_library
from widgets.exchange.bundle import bundle_text
from widgets.responses.contract import Response

COHORT = "synthetic-demo"
_REASONS = (
    "Synthetic answer: the second role would change what the client expects of me.",
    "Synthetic answer: I would talk it through with the client and document the choice.",
    "Synthetic answer: the power difference makes this risky, so I would consult first.",
    "Synthetic answer: in a small town this contact is hard to avoid; safeguards matter.",
)


def demo_downloads(folder: Path | str | None = None, learners: int = 8, cases: int = 4) -> Path:
    """Write a folder of SYNTHETIC learner bundles as an LMS download; return the folder.

    Learner ``synthetic-learner-03`` hands in twice, the last learner's upload is cut off in its
    last line, and ``synthetic-learner-99`` uploads an empty file. With the defaults: 8 learners
    answer 4 cases each, so 31 answers are good, 4 are duplicates and 1 line is broken.

    Example::

        >>> downloads = demo_downloads()          # doctest: +SKIP
    """
    if folder is None:
        folder = Path(tempfile.mkdtemp(prefix="dualrole-synthetic-collect-")) / "synthetic-lms-download"
    folder = Path(folder)
    chosen = list(load_library())[:cases]
    rng = random.Random(20240901)
    last = None
    for n in range(1, learners + 1):
        learner = f"synthetic-learner-{n:02d}"
        rows = []
        for case in chosen:
            option = rng.choice(case.options)
            rows.append(Response(learner=learner, cohort=COHORT, case_id=case.id, case_version=case.case_version,
                                 option_id=option.id, stance=option.stance, confidence=rng.randint(30, 95),
                                 justification=rng.choice(_REASONS), client="simulator").row())
        last = folder / f"{learner}_submission" / "answers.jsonl"
        last.parent.mkdir(parents=True, exist_ok=True)
        last.write_text(bundle_text(learner, rows), encoding="utf-8")
    twice = folder / "synthetic-learner-03_submission"
    if twice.exists():
        shutil.copy(twice / "answers.jsonl", twice / "answers (1).jsonl")
    if last is not None:
        text = last.read_bytes()
        last.write_bytes(text[: len(text) - 25])  # the upload was cut off
    empty = folder / "synthetic-learner-99_submission" / "answers.jsonl"
    empty.parent.mkdir(parents=True, exist_ok=True)
    empty.write_bytes(b"")
    return folder
