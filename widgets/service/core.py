"""What the service does behind its URLs: record answers, gate what a learner may read, pace cases.

Every method is synchronous (SQLAlchemy) and is run on a worker thread by the web handlers. Every
refusal is a :class:`Refused` carrying a stable ``code`` and a plain message; the handlers turn
it into HTTP.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial

from sqlalchemy.exc import DBAPIError

from widgets.cases.library import load_library
from widgets.errors import AlreadyAnswered, DualroleError, StoreError
from widgets.exchange.feedback import FEEDBACK_FIELDS
from widgets.responses.codec import jsonable
from widgets.responses.contract import InvalidResponse, attempt_clash, check_script, parse_response, utcnow
from widgets.responses.disclosure import MIN_CLASS, distribution
from widgets.responses.pacing import (
    ACTIONS,
    ClassState,
    PacingError,
    advance,
    learner_round,
    refusal,
)
from widgets.service.tally import Tallies
from widgets.store import Store, describe_url
from widgets.store.class_state import ClassBook
from widgets.store.engine import read_url_file
from widgets.store.scores import ScoreBook
from widgets.vocab import PHASES


def encode(data) -> bytes:
    """A reply's body: the service's one JSON encoding (timestamps as ISO 8601 text)."""
    return json.dumps(jsonable(data), ensure_ascii=False).encode()


class Refused(DualroleError):
    """A request the class service refuses: a message for people, a stable ``code`` a client acts on,
    and, for a body with bad fields, what is wrong with each.

    The core knows nothing of HTTP: :mod:`widgets.service.handlers` gives each code its status.
    """

    def __init__(self, message: str, code: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.fields = fields


@dataclass
class ServiceSettings:
    """How one ``dualrole serve`` instance behaves (see ``dualrole serve --help``)."""

    store_url: str | None
    instructors_group: str = "instructors"
    cohort: str | None = None
    min_class: int = MIN_CLASS
    prefix: str = "/services/dualrole/"
    group_cache_seconds: float = 15.0
    # A root-only file holding the store URL, read at each attempt to open the store (so a file
    # created after the Hub started is found without a restart).
    store_file: str | None = None
    # A setting the service cannot work with (a minimum class below 3, say). The service still
    # starts, so the Hub does, and answers every API request 503 ``not_configured`` with this reason.
    problem: str | None = None

    def describe_store(self) -> str:
        """The store as a log line may name it: its URL with the password masked, or its file."""
        if self.store_url:
            return describe_url(self.store_url)
        return f"(the URL in {self.store_file})" if self.store_file else "(none)"


class ClassService:
    """The response store plus class-mode state, behind the rules of who may do what.

    The store may be unreachable when the service starts (the database is still booting, say). The
    service then runs without it: every method that needs it raises :class:`StoreError`, which the
    web layer answers with 503, and :meth:`open_store` is called again until it succeeds.
    """

    def __init__(self, settings: ServiceSettings, store: Store | None = None, *, open_now: bool = True):
        self.settings = settings
        self._store: Store | None = None
        self._book: ClassBook | None = None
        self._tallies: Tallies | None = None
        self.store_problem: str | None = None
        if store is not None:
            self._store, self._book = store, ClassBook(store)
            self._tallies = Tallies(self._book)
        elif open_now:
            self.open_store()
            if self.store_problem:
                raise StoreError(self.store_problem)
        # Parse the case library now, once, rather than on the first answers of a class: otherwise
        # every worker thread serving those answers parses it at the same time (seconds of p99).
        self.library = load_library()

    def open_store(self) -> bool:
        """Open (or create) the class store; on failure remember why, masked, and return False."""
        if self.settings.problem:
            self.store_problem = self.settings.problem
            return False
        try:
            if self.settings.store_file:
                self.settings.store_url = read_url_file(self.settings.store_file)
            store = Store(self.settings.store_url)
            book = ClassBook(store)
        except StoreError as exc:
            self.store_problem = str(exc)
            return False
        except DBAPIError as exc:
            first = str(exc.orig or exc).strip().splitlines()[0]
            self.store_problem = f"cannot open the response store {self.settings.describe_store()}: {first}"
            return False
        self._store, self._book, self._tallies, self.store_problem = store, book, Tallies(book), None
        return True

    @property
    def ready(self) -> bool:
        """Whether the store is open."""
        return self._store is not None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise StoreError(self.store_problem or f"the response store {self.settings.describe_store()} "
                             "is not open yet")
        return self._store

    @property
    def book(self) -> ClassBook:
        self.store  # noqa: B018 -- raises StoreError while the store is not open
        return self._book

    @property
    def tallies(self) -> Tallies:
        self.store  # noqa: B018 -- raises StoreError while the store is not open
        return self._tallies

    def cohort(self, asked: str | None) -> str:
        """The cohort a request is about: the service's own when it has one, else the one asked for."""
        return self.settings.cohort or (asked or "self-study").strip()

    # -- learners ------------------------------------------------------------------------------

    def submit(self, learner: str, body: object) -> tuple[dict, bool]:
        """Record one answer for ``learner``; return (row, created). A re-sent answer is not an error."""
        try:
            response = parse_response(body, learner=learner, cohort=self.settings.cohort, library=self.library)
        except InvalidResponse as exc:
            raise Refused("the response has invalid fields", "invalid", exc.fields) from None
        row = response.row()
        known = self.book.find(response.response_id)
        if known is not None and attempt_clash(row, [known]) is None:
            return known, False  # the same answer sent again
        state = self.book.get(response.cohort, response.case_id)
        why = refusal(state, response.attempt, response.submitted_at)
        if why:
            raise Refused(f"{why[0].upper()}{why[1:]}.", "stage")
        kept = self.store.responses(learner=response.learner, case_id=response.case_id, cohort=response.cohort,
                                    phase=response.phase)
        clash = attempt_clash(row, kept + ([known] if known else []))
        if clash:
            raise Refused(f"{clash.message[0].upper()}{clash.message[1:]}.", clash.code, {clash.field: clash.message})
        try:
            self.store.add(response)
        except AlreadyAnswered:
            known = self.book.find(response.response_id)  # the same answer, sent twice at once
            if known is not None and attempt_clash(row, [known]) is None:
                return known, False
            clash = attempt_clash(row, self.store.responses(learner=response.learner, case_id=response.case_id,
                                                            cohort=response.cohort, phase=response.phase))
            message = clash.message if clash else f"attempt {response.attempt} is already recorded"
            raise Refused(f"{message[0].upper()}{message[1:]}.", "already_answered", {"attempt": message}) from None
        return response.row(), True

    def responses(self, user: str, instructor: bool, *, learner: str | None, case_id: str | None,
                  cohort: str | None, phase: str | None) -> list[dict]:
        """A learner's own answers; an instructor's choice of anyone's (all when ``learner`` is None)."""
        if not instructor:
            if learner not in (None, user):
                raise Refused("You can read only your own answers.", "forbidden")
            learner = user
        if self.settings.cohort:
            cohort = self.settings.cohort
        return self.store.responses(learner=learner, case_id=case_id, cohort=cohort, phase=phase)

    def save_script(self, user: str, body: object) -> tuple[dict, bool]:
        """Keep what ``user`` would say on a case (:func:`~widgets.responses.contract.check_script`);
        return (row, created). The first answer it follows must be here already; a script sent again
        (the same ``script_id``) is not an error."""
        response_id = body.get("response_id") if isinstance(body, dict) else None
        answer = self.book.find(response_id) if isinstance(response_id, str) else None
        if isinstance(body, dict) and self.settings.cohort:
            body = {**body, "cohort": self.settings.cohort}
        script, problems = check_script(body, learner=user, answer=answer, library=self.library)
        if problems:
            raise Refused("the script has invalid fields", "invalid", problems)
        with self.store.transaction() as conn:
            created = self.store.add_scripts([script.row()], conn) == 1
        return script.row(), created

    def scripts(self, user: str, instructor: bool, *, learner: str | None, case_id: str | None) -> list[dict]:
        """Each learner's latest script per case: a learner's own; an instructor's choice of anyone's."""
        if not instructor:
            if learner not in (None, user):
                raise Refused("You can read only your own scripts.", "forbidden")
            learner = user
        return self.store.latest_scripts(learner=learner, cohort=self.settings.cohort, case_id=case_id)

    def erase(self, user: str) -> int:
        """Delete every answer of the user (their right to erasure)."""
        return self.store.erase_learner(user)

    def set_consent(self, user: str, body: object) -> dict:
        consent = body.get("consent") if isinstance(body, dict) else None
        if not isinstance(consent, bool):
            raise Refused("the body needs 'consent': true or false", "invalid",
                           {"consent": "expected true or false"})
        self.store.set_consent(user, consent)
        return {"learner": user, "consent": consent}

    def consent(self, user: str) -> dict:
        return {"learner": user, "consent": self.store.consent(user)}

    # -- feedback ------------------------------------------------------------------------------

    def feedback(self, user: str, case_id: str | None = None) -> list[dict]:
        """The feedback released to this user: their own, never anyone else's."""
        return self.store.feedback(user, case_id=case_id)

    def release_feedback(self, user: str, instructor: bool, body: object) -> dict:
        """Keep feedback an instructor released (``{"feedback": [rows]}``) for its learners' cards.

        Each row must be about an answer this service holds, for that answer's learner, case and
        case version; one bad row refuses the whole request, so nothing is half released.
        """
        if not instructor:
            raise Refused("Only instructors can release feedback.", "instructors_only")
        rows = body.get("feedback") if isinstance(body, dict) else None
        if not isinstance(rows, list) or not rows:
            raise Refused("the body needs 'feedback': a list of released feedback", "invalid",
                           {"feedback": "expected a non-empty list"})
        kept = []
        for i, row in enumerate(rows):
            missing = [f for f in FEEDBACK_FIELDS if f not in row] if isinstance(row, dict) else ["feedback"]
            if missing:
                raise Refused(f"feedback[{i}] lacks {', '.join(missing)}", "invalid",
                               {f"feedback[{i}]": f"missing {', '.join(missing)}"})
            answer = self.book.find(row["response_id"])
            if answer is None or any(answer[k] != row[k] for k in ("learner", "case_id", "case_version")):
                raise Refused(f"feedback[{i}] is not about an answer this service holds for "
                               f"'{row['learner']}' on '{row['case_id']}' (that version)", "invalid",
                               {f"feedback[{i}]": "unknown answer"})
            kept.append({**row, "released_by": user, "released_at": utcnow()})
        return {"released": ScoreBook(self.store).keep_imported(kept), "received": len(rows)}

    def distribution(self, user: str, instructor: bool, case_id: str, cohort: str, phase: str) -> bytes:
        """The cohort's answers to a case, as far as this user may see them now, as JSON.

        The counts come from :class:`~widgets.service.tally.Tallies`, counted once per change of
        the case's answers; the class's view of them is the same bytes for every learner, so it is
        rendered once per change and stage (:meth:`_class_view`). What stays per learner is cheap:
        whether they have answered.
        """
        case = self._case(case_id)
        phase = self._phase(phase)
        state, tally = self.tallies.current(cohort, case_id, phase)
        if instructor:
            first, latest = tally.counts["first"], tally.counts["latest"]
            return encode({**self._header(state, phase), "round": "latest", "counts": latest, "first": first,
                           "latest": latest, "total": sum(latest.values()), "shown": True})
        if not tally.answered(user):
            raise Refused("Answer this case first: the class distribution is shown only to those "
                           "who have answered.", "answer_first")
        which = learner_round(state)
        if which is None:
            raise Refused("Your instructor has not shown the class histogram for this case yet.",
                           "not_shown")
        return tally.view(state, which, partial(self._class_view, case.option_ids, phase))

    def _class_view(self, options: tuple[str, ...], phase: str, state: ClassState, tally, which: str) -> bytes:
        shown = distribution(tally.counts[which], options, "class", min_class=self.settings.min_class)
        return encode({**self._header(state, phase), "round": which, "total": shown.total, "shown": shown.shown,
                       "counts": shown.counts})

    def _header(self, state: ClassState, phase: str) -> dict:
        return {"case_id": state.case_id, "cohort": state.cohort, "phase": phase, "stage": state.stage,
                "min_class": self.settings.min_class}

    # -- class mode ----------------------------------------------------------------------------

    def states(self, cohort: str, phase: str, user: str | None = None) -> dict:
        """Every paced case of a cohort, with how many have answered (cards poll this), and how much
        feedback has been released to ``user`` on each case, so an open card shows new feedback at
        its next poll."""
        answered = self.book.answered(cohort, phase)
        feedback: dict[str, int] = {}
        for row in self.store.feedback(user) if user else ():
            feedback[row["case_id"]] = feedback.get(row["case_id"], 0) + 1
        return {"cohort": cohort, "phase": phase, "feedback": feedback, "cases": {
            case_id: {**state.as_json(), "answered": answered.get(case_id, {}).get(1, 0),
                      "revoted": answered.get(case_id, {}).get(2, 0)}
            for case_id, state in self.book.all(cohort).items()}}

    def state(self, cohort: str, case_id: str) -> dict:
        self._case(case_id)
        return self.book.get(cohort, case_id).as_json()

    def act(self, user: str, cohort: str, case_id: str, action: object) -> dict:
        """Apply an instructor's pacing action to a case."""
        self._case(case_id)
        if not isinstance(action, str):
            raise Refused("the body needs an 'action'", "invalid",
                           {"action": f"expected one of: {', '.join(ACTIONS)}"})
        try:
            new = advance(self.book.get(cohort, case_id), action, by=user, now=utcnow())
        except PacingError as exc:
            raise Refused(str(exc), "invalid" if action not in ACTIONS else "stage") from None
        self.book.put(new)
        return new.as_json()

    def summary(self, cohort: str, phase: str, case_ids: list[str]) -> dict:
        """The dashboard's view: per case, its stage, answer counts and both distributions."""
        phase = self._phase(phase)
        for case_id in case_ids:
            self._case(case_id)
        states = self.book.all(cohort)
        answered = self.book.answered(cohort, phase)
        cases = {}
        for case_id in case_ids or sorted(states):
            state = states.get(case_id) or ClassState(cohort, case_id)
            counts = self.book.counts(cohort, case_id, phase)
            cases[case_id] = {**state.as_json(), "answered": answered.get(case_id, {}).get(1, 0),
                              "revoted": answered.get(case_id, {}).get(2, 0), **counts}
        return {"cohort": cohort, "phase": phase, "min_class": self.settings.min_class,
                "generated_at": utcnow().isoformat(), "cases": cases}

    # -- checks --------------------------------------------------------------------------------

    def _case(self, case_id: str):
        # The library parsed at start, as submit() checks answers against it: asking load_case
        # would stat every case file on each request (half of a distribution read's time).
        try:
            return self.library[case_id]
        except DualroleError as exc:
            raise Refused(str(exc), "unknown_case") from None

    @staticmethod
    def _phase(phase: str) -> str:
        if phase not in PHASES:
            raise Refused("unknown phase", "invalid", {"phase": f"expected one of: {', '.join(PHASES)}"})
        return phase
