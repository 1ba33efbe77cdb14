"""The Tornado application of ``dualrole serve``, and how it asks the Hub who is an instructor."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlparse

from jupyterhub.services.auth import HubAuth
from jupyterhub.utils import url_path_join
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from widgets.service.core import ClassService, ServiceSettings
from widgets.service.handlers import (
    ClassCaseHandler,
    ClassStatesHandler,
    CohortHandler,
    ConsentHandler,
    FeedbackHandler,
    HealthHandler,
    NotFoundHandler,
    ResponsesHandler,
    ScriptsHandler,
    SummaryHandler,
    WhoAmIHandler,
)

log = logging.getLogger("dualrole.service")


class Instructors:
    """Members of the instructors' Hub group, asked of the Hub with the service's own token.

    The answer is kept for ``ttl`` seconds. If the Hub will not say (the group is missing, or the
    service lacks the scope ``read:groups!group=<name>``), nobody is an instructor: it fails closed,
    and the log says what to fix.
    """

    def __init__(self, hub_auth: HubAuth, group: str, ttl: float = 15.0):
        self.hub_auth = hub_auth
        self.group = group
        self.ttl = ttl
        self._members: frozenset[str] = frozenset()
        self._fetched = float("-inf")
        self._refreshing: asyncio.Future | None = None

    async def has(self, user: str) -> bool:
        if time.monotonic() - self._fetched > self.ttl:
            # One question to the Hub however many requests find the answer stale: in a lecture hall
            # hundreds arrive within the same moment, and each asking the Hub made seconds of p99.
            if self._refreshing is None:
                self._refreshing = asyncio.ensure_future(self._refresh())
            await asyncio.shield(self._refreshing)
        return user in self._members

    async def _refresh(self) -> None:
        try:
            self._members = await self._fetch()
            self._fetched = time.monotonic()
        finally:
            self._refreshing = None

    async def _fetch(self) -> frozenset[str]:
        url = url_path_join(self.hub_auth.api_url, "groups", quote(self.group, safe=""))
        request = HTTPRequest(url, headers={"Authorization": f"token {self.hub_auth.api_token}"},
                              request_timeout=10)
        try:
            response = await AsyncHTTPClient().fetch(request)
        except HTTPClientError as exc:
            if exc.code == 404:
                log.warning("Hub group '%s' does not exist (or the service may not read it): no one is an "
                            "instructor. Create it, or grant the service the scope read:groups!group=%s.",
                            self.group, self.group)
            else:
                log.error("Cannot read Hub group '%s' (HTTP %s): no one is an instructor. Grant the service "
                          "the scope read:groups!group=%s in c.JupyterHub.load_roles.", self.group, exc.code,
                          self.group)
            return frozenset()
        except OSError as exc:
            log.error("Cannot reach the Hub API at %s to read group '%s': %s", self.hub_auth.api_url,
                      self.group, exc)
            return frozenset()
        return frozenset(json.loads(response.body).get("users", []))


# Seconds between attempts to open a store that failed: doubling from the first, up to the last.
STORE_RETRY_FIRST, STORE_RETRY_MAX = 1.0, 30.0


class ServiceApp(web.Application):
    """The web application: routes under the service's prefix, sharing one :class:`ClassService`.

    The store is opened once here. If it cannot be (the database is down, say), the application
    still starts, so that the Hub, which waits for its managed services, stays up: every API
    request is answered 503 with the reason until :meth:`keep_opening_store` gets the store.
    """

    def __init__(self, settings: ServiceSettings, *, hub_auth: HubAuth | None = None,
                 core: ClassService | None = None, workers: int = 8):
        from widgets import __version__

        self.settings_ = settings
        self.version = __version__
        if core is None:
            core = ClassService(settings, open_now=False)
            core.open_store()
        self.core = core
        self.hub_auth = hub_auth or HubAuth(api_token=os.environ.get("JUPYTERHUB_API_TOKEN", ""),
                                            cache_max_age=60)
        self.instructors = Instructors(self.hub_auth, settings.instructors_group, settings.group_cache_seconds)
        self.executor = ThreadPoolExecutor(workers, thread_name_prefix="dualrole-db")
        prefix = "/" + settings.prefix.strip("/") + "/"
        api = prefix + "api"
        args = {"app": self}
        super().__init__([
            (prefix + "?", HealthHandler, args),
            (api + "/?", WhoAmIHandler, args),
            (api + "/responses/?", ResponsesHandler, args),
            (api + "/scripts/?", ScriptsHandler, args),
            (api + "/consent/?", ConsentHandler, args),
            (api + "/feedback/?", FeedbackHandler, args),
            (api + r"/cohort/([^/]+)/?", CohortHandler, args),
            (api + "/class/?", ClassStatesHandler, args),
            (api + r"/class/([^/]+)/?", ClassCaseHandler, args),
            (api + "/summary/?", SummaryHandler, args),
            (prefix + ".*", NotFoundHandler, args),
        ], default_handler_class=NotFoundHandler, default_handler_args=args, xsrf_cookies=False)


    async def keep_opening_store(self, first: float = STORE_RETRY_FIRST, most: float = STORE_RETRY_MAX) -> None:
        """Retry the store, with doubling pauses, until it opens; log each failure once per attempt."""
        pause = first
        loop = asyncio.get_running_loop()
        while not self.core.ready:
            log.error("%s; the service answers 503 and tries again in %.0f s", self.core.store_problem, pause)
            await asyncio.sleep(pause)
            pause = min(pause * 2, most)
            if await loop.run_in_executor(self.executor, self.core.open_store):
                log.info("response store opened: the service is answering again")


def bind_address(ip: str | None, port: int | None) -> tuple[str, int]:
    """Where to listen: explicit values, else the URL the Hub gave a managed service."""
    hub_url = os.environ.get("JUPYTERHUB_SERVICE_URL", "")
    parsed = urlparse(hub_url) if hub_url else None
    host = ip or (parsed.hostname if parsed else None) or "127.0.0.1"
    return host, port or (parsed.port if parsed and parsed.port else 10101)
