"""An instructor's copy of a class's answers, from the class service into a SQLite store of their own.

The service is reached through :class:`ClassSource`, so this hand-over does not depend on the kernel's
HTTP client: anything that says who is asking and returns a cohort's answers will do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from widgets.errors import DualroleError
from widgets.responses.codec import from_json
from widgets.store import Store, resolve_url


class ClassSource(Protocol):
    """Where a class's answers are read from: in practice the class service's client."""

    def whoami(self) -> dict:
        """Who is asking: ``user``, ``instructor`` and ``instructors_group``."""

    def responses(self, learner: str | None = None, case_id: str | None = None,
                  cohort: str | None = None, phase: str | None = None) -> list[dict]:
        """Answers as JSON rows, filtered by the arguments given."""

    def latest_scripts(self, learner: str | None = None, cohort: str | None = None,
                       case_id: str | None = None) -> list[dict]:
        """Each learner's latest script per case (what they would say), filtered by the arguments given."""


def export_class(client: ClassSource, cohort: str, out: Path | str) -> tuple[int, int]:
    """Copy a cohort's answers, and each learner's latest script per case, from the service into a SQLite
    store; return (answers, newly added).

    Only an instructor reads a whole cohort; anyone else is told so rather than given their own answers.
    A cohort without answers is an error naming the cohorts that have some, and writes nothing.
    """
    me = client.whoami()
    if not me["instructor"]:
        raise DualroleError(f"only members of the Hub group '{me['instructors_group']}' can export a class "
                            f"(you are {me['user']})")
    rows = client.responses(cohort=cohort)
    if not rows:
        # A mistyped or stale cohort name would otherwise "succeed" with nothing exported.
        held = sorted({str(r["cohort"]) for r in client.responses()})
        known = ", ".join(f"'{c}'" for c in held) if held else "none yet"
        raise DualroleError(f"the class service holds no answers of cohort '{cohort}'; cohorts with answers: "
                            f"{known}. Nothing was written to {out}.")
    store = Store(resolve_url(str(out)))
    scripts = [from_json(r) for r in client.latest_scripts(cohort=cohort)]
    with store.transaction() as conn:
        added = store.add_many([from_json(r) for r in rows], conn)
        store.add_scripts(scripts, conn)
    return len(rows), added
