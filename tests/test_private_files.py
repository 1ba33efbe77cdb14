"""Files holding a learner's answers, drafts, feedback or keys are 600 in folders made 700, whatever the
umask and whatever the mode of the home folder around them: on a shared hub, where home folders are
often 755, nothing of one learner is readable by another."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from widgets.cases.library import load_case
from widgets.exchange.bundle import write_bundle
from widgets.exchange.outbox import Outbox
from widgets.learner import identity
from widgets.learner.scratch import Scratch
from widgets.privacy import instructor_key
from widgets.responses.contract import Response
from widgets.store import open_store


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def open_umask(tmp_path, monkeypatch):
    """A 755 home folder, a data folder not made yet, and the loosest umask there is."""
    home = tmp_path / "home"
    home.mkdir(mode=0o755)
    data = home / ".local" / "share" / "dualrole"
    monkeypatch.setenv("DUALROLE_HOME", str(data))
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    old = os.umask(0)
    try:
        yield home, data
    finally:
        os.umask(old)


def assert_private(data: Path, home: Path) -> None:
    for path in [data, *data.rglob("*")]:
        expected = 0o700 if path.is_dir() else 0o600
        assert mode(path) == expected, f"{path.relative_to(home)} is {oct(mode(path))}"
    for made in (home / ".local", home / ".local" / "share"):
        assert mode(made) == 0o700
    assert mode(home) == 0o755  # the user's own folder is left as it was


def response(case_id="cosmetics") -> Response:
    case = load_case(case_id)
    option = case.options[0]
    return Response(learner="alice", cohort="c", case_id=case_id, case_version=case.case_version,
                    option_id=option.id, stance=option.stance, confidence=60,
                    justification="The roles conflict and the client could be harmed.")


def answer(case_id="cosmetics") -> dict:
    return response(case_id).to_json()


def test_every_outbox_write_leaves_its_files_private_including_compact(open_umask):
    home, data = open_umask
    box = Outbox(data / "outbox.jsonl")
    first, second = answer(), answer("small_holiday_gift")
    box.put(first)
    assert_private(data, home)
    box.put(second)
    box.mark_sent(first["response_id"])
    assert_private(data, home)
    box.refuse(second, "already recorded", "already_answered")
    assert_private(data, home)
    box.mark_told(second["response_id"])
    box.compact()  # the rewrite that used to come out 644
    assert box.path.read_bytes() == b""
    assert_private(data, home)
    # A saved script waits in the same file, as private as an answer (it holds the learner's words).
    words = {"script_id": "s-1", "response_id": first["response_id"], "text": "What I would say."}
    box.put_script(words)
    assert_private(data, home)
    box.refuse_script(words, "no answer of yours to this case is kept", "invalid")
    assert_private(data, home)
    assert box.pending_scripts() == [] and [e["script"] for e in box.untold()] == [words]
    box.compact()
    assert box.path.read_bytes() == b""


def test_an_outbox_and_data_folder_left_open_by_an_older_version_are_closed_at_the_next_write(open_umask):
    home, data = open_umask
    data.mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)
    (data / "outbox.jsonl").write_text("")
    os.chmod(data / "outbox.jsonl", 0o644)
    Outbox(data / "outbox.jsonl").put(answer())
    assert mode(data) == 0o700 and mode(data / "outbox.jsonl") == 0o600


def test_drafts_identity_settings_store_bundle_and_key_are_private(open_umask):
    home, data = open_umask
    Scratch().save_draft("k", 1, {"justification": "my private reasoning"})
    identity.learner_id()
    identity.save_settings(cohort="c")
    store = open_store()
    store.add(response())
    write_bundle(store, "alice", data / "bundles" / "alice.jsonl")
    instructor_key()
    assert_private(data, home)
