"""The JSON API: thin Tornado handlers over :class:`~widgets.service.core.ClassService`.

Every request is authenticated by the Hub with the caller's own token (``Authorization: token
...``) through JupyterHub's ``HubAuthenticated`` mixin; the user the Hub names is the learner,
whatever the body says. Errors are JSON: ``{"error": ..., "code": ..., "status": ...}``, plus
``"fields"`` for a 400 about a submitted response.
"""

from __future__ import annotations

import json
import logging
from functools import partial

from jupyterhub.services.auth import HubAuthenticated, UserNotAllowed
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from tornado import web
from tornado.ioloop import IOLoop

from widgets.errors import StoreError
from widgets.service.core import Refused, encode
from widgets.store.engine import reason

log = logging.getLogger("dualrole.service")

# The HTTP status of each refusal, by its code: the core's (widgets.service.core.Refused) and the
# handlers' own. The client acts on the status (a 503 keeps an answer queued) and shows the message.
STATUS = {
    "invalid": 400, "invalid_json": 400,
    "no_token": 403, "no_access": 403, "not_a_user": 403, "forbidden": 403, "instructors_only": 403,
    "answer_first": 403, "not_shown": 403,
    "unknown_case": 404, "not_found": 404,
    "conflict": 409, "stage": 409, "no_first_answer": 409, "already_answered": 409,
    "store_unavailable": 503, "not_configured": 503,
}


class ApiError(web.HTTPError):
    """A refusal on its way out as HTTP: the status :data:`STATUS` gives its code, and a JSON body."""

    def __init__(self, message: str, code: str, fields: dict[str, str] | None = None):
        super().__init__(STATUS[code], "%s", message)
        self.message, self.code, self.fields = message, code, fields

    def as_json(self) -> dict:
        body = {"error": self.message, "code": self.code, "status": self.status_code}
        if self.fields:
            body["fields"] = self.fields
        return body


class ApiHandler(HubAuthenticated, web.RequestHandler):
    """Base handler: Hub authentication, JSON in and out, database work off the event loop."""

    def initialize(self, app):
        self.app = app
        self.hub_auth = app.hub_auth

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def compute_etag(self):
        # No ETag: every reply is "no-store", so no client could revalidate one, and hashing each
        # body was a cost on every read when a whole class fetches the distribution at once.
        return None

    async def prepare(self):
        user = await self.hub_auth.get_user(self, sync=False)
        if not user:
            raise ApiError("A valid JupyterHub token is required: send the header "
                           "'Authorization: token <JUPYTERHUB_API_TOKEN>'.", "no_token")
        try:
            self.check_hub_user(user)
        except UserNotAllowed:
            scopes = ", ".join(sorted(self.hub_scopes or ())) or "access to this service"
            raise ApiError(f"The token of {user.get('kind', 'user')} '{user['name']}' does not grant "
                           f"access to this service (it needs {scopes}).", "no_access") from None
        if user.get("kind", "user") != "user":
            raise ApiError("Only Hub users can use this service.", "not_a_user")
        self.current_user = user
        self.user = user["name"]
        if self.app.settings_.problem:
            raise ApiError(f"The class service is misconfigured: {self.app.settings_.problem}. Your hub "
                           "administrator must fix the setting and restart the Hub; answers wait in each "
                           "learner's outbox meanwhile.", "not_configured")
        if not self.app.core.ready:
            # Said only to a Hub user: the reason names the store (its password masked).
            raise ApiError(f"The class service cannot use its response store ({self.app.core.store_problem}). "
                           "It keeps trying; answers wait in each learner's outbox meanwhile.", "store_unavailable")
        self.instructor = await self.app.instructors.has(self.user)

    def send(self, data, status: int = 200) -> None:
        """Reply with ``data`` as JSON, or with a body the core has already encoded (bytes)."""
        self.set_status(status)
        self.finish(data if isinstance(data, bytes) else encode(data))

    def body(self):
        try:
            return json.loads(self.request.body or b"null")
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise ApiError("The request body is not valid JSON.", "invalid_json") from None

    def require_instructor(self) -> None:
        if not self.instructor:
            raise ApiError(f"Only members of the Hub group '{self.app.settings_.instructors_group}' "
                           "can do this.", "instructors_only")

    def arg(self, name: str, default: str | None = None) -> str | None:
        return self.get_argument(name, default)

    def cohort(self) -> str:
        return self.app.core.cohort(self.arg("cohort"))

    async def run(self, method, *args, **kwargs):
        """Run a (blocking, database) method of the service core on a worker thread."""
        try:
            return await IOLoop.current().run_in_executor(self.app.executor, partial(method, *args, **kwargs))
        except Refused as exc:
            raise ApiError(exc.message, exc.code, exc.fields) from None
        except (StoreError, SQLAlchemyError) as exc:
            # The database is down or refused, at whatever step: 503 tells a learner's client to keep
            # the answer queued. One line in the log says why; a traceback would say nothing more.
            why = reason(exc) if isinstance(exc, DBAPIError) else str(exc).strip().splitlines()[0]
            log.warning("%s %s: the response store is not answering: %s", self.request.method,
                        self.request.path, why)
            raise ApiError(f"The class database is not answering ({why}). Answers wait in each "
                           "learner's outbox meanwhile.", "store_unavailable") from None

    def write_error(self, status_code: int, **kwargs):
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            body = exc.as_json()
        else:
            message = (exc.log_message if isinstance(exc, web.HTTPError) else None) or self._reason
            if status_code >= 500 and not isinstance(exc, web.HTTPError):
                message = "The service hit an internal error; it is in the service log."
            body = {"error": message, "code": "http_error", "status": status_code}
        self.finish(json.dumps(body))


class HealthHandler(web.RequestHandler):
    """``GET`` on the bare prefix, without a token: the Hub's readiness probe, answered 200.

    The Hub checks that a managed service answers below 500 before it carries on starting, and
    every few minutes after. Answering it without authentication keeps a 403 out of the log at each
    start; it says only whether the store is open, never which store or why.
    """

    def initialize(self, app):
        self.app = app

    def set_default_headers(self):
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def get(self):
        # "open" only when the database answers now: an open store whose database has gone away
        # is "unavailable", so an administrator watching the probe sees the outage.
        core = self.app.core
        answering = core.ready and await IOLoop.current().run_in_executor(self.app.executor, core.store.answering)
        store = "not_configured" if self.app.settings_.problem else "open" if answering else "unavailable"
        self.finish(json.dumps({"service": "dualrole", "version": self.app.version, "store": store}))

    def head(self):
        self.finish()


class WhoAmIHandler(ApiHandler):
    """``GET api/``: who the Hub says you are, and the service's settings that concern you."""

    async def get(self):
        s = self.app.settings_
        self.send({"service": "dualrole", "version": self.app.version, "user": self.user,
                   "instructor": self.instructor, "cohort": s.cohort, "min_class": s.min_class,
                   "instructors_group": s.instructors_group})


class ResponsesHandler(ApiHandler):
    """``POST api/responses`` records an answer; ``GET`` reads answers; ``DELETE`` erases your own."""

    async def post(self):
        row, created = await self.run(self.app.core.submit, self.user, self.body())
        self.send({"response": row, "created": created}, 201 if created else 200)

    async def get(self):
        rows = await self.run(self.app.core.responses, self.user, self.instructor,
                              learner=self.arg("learner"), case_id=self.arg("case_id"),
                              cohort=self.arg("cohort"), phase=self.arg("phase"))
        self.send({"responses": rows, "count": len(rows)})

    async def delete(self):
        n = await self.run(self.app.core.erase, self.user)
        self.send({"erased": n, "learner": self.user})


class ScriptsHandler(ApiHandler):
    """``POST api/scripts`` keeps what you would say on a case; ``GET`` reads the latest per case (your own)."""

    async def post(self):
        row, created = await self.run(self.app.core.save_script, self.user, self.body())
        self.send({"script": row, "created": created}, 201 if created else 200)

    async def get(self):
        rows = await self.run(self.app.core.scripts, self.user, self.instructor,
                              learner=self.arg("learner"), case_id=self.arg("case_id"))
        self.send({"scripts": rows, "count": len(rows)})


class ConsentHandler(ApiHandler):
    """``GET api/consent``: your research-consent choice; ``POST {"consent": true|false}`` records one."""

    async def get(self):
        self.send(await self.run(self.app.core.consent, self.user))

    async def post(self):
        self.send(await self.run(self.app.core.set_consent, self.user, self.body()))


class FeedbackHandler(ApiHandler):
    """``GET api/feedback``: the feedback released to you; ``POST {"feedback": [...]}`` releases it (instructors)."""

    async def get(self):
        rows = await self.run(self.app.core.feedback, self.user, self.arg("case_id"))
        self.send({"feedback": rows, "count": len(rows)})

    async def post(self):
        self.send(await self.run(self.app.core.release_feedback, self.user, self.instructor, self.body()))


class CohortHandler(ApiHandler):
    """``GET api/cohort/<case_id>``: the class distribution, gated by class mode and the minimum size."""

    async def get(self, case_id):
        self.send(await self.run(self.app.core.distribution, self.user, self.instructor, case_id,
                                 self.cohort(), self.arg("phase", "practice")))


class ClassStatesHandler(ApiHandler):
    """``GET api/class``: every case of the cohort in class mode (what learners' cards poll)."""

    async def get(self):
        self.send(await self.run(self.app.core.states, self.cohort(), self.arg("phase", "practice"), self.user))


class ClassCaseHandler(ApiHandler):
    """``GET api/class/<case_id>``: one case's stage; ``POST`` ``{"action": ...}`` paces it (instructors)."""

    async def get(self, case_id):
        self.send(await self.run(self.app.core.state, self.cohort(), case_id))

    async def post(self, case_id):
        self.require_instructor()
        body = self.body()
        action = body.get("action") if isinstance(body, dict) else None
        cohort = self.app.core.cohort(body.get("cohort") if isinstance(body, dict) else None)
        self.send(await self.run(self.app.core.act, self.user, cohort, case_id, action))


class SummaryHandler(ApiHandler):
    """``GET api/summary?cases=a,b``: stages, counts and distributions for the dashboard (instructors)."""

    async def get(self):
        self.require_instructor()
        cases = [c for c in (self.arg("cases") or "").split(",") if c.strip()]
        self.send(await self.run(self.app.core.summary, self.cohort(), self.arg("phase", "practice"), cases))


class NotFoundHandler(ApiHandler):
    """Anything else under the prefix (still authenticated first): a JSON 404."""

    async def prepare(self):
        await super().prepare()
        raise ApiError(f"No such endpoint: {self.request.method} {self.request.path}. "
                       "See docs/deploy-jupyterhub.md for the API.", "not_found")
