"""A research export's xAPI statements, sent twice to a real learning record store (Ralph, started here).

The first upload stores every statement; a second upload, of a fresh export of the same answers by
the same instructor, is accepted and stores nothing new, because each statement's id and timestamp
are the same in both exports. Needs Ralph in tests/lrs/.venv (``make test`` makes it); without it a
local run skips, and ``CI=true`` fails.
"""

from __future__ import annotations

import json

import pytest
from conftest import skip_or_fail

from widgets import analysis
from widgets.reporting.research_export import research_export


@pytest.fixture(scope="module")
def lrs():
    from lrs.ralph import RalphLRS, ralph_python

    python = ralph_python()
    if python is None:
        skip_or_fail("Ralph LRS not found: python -m venv tests/lrs/.venv && "
                     "tests/lrs/.venv/bin/pip install -r tests/lrs/requirements.txt")
    server = RalphLRS(python)
    try:
        server.start()
    except RuntimeError as exc:
        server.stop()
        pytest.fail(str(exc))
    yield server
    server.stop()


def statements(result) -> list[dict]:
    return [json.loads(line) for line in (result.out_dir / "xapi.jsonl").read_text(encoding="utf-8").splitlines()]


def held(client, statement_id: str) -> dict:
    """The one statement the LRS holds under an id (Ralph's file backend answers with a list of one)."""
    reply = client.get("statements", params={"statementId": statement_id})
    assert reply.status_code == 200, reply.text
    body = reply.json()
    found = body.get("statements", [body])
    assert len(found) == 1, f"{len(found)} statements under one id"
    return found[0]


def test_an_export_sent_twice_to_a_real_lrs_is_stored_once_and_read_back_unchanged(lrs, tmp_path):
    frame = analysis.sample()
    first = statements(research_export(frame, tmp_path / "first"))
    again = statements(research_export(frame, tmp_path / "again"))  # a later export of the same answers
    assert again == first
    with lrs.client() as client:
        sent = client.post("statements", json=first)
        assert sent.status_code == 200, sent.text
        assert sent.json() == [s["id"] for s in first]  # the LRS kept our ids
        assert lrs.stored_lines() == len(first)

        resent = client.post("statements", json=again)
        assert resent.status_code == 204, resent.text  # accepted: nothing refused, nothing new
        assert lrs.stored_lines() == len(first)

        one = first[len(first) // 2]
        assert client.put("statements", params={"statementId": one["id"]}, json=one).status_code == 204
        stored = held(client, one["id"])
        # A different statement under a held id is refused, and the stored one stays as it was.
        forged = {**one, "result": {**one["result"], "response": "something_else"}}
        assert client.post("statements", json=[forged]).status_code == 409
        assert held(client, one["id"])["result"] == one["result"]
    assert stored["timestamp"].startswith(one["timestamp"][:19])  # the day of the answer, not of the upload
    for part in ("actor", "verb", "object", "result", "context"):
        assert stored[part] == one[part], part

