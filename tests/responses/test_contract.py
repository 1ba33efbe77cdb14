"""One body, one verdict: the kernel, the class service and ``collect`` judge a response alike.

Each body in ``BODIES`` goes through the three doors a response can arrive by: the kernel's own
check (as :class:`~widgets.learner.session.CaseSession` commits), the class service over real HTTP,
and a one-line bundle that ``collect`` reads. Each door's verdict is reduced to "accepted" or the
set of bad field names, and the three must match each other and the table.
"""

from __future__ import annotations

import json
import re
import shutil
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from widgets.cases import Library, load_case, parse_case
from widgets.exchange.bundle import BUNDLE_FORMAT, bundle_text, checksum, line_digest
from widgets.exchange.collect import collect
from widgets.learner.session import CaseSession, Draft
from widgets.responses.contract import attempt_clash, check_response, parse_response
from widgets.store import open_store

REPO = Path(__file__).resolve().parents[2]
LEARNER = "alice"
JUSTIFICATION = "The roles conflict, and the client may be harmed by the overlap."
ACCEPTED = frozenset()


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _good(case, name: str, **changes) -> dict:
    """A valid card body for ``case``; every body gets its own cohort so none clashes with another."""
    body = {
        "response_id": str(uuid.uuid4()), "learner": LEARNER, "cohort": f"contract-{name}",
        "case_id": case.id, "case_version": case.case_version, "option_id": case.preferred[0],
        "confidence": 70, "justification": JUSTIFICATION, "attempt": 1, "phase": "practice",
        "submitted_at": _now().isoformat(),
    }
    body.update(changes)
    return body


def _without(case, name: str, field: str) -> dict:
    body = _good(case, name)
    del body[field]
    return body


def _other_stance(case) -> str:
    preferred = case.option(case.preferred[0]).stance
    return next(o.stance for o in case.options if o.stance != preferred)


# name -> (how to build the body from the case, the bad fields; empty when it is accepted)
BODIES = {
    "good: only what a body must carry": (lambda c, n: _good(c, n), ACCEPTED),
    "good: every field, stance repeated": (lambda c, n: _good(
        c, n, stance=c.option(c.preferred[0]).stance, kitchener_expectations="low",
        kitchener_obligations="medium", kitchener_power="high", started_at=(_now() - timedelta(minutes=3)).isoformat(),
        client="lab", consent=True), ACCEPTED),
    "good: Z timestamp, confidence 0, phase pre": (lambda c, n: _good(
        c, n, submitted_at=_now().strftime("%Y-%m-%dT%H:%M:%SZ"), confidence=0, phase="pre"), ACCEPTED),
    "good: confidence 100, phase post, kitchener null": (lambda c, n: _good(
        c, n, confidence=100, phase="post", kitchener_power=None), ACCEPTED),
    "good: 20 characters once stripped": (lambda c, n: _good(c, n, justification="   " + "r" * 20 + "\n "), ACCEPTED),
    "good: 20000 characters": (lambda c, n: _good(c, n, justification="r" * 20000), ACCEPTED),
    "good: a clock 4 minutes ahead": (lambda c, n: _good(
        c, n, submitted_at=(_now() + timedelta(minutes=4)).isoformat()), ACCEPTED),
    "good: the old whole-file version": (lambda c, n: _good(c, n, case_version=c.file_digest), ACCEPTED),
    "good: another option": (lambda c, n: _good(c, n, option_id=c.option_ids[-1]), ACCEPTED),
    "missing option_id": (lambda c, n: _without(c, n, "option_id"), {"option_id"}),
    "missing confidence": (lambda c, n: _without(c, n, "confidence"), {"confidence"}),
    "missing submitted_at": (lambda c, n: _without(c, n, "submitted_at"), {"submitted_at"}),
    "missing response_id": (lambda c, n: _without(c, n, "response_id"), {"response_id"}),
    "missing justification": (lambda c, n: _without(c, n, "justification"), {"justification"}),
    "missing cohort": (lambda c, n: _without(c, n, "cohort"), {"cohort"}),
    "unknown field": (lambda c, n: _good(c, n, mood="curious"), {"mood"}),
    "bad UUID": (lambda c, n: _good(c, n, response_id="not-a-uuid"), {"response_id"}),
    "upper-case UUID": (lambda c, n: _good(c, n, response_id=str(uuid.uuid4()).upper()), {"response_id"}),
    "unknown case": (lambda c, n: _good(c, n, case_id="no-such-case", stance="decline"), {"case_id"}),
    "option not in the case": (lambda c, n: _good(c, n, option_id="hug_the_client"), {"option_id"}),
    "stance contradicting the option": (lambda c, n: _good(c, n, stance=_other_stance(c)), {"stance"}),
    "confidence 101": (lambda c, n: _good(c, n, confidence=101), {"confidence"}),
    "confidence -1": (lambda c, n: _good(c, n, confidence=-1), {"confidence"}),
    "confidence as text": (lambda c, n: _good(c, n, confidence="50"), {"confidence"}),
    "confidence true": (lambda c, n: _good(c, n, confidence=True), {"confidence"}),
    "attempt 3": (lambda c, n: _good(c, n, attempt=3), {"attempt"}),
    "phase later": (lambda c, n: _good(c, n, phase="later"), {"phase"}),
    "justification too short once stripped": (lambda c, n: _good(c, n, justification="   " + "r" * 19 + "   "),
                                               {"justification"}),
    "justification too long": (lambda c, n: _good(c, n, justification="r" * 20001), {"justification"}),
    "timestamp that is not one": (lambda c, n: _good(c, n, submitted_at="yesterday at noon"), {"submitted_at"}),
    "impossible date": (lambda c, n: _good(c, n, submitted_at="2025-02-30T10:00:00+00:00"), {"submitted_at"}),
    "submitted an hour in the future": (lambda c, n: _good(
        c, n, submitted_at=(_now() + timedelta(hours=1)).isoformat()), {"submitted_at"}),
    "bad started_at": (lambda c, n: _good(c, n, started_at="noon"), {"started_at"}),
    "stale case_version": (lambda c, n: _good(c, n, case_version="0123456789abcdef"), {"case_version"}),
    "consent yes": (lambda c, n: _good(c, n, consent="yes"), {"consent"}),
    "kitchener rating extreme": (lambda c, n: _good(c, n, kitchener_power="extreme"), {"kitchener_power"}),
    "unknown client": (lambda c, n: _good(c, n, client="phone"), {"client"}),
    "empty cohort": (lambda c, n: _good(c, n, cohort=""), {"cohort"}),
    "three bad fields": (lambda c, n: _good(c, n, confidence=101, phase="later", attempt=3),
                         {"confidence", "phase", "attempt"}),
    "five bad fields": (lambda c, n: _good(c, n, confidence="high", phase="later", attempt=3, consent="yes",
                                           client="phone"),
                        {"confidence", "phase", "attempt", "consent", "client"}),
    "a list, not an object": (lambda c, n: [JUSTIFICATION], {"(body)"}),
    "a number, not an object": (lambda c, n: 42, {"(body)"}),
}


@pytest.fixture(scope="module")
def case():
    return load_case("cosmetics")


def _body(case, name):
    build, expected = BODIES[name]
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return build(case, slug), frozenset(expected)


# -- the three doors -------------------------------------------------------------------------------

def kernel_verdict(body, case) -> frozenset[str]:
    """As CaseSession.blocker/commit check a body: the kernel's learner, a library of the card's case."""
    response, problems = check_response(body, learner=LEARNER, library=Library.of([case]))
    if not problems:
        assert response.learner == LEARNER
    return frozenset(problems)


def service_verdict(body, service) -> frozenset[str]:
    import httpx

    reply = httpx.post(service.url + "api/responses", content=json.dumps(body),
                       headers={"Authorization": f"token {service.token(LEARNER)}",
                                "Content-Type": "application/json"}, timeout=30)
    if reply.status_code in (200, 201):
        assert reply.json()["response"]["learner"] == LEARNER
        return ACCEPTED
    # A bad field is a 400; a clash with the answers already kept (the rules across rows) a 409.
    assert reply.status_code in (400, 409) and "fields" in reply.json(), f"{reply.status_code}: {reply.text}"
    return frozenset(reply.json()["fields"])


def _bundle(body) -> str:
    if isinstance(body, dict):
        return bundle_text(LEARNER, [body])
    line = json.dumps(body)  # bundle_text takes rows; a non-object line is written by hand
    manifest = {"dualrole_bundle": BUNDLE_FORMAT, "learner": LEARNER, "count": 1, "sha256": checksum([line]),
                "line_sha256": [line_digest(line)], "exported_at": _now().isoformat()}
    return json.dumps(manifest) + "\n" + line + "\n"


def collect_verdict(body, tmp_path) -> frozenset[str]:
    folder = tmp_path / "handed-in"
    folder.mkdir()
    (folder / "alice.jsonl").write_text(_bundle(body), encoding="utf-8")
    report = collect([folder], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")
    if report.imported == 1:
        assert report.quarantined == 0 and not report.problems
        return ACCEPTED
    assert report.imported == 0 and report.quarantined == 1, report.table()
    (problem,) = report.problems
    if "a JSON object {...} was expected" in problem.reason:
        return frozenset({"(body)"})
    named = re.findall(r"field '([^']+)':", problem.reason)
    more = re.search(r"; and (\d+) more$", problem.reason)
    assert named, problem.reason
    # The reason names the first three fields and counts the rest.
    return frozenset(named) | ({f"...{i}" for i in range(int(more.group(1)))} if more else set())


def _comparable(fields: frozenset[str], collected: frozenset[str]) -> frozenset[str]:
    """``fields`` as collect's reason can show them: the first three by name, the rest counted."""
    if not any(f.startswith("...") for f in collected):
        return fields
    shown = sorted(fields)[:3]
    return frozenset(shown) | {f"...{i}" for i in range(len(fields) - 3)}


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    pytest.importorskip("jupyterhub", reason="the class service needs JupyterHub: pip install -e '.[test]'")
    from hub.inprocess import InProcessService

    folder = tmp_path_factory.mktemp("contract-service")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("DUALROLE_HOME", str(folder / "home"))
        mp.delenv("DUALROLE_CASES", raising=False)
        mp.delenv("DUALROLE_STORE", raising=False)
        running = InProcessService(f"sqlite:///{folder / 'class.sqlite'}").start()
        try:
            yield running
        finally:
            running.stop()


def test_the_table_has_every_kind_of_body():
    assert len(BODIES) >= 25
    assert sum(1 for _, expected in BODIES.values() if not expected) >= 5


@pytest.mark.parametrize("name", list(BODIES))
def test_kernel_service_and_collect_give_the_same_verdict(name, case, service, tmp_path):
    body, expected = _body(case, name)
    kernel = kernel_verdict(body, case)
    served = service_verdict(body, service)
    collected = collect_verdict(body, tmp_path)
    assert kernel == expected, f"kernel: {sorted(kernel)}"
    assert served == kernel, f"service {sorted(served)} != kernel {sorted(kernel)}"
    assert collected == _comparable(kernel, collected), f"collect {sorted(collected)} != kernel {sorted(kernel)}"


@pytest.mark.parametrize("name", [n for n, (_, expected) in BODIES.items() if not expected])
def test_a_card_session_commits_the_draft_of_each_good_body(name, case, fresh_store):
    body, _ = _body(case, name)
    session = CaseSession(case, fresh_store, learner=LEARNER, cohort=body["cohort"], phase=body["phase"],
                          consent=body.get("consent", False))
    draft = Draft(option_id=body["option_id"], confidence=body["confidence"], justification=body["justification"],
                  kitchener={f: body.get(f"kitchener_{f}") for f in ("expectations", "obligations", "power")})
    response = session.commit(draft)
    assert (response.learner, response.option_id, response.confidence, response.justification) == (
        LEARNER, body["option_id"], body["confidence"], body["justification"].strip())
    assert response.case_version == case.case_version
    assert session.committed and not session.changed


# -- the rules across rows: the same three doors, with answers already kept ------------------------

REVISED = JUSTIFICATION + " On reflection, the other option protects the client better."
# name -> (the answers kept before, as bodies; the body sent; the fields its verdict names)
HISTORIES = {
    "attempt 2 after a first answer": (
        lambda c, n: [_good(c, n)], lambda c, n, kept: _good(c, n, attempt=2, justification=REVISED), ACCEPTED),
    "a revote without a first answer": (
        lambda c, n: [], lambda c, n, kept: _good(c, n, attempt=2, justification=REVISED), {"attempt"}),
    "attempt 1 a second time": (
        lambda c, n: [_good(c, n)], lambda c, n, kept: _good(c, n), {"attempt"}),
    "a foreign learner": (
        lambda c, n: [], lambda c, n, kept: _good(c, n, learner="mallory"), {"learner"}),
    "a response id reused for another answer": (
        lambda c, n: [_good(c, n)], lambda c, n, kept: _good(c, n, phase="pre", response_id=kept[0]["response_id"]),
        {"response_id"}),
}


def _history(case, name):
    before, after, expected = HISTORIES[name]
    slug = "history-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    kept = before(case, slug)
    return kept, after(case, slug, kept), frozenset(expected)


def kernel_history_verdict(kept, body, case, store) -> frozenset[str]:
    """As CaseSession._check asks: the body's fields (check_response), then the rules across rows
    (attempt_clash) against the learner's answers already in the store."""
    for earlier in kept:
        store.add(parse_response(earlier, learner=LEARNER, library=Library.of([case])))
    response, problems = check_response(body, learner=LEARNER, library=Library.of([case]))
    if problems:
        return frozenset(problems)
    clash = attempt_clash(response.row(), store.responses(learner=LEARNER))
    return frozenset({clash.field}) if clash else ACCEPTED


def service_history_verdict(kept, body, service) -> frozenset[str]:
    for earlier in kept:
        assert service_verdict(earlier, service) == ACCEPTED
    return service_verdict(body, service)


def collect_history_verdict(kept, body, tmp_path) -> frozenset[str]:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    if kept:
        earlier = tmp_path / "earlier"
        earlier.mkdir()
        (earlier / "alice.jsonl").write_text(bundle_text(LEARNER, kept), encoding="utf-8")
        assert collect([earlier], url, tmp_path / "q0").imported == len(kept)
    return collect_verdict(body, tmp_path)


def test_the_history_table_covers_the_rules_across_rows():
    assert {"attempt", "learner", "response_id"} == {f for _, _, expected in HISTORIES.values() for f in expected}


@pytest.mark.parametrize("name", list(HISTORIES))
def test_kernel_service_and_collect_give_one_verdict_across_rows(name, case, service, tmp_path):
    kept, body, expected = _history(case, name)
    kernel = kernel_history_verdict(kept, body, case, open_store(f"sqlite:///{tmp_path / 'kernel.sqlite'}"))
    served = service_history_verdict(kept, body, service)
    collected = collect_history_verdict(kept, body, tmp_path)
    assert kernel == expected, f"kernel: {sorted(kernel)}"
    assert served == kernel, f"service {sorted(served)} != kernel {sorted(kernel)}"
    assert collected == kernel, f"collect {sorted(collected)} != kernel {sorted(kernel)}"


# -- case_version ----------------------------------------------------------------------------------

def _edited_copy(tmp_path, old: str, new: str) -> Path:
    source = REPO / "data" / "cases" / "cosmetics.md"
    target = tmp_path / "cosmetics.md"
    shutil.copyfile(source, target)
    text = target.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    target.write_text(text.replace(old, new), encoding="utf-8")
    return target


def test_a_rationale_edit_keeps_the_case_version(tmp_path):
    original = parse_case(REPO / "data" / "cases" / "cosmetics.md")
    edited = parse_case(_edited_copy(tmp_path, "It is defensible but misses a clinical opening.",
                                     "It is defensible, but it misses a clinical opening."))
    assert edited.option("decline_only").rationale != original.option("decline_only").rationale
    assert edited.case_version == original.case_version
    assert edited.file_digest != original.file_digest


def test_a_label_edit_changes_the_case_version(tmp_path):
    original = parse_case(REPO / "data" / "cases" / "cosmetics.md")
    edited = parse_case(_edited_copy(tmp_path, "label: Decline kindly and move on to the agenda",
                                     "label: Decline politely and move on to the agenda"))
    assert edited.case_version != original.case_version
    assert original.case_version not in edited.current_versions


def test_current_versions_hold_what_earlier_releases_recorded():
    import hashlib
    import json

    case = load_case("cosmetics")
    wording = {"version": case.version, "vignette": " ".join(case.vignette.split()),
               "options": [[o.id, o.label] for o in case.options]}
    before_the_key = hashlib.sha256(json.dumps(wording, sort_keys=True).encode("utf-8")).hexdigest()[:16]
    assert case.current_versions == {case.case_version, before_the_key, case.file_digest}
    assert len({case.file_digest, case.case_version, before_the_key}) == 3


# Values a field of a body may hold, valid or not, including ones JSON writes but Python reads
# oddly (NaN, 1.0 for an integer, a trailing newline that Python's "$" lets through).
ODD_VALUES = [None, True, False, 0, 1, 1.0, 70.5, -1, 101, 2**70, float("nan"), float("inf"), "", " ", "x" * 61,
              "x" * 201, "é" * 200, "practice", "practice\n", "cosmetics\n", str(uuid.uuid4()) + "\n", [], {}, ["a"],
              "2025-03-01T09:30:00+00:00", "2025-03-01T09:30:00+00:00\n", datetime(2025, 3, 1, tzinfo=timezone.utc)]


def test_the_compiled_schema_check_never_accepts_what_the_python_validator_refuses(case):
    """The fast path (jsonschema-rs) may only ever say "valid" where jsonschema's validator does."""
    from widgets import paths
    from widgets.responses import contract

    if paths._compiled_schema("response") is None:
        pytest.skip("jsonschema-rs is not installed: the Python validator alone judges every body")
    python = contract._validator()
    bodies = []
    for name in BODIES:
        body, _ = _body(case, name)
        if not isinstance(body, dict):
            continue  # refused before any schema check
        data = {**contract.DEFAULTS, **body, "stance": case.option(case.preferred[0]).stance}
        bodies.append(data)
        for field in list(data)[:25]:
            bodies += [{**data, field: value} for value in ODD_VALUES]
    accepted = 0
    for data in bodies:
        fast = paths.schema_valid_fast(data, "response")
        assert not fast or python.is_valid(data), f"fast path accepted what jsonschema refuses: {data!r}"
        accepted += fast
    # ...and it is a fast path at all: it accepts the good bodies the Python validator accepts, except
    # text ending in a newline (Rust's "$" is stricter), which the Python validator then judges.
    missed = [d for d in bodies if python.is_valid(d) and not paths.schema_valid_fast(d, "response")]
    assert accepted > 100
    assert all(any(isinstance(v, str) and v.endswith("\n") for v in d.values()) for d in missed), missed[:1]


def test_the_compiled_manifest_check_never_accepts_what_the_python_validator_refuses():
    """Collect checks each bundle's manifest by the compiled schema first: never more lenient than jsonschema."""
    from widgets import paths
    from widgets.exchange import bundle

    if paths._compiled_schema("response", "manifest") is None:
        pytest.skip("jsonschema-rs is not installed: the Python validator alone judges every manifest")
    python = bundle._manifest_validator()
    lines = ['{"case_id": "synthetic"}', '{"case_id": "synthetic", "confidence": 5}']
    manifest = json.loads(bundle_text("synthetic-ana", []).splitlines()[0]) | {
        "count": 2, "sha256": checksum(lines), "line_sha256": [line_digest(line) for line in lines]}
    manifests = [manifest] + [{**manifest, field: value} for field in manifest for value in ODD_VALUES]
    manifests += [{k: v for k, v in manifest.items() if k != field} for field in manifest]
    manifests += [{**manifest, "line_sha256": [value]} for value in ODD_VALUES]
    accepted = 0
    for data in manifests:
        fast = paths.schema_valid_fast(data, "response", "manifest")
        assert not fast or python.is_valid(data), f"fast path accepted what jsonschema refuses: {data!r}"
        assert (bundle._manifest_problem(data) is None) == python.is_valid(data)
        accepted += fast
    assert accepted > 10


def test_a_response_row_and_a_case_version_equal_their_straightforward_versions(case):
    """The shallow row equals dataclasses.asdict; the remembered case version equals a fresh hash."""
    import dataclasses

    from widgets.cases import library

    for name in BODIES:
        body, expected = _body(case, name)
        if expected:
            continue
        response, problems = check_response(body, learner=LEARNER)
        assert problems == {} and response.row() == dataclasses.asdict(response)
    fresh = library.Library()[case.id]
    assert fresh.case_version == library.Case.case_version.func(fresh) == case.case_version
    assert fresh.current_versions == library.Case.current_versions.func(fresh)
