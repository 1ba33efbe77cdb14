"""Run the benchmarks and write ``benchmarks/results.md`` and ``benchmarks/cohort.png``.

Usage: ``python -m benchmarks.run [--sizes 10000 100000 1000000] [--with-8m] [--quick]``
(``make bench`` runs it with the defaults; ``BENCH_ARGS="--with-8m" make bench`` adds 8M).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import burst, cohort, collect_bench, data, lecture, loading, machine, startup, submit
from .report import write_plot, write_results

HERE = Path(__file__).resolve().parent
EIGHT_MILLION = 8_000_000


def parse(argv) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000],
                        help="cohort sizes in responses (default: 10k 100k 1M)")
    parser.add_argument("--with-8m", action="store_true", help="add the 8M-response cohort (about 20 minutes)")
    parser.add_argument("--quick", action="store_true", help="10k responses, one run each: checks the code, not speed")
    parser.add_argument("--reps", type=int, default=None,
                        help="runs per pipeline (default 5 below 1M, 3 at 1M and 8M)")
    parser.add_argument("--collect-responses", type=int, default=100_000,
                        help="responses collected from bundles into each backend (default 100k)")
    parser.add_argument("--lecture-learners", type=int, default=1000,
                        help="learners in the lecture hall through a real JupyterHub (default 1,000)")
    parser.add_argument("--pandas-upto", type=int, default=1_000_000,
                        help="run the plain-pandas baseline up to this many responses (default 1M: at 8M it "
                             "takes the whole machine's memory until the kernel kills it)")
    parser.add_argument("--no-notebooks", action="store_true", help="skip timing the nbval notebook suite")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md and cohort.png go")
    return parser.parse_args(argv)


def reps_for(size: int, given: int | None) -> int:
    if given:
        return given
    return 5 if size < 1_000_000 else 3  # a single run at 8M varied by a fifth between runs


def main(argv=None) -> dict:
    args = parse(argv)
    sizes = sorted(set(args.sizes + ([EIGHT_MILLION] if args.with_8m else [])))
    if args.quick:
        sizes, args.collect_responses, args.no_notebooks = [10_000], 10_000, True
    results = {"machine": machine.describe(), "data": data.describe(), "quick": args.quick, "started": time.time()}

    def step(name, function, *a, **k):
        print(f"[bench] {name} ...", flush=True)
        start = time.perf_counter()
        value = function(*a, **k)
        print(f"[bench] {name}: {time.perf_counter() - start:.1f} s", flush=True)
        return value

    results["cohort"] = [step(f"cohort report at {size:,}", cohort.run, size,
                              reps=1 if args.quick else reps_for(size, args.reps),
                              names=("dualrole", "duckdb") + (("pandas",) if size <= args.pandas_upto else ()))
                         for size in sizes]
    results["warm"] = [step(f"warm report at {size:,}", cohort.run_warm, size,
                            reps=1 if args.quick else reps_for(size, args.reps))
                       for size in sizes]
    loading_size = 10_000 if args.quick else min(max(sizes), 1_000_000)
    path, _ = data.build_store(loading_size)
    results["loading"] = {"responses": loading_size, "rows": step(f"loading at {loading_size:,}", loading.run, path,
                                                                   runs=1 if args.quick else 3)}
    results["collect"] = step(f"collect {args.collect_responses:,}", collect_bench.run, args.collect_responses)
    submit_size = 10_000 if args.quick else 1_000_000
    results["submit"] = step(f"submit latency at {submit_size:,}", submit.run, submit_size,
                             samples=30 if args.quick else 300)
    results["burst"] = (step("class burst (30 x 5 in 6 s)", burst.run, learners=30, window=6) if args.quick
                        else step("class burst (300 x 5 in 60 s)", burst.run))
    results["burst_cold"] = step("class burst from a cold start (30 x 5 in 6 s)", burst.run, learners=30,
                                 window=6, warm=False)
    results["lecture"] = (step("lecture hall (20 learners in 2 s, SQLite)", lecture.run, 20, 2.0, (("SQLite", 1),))
                          if args.quick else
                          step(f"lecture hall ({args.lecture_learners:,} learners in 20 s, real JupyterHub)",
                               lecture.run, args.lecture_learners))
    results["imports"] = step("import time", startup.imports, runs=3 if args.quick else 7)
    results["notebooks"] = None if args.no_notebooks else step("nbval notebook suite", startup.notebooks)
    results["machine"]["load_after"] = machine.describe()["load"]
    results["profiles"] = step("profiles", profiles, results, args.out / "profiles", quick=args.quick)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "out").mkdir(exist_ok=True)
    (args.out / "out" / "results.json").write_text(json.dumps(results, indent=1, default=str))
    write_results(results, args.out / "results.md")
    write_plot(results, args.out / "cohort.png")
    print(f"[bench] wrote {args.out / 'results.md'} and {args.out / 'cohort.png'}")
    return results


def profiles(results: dict, folder: Path, quick: bool) -> dict:
    """pyinstrument profiles of what misses a target (and of collect, which is far from its bound)."""
    from .report import cohort_targets

    folder.mkdir(parents=True, exist_ok=True)
    made = {}
    largest = max(results["cohort"], key=lambda r: r["responses"])
    if quick or not all(cohort_targets(results["cohort"], largest).values()):
        path, _ = data.build_store(largest["size"])
        made["cohort"] = _profile(folder / f"cohort-{largest['size']}.txt", cohort.pipelines.dualrole_report, path)
    made["collect"] = _profile(folder / "collect-10000.txt", collect_bench.run, 10_000, False)
    if results["submit"]["p99_ms"] >= 50:
        made["submit"] = _profile(folder / "submit.txt", submit.run, 10_000 if quick else 1_000_000, 100)
    return made


def _profile(out: Path, function, *args) -> str:
    try:
        from pyinstrument import Profiler
    except ImportError:
        return "pyinstrument is not installed (pip install -e '.[bench]')"
    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        function(*args)
    finally:
        profiler.stop()
    out.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")
    return f"profiles/{out.name}"


if __name__ == "__main__":
    main(sys.argv[1:])
