"""Shared fixtures. Every test runs on an isolated data folder and store: none touches a real one."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["pg_fixture"]  # the PostgreSQL test server and the store_url fixture


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Point the data folder and store at a temporary folder, and clear hub identity."""
    home = tmp_path / "dualrole-home"
    monkeypatch.setenv("DUALROLE_HOME", str(home))
    monkeypatch.delenv("DUALROLE_STORE", raising=False)
    monkeypatch.delenv("DUALROLE_CASES", raising=False)
    monkeypatch.delenv("DUALROLE_COHORT", raising=False)
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    monkeypatch.delenv("DUALROLE_SERVICE_URL", raising=False)
    return home


@pytest.fixture
def fresh_store(tmp_path):
    from widgets.store import open_store

    return open_store(f"sqlite:///{tmp_path / 'store.sqlite'}")


@pytest.fixture
def make_response():
    """The one factory of valid answers: ``make_response("synthetic-ana", "decline_explore", attempt=2)``.

    The option defaults to the case's first, and its stance and the case's version always match, so
    a test states only what it is about; any other field of :class:`Response` can be given.
    """
    from widgets.cases.library import load_case
    from widgets.responses.contract import Response

    def make(learner: str = "synthetic-ana", option: str | None = None, *, case_id: str = "cosmetics",
             cohort: str = "synthetic-class", **fields) -> Response:
        case = load_case(case_id)
        chosen = case.option(option or case.options[0].id)
        values = {"case_version": case.case_version, "confidence": 70,
                  "justification": "The second role would cloud my judgement, so I decline and explain why."}
        return Response(learner=learner, cohort=cohort, case_id=case_id, option_id=chosen.id, stance=chosen.stance,
                        **{**values, **fields})

    return make


@pytest.fixture
def say_case(tmp_path, monkeypatch):
    """A lesson case with a ``say:`` block, ``say_practice``, in an instructor's case folder
    (tests/say_case_file.py)."""
    from say_case_file import SAY_ID, write_say_case

    from widgets.cases.library import load_case

    write_say_case(tmp_path / "say-cases")
    monkeypatch.setenv("DUALROLE_CASES", str(tmp_path / "say-cases"))
    return load_case(SAY_ID)


@pytest.fixture
def service(tmp_path):
    """The class service running in a thread on a SQLite class store (a class of 3 may see its counts);
    the Hub's token check is stood in for (tests/hub/inprocess.py)."""
    pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")
    from hub.inprocess import InProcessService

    running = InProcessService(f"sqlite:///{tmp_path / 'class.sqlite'}", min_class=3).start()
    yield running
    running.stop()


@pytest.fixture
def load_broken(tmp_path):
    """What a loader says of an edited copy of a data file: ``load_broken(DATA, load, edit)`` writes
    ``edit(DATA's text)`` to a file of the same name, expects ``load(copy)`` to raise InvalidFile and
    returns its message."""
    from widgets.errors import InvalidFile

    def load_broken(source: Path, load, edit) -> str:
        path = tmp_path / source.name
        path.write_text(edit(source.read_text(encoding="utf-8")), encoding="utf-8")
        with pytest.raises(InvalidFile) as caught:
            load(path)
        return str(caught.value)

    return load_broken


def pytest_sessionfinish(session):
    """The last safety net: stop any server a fixture started and did not stop (tests/servers.py)."""
    from servers import stop_all

    stop_all()


def under_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def skip_or_fail(reason: str):
    """Locally a missing system dependency skips with a message; under CI=true it fails."""
    if under_ci():
        pytest.fail(f"{reason} (CI=true: this test must run)")
    pytest.skip(reason)
