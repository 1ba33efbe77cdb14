"""Real-browser fixtures: one JupyterLab server and one Chromium for the whole session.

The server serves a *temporary copy* of the notebooks, so nothing a test runs is ever autosaved
into the repository, and its kernels use a data folder and store of their own. Each test opens its
notebook through :meth:`Lab.open`, which prefixes the copy with one harness cell pointing the kernel
at the test's own data folder, so tests never see each other's answers and may run in any order.

Without Chromium (or Playwright) a local run skips with a message; under ``CI=true`` it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import skip_or_fail  # tests/conftest.py
from servers import free_port, running  # tests/servers.py

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
ARTIFACTS = REPO / "tests" / "artifacts"
CHROMIUM = Path(os.environ.get("DUALROLE_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = ["--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]
VIEWPORT = {"width": 1280, "height": 900}


def pytest_collection_modifyitems(items):
    here = Path(__file__).resolve().parent
    for item in items:
        if here in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


def server_env(base: Path, **extra: str) -> dict[str, str]:
    """An environment isolated from the user's Jupyter settings and dualrole data."""
    env = {k: v for k, v in os.environ.items()
           if k not in {"DUALROLE_STORE", "DUALROLE_COHORT", "JUPYTERHUB_USER", "DUALROLE_SERVICE_URL"}}
    settings = base / "lab-settings"
    # No "Jupyter news" toast over the page, and no update check (the tests run offline).
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True, exist_ok=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    # Render every cell: with windowing, off-screen outputs have no layout, so text and axe miss them.
    tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
    tracker.parent.mkdir(parents=True, exist_ok=True)
    tracker.write_text(json.dumps({"windowingMode": "none"}), encoding="utf-8")
    env.update(
        DUALROLE_HOME=str(base / "server-home"),
        JUPYTER_CONFIG_DIR=str(base / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(base / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(settings),
        JUPYTERLAB_WORKSPACES_DIR=str(base / "lab-workspaces"),
        PYTHONNOUSERSITE="1",
        MPLBACKEND="Agg",
        # The kernels import this checkout's ``widgets``, not whichever one the venv was installed from.
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
    )
    env.update(extra)
    return env


# -- the JupyterLab server -----------------------------------------------------------------------


@dataclass
class Lab:
    """A running JupyterLab serving ``root`` (a temporary folder) on 127.0.0.1."""

    url: str
    root: Path
    env: dict[str, str]
    opened: list[str] = field(default_factory=list)

    def notebook(self, name: str, cells: list[str], home: Path, source: Path | None = None) -> str:
        """Write a notebook into the served folder and return its path relative to the root.

        ``source`` is a notebook to copy (a lesson); ``cells`` are code cells to use instead. Either
        way the first cell is the harness: it points this kernel at ``home``, the test's own data
        folder, before the lesson imports anything.
        """
        import nbformat

        if source is not None:
            nb = nbformat.read(source, as_version=4)
        else:
            nb = nbformat.v4.new_notebook()
            nb.cells = [nbformat.v4.new_code_cell(c) for c in cells]
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        harness = nbformat.v4.new_code_cell(
            "# browser-test harness: this copy's kernel uses the test's own data folder and store\n"
            f"import os; os.environ['DUALROLE_HOME'] = {str(home)!r}"
        )
        harness.metadata["tags"] = ["dualrole-test-harness"]
        nb.cells.insert(0, harness)
        relative = f"{name}.ipynb"
        nbformat.write(nb, self.root / relative)
        return relative

    def shutdown_kernels(self) -> None:
        """Stop every kernel, so each test starts from a quiet server."""
        with urllib.request.urlopen(f"{self.url}/api/sessions", timeout=5) as r:
            sessions = json.load(r)
        for session in sessions:
            request = urllib.request.Request(f"{self.url}/api/sessions/{session['id']}", method="DELETE")
            try:
                urllib.request.urlopen(request, timeout=10).close()
            except OSError:
                pass


@pytest.fixture(scope="session")
def browser_base():
    base = Path(tempfile.mkdtemp(prefix="dualrole-browser-"))
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def instructor_cases(browser_base) -> Path:
    """An instructor's own case folder (``DUALROLE_CASES``) holding a case full of injection payloads,
    and a case with a ``say:`` block (tests/say_case_file.py)."""
    from say_case_file import write_say_case

    from .payloads import write_injection_case

    folder = browser_base / "instructor-cases"
    write_injection_case(folder)
    write_say_case(folder)
    return folder


@pytest.fixture(scope="session")
def lab(browser_base, instructor_cases, chromium) -> Lab:
    """One JupyterLab for the session, serving a temporary copy of the notebooks."""
    root = browser_base / "served"
    root.mkdir()
    for nb in NOTEBOOKS.glob("*.ipynb"):
        shutil.copy2(nb, root / nb.name)
    port = free_port()
    env = server_env(browser_base, DUALROLE_CASES=str(instructor_cases))
    log = browser_base / "jupyterlab.log"
    cmd = [sys.executable, "-m", "jupyterlab", "--allow-root", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           "--IdentityProvider.token=", "--ServerApp.password=", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           f"--ServerApp.root_dir={root}"]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, f"{url}/api/status", what="JupyterLab", log=log, env=env, cwd=root):
        yield Lab(url=url, root=root, env=env)


@dataclass
class Voila:
    """A running Voila serving ``root`` (a temporary folder) on 127.0.0.1."""

    url: str
    root: Path

    def render_url(self, notebook: str) -> str:
        return f"{self.url}/voila/render/{notebook}"


def harness_copy(source: Path, target: Path, **env: str) -> Path:
    """Copy a notebook with a first cell that sets ``env`` in its kernel (for one test's data)."""
    import nbformat

    nb = nbformat.read(source, as_version=4)
    lines = ["# browser-test harness: this copy's kernel reads the test's own data", "import os"]
    lines += [f"os.environ[{k!r}] = {v!r}" for k, v in env.items()]
    nb.cells.insert(0, nbformat.v4.new_code_cell("\n".join(lines)))
    nbformat.write(nb, target)
    return target


@pytest.fixture(scope="session")
def voila(browser_base, instructor_cases, chromium) -> Voila:
    """One Voila for the session over copies of the instructor notebooks, on the shipped SYNTHETIC
    sample; ``probe-<name>`` copies read a data folder whose synthetic cohort answered only the
    injection probe case (``tests/browser/cohort.py``).
    """
    from .cohort import probe_data_dir

    root = browser_base / "voila-served"
    root.mkdir()
    probe_data = probe_data_dir(browser_base / "probe-data", instructor_cases)
    for nb in NOTEBOOKS.glob("instructor_*.ipynb"):
        shutil.copy2(nb, root / nb.name)
        harness_copy(nb, root / f"probe-{nb.name}", DUALROLE_DATA=str(probe_data))
    # A learner's first notebook too: MyAnswers' download must work in Voila as in Lab.
    shutil.copy2(NOTEBOOKS / "00_start_here.ipynb", root / "00_start_here.ipynb")
    env = server_env(browser_base / "voila", DUALROLE_CASES=str(instructor_cases))
    port = free_port()
    log = browser_base / "voila.log"
    cmd = [sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--Voila.port={port}",
           "--Voila.port_retries=0", "--VoilaConfiguration.show_tracebacks=False", str(root)]
    url = f"http://127.0.0.1:{port}"
    with running(cmd, f"{url}/voila/tree", what="Voila", log=log, env=env, cwd=root):
        yield Voila(url=url, root=root)


# -- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def chromium():
    if not CHROMIUM.exists():
        skip_or_fail(f"Chromium not found at {CHROMIUM}: install Debian's package "
                     "(apt-get install chromium) to run the browser tests")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        skip_or_fail("Python Playwright is not installed: pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@dataclass
class PageWatch:
    """What a page said while a test drove it: console errors, uncaught errors, dialogs."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    external_failures: list[str] = field(default_factory=list)


LOCAL_HOSTS = ("http://127.0.0.1", "ws://127.0.0.1")


def new_watched_page(browser):
    """A page in a fresh context that records console errors and dismisses (and records) dialogs."""
    context = browser.new_context(viewport=VIEWPORT)
    pg = context.new_page()
    watch = PageWatch()

    def on_console(msg):
        if msg.type != "error":
            return
        where = (msg.location or {}).get("url", "")
        # The tests run offline: a request for an external font or CDN file may fail. Only those are
        # filtered, and they are kept for the report.
        if where and not where.startswith(LOCAL_HOSTS):
            watch.external_failures.append(f"{msg.text} ({where})")
        else:
            watch.console_errors.append(msg.text)

    def on_dialog(dialog):
        if dialog.type == "beforeunload":  # JupyterLab's "leave with unsaved changes?" on navigation
            dialog.accept()
            return
        watch.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def on_request_failed(req):
        if not req.url.startswith(LOCAL_HOSTS):
            watch.external_failures.append(f"request failed: {req.url}")

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: watch.page_errors.append(str(exc)))
    pg.on("dialog", on_dialog)
    pg.on("requestfailed", on_request_failed)
    pg.watch = watch
    return pg


def save_failure_screenshot(pg, name: str) -> None:
    """Keep what the page showed when a test failed (tests/artifacts/FAILED-<name>.png)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        pg.screenshot(path=str(ARTIFACTS / f"FAILED-{name}.png"))
    except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
        pass


@pytest.fixture
def page(chromium, lab, request):
    """A fresh, watched browser page for one test; its kernels are stopped afterwards."""
    pg = new_watched_page(chromium)
    try:
        yield pg
        if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
            save_failure_screenshot(pg, request.node.name)
    finally:
        pg.context.close()
        lab.shutdown_kernels()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture
def learner_home(tmp_path) -> Path:
    """This test's own data folder: the kernel it opens writes its store here."""
    return tmp_path / "learner-home"

