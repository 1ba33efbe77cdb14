"""The learner's side of the class service: a store-like object that talks HTTP to ``dualrole serve``.

:class:`ServiceClient` has the methods :class:`~widgets.learner.session.CaseSession` uses (``add``,
``responses``, ``cohort_answers``), so a card works the same on a laptop and on a hub. It sends the
learner's own Hub token (``JUPYTERHUB_API_TOKEN``) and holds no database credentials. When the
service cannot be reached, an answer or a saved script goes to the local
:class:`~widgets.exchange.outbox.Outbox` and is sent when the service is back; ``response_id`` (for a
script ``script_id``) is the key, so nothing is lost and nothing is doubled.
"""

from __future__ import annotations

import os
import threading
import time

import httpx

from widgets.errors import AlreadyAnswered, DualroleError
from widgets.exchange.outbox import Outbox
from widgets.paths import home
from widgets.responses.codec import from_json, jsonable, parse_timestamp
from widgets.responses.contract import Response, Script
from widgets.responses.disclosure import CohortCounts

SERVICE_NAME = "dualrole"
# After the service fails to answer, a card does not wait on it again for this long: the next answer
# goes straight to the outbox. The cards' polling keeps trying, and ends the pause when it gets through.
OFFLINE_SECONDS = 10.0


class ServiceUnavailable(DualroleError):
    """The class service cannot be reached, or answered that it is down.

    ``code`` is the service's own code when it answered (``store_unavailable``: the service is up but
    its database is not answering; ``not_configured``: a setting is wrong), else None.
    """

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class ServiceRefused(DualroleError):
    """The class service refused a request (HTTP 4xx); ``status`` and ``code`` say why."""

    def __init__(self, message: str, status: int, code: str | None, fields: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.fields = fields or {}


class ServiceClient:
    """A response store reached through the class service.

    Parameters
    ----------
    url : str
        The service's base URL, e.g. ``http://127.0.0.1:10101/services/dualrole/``.
    token : str, optional
        A Hub API token; defaults to ``JUPYTERHUB_API_TOKEN`` (the learner's server has one).
    outbox : Outbox, optional
        Where answers wait while the service is unreachable (default: ``outbox.jsonl`` in the data folder).
    timeout : float
        Seconds to wait for the service before keeping an answer in the outbox.
    """

    backend = "service"
    follows_class = True

    def __init__(self, url: str, token: str | None = None, *, outbox: Outbox | None = None,
                 timeout: float = 5.0, transport: httpx.BaseTransport | None = None):
        self.url = url.rstrip("/") + "/"
        token = token if token is not None else os.environ.get("JUPYTERHUB_API_TOKEN", "")
        self.outbox = outbox or Outbox.at(home() / "outbox.jsonl")
        headers = {"Authorization": f"token {token}"} if token else {}
        self._http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout, transport=transport)
        self._seen: dict[str, dict] = {}  # rows the service has confirmed, for reading while it is away
        # Reads (by their filters) the service could not answer: what this kernel shows for them may
        # lack answers the learner gave earlier, and a card says so rather than look unanswered.
        self._unread: set[tuple] = set()
        self._lock = threading.RLock()
        self._offline_until = 0.0
        self._last_failure = ServiceUnavailable(f"the class service at {self.url} did not answer")

    def __repr__(self) -> str:
        return f"ServiceClient({self.url!r})"

    # -- the store interface -------------------------------------------------------------------

    def add(self, response: Response) -> Response:
        """Send one answer, or keep it in the outbox if the service cannot be reached now.

        Raises :class:`AlreadyAnswered` for a duplicate attempt and :class:`ServiceRefused` when the
        service refuses the answer (voting closed, an invalid field); the answer is then not kept.
        """
        self._deliver(response.to_json(), self._send, self.outbox.put, waiting=self.outbox.pending)
        return response

    def _deliver(self, row: dict, send, queue, waiting) -> None:
        """Send ``row``, or queue it: behind whatever already waits (``waiting``: asked after the
        flush, so that the order of sending is the order of committing), or when the service is away."""
        with self._lock:
            self.flush()
            if waiting():
                queue(row)
                return
            try:
                send(row)
            except ServiceUnavailable:
                queue(row)

    def responses(self, learner: str | None = None, case_id: str | None = None,
                  cohort: str | None = None, phase: str | None = None) -> list[dict]:
        """Answers as the service has them, plus any still waiting in the outbox.

        While the service is away, the answers it confirmed earlier in this kernel stand in.
        """
        filters = {"learner": learner, "case_id": case_id, "cohort": cohort, "phase": phase}
        params = {k: v for k, v in filters.items() if v is not None}
        key = tuple(filters.values())
        try:
            rows = [from_json(r) for r in self._request("GET", "api/responses", params=params)["responses"]]
            with self._lock:
                self._seen.update((r["response_id"], r) for r in rows)
                self._unread.discard(key)
        except (ServiceUnavailable, ServiceRefused):
            with self._lock:
                rows = [r for r in self._seen.values() if _matches(r, filters)]
                self._unread.add(key)
        have = {r["response_id"] for r in rows}
        rows += [from_json(r) for r in self.outbox.pending()
                 if _matches(r, filters) and r["response_id"] not in have]
        return sorted(rows, key=lambda r: (r["submitted_at"], r["attempt"]))

    def answers_known(self, learner: str | None = None, case_id: str | None = None,
                      cohort: str | None = None, phase: str | None = None) -> bool:
        """False when the last :meth:`responses` read with these filters could not reach the service,
        so earlier answers may be missing from what it returned."""
        with self._lock:
            return (learner, case_id, cohort, phase) not in self._unread

    def cohort_answers(self, case_id: str, cohort: str, phase: str) -> CohortCounts:
        """The class distribution the service lets this learner see now (empty when it may not)."""
        try:
            data = self.distribution(case_id, cohort, phase)
        except (ServiceUnavailable, ServiceRefused):
            return CohortCounts({}, total=0)
        return CohortCounts(data.get("counts") or {}, total=data.get("total", 0), min_class=data.get("min_class"))

    def save_script(self, script: Script) -> Script:
        """Send what the learner would say on a case, or keep it in the outbox if the service cannot be
        reached now (see :meth:`is_script_pending`); it is sent after the answers that wait, as it follows one.

        A refusal (its first answer not on the service, say) raises :class:`ServiceRefused`, and the
        script is then not kept.
        """
        self._deliver(script.to_json(), self._send_script, self.outbox.put_script,
                      waiting=lambda: bool(self.outbox.pending() or self.outbox.pending_scripts()))
        return script

    def latest_scripts(self, learner: str | None = None, cohort: str | None = None,
                       case_id: str | None = None) -> list[dict]:
        """Each learner's latest script per case as the service has them (a learner's own, an instructor's
        choice of anyone's), counting the scripts still waiting in the outbox. Raises
        :class:`ServiceUnavailable` while the service is away and none of them waits here."""
        filters = {"learner": learner, "cohort": cohort, "case_id": case_id}
        waiting = [from_json(r) for r in self.outbox.pending_scripts() if _matches(r, filters)]
        params = {k: v for k, v in (("learner", learner), ("case_id", case_id)) if v is not None}
        try:
            rows = self._request("GET", "api/scripts", params=params)["scripts"]
        except ServiceUnavailable:
            if not waiting:
                raise
            rows = []
        latest: dict[tuple, dict] = {}
        for row in [from_json(r) for r in rows if cohort is None or r["cohort"] == cohort] + waiting:
            key = (row["learner"], row["case_id"])
            if key not in latest or (row["created_at"], row["script_id"]) > (
                    latest[key]["created_at"], latest[key]["script_id"]):
                latest[key] = row
        return [latest[key] for key in sorted(latest)]

    def erase_learner(self, learner: str) -> int:
        """Erase the authenticated learner's answers on the service (``learner`` must be you)."""
        me = self.whoami()["user"]
        if learner != me:
            raise DualroleError(f"the class service erases only your own answers (you are {me})")
        return self._request("DELETE", "api/responses")["erased"]

    def set_consent(self, learner: str, consent: bool) -> None:
        """Record the authenticated learner's research-consent choice on the service."""
        self._request("POST", "api/consent", json={"consent": bool(consent)})

    def consent(self, learner: str) -> bool:
        """The authenticated learner's latest consent choice on the service."""
        return bool(self._request("GET", "api/consent")["consent"])

    def feedback(self, learner: str, case_id: str | None = None) -> list[dict]:
        """Feedback released to the authenticated learner (none while the service is away)."""
        params = {"case_id": case_id} if case_id else {}
        try:
            rows = self._request("GET", "api/feedback", params=params)["feedback"]
        except (ServiceUnavailable, ServiceRefused):
            return []
        return [{**r, "released_at": parse_timestamp(r["released_at"])} for r in rows if r["learner"] == learner]

    def release_feedback(self, rows: list[dict]) -> dict:
        """Release feedback rows to their learners through the service (instructors)."""
        return self._request("POST", "api/feedback", json={"feedback": jsonable(rows)})

    # -- the outbox ----------------------------------------------------------------------------

    def flush(self) -> int:
        """Send what waits in the outbox, answers first, then scripts; return how many the service now has.

        Stops at the first row the service cannot take now (it is away, or the token is refused),
        keeping it and those after it. A row refused for good (an answer already recorded under another
        id, voting closed, an invalid field) goes to the refused file with the reason, and the rest
        are still sent: one refusal never holds up the others, and nothing here raises for it.
        A script sent again is harmless: the service keeps one row per ``script_id``.
        """
        with self._lock, self.outbox.locked():
            answers, scripts = self.outbox.pending(), self.outbox.pending_scripts()
            sent, stopped = self._send_each(answers, self._send, "response_id", self.outbox.refuse)
            if not stopped:  # a script follows its answer: never before it
                sent += self._send_each(scripts, self._send_script, "script_id", self.outbox.refuse_script)[0]
            if answers or scripts:
                self.outbox.compact()
        return sent

    def _send_each(self, rows: list[dict], send, key: str, refuse) -> tuple[int, bool]:
        """Send ``rows`` in order; (how many were sent, whether the service stopped taking them)."""
        sent = 0
        for row in rows:
            try:
                send(row)
            except ServiceUnavailable:
                return sent, True
            except AlreadyAnswered as exc:
                refuse(row, str(exc), "already_answered")
                continue
            except ServiceRefused as exc:
                if exc.status in (401, 403):
                    return sent, True  # a token problem: keep everything and try again later
                # The fields say what was wrong, in the words of the rule that refused the row.
                why = "; ".join(f"{name}: {problem}" for name, problem in exc.fields.items())
                refuse(row, f"{exc} ({why})" if why else str(exc), exc.code)
                continue
            except (DualroleError, KeyError, TypeError, ValueError) as exc:
                # A row the service cannot even be asked about (damaged on disk, say).
                refuse(row, f"it could not be sent ({exc})", "unsendable")
                continue
            self.outbox.mark_sent(row[key])
            sent += 1
        return sent, False

    @property
    def offline(self) -> bool:
        """True for a few seconds after the service failed to answer (requests then fail at once)."""
        return time.monotonic() < self._offline_until

    def reconnect(self) -> bool:
        """Try the service now, even while :attr:`offline`; True when it answered."""
        try:
            self._request("GET", "api/", retry_offline=True)
        except ServiceUnavailable:
            return False
        except ServiceRefused:
            pass  # it answered, if only to refuse
        return True

    def is_pending(self, response_id: str) -> bool:
        """True while this answer waits in the outbox."""
        return any(r["response_id"] == response_id for r in self.outbox.pending())

    def is_script_pending(self, script_id: str) -> bool:
        """True while this saved script waits in the outbox."""
        return any(r["script_id"] == script_id for r in self.outbox.pending_scripts())

    # -- class mode ----------------------------------------------------------------------------

    def whoami(self) -> dict:
        """Who the Hub says this token belongs to, and whether they are an instructor."""
        return self._request("GET", "api/")

    def distribution(self, case_id: str, cohort: str, phase: str = "practice") -> dict:
        return self._request("GET", f"api/cohort/{case_id}", params={"cohort": cohort, "phase": phase})

    def class_states(self, cohort: str, phase: str = "practice") -> dict:
        """Every case of the cohort in class mode: ``{"cases": {case_id: state}}``."""
        return self._request("GET", "api/class", params={"cohort": cohort, "phase": phase})

    def class_state(self, cohort: str, case_id: str) -> dict:
        return self._request("GET", f"api/class/{case_id}", params={"cohort": cohort})

    def act(self, cohort: str, case_id: str, action: str) -> dict:
        """Pace a case (instructors): hold, open_voting, close, show_histogram, open_revote, reveal, release."""
        # An instructor's click always tries the service, even just after a failure.
        return self._request("POST", f"api/class/{case_id}", json={"cohort": cohort, "action": action},
                             retry_offline=True)

    def summary(self, cohort: str, cases: list[str], phase: str = "practice") -> dict:
        """The dashboard's view of some cases (instructors)."""
        return self._request("GET", "api/summary", params={"cohort": cohort, "phase": phase,
                                                             "cases": ",".join(cases)})

    # -- HTTP ----------------------------------------------------------------------------------

    def _send(self, row: dict) -> dict:
        try:
            data = self._request("POST", "api/responses", json=row)
        except ServiceRefused as exc:
            if exc.code == "already_answered":
                raise AlreadyAnswered(str(exc)) from None
            raise
        confirmed = from_json(data["response"])
        self._seen[confirmed["response_id"]] = confirmed
        return data

    def _send_script(self, row: dict) -> dict:
        return self._request("POST", "api/scripts", json=row)

    def _request(self, method: str, path: str, *, retry_offline: bool = False, **kwargs) -> dict:
        if self.offline and not retry_offline:
            # What the last try met, not "did not answer": a database that is down is not a service
            # that is down, and whoever reads this needs to know which.
            raise ServiceUnavailable(str(self._last_failure), self._last_failure.code)
        try:
            reply = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self._offline_until = time.monotonic() + OFFLINE_SECONDS
            self._last_failure = ServiceUnavailable(f"the class service at {self.url} cannot be reached ({exc})")
            raise self._last_failure from None
        try:
            data = reply.json()
        except ValueError:
            data = {}
        if reply.status_code >= 500:
            self._offline_until = time.monotonic() + OFFLINE_SECONDS
            self._last_failure = ServiceUnavailable(
                f"the class service at {self.url} is not available "
                f"(HTTP {reply.status_code}: {data.get('error', reply.reason_phrase)})", data.get("code"))
            raise self._last_failure
        self._offline_until = 0.0
        if reply.status_code >= 400:
            raise ServiceRefused(data.get("error") or f"HTTP {reply.status_code} from {self.url}",
                                 reply.status_code, data.get("code"), data.get("fields"))
        return data


def _matches(row: dict, filters: dict) -> bool:
    return all(value is None or row.get(name) == value for name, value in filters.items())
