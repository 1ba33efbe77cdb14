"""A real JupyterHub for the integration tests: DummyAuthenticator, configurable-http-proxy from npm,
and ``dualrole serve`` as a Hub-managed service, configured by the deployment guide's own
``docs/jupyterhub_config.py`` with only its documented local settings filled in, loaded as The
Littlest JupyterHub loads it: TLJH's own settings first (its idle culler among the services, and a
role for it), then every file of ``jupyterhub_config.d`` in turn with ``load_subconfig``.

No single-user server is spawned: the test users' tokens come from the Hub's REST API, made by an
admin service whose token is in the config. Needs ``npm ci --prefix tests/hub`` (or a
``configurable-http-proxy`` on PATH); without it a local run skips, and ``CI=true`` fails.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from servers import start as start_process
from servers import stop as stop_process

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
LOCAL_PROXY = HERE / "node_modules" / ".bin" / "configurable-http-proxy"
SCOPE = "access:services!service=dualrole"
USERS = ("alice", "bob", "carol", "teacher")
INSTRUCTORS = ["teacher"]
COHORT = "seminar-hub"

GUIDE_CONFIG = REPO / "docs" / "jupyterhub_config.py"
# The local settings docs/jupyterhub_config.py tells an administrator to change: the only lines of
# it the tests replace.
LOCAL_SETTINGS = ("STORE_URL_FILE", "SERVICE_URL", "COHORT", "INSTRUCTORS", "MIN_CLASS", "PROCESSES")

# What The Littlest JupyterHub sets before it loads jupyterhub_config.d (tljh/jupyterhub_config.py):
# its idle culler as a service, with a role. The guide's file must add to these, not replace them.
TLJH_SERVICES = [{"name": "cull-idle", "api_token": "tljh-culler-token-for-the-tests"}]
TLJH_ROLES = [{"name": "tljh-culler", "services": ["cull-idle"], "scopes": ["list:users", "read:users:activity"]}]

HUB_CONFIG = """\
# Written by tests/hub/realhub.py for one test run: where this Hub listens, what TLJH sets, then each
# file of jupyterhub_config.d (the guide's own docs/jupyterhub_config.py with its local settings
# filled in) loaded as TLJH loads them, then test helpers.
import glob
import os

from jupyterhub import utils as _utils
from jupyterhub.services import service as _service
from traitlets import Integer

c = get_config()  # noqa: F821
c.JupyterHub.ip = "127.0.0.1"
c.JupyterHub.port = {proxy_port}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {hub_port}
c.ConfigurableHTTPProxy.command = [{proxy!r}]
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{proxy_api_port}"
c.ConfigurableHTTPProxy.auth_token = {proxy_token!r}
c.JupyterHub.authenticator_class = "dummy"
c.Authenticator.allow_all = True
c.JupyterHub.db_url = "sqlite:///{folder}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = "{folder}/jupyterhub_cookie_secret"

# As TLJH does: its own services and roles first, then every file of jupyterhub_config.d in turn.
c.JupyterHub.services = {tljh_services!r}
c.JupyterHub.load_roles = {tljh_roles!r}
for extra in sorted(glob.glob(os.path.join({config_d!r}, "*.py"))):
    load_subconfig(extra)  # noqa: F821

{spawner}
# Test only: an admin service whose token makes the users' tokens through the REST API.
c.JupyterHub.services.append({{"name": "test-admin", "api_token": {admin_token!r}}})
c.JupyterHub.load_roles.append(
    {{"name": "test-admin", "services": ["test-admin"],
     "scopes": ["admin:users", "tokens", "read:services", "list:services", "servers"]}})


# Test only: the Hub checks a managed service every 30 s and restarts it when it has exited. Check
# every second instead, so the restart test waits a second or two, not half a minute.
class _QuickRestart(_service._ServiceSpawner):
    poll_interval = Integer(1)


_service._ServiceSpawner = _QuickRestart


# Test only: the Hub waits for its service (and a user's server) to answer with an exponential
# backoff (0.2 s doubling up to 5 s), so a service ready after 2.5 s was seen only after 4-6 s. Poll
# every 0.2 s instead: the same wait for the same answer, without the dead time, at every Hub start.
_backoff = _utils.exponential_backoff


async def _steady_backoff(pass_func, fail_message, start_wait=0.2, scale_factor=2, max_wait=5, **kwargs):
    return await _backoff(pass_func, fail_message, start_wait=0.2, scale_factor=1, max_wait=0.2, **kwargs)


_utils.exponential_backoff = _steady_backoff
"""


# Users' own servers, when a test needs them: jupyterhub-singleuser as this process's user (no Unix
# accounts), each user's home a folder of the run, and this checkout's `widgets` on their path.
SPAWNER = """\
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = "{folder}/home/{{username}}"
c.Spawner.cmd = [{python!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args = ["--allow-root"]
c.Spawner.environment.update({{"PYTHONPATH": {repo!r}, "JUPYTER_CONFIG_DIR": "{folder}/jupyter-config"}})
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
"""


def guide_config(**local) -> str:
    """docs/jupyterhub_config.py with its local settings (and nothing else) replaced by ``local``."""
    text = GUIDE_CONFIG.read_text(encoding="utf-8")
    assert set(local) == set(LOCAL_SETTINGS), "fill in exactly the guide's local settings"
    for name, value in local.items():
        pattern = re.compile(rf"^{name} = .*$", re.MULTILINE)
        value_code = f"Path({str(value)!r})" if isinstance(value, Path) else repr(value)
        text, found = pattern.subn(lambda _m, n=name, v=value_code: f"{n} = {v}", text)
        assert found == 1, f"docs/jupyterhub_config.py should set {name} once, on one line; found {found}"
    return text


def load_guide_config(**local):
    """The guide's settings as JupyterHub would read them on TLJH (a traitlets Config), without a Hub:
    TLJH's own services and roles, then the guide's file merged in as ``load_subconfig`` merges it."""
    from traitlets.config import Config

    config = Config()
    config.JupyterHub.services = [dict(s) for s in TLJH_SERVICES]
    config.JupyterHub.load_roles = [dict(r) for r in TLJH_ROLES]
    config.JupyterHub.load_groups = {}
    config.Spawner.environment = {}
    extra = Config()
    exec(compile(guide_config(**local), str(GUIDE_CONFIG), "exec"), {"get_config": lambda: extra})
    config.merge(extra)
    return config


def proxy_command() -> str | None:
    """configurable-http-proxy from tests/hub/node_modules, else from PATH."""
    if LOCAL_PROXY.exists() and shutil.which("node"):
        return str(LOCAL_PROXY)
    return shutil.which("configurable-http-proxy")


_GIVEN: set[int] = set()


def _free_port() -> int:
    """A free port not handed out before in this run: the OS may offer a just-closed port again, and
    two of one Hub's ports (proxy, proxy API, Hub, service) must never coincide."""
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in _GIVEN:
            _GIVEN.add(port)
            return port


class RealHub:
    """One JupyterHub process with its proxy and the dualrole service, in a temporary folder."""

    def __init__(self, store_url: str | None, proxy: str, *, processes: int = 1, servers: bool = False, **local):
        """``store_url`` None leaves the store-URL file missing; ``servers`` lets users start their own
        servers (:data:`SPAWNER`); ``local`` overrides local settings."""
        self.folder = Path(tempfile.mkdtemp(prefix="dualrole-hub-"))
        self.admin_token = secrets.token_hex(24)
        self.proxy_port, self.hub_port, self.service_port = _free_port(), _free_port(), _free_port()
        self.url = f"http://127.0.0.1:{self.proxy_port}"
        self.api_url = f"http://127.0.0.1:{self.hub_port}/hub/api"
        self.service_url = f"{self.url}/services/dualrole/"
        # The guide's store-url file: root-only, holding the URL and nothing else.
        self.store_url_file = self.folder / "store-url"
        if store_url is not None:
            os.close(os.open(self.store_url_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self.store_url_file.write_text(store_url + "\n", encoding="utf-8")
        self.local = {"STORE_URL_FILE": self.store_url_file, "SERVICE_URL": f"http://127.0.0.1:{self.service_port}",
                      "COHORT": COHORT, "INSTRUCTORS": INSTRUCTORS, "MIN_CLASS": 3, "PROCESSES": processes,
                      **local}
        config_d = self.folder / "jupyterhub_config.d"
        config_d.mkdir()
        self.guide = config_d / "dualrole.py"
        self.guide.write_text(guide_config(**self.local), encoding="utf-8")
        self.config = self.folder / "jupyterhub_config.py"
        self.config.write_text(HUB_CONFIG.format(
            proxy_port=self.proxy_port, hub_port=self.hub_port, proxy_api_port=_free_port(),
            proxy=proxy, proxy_token=secrets.token_hex(24), folder=self.folder, config_d=str(config_d),
            tljh_services=TLJH_SERVICES, tljh_roles=TLJH_ROLES, admin_token=self.admin_token,
            spawner=SPAWNER.format(folder=self.folder, repo=str(REPO), python=sys.executable) if servers else "",
        ))
        self.log = self.folder / "jupyterhub.log"
        self.process: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self, timeout: float = 60, *, wait_for_service: bool = True) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "DUALROLE_"))}
        # The Hub hands PYTHONPATH on to its managed services (Spawner.env_keep): the service then
        # runs this checkout's `widgets`, as an installed one would be.
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
        self.process = start_process([sys.executable, "-m", "jupyterhub", "-f", str(self.config)], log=self.log,
                                     cwd=self.folder, env=env)
        try:
            self.wait_for(lambda: self.admin().get("users").status_code == 200, timeout, "the Hub API")
            for user in USERS:  # load_groups made 'teacher'; make the rest
                self.admin().post(f"users/{user}")
            if wait_for_service:
                self.wait_for(lambda: self.get("alice", "api/").status_code == 200, timeout, "the dualrole service")
        except BaseException:
            stop_process(self.process)  # the Hub, its proxy and its service: a failed start leaves nothing
            raise

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=20)  # SIGTERM first: the Hub stops its service and proxy itself
        shutil.rmtree(self.folder, ignore_errors=True)

    def wait_for(self, ready, timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterHub exited while waiting for {what}:\n{self.log_tail()}")
            try:
                if ready():
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{what} not ready after {timeout} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return ""

    # -- the managed service -------------------------------------------------------------------

    def service_pid(self) -> int | None:
        """The pid of the running ``dualrole serve`` child of the Hub, if any."""
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            for pid in (task / "children").read_text().split():
                try:
                    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                except FileNotFoundError:
                    continue
                if b"serve" in cmdline and b"widgets" in cmdline:
                    return int(pid)
        return None

    # -- HTTP ----------------------------------------------------------------------------------

    def admin(self) -> httpx.Client:
        return httpx.Client(base_url=self.api_url + "/", timeout=10,
                            headers={"Authorization": f"token {self.admin_token}"})

    def token(self, user: str, scopes: list[str] | None = None) -> str:
        """A Hub API token for ``user`` (like the one a learner's server gets), from the REST API."""
        key = f"{user}:{json.dumps(scopes)}"
        if key not in self.tokens:
            body = {"note": "dualrole test", "expires_in": 3600,
                    "scopes": scopes if scopes is not None else [SCOPE]}
            reply = self.admin().post(f"users/{user}/tokens", json=body)
            reply.raise_for_status()
            self.tokens[key] = reply.json()["token"]
        return self.tokens[key]

    def get(self, user: str, path: str, **kwargs) -> httpx.Response:
        headers = {"Authorization": f"token {self.token(user)}"}
        return httpx.get(self.service_url + path, headers=headers, timeout=10, **kwargs)
