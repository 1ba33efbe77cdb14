"""The dualrole command as a user meets it: exact messages, exit codes, no tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from widgets.cli import cli
from widgets.responses.contract import Response
from widgets.store import open_store

REPO = Path(__file__).resolve().parents[2]
GOOD = REPO / "data" / "cases" / "cosmetics.md"


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input, catch_exceptions=False)


def test_validate_passes_on_the_shipped_library():
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("All ") and "case(s) are valid" in result.output


def test_validate_fails_naming_file_line_and_field(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text(GOOD.read_text(encoding="utf-8").replace("id: cosmetics", "id: bad")
                   .replace("stance: accept\n", "stance: maybe\n", 1), encoding="utf-8")
    result = run("validate", str(tmp_path), str(GOOD))
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "options[3].stance: 'maybe' is not one of" in result.output
    assert "1 problem(s) in 1 of 2 file(s)." in result.output
    assert "Traceback" not in result.output


def test_validate_cues_reports_a_folder_whose_keys_give_themselves_away(tmp_path):
    # An author's folder where the key is always the longest label and the only one saying "document".
    import re

    source = GOOD.read_text(encoding="utf-8")
    for n in (1, 2):
        text = source.replace("id: cosmetics", f"id: cues_{n}")
        text = re.sub(r"(- id: decline_explore\n    label: ).*", r"\1Decline, explore in session at length "
                      r"what the request means to her and what your refusal means, and document it", text)
        (tmp_path / f"cues_{n}.md").write_text(text, encoding="utf-8")
    result = run("validate", "--cues", str(tmp_path))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "All 2 case(s) are valid." in lines[0]
    assert "of 2 case(s): 2 key(s) (preferred options), 6 other option(s)" in result.output
    longest = next(line for line in lines if "key is the longest label" in line)
    assert "keys 100%" in longest and "chance 25%" in longest and longest.endswith("<- check")
    document = next(line for line in lines if "label says 'document'" in line)
    assert "keys 100%" in document and "others 0%" in document and document.endswith("<- check")
    refer = next(line for line in lines if "label says 'refer'" in line)
    assert not refer.endswith("<- check")
    # Without the flag, validate says nothing about cues.
    assert "Surface cues" not in run("validate", str(tmp_path)).output


def test_cases_lists_id_module_title_and_reference():
    result = run("cases", "--json")
    rows = json.loads(result.output)
    cosmetics = next(r for r in rows if r["id"] == "cosmetics")
    assert cosmetics == {"id": "cosmetics", "module": "business", "title": "The cosmetics catalogue",
                         "reference": "Decline and explore", "contested": True}


def test_cases_unknown_module_is_a_clear_error():
    result = CliRunner().invoke(cli, ["cases", "--module", "money"])
    assert result.exit_code == 1
    assert result.output.startswith("Error: no module 'money'; modules are: confidentiality, business")


def _store_with_answers(learner):
    store = open_store()
    for case in ("a", "b"):
        store.add(Response(learner=learner, cohort="c", case_id=case, case_version="v", option_id="x",
                           stance="decline", confidence=50, justification="reasoning text here"))
    store.add(Response(learner="someone-else", cohort="c", case_id="a", case_version="v", option_id="x",
                       stance="decline", confidence=50, justification="not mine to export"))
    return store


def test_export_writes_only_my_answers(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    _store_with_answers("ana")
    out = tmp_path / "mine.jsonl"
    result = run("export", "--out", str(out))
    assert result.exit_code == 0
    assert result.output == f"Wrote 2 response(s) of learner ana to {out}.\n"
    manifest, *lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert manifest["learner"] == "ana" and manifest["count"] == 2
    assert {line["learner"] for line in lines} == {"ana"}


def test_erase_asks_first_and_deletes_only_mine(monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    store = _store_with_answers("ana")
    declined = CliRunner().invoke(cli, ["erase", "--me"], input="n\n")
    assert declined.exit_code == 1 and store.count() == 3
    result = run("erase", "--me", input="y\n")
    assert "Delete 2 response(s) of learner ana" in result.output
    assert "Erased 2 response(s)." in result.output
    assert [r["learner"] for r in store.responses()] == ["someone-else"]


def test_an_unopenable_store_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    monkeypatch.setenv("DUALROLE_STORE", str(blocker / "sub" / "db.sqlite"))
    result = CliRunner().invoke(cli, ["export", "--out", str(tmp_path / "o.jsonl")])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert "Traceback" not in result.output


def test_where_names_the_local_store_or_the_class_service(monkeypatch, isolated_home):
    result = run("where")
    assert "store:   sqlite:///" in result.output and str(isolated_home) in result.output
    assert "research consent: no" in result.output
    monkeypatch.setenv("DUALROLE_SERVICE_URL", "http://127.0.0.1:9/services/dualrole/")
    result = run("where")
    assert "store:   the class service at http://127.0.0.1:9/services/dualrole/" in result.output


@pytest.mark.parametrize("command", ["course", "review"])
def test_a_command_serving_an_app_stops_its_voila_when_it_is_stopped(command, tmp_path, make_response):
    """``dualrole course`` and ``dualrole review`` run Voila as their child: a SIGTERM to the command alone
    (a service manager's, or a test fixture's) stops that Voila too, rather than leave it serving, its
    kernels with it."""
    import os
    import signal
    import sys

    import psutil
    from servers import free_port, start, stop, wait_until

    pytest.importorskip("voila")
    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "DUALROLE_HOME": str(tmp_path / "home"),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(repo), os.environ.get("PYTHONPATH")]))}
    args = ["--no-browser"] if command == "course" else ["--store", str(tmp_path / "class.sqlite")]
    if command == "review":
        open_store(f"sqlite:///{tmp_path / 'class.sqlite'}").add(make_response())
    log = tmp_path / "app.log"
    app = start([sys.executable, "-m", "widgets", command, *args, f"--port={free_port()}"], log=log, env=env)
    try:
        wait_until(lambda: bool(psutil.Process(app.pid).children()), app, what=command, log=log)
        [voila] = psutil.Process(app.pid).children()
        app.send_signal(signal.SIGTERM)
        assert app.wait(60) >= 0, "the command died of the signal, leaving its Voila"
        voila.wait(60)  # gone: psutil.TimeoutExpired if it ran on
    finally:
        stop(app)
