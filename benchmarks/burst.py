"""Class burst: 300 learners each submit 5 answers within 60 s through the class service.

The service is the real ``dualrole serve`` application (handlers, rules, store) in its own process
on 127.0.0.1, reached over real HTTP. Only the Hub's token lookup is stood in for, by the test
stand-in of tests/hub/inprocess.py: starting a real JupyterHub with 300 users is what
tests/service/test_service_hub.py does for four, and is not part of this figure. Each answer is a POST of
the response, then a GET of the class distribution (what a card does to show the reveal).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COHORT = "synthetic-burst-class"


def serve(store_url: str, learners: int) -> None:
    """The child process: start the service with a token per learner, print its URL, wait."""
    sys.path.insert(0, str(REPO / "tests"))
    from hub.inprocess import SCOPE, InProcessService

    service = InProcessService(store_url, min_class=10)
    service.tokens.update({f"tok-{learner_name(i)}": {"name": learner_name(i), "scopes": [SCOPE]}
                           for i in range(learners)})
    service.tokens["tok-warmup"] = {"name": "synthetic-burst-warmup", "scopes": [SCOPE]}
    service.start()
    print(json.dumps({"url": service.url}), flush=True)
    sys.stdin.read()  # until the parent closes our stdin
    service.stop()


def learner_name(i: int) -> str:
    return f"synthetic-burst-{i:03d}"


def run(learners: int = 300, answers: int = 5, window: float = 60.0, seed: int = 8, warm: bool = True) -> dict:
    """The burst's figures. With ``warm``, one answer is sent first (not counted), as a class's
    first learner would: the service loads the case library on its first answer, not at start."""
    import httpx

    from widgets.cases.library import load_library

    sys.path.insert(0, str(REPO / "tests"))
    from hub.inprocess import answer

    work = Path(tempfile.mkdtemp(prefix="dualrole-bench-burst-"))
    env = dict(os.environ, PYTHONPATH=str(REPO), DUALROLE_HOME=str(work / "home"))
    child = subprocess.Popen([sys.executable, "-m", "benchmarks.burst", f"sqlite:///{work / 'class.sqlite'}",
                              str(learners)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=REPO, env=env)
    try:
        url = json.loads(child.stdout.readline())["url"]
        if warm:
            httpx.post(url + "api/responses", headers={"Authorization": "token tok-warmup"}, timeout=120,
                       json=answer("cosmetics", cohort="synthetic-burst-warmup")).raise_for_status()
        rng = random.Random(seed)
        case_ids = [c.id for c in load_library()]
        plan = []
        for i in range(learners):
            chosen = rng.sample(case_ids, answers)
            moments = sorted(rng.uniform(0, window) for _ in range(answers))
            plan += [(moment, i, case_id) for moment, case_id in zip(moments, chosen)]
        plan.sort()
        post_ms, reveal_ms, errors = [], [], []
        lock = threading.Lock()
        clients = {}

        def client(i):
            with lock:
                if i not in clients:
                    clients[i] = httpx.Client(base_url=url, timeout=30,
                                              headers={"Authorization": f"token tok-{learner_name(i)}"})
                return clients[i]

        start = time.perf_counter()

        def send(moment, i, case_id):
            delay = start + moment - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            http = client(i)
            body = answer(case_id, cohort=COHORT, justification="[synthetic] the roles would blur here.")
            try:
                t0 = time.perf_counter()
                posted = http.post("api/responses", json=body)
                t1 = time.perf_counter()
                shown = http.get(f"api/cohort/{case_id}", params={"cohort": COHORT, "phase": "practice"})
                t2 = time.perf_counter()
            except httpx.HTTPError as exc:
                with lock:
                    errors.append(f"{type(exc).__name__}: {exc}")
                return
            with lock:
                if posted.status_code != 201:
                    errors.append(f"POST {posted.status_code}: {posted.text[:200]}")
                elif shown.status_code != 200:
                    errors.append(f"GET {shown.status_code}: {shown.text[:200]}")
                else:
                    post_ms.append((t1 - t0) * 1000)
                    reveal_ms.append((t2 - t0) * 1000)

        with ThreadPoolExecutor(max_workers=64) as pool:
            list(pool.map(lambda item: send(*item), plan))
        elapsed = time.perf_counter() - start
        for http in clients.values():
            http.close()
    finally:
        child.stdin.close()
        child.wait(30)
    from .measure import median, percentile

    ok = len(post_ms)
    return {"warm": warm, "learners": learners, "answers": len(plan), "window_s": window, "elapsed_s": elapsed,
            "ok": ok, "errors": len(errors), "first_errors": errors[:3], "throughput": ok / elapsed,
            "p50_ms": median(post_ms) if ok else float("nan"),
            "p99_ms": percentile(post_ms, 99) if ok else float("nan"),
            "reveal_p50_ms": median(reveal_ms) if ok else float("nan"),
            "reveal_p99_ms": percentile(reveal_ms, 99) if ok else float("nan")}


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]))
