"""Instructor screens stay behind the Hub's login: on a hub's host, a standalone Voila server (which has no
login at all) refuses to show any class data, whoever opens it.

The screen runs here as an instructor's standalone Voila would on a hub (``JUPYTERHUB_USER`` and the
server's prefix in its environment, from the terminal of their Hub server); another user of the host
then requests the review page, with no credentials, as a standalone server lets anyone.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import httpx
import pytest
from servers import free_port, running  # tests/servers.py

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def standalone_voila(tmp_path):
    pytest.importorskip("voila", reason="Voila is not installed: pip install -e '.[test]'")
    served = tmp_path / "notebooks"
    served.mkdir()
    for name in ("instructor_review.ipynb", "instructor_live.ipynb", "instructor_cohort_review.ipynb"):
        shutil.copy2(REPO / "notebooks" / name, served / name)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTERHUB_", "DUALROLE_"))}
    env.update(PYTHONPATH=str(REPO), DUALROLE_HOME=str(tmp_path / "teacher-data"), JUPYTERHUB_USER="teacher",
               JUPYTERHUB_SERVICE_PREFIX="/user/teacher/", JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running([sys.executable, "-m", "voila", "--no-browser", "--Voila.ip=127.0.0.1", f"--Voila.port={port}",
                  "--Voila.port_retries=0", str(served)], f"{url}/voila/tree", what="Voila",
                 log=tmp_path / "voila.log", env=env, cwd=served):
        yield url


def test_another_user_opening_a_standalone_review_page_on_a_hub_gets_no_class_data(standalone_voila):
    from widgets.reporting.simulate import sample_store

    names = {r["learner"] for r in sample_store().responses()}  # whom the page would show
    page = httpx.get(f"{standalone_voila}/voila/render/instructor_review.ipynb", timeout=300)
    assert page.status_code in (200, 500)
    shown = [name for name in names if name in page.text]
    assert shown == [], f"the page shows learners: {shown[:5]}"
    assert "Score the reasoning" not in page.text  # nothing after the refusal ran
    assert "Release feedback" not in page.text


def test_the_rule_refuses_only_a_voila_outside_the_user_s_own_server(monkeypatch):
    from widgets.errors import DualroleError
    from widgets.learner.identity import outside_hub_login, require_hub_login

    for name in ("JUPYTERHUB_USER", "JUPYTERHUB_SERVICE_PREFIX", "VOILA_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    assert not outside_hub_login()  # a laptop
    monkeypatch.setenv("VOILA_BASE_URL", "/")
    assert not outside_hub_login()  # standalone Voila on a laptop: no other users to keep out
    monkeypatch.setenv("JUPYTERHUB_USER", "teacher")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/teacher/")
    assert outside_hub_login()  # a terminal's `voila` on a hub
    with pytest.raises(DualroleError, match="outside the Hub's login"):
        require_hub_login()
    monkeypatch.setenv("VOILA_BASE_URL", "/user/teacher/")
    assert not outside_hub_login()  # .../user/teacher/voila/render/...: behind the login
    monkeypatch.delenv("VOILA_BASE_URL")
    assert not outside_hub_login()  # JupyterLab in the user's own server
