"""The class service in a background thread, with a stand-in for the Hub's token check.

The stand-in replaces only the question "whose token is this, with which scopes?" and the group
lookup; the service's own handlers, rules and store are the real ones, reached over real HTTP.
The real Hub is exercised in tests/service/test_service_hub.py.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime, timezone

from jupyterhub.services.auth import HubAuth
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from widgets.service.app import ServiceApp
from widgets.service.core import ServiceSettings

SCOPE = "access:services!service=dualrole"


class StandInHubAuth(HubAuth):
    """Answers token lookups from a table instead of asking a Hub."""

    def __init__(self, tokens: dict[str, dict], **kwargs):
        super().__init__(api_token="service-token", access_scopes={SCOPE}, **kwargs)
        self.tokens = tokens

    def user_for_token(self, token, use_cache=True, session_id="", *, sync=True):
        model = self.tokens.get(token)
        model = dict(model, kind="user") if model else None
        if sync:
            return model

        async def answer():
            return model

        return answer()


class StandInInstructors:
    def __init__(self, members):
        self.members = set(members)

    async def has(self, user):
        return user in self.members


class InProcessService:
    """A running service: ``url``, ``token(name)``, ``stop()``; ``start()`` again after a stop."""

    def __init__(self, store_url: str, *, min_class: int = 3, cohort: str | None = None):
        self.settings = ServiceSettings(store_url=store_url, min_class=min_class, cohort=cohort)
        self.tokens = {
            "tok-alice": {"name": "alice", "scopes": [SCOPE]},
            "tok-bob": {"name": "bob", "scopes": [SCOPE]},
            "tok-carol": {"name": "carol", "scopes": [SCOPE]},
            "tok-teacher": {"name": "teacher", "scopes": [SCOPE]},
            "tok-noscope": {"name": "dave", "scopes": ["read:users:name!user=dave"]},
        }
        self.sockets = bind_sockets(0, "127.0.0.1")
        self.port = self.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/services/dualrole/"
        self.app = None
        self._thread = None

    @staticmethod
    def token(name: str) -> str:
        return f"tok-{name}"

    def start(self) -> "InProcessService":
        ready = threading.Event()
        if self.sockets is None:
            self.sockets = bind_sockets(self.port, "127.0.0.1")

        def run():
            async def main():
                self.app = ServiceApp(self.settings, hub_auth=StandInHubAuth(self.tokens))
                self.app.instructors = StandInInstructors({"teacher"})
                server = HTTPServer(self.app)
                server.add_sockets(self.sockets)
                self._loop = asyncio.get_running_loop()
                self._stop = asyncio.Event()
                # As serve() does, with short pauses so a test waits a fraction of a second.
                retry = None if self.app.core.ready else asyncio.create_task(
                    self.app.keep_opening_store(first=0.05, most=0.2))
                ready.set()
                await self._stop.wait()
                if retry is not None:
                    retry.cancel()
                server.stop()
                await server.close_all_connections()
                self.app.executor.shutdown(wait=True)

            asyncio.run(main())

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert ready.wait(30), "the service did not start"
        return self

    def stop(self) -> None:
        if self.sockets is None:
            return  # already stopped
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        for sock in self.sockets:
            sock.close()
        self.sockets = None
        if self.app.core.ready:
            self.app.core.store.engine.dispose()


def answer(case_id: str = "cosmetics", option: str | None = None, *, attempt: int = 1, cohort: str = "psy501",
           **extra) -> dict:
    """A valid response body for the API, with a fresh response_id."""
    from widgets.cases.library import load_case

    case = load_case(case_id)
    body = {
        "response_id": str(uuid.uuid4()), "case_id": case_id, "case_version": case.case_version,
        "option_id": option or case.options[0].id, "confidence": 70, "attempt": attempt,
        "justification": "The roles conflict and the client may be harmed by the overlap.",
        "phase": "practice", "cohort": cohort, "client": "lab",
        "submitted_at": datetime.now(timezone.utc).isoformat(),
    }
    body.update(extra)
    return body
