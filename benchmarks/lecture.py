"""A lecture hall: 1,000 learners each answer one case within 20 s of the instructor opening voting.

Everything is real: a JupyterHub (``tests/hub/realhub.py``: the deployment guide's own
``docs/jupyterhub_config.py``, configurable-http-proxy, DummyAuthenticator) runs ``dualrole serve``
as its managed service, on PostgreSQL (``tests/pg_fixture.py``) and again on SQLite. Every learner
is a Hub user with a Hub API token of its own, made through the Hub's REST API, and every request
goes through the proxy to the service, which checks the token with the Hub (JupyterHub's
``HubAuth``, whose cache keeps each token's answer for 60 s: ``widgets/service/app.py``).

The class, as a card and the live dashboard run it:

1. the instructor opens voting on one case (``POST api/class/<case>``, ``open_voting``);
2. each learner, at a random moment within the window, POSTs an answer, then reads the class
   state the card polls next (``GET api/class``: the stage and how many have answered);
3. when the window ends the instructor closes voting and shows the histogram; each learner's card
   reads the class distribution (``GET api/cohort/<case>``) at a random moment within one poll
   interval (``widgets/ui/classmode.py``, ``POLL_SECONDS``).

Afterwards the store must hold exactly one answer per learner (none lost, none twice), and every
learner must have seen a distribution of all of them.
"""

from __future__ import annotations

import os
import random
import re
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CASE = "wedding_invitation"
POLL_SECONDS = 3.0  # the card's poll interval (widgets/ui/classmode.py), kept import-free of ipywidgets


def learner_name(i: int) -> str:
    return f"synthetic-hall-{i:04d}"


def _helpers():
    tests = str(REPO / "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    from hub import inprocess, realhub
    from pg_fixture import PostgresServer

    return realhub, inprocess, PostgresServer


SETUPS = (("PostgreSQL", 1), ("PostgreSQL", 2), ("SQLite", 1))


def run(learners: int = 1000, window: float = 20.0, setups=SETUPS, seed: int = 12, workers: int = 96) -> list[dict]:
    """The lecture hall's figures, one dict per (backend, service processes); none without a proxy."""
    realhub, _, _ = _helpers()
    if realhub.proxy_command() is None:
        print("lecture hall: not measured (configurable-http-proxy not found: npm ci --prefix tests/hub)",
              file=sys.stderr)
        return []
    from pg_fixture import PG_BIN

    if not (PG_BIN / "initdb").exists():
        print(f"lecture hall: PostgreSQL not measured (no PostgreSQL 15 binaries in {PG_BIN})", file=sys.stderr)
        setups = [(backend, n) for backend, n in setups if backend != "PostgreSQL"]
    return [run_one(backend, learners, window, seed, workers, processes) for backend, processes in setups]


def run_one(backend: str, learners: int, window: float, seed: int = 12, workers: int = 96,
            processes: int = 1, poll: float = POLL_SECONDS) -> dict:
    """One lecture hall on ``backend``: votes spread over ``window`` seconds, the distribution read at a
    moment within ``poll`` seconds (the card's poll interval; the smoke test packs both tighter)."""
    import tempfile

    realhub, _, PostgresServer = _helpers()
    proxy = realhub.proxy_command()
    if proxy is None:
        raise RuntimeError("configurable-http-proxy not found: run 'npm ci --prefix tests/hub'")
    pg = None
    try:
        if backend == "PostgreSQL":
            pg = PostgresServer()
            pg.start()
            store_url = pg.new_database()
        else:
            store_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='dualrole-bench-hall-')) / 'class.sqlite'}"
        hub = realhub.RealHub(store_url, proxy, processes=processes)
        try:
            hub.start(timeout=120)
            return dict(_lecture(hub, realhub, learners, window, seed, workers, poll), backend=backend,
                        processes=processes)
        finally:
            hub.stop()
    finally:
        if pg is not None:
            pg.stop()


def _lecture(hub, realhub, learners: int, window: float, seed: int, workers: int, poll: float) -> dict:
    import httpx

    from widgets.cases.library import load_case

    _, inprocess, _ = _helpers()
    names = [learner_name(i) for i in range(learners)]
    admin = hub.admin()
    # Creating a thousand Hub users in one request takes the Hub half a minute on a busy 2-core machine.
    admin.post("users", json={"usernames": names}, timeout=300).raise_for_status()
    with ThreadPoolExecutor(8) as pool:
        tokens = dict(zip(names, pool.map(hub.token, names)))
    teacher = httpx.Client(base_url=hub.service_url, timeout=30,
                           headers={"Authorization": f"token {hub.token('teacher')}"})
    cohort = realhub.COHORT
    case = load_case(CASE)
    options = [o.id for o in case.options]

    # The Hub's own token check, on its own (what the service's HubAuth asks when its cache misses).
    hub_check_ms = []
    with httpx.Client(base_url=hub.api_url + "/", timeout=30) as direct:
        for name in names[: min(50, learners)]:
            t0 = time.perf_counter()
            direct.get("user", headers={"Authorization": f"token {tokens[name]}"}).raise_for_status()
            hub_check_ms.append((t0, time.perf_counter()))
    hub_check_ms = [(t1 - t0) * 1000 for t0, t1 in hub_check_ms]
    lookups_before = _hub_lookups(hub)

    rng = random.Random(seed)
    plan = sorted((rng.uniform(0, window), i, rng.choice(options)) for i in range(learners))
    reads = {i: rng.uniform(0, poll) for i in range(learners)}
    # One client (one connection) per learner, as each learner's kernel has; they share one TLS
    # context, unused over plain HTTP, which would otherwise cost a megabyte per client.
    tls = httpx.create_ssl_context()
    clients = {name: httpx.Client(base_url=hub.service_url, timeout=30, verify=tls,
                                  headers={"Authorization": f"token {tokens[name]}"}) for name in names}
    lock = threading.Lock()
    errors: list[str] = []
    post_ms, state_ms, dist_ms, seen_totals = [], [], [], []

    def fail(message: str) -> None:
        with lock:
            errors.append(message)

    def vote(start, moment, i, option):
        delay = start + moment - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        http = clients[names[i]]
        body = inprocess.answer(CASE, option, cohort=cohort, justification="[synthetic] the roles would blur here.")
        try:
            t0 = time.perf_counter()
            posted = http.post("api/responses", json=body)
            t1 = time.perf_counter()
            state = http.get("api/class", params={"cohort": cohort})
            t2 = time.perf_counter()
        except httpx.HTTPError as exc:
            return fail(f"{type(exc).__name__}: {exc}")
        if posted.status_code != 201:
            return fail(f"POST {posted.status_code}: {posted.text[:200]}")
        if state.status_code != 200 or state.json()["cases"].get(CASE, {}).get("stage") != "voting":
            return fail(f"GET api/class {state.status_code}: {state.text[:200]}")
        with lock:
            post_ms.append((t1 - t0) * 1000)
            state_ms.append((t2 - t0) * 1000)

    def read(start, i):
        delay = start + reads[i] - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        try:
            t0 = time.perf_counter()
            shown = clients[names[i]].get(f"api/cohort/{CASE}", params={"cohort": cohort, "phase": "practice"})
            t1 = time.perf_counter()
        except httpx.HTTPError as exc:
            return fail(f"{type(exc).__name__}: {exc}")
        if shown.status_code != 200:
            return fail(f"GET api/cohort {shown.status_code}: {shown.text[:200]}")
        with lock:
            dist_ms.append((t1 - t0) * 1000)
            seen_totals.append(shown.json()["total"])

    try:
        teacher.post(f"api/class/{CASE}", json={"cohort": cohort, "action": "open_voting"}).raise_for_status()
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda item: vote(start, *item), plan))
        voted_s = time.perf_counter() - start
        for action in ("close", "show_histogram"):
            teacher.post(f"api/class/{CASE}", json={"cohort": cohort, "action": action}).raise_for_status()
        service = _service_pids(hub)
        cpu_before, ours_before = _cpu_seconds(service), _cpu_seconds([os.getpid()])
        start = time.perf_counter()
        with ThreadPoolExecutor(workers) as pool:  # in the order of their moments, as the votes
            list(pool.map(lambda i: read(start, i), sorted(range(learners), key=reads.get)))
        read_s = time.perf_counter() - start
        read_cpu_s = _cpu_seconds(service) - cpu_before
        learners_cpu_s = _cpu_seconds([os.getpid()]) - ours_before
        summary = teacher.get("api/summary", params={"cohort": cohort, "cases": CASE}).json()["cases"][CASE]
        stored = teacher.get("api/responses", params={"cohort": cohort, "case_id": CASE}).json()["responses"]
    finally:
        for http in clients.values():
            http.close()
        teacher.close()
    lookups = _hub_lookups(hub) - lookups_before
    inside = _service_times(hub) | {"read_s": read_s, "read_cpu_ms": read_cpu_s * 1000 / max(len(dist_ms), 1),
                                    "read_cpu_share": read_cpu_s / read_s,
                                    "learners_cpu_share": learners_cpu_s / read_s}
    return inside | _figures(learners, window, voted_s, errors, post_ms, state_ms, dist_ms, seen_totals, stored,
                    summary, hub_check_ms, lookups, names)


def _hub_lookups(hub) -> int:
    """How many token lookups the Hub has answered so far (its log has one line per request)."""
    return len(re.findall(r"GET /hub/api/user\b", hub.log.read_text(errors="replace")))


def _service_pids(hub) -> list[int]:
    """The service process and, with --processes, its children (those answer the requests)."""
    parent = hub.service_pid()
    children = [int(c) for task in Path(f"/proc/{parent}/task").iterdir()
                for c in (task / "children").read_text().split()]
    return children or [parent]


def _cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat(5)
    return total / os.sysconf("SC_CLK_TCK")


def _service_times(hub) -> dict:
    """The service's own time per request (Tornado's access log, which the Hub's log carries): what
    the service spent, against what a learner waited (the proxy, the Hub's token check, queueing)."""
    from .measure import percentile

    log = hub.log.read_text(errors="replace")
    times = {}
    for kind, pattern in (("post", r"201 POST /services/dualrole/api/responses"),
                          ("dist", r"200 GET /services/dualrole/api/cohort/")):
        found = [float(ms) for ms in re.findall(pattern + r"\S* \([^)]*\) ([0-9.]+)ms", log)]
        times[f"service_{kind}_p99_ms"] = percentile(found, 99) if found else float("nan")
    return times


def _figures(learners, window, voted_s, errors, post_ms, state_ms, dist_ms, seen_totals, stored, summary,
             hub_check_ms, lookups, names) -> dict:
    from .measure import median, percentile

    def pct(values, q):
        return percentile(values, q) if values else float("nan")

    per_learner = {}
    for row in stored:
        per_learner[row["learner"]] = per_learner.get(row["learner"], 0) + 1
    return {
        "learners": learners, "window_s": window, "voted_s": voted_s, "errors": len(errors),
        "first_errors": errors[:3], "answers": len(post_ms),
        "stored": len(stored), "lost": sum(1 for n in names if n not in per_learner),
        "duplicated": sum(n - 1 for n in per_learner.values() if n > 1),
        "class_total": sum(summary["latest"].values()),
        "everyone_saw_all": bool(seen_totals) and len(seen_totals) == learners and min(seen_totals) == learners,
        "post_p50_ms": median(post_ms) if post_ms else float("nan"), "post_p99_ms": pct(post_ms, 99),
        "state_p99_ms": pct(state_ms, 99),
        "dist_p50_ms": median(dist_ms) if dist_ms else float("nan"), "dist_p99_ms": pct(dist_ms, 99),
        "hub_check_p50_ms": median(hub_check_ms) if hub_check_ms else float("nan"),
        "hub_check_p99_ms": pct(hub_check_ms, 99), "hub_lookups": lookups,
    }


def met(r: dict) -> bool:
    """The lecture hall's targets: no errors, none lost or duplicated, p99 under 250 ms."""
    return (r["errors"] == 0 and r["lost"] == 0 and r["duplicated"] == 0 and r["everyone_saw_all"]
            and max(r["state_p99_ms"], r["dist_p99_ms"]) < 250)


if __name__ == "__main__":
    import json

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    span = float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    print(json.dumps(run(size, span), indent=1))
