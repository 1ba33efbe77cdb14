"""Collect: learner bundles into a SQLite store and a PostgreSQL store, against a bare bulk insert.

A bundle holds one learner's answers (the bundle format's rule, checked by collect), so a cohort
of N responses is about N / 100 bundles of about 100 lines each. The lower bound is a bare bulk insert of
the same rows: ``executemany`` in one transaction (sqlite3), and ``COPY`` (psycopg) for PostgreSQL.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from widgets.exchange.bundle import bundle_text
from widgets.exchange.collect import collect
from widgets.store import Store
from widgets.store.schema import COLUMNS

from . import data

REPO = Path(__file__).resolve().parent.parent


def write_bundles(responses: int, folder: Path) -> tuple[int, int]:
    """One bundle file per learner of the synthetic cohort; (bundles, responses)."""
    folder.mkdir(parents=True, exist_ok=True)
    files = rows = 0
    for block in data.blocks(responses):
        block = block.astype({"started_at": object, "submitted_at": object})
        for learner, answers in block.groupby("learner", sort=False):
            records = answers[COLUMNS].to_dict("records")
            for record in records:
                for name in ("started_at", "submitted_at"):
                    record[name] = record[name].to_pydatetime() if record[name] is not None else None
            (folder / f"{learner}.jsonl").write_text(bundle_text(learner, records), encoding="utf-8")
            files += 1
            rows += len(records)
    return files, rows


def postgres_server():
    """A throw-away PostgreSQL 15 server (tests/pg_fixture.py), or None when it cannot start."""
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from pg_fixture import PG_BIN, PostgresServer
    except ImportError:
        return None
    if not (PG_BIN / "initdb").exists():
        return None
    server = PostgresServer()
    try:
        server.start()
    except Exception:  # noqa: BLE001 - reported as "not measured"
        server.stop()
        return None
    return server


def bulk_sqlite(path: Path, frame) -> float:
    Store(f"sqlite:///{path}").engine.dispose()
    start = time.perf_counter()
    data.bulk_insert(path, frame)
    return time.perf_counter() - start


def bulk_postgres(url: str, frame) -> float:
    import psycopg

    Store(url).engine.dispose()
    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    rows = frame[COLUMNS].itertuples(index=False, name=None)
    start = time.perf_counter()
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY responses ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    return time.perf_counter() - start


def run(responses: int, with_postgres: bool = True) -> list[dict]:
    """Collect the cohort's bundles into each backend; one row of figures per backend."""
    work = Path(tempfile.mkdtemp(prefix="dualrole-bench-collect-"))
    server = None
    try:
        folder = work / "bundles"
        bundles, rows = write_bundles(responses, folder)
        frame = data.cohort(responses)
        targets = [("SQLite", lambda name: f"sqlite:///{work / name}.sqlite", bulk_sqlite)]
        if with_postgres:
            server = postgres_server()
            if server is not None:
                targets.append(("PostgreSQL", lambda name: server.new_database(), bulk_postgres))
        results = []
        for backend, make_url, bulk in targets:
            url = make_url("collect")
            store = Store(url)
            start = time.perf_counter()
            report = collect([folder], store, quarantine_dir=work / f"quarantine-{backend}")
            seconds = time.perf_counter() - start
            store.engine.dispose()
            if report.imported != rows or report.quarantined:
                raise RuntimeError(f"collect into {backend} imported {report.imported} of {rows} "
                                   f"({report.quarantined} quarantined)")
            target = work / "bulk.sqlite" if backend == "SQLite" else make_url("bulk")
            bulk_seconds = bulk(target, frame)
            results.append({"backend": backend, "bundles": bundles, "responses": rows, "seconds": seconds,
                            "per_second": rows / seconds, "bulk_seconds": bulk_seconds,
                            "bulk_per_second": rows / bulk_seconds, "ratio": seconds / bulk_seconds})
        return results
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)


def count(url_or_path) -> int:
    with sqlite3.connect(url_or_path) as conn:
        return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
