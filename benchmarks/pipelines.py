"""The cohort report three ways, giving the same numbers: dualrole's analysis, DuckDB SQL, plain pandas.

The report: per-case summary (first answers, by phase), agreement with the reference (Cohen's
kappa on stances, per phase), item analysis (difficulty, corrected point-biserial, upper-lower
27 % discrimination, per phase), pre/post pairs (matching before and after, the discordant pairs),
and calibration (Brier score, quantile bins, over-confidence by cohort). Each pipeline starts from
the SQLite store file and returns the same canonical tables (:func:`compare` checks them).
"""

from __future__ import annotations

import math
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from scipy.stats import entropy, pointbiserialr
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, cohen_kappa_score

from widgets import analysis
from widgets.reporting.report import READS
from widgets.vocab import STANCES

try:  # imported here, so that no pipeline's timing includes an import
    import duckdb
except ImportError:  # the bench extra is not installed: the DuckDB pipeline says so when run
    duckdb = None

PHASES = ("pre", "post")
N_BINS = 5


# -- the canonical report ----------------------------------------------------------------------

def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    frame = frame.reset_index()
    for key in keys:
        frame[key] = frame[key].astype(str)
    return frame.sort_values(keys, kind="stable").set_index(keys)


def compare(left: dict, right: dict, *, rtol: float = 1e-9, atol: float = 1e-9) -> list[str]:
    """Every difference between two canonical reports (empty when they agree)."""
    problems = []
    for name in left:
        a, b = left[name], right.get(name)
        if b is None:
            problems.append(f"{name}: missing")
            continue
        if list(a.index) != list(b.index):
            problems.append(f"{name}: different rows ({len(a)} vs {len(b)})")
            continue
        for column in a.columns:
            x = a[column].to_numpy(dtype=float)
            y = b[column].to_numpy(dtype=float)
            same = np.isclose(x, y, rtol=rtol, atol=atol, equal_nan=True)
            if not same.all():
                i = int(np.flatnonzero(~same)[0])
                problems.append(f"{name}.{column} at {a.index[i]}: {x[i]!r} vs {y[i]!r}")
    return problems


def _key_tables(library=None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The scoring key (case, option, score, preferred) and each case's reference stances, in order."""
    from widgets.cases.library import load_library

    library = library if library is not None else load_library()
    options = pd.DataFrame(
        [(c.id, o.id, float(c.score(o.id)), o.id in c.preferred) for c in library for o in c.options],
        columns=["case_id", "option_id", "score", "preferred"])
    stances = pd.DataFrame(
        [(c.id, s, rank) for c in library for rank, s in enumerate(dict.fromkeys(c.reference_stances))],
        columns=["case_id", "stance", "rank"])
    return options, stances


# -- 1. dualrole's analysis ---------------------------------------------------------------------

def dualrole_report(path: Path, snapshot: bool = False) -> dict:
    """The report with ``widgets.analysis``: what an instructor's ``dualrole report`` does.

    ``snapshot``: read through the store's analysis snapshot (the warm path, when it is up to date).
    """
    df = analysis.responses(Path(path), snapshot=snapshot, columns=READS)
    first = analysis.answers(df)
    summary = analysis.case_summary(df)
    kappa = pd.DataFrame({"kappa": [analysis.reference_kappa(first[first["phase"] == p]) for p in PHASES]},
                         index=pd.Index(PHASES, name="phase"))
    items = pd.concat({p: analysis.item_analysis(df, phase=p) for p in PHASES}, names=["phase"])
    prepost = analysis.prepost(df)
    bins = analysis.calibration_table(first, n_bins=N_BINS)
    cohorts = analysis.overconfidence(first, by="cohort")
    brier = analysis.brier(first)
    return {
        "summary": _sorted(summary[["n", "n_matching", "share_matching", "mean_score", "mean_confidence",
                                    "entropy"]], ["case_id", "phase"]),
        "kappa": _sorted(kappa, ["phase"]),
        "items": _sorted(items[["n", "difficulty", "point_biserial", "discrimination"]], ["phase", "case_id"]),
        "prepost": _sorted(prepost[["n", "pre_matching", "post_matching", "improved", "worsened"]], ["case_id"]),
        "calibration": bins[["n", "mean_confidence", "share_matching"]].rename_axis("bin"),
        "cohorts": _sorted(cohorts[["n", "n_answers", "mean_confidence", "share_matching", "brier"]], ["cohort"]),
        "brier": pd.DataFrame({"brier": [brier]}),
    }


# -- 2. DuckDB, in SQL --------------------------------------------------------------------------

def sqlite_scanner_path() -> str:
    """The SQLite scanner extension shipped on PyPI for this DuckDB (no download at run time)."""
    if duckdb is None:
        raise RuntimeError("DuckDB is not installed: pip install -e '.[bench]'")
    import duckdb_extension_sqlite_scanner as extension

    folder = Path(extension.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    found = folder / "sqlite_scanner.duckdb_extension"
    if not found.exists():
        raise RuntimeError(f"no SQLite scanner for DuckDB {duckdb.__version__} in {found.parent.parent}: "
                           "install matching duckdb and duckdb-extension-sqlite-scanner versions "
                           "(pip install -e '.[bench]')")
    return str(found)


def duckdb_connect():
    conn = duckdb.connect()
    conn.execute(f"LOAD '{sqlite_scanner_path()}'")
    return conn


DUCK_SQL = """
CREATE OR REPLACE TEMP TABLE f AS
SELECT r.learner, r.cohort, r.case_id, r.phase, r.option_id, r.stance, r.confidence,
       o.score, o.preferred AS m
FROM (SELECT learner, cohort, case_id, phase, attempt, option_id, stance, confidence
      FROM $source
      QUALIFY row_number() OVER (PARTITION BY learner, cohort, case_id, phase ORDER BY attempt) = 1) r
LEFT JOIN opts o USING (case_id, option_id);
"""

DUCK_QUERIES = {
    "summary": """
WITH c AS (SELECT case_id, phase, option_id, count(*) AS k FROM f GROUP BY ALL),
     e AS (SELECT case_id, phase, -sum(k / t * log2(k / t)) AS entropy
           FROM (SELECT *, sum(k) OVER (PARTITION BY case_id, phase) AS t FROM c) GROUP BY ALL)
SELECT case_id, phase, count(*) AS n, sum(coalesce(m, false)::INT) AS n_matching,
       avg(m::DOUBLE) AS share_matching, avg(score) AS mean_score, avg(confidence) AS mean_confidence,
       any_value(e.entropy) AS entropy
FROM f JOIN e USING (case_id, phase) GROUP BY ALL""",
    "kappa": """
WITH p AS (SELECT f.phase, f.stance, max(CASE WHEN s.rank = 0 THEN s.stance END) AS ref
           FROM f JOIN refs s USING (case_id) GROUP BY f.phase, f.case_id, f.learner, f.cohort, f.stance),
     n AS (SELECT phase, count(*) AS n, avg((stance = ref)::DOUBLE) AS po FROM p GROUP BY phase),
     a AS (SELECT phase, stance AS k, count(*) AS x FROM p GROUP BY ALL),
     b AS (SELECT phase, ref AS k, count(*) AS y FROM p GROUP BY ALL),
     e AS (SELECT a.phase, sum(a.x * b.y) AS xy FROM a JOIN b USING (phase, k) GROUP BY a.phase)
SELECT n.phase, (po - coalesce(xy, 0) / (n * n)) / (1 - coalesce(xy, 0) / (n * n)) AS kappa
FROM n LEFT JOIN e USING (phase)""",
    "items": """
WITH t AS (SELECT phase, learner, sum(score) AS tot, count(score) AS cnt FROM f GROUP BY ALL),
     g AS (SELECT *, row_number() OVER (PARTITION BY phase ORDER BY tot / cnt, learner) AS rk,
                  count(*) OVER (PARTITION BY phase) AS nl FROM t WHERE cnt > 0),
     x AS (SELECT f.phase, f.case_id, f.m::DOUBLE AS m,
                  CASE WHEN g.cnt > 1 THEN (g.tot - f.score) / (g.cnt - 1) END AS rest,
                  CASE WHEN g.rk <= ceil(0.27 * g.nl) THEN 'low'
                       WHEN g.rk > g.nl - ceil(0.27 * g.nl) THEN 'high' END AS grp
           FROM f JOIN g USING (phase, learner) WHERE f.score IS NOT NULL)
SELECT phase, case_id, count(*) AS n, avg(m) AS difficulty,
       CASE WHEN count(rest) >= 3 AND count(DISTINCT m) FILTER (rest IS NOT NULL) > 1
                 AND count(DISTINCT rest) > 1 THEN corr(m, rest) END AS point_biserial,
       coalesce(avg(m) FILTER (grp = 'high'), 0) - coalesce(avg(m) FILTER (grp = 'low'), 0) AS discrimination
FROM x GROUP BY ALL""",
    "prepost": """
SELECT a.case_id, count(*) AS n, sum(a.m::INT) AS pre_matching, sum(b.m::INT) AS post_matching,
       sum((NOT a.m AND b.m)::INT) AS improved, sum((a.m AND NOT b.m)::INT) AS worsened
FROM f a JOIN f b ON a.learner = b.learner AND a.cohort = b.cohort AND a.case_id = b.case_id
WHERE a.phase = 'pre' AND b.phase = 'post' AND a.m IS NOT NULL AND b.m IS NOT NULL
GROUP BY a.case_id""",
    "calibration": """
WITH k AS (SELECT confidence::DOUBLE / 100 AS p, m::DOUBLE AS y FROM f WHERE m IS NOT NULL),
     s AS (SELECT p, row_number() OVER (ORDER BY p) - 1 AS i FROM k),
     n AS (SELECT count(*) AS n FROM k),
     -- numpy's percentile (which scikit-learn's quantile bins use): h = q (n - 1), then its lerp
     h AS (SELECT j, q * (n - 1) AS h, n FROM (SELECT unnest([1, 2, 3, 4]) AS j, unnest($quantiles) AS q), n),
     ab AS (SELECT j, h - floor(h) AS t, (SELECT p FROM s WHERE i = floor(h)) AS a,
                   (SELECT p FROM s WHERE i = least(floor(h) + 1, n - 1)) AS b FROM h),
     e AS (SELECT list(CASE WHEN t >= 0.5 THEN b - (b - a) * (1 - t) ELSE a + (b - a) * t END ORDER BY j) AS e FROM ab)
SELECT (p > e[1])::INT + (p > e[2])::INT + (p > e[3])::INT + (p > e[4])::INT AS bin,
       count(*) AS n, avg(p) AS mean_confidence, avg(y) AS share_matching
FROM k, e GROUP BY bin ORDER BY bin""",
    "cohorts": """
SELECT cohort, count(DISTINCT learner) AS n, count(*) AS n_answers, avg(confidence::DOUBLE / 100) AS mean_confidence,
       avg(m::DOUBLE) AS share_matching, avg(pow(confidence::DOUBLE / 100 - m::DOUBLE, 2)) AS brier
FROM f WHERE m IS NOT NULL GROUP BY cohort""",
    "brier": "SELECT avg(pow(confidence::DOUBLE / 100 - m::DOUBLE, 2)) AS brier FROM f WHERE m IS NOT NULL",
}
INDEXES = {"summary": ["case_id", "phase"], "kappa": ["phase"], "items": ["phase", "case_id"],
           "prepost": ["case_id"], "cohorts": ["cohort"]}


def _quoted(path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def duckdb_report(path: Path, conn=None, source: str | None = None) -> dict:
    """The same report in DuckDB SQL, reading the store through DuckDB's SQLite scanner.

    ``source``: another table expression holding the store's columns (a Parquet file, say).
    """
    conn = conn or (duckdb_connect() if source is None else duckdb.connect())
    options, stances = _key_tables()
    conn.register("opts", options)
    conn.register("refs", stances)
    scan = source if source is not None else f"sqlite_scan({_quoted(path)}, 'responses')"
    conn.execute(DUCK_SQL.replace("$source", scan))
    out = {}
    # The inner quantiles exactly as scikit-learn passes them to numpy (linspace * 100, then / 100).
    quantiles = (np.linspace(0, 1, N_BINS + 1) * 100 / 100)[1:-1]
    for name, sql in DUCK_QUERIES.items():
        sql = sql.replace("$quantiles", "[" + ", ".join(repr(float(q)) for q in quantiles) + "]")
        frame = conn.execute(sql).df()
        if name in INDEXES:
            frame = _sorted(frame, INDEXES[name])
        elif name == "calibration":
            frame = frame.set_index("bin")
            frame.index = range(len(frame))
        out[name] = frame
    conn.execute("DROP TABLE f")
    return out


# -- 3. plain pandas, as a researcher would write it ---------------------------------------------

def pandas_report(path: Path) -> dict:
    """The report as a researcher would write it: read_sql, then groupby/apply per case."""
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        df = pd.read_sql("SELECT * FROM responses", conn)
    engine.dispose()
    options, stances = _key_tables()
    df = df.merge(options, on=["case_id", "option_id"], how="left")
    df = df.sort_values("attempt", kind="stable").drop_duplicates(["learner", "cohort", "case_id", "phase"])
    df["m"] = df["preferred"]

    def describe(g):
        counts = g["option_id"].value_counts()
        return pd.Series({"n": len(g), "n_matching": g["m"].fillna(False).sum(),
                          "share_matching": g["m"].astype(float).mean(), "mean_score": g["score"].mean(),
                          "mean_confidence": g["confidence"].mean(), "entropy": entropy(counts, base=2)})

    summary = df.groupby(["case_id", "phase"]).apply(describe, include_groups=False)

    refs = stances.sort_values("rank").groupby("case_id")["stance"].apply(list).to_dict()
    kappas = {}
    for phase, part in df.groupby("phase"):
        reference = part["case_id"].map(lambda case_id: refs[case_id][0])  # one key per case
        kappas[phase] = cohen_kappa_score(part["stance"], reference, labels=list(STANCES))
    kappa = pd.DataFrame({"kappa": pd.Series(kappas)}).rename_axis("phase").loc[list(PHASES)]

    items = []
    for phase in PHASES:
        part = df[df["phase"] == phase]
        scores = part.pivot_table(index="learner", columns="case_id", values="score", aggfunc="first")
        matches = part.pivot_table(index="learner", columns="case_id", values="m", aggfunc="first").astype(float)
        total = scores.mean(axis=1).sort_values()
        ranked = pd.DataFrame({"learner": total.index, "total": total.values}).sort_values(["total", "learner"])
        size = math.ceil(0.27 * len(ranked))
        low, high = set(ranked["learner"].head(size)), set(ranked["learner"].tail(size))

        def item(case_id):
            x = matches[case_id].dropna()
            rest = scores.loc[x.index].drop(columns=case_id).mean(axis=1)
            keep = rest.notna()
            if keep.sum() >= 3 and x[keep].nunique() > 1 and rest[keep].nunique() > 1:
                r = pointbiserialr(x[keep], rest[keep]).statistic
            else:
                r = np.nan
            share = lambda group: x[x.index.isin(group)].mean() if x.index.isin(group).any() else 0.0  # noqa: E731
            return {"phase": phase, "case_id": case_id, "n": len(x), "difficulty": x.mean(),
                    "point_biserial": r, "discrimination": share(high) - share(low)}

        items += [item(c) for c in matches.columns]
    items = pd.DataFrame(items).set_index(["phase", "case_id"])

    pre = df[df["phase"] == "pre"]
    post = df[df["phase"] == "post"]
    pairs = pre.merge(post, on=["learner", "cohort", "case_id"], suffixes=("_pre", "_post"))
    pairs = pairs.dropna(subset=["m_pre", "m_post"])
    prepost = pairs.groupby("case_id").apply(lambda g: pd.Series({
        "n": len(g), "pre_matching": g["m_pre"].astype(bool).sum(), "post_matching": g["m_post"].astype(bool).sum(),
        "improved": (~g["m_pre"].astype(bool) & g["m_post"].astype(bool)).sum(),
        "worsened": (g["m_pre"].astype(bool) & ~g["m_post"].astype(bool)).sum()}), include_groups=False)

    known = df[df["m"].notna()]
    y, p = known["m"].astype(int).to_numpy(), known["confidence"].to_numpy() / 100.0
    share, mean_p = calibration_curve(y, p, n_bins=N_BINS, strategy="quantile")
    edges = np.percentile(p, np.linspace(0, 1, N_BINS + 1) * 100)
    ids = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(ids, minlength=N_BINS)
    calibration = pd.DataFrame({"n": counts[counts > 0], "mean_confidence": mean_p, "share_matching": share})
    cohorts = known.groupby("cohort").apply(lambda g: pd.Series({
        "n": g["learner"].nunique(), "n_answers": len(g), "mean_confidence": g["confidence"].mean() / 100,
        "share_matching": g["m"].astype(float).mean(),
        "brier": brier_score_loss(g["m"].astype(int), g["confidence"] / 100)}), include_groups=False)
    return {
        "summary": _sorted(summary, ["case_id", "phase"]), "kappa": _sorted(kappa, ["phase"]),
        "items": _sorted(items, ["phase", "case_id"]), "prepost": _sorted(prepost, ["case_id"]),
        "calibration": calibration, "cohorts": _sorted(cohorts, ["cohort"]),
        "brier": pd.DataFrame({"brier": [brier_score_loss(y, p)]}),
    }


def dualrole_warm_report(path: Path) -> dict:
    """dualrole's report through the store's analysis snapshot (up to date but for the latest answers).

    Below ``snapshot.MIN_ROWS`` dualrole reads a store whole; the benchmark measures the snapshot at
    every size, so its runs keep one whatever the size (:func:`benchmarks.cohort.run_warm`).
    """
    return dualrole_report(path, snapshot=True)


def duckdb_parquet_report(path: Path) -> dict:
    """DuckDB's report over the Parquet analysis snapshot beside the store: the warm path's peer,
    given the copy dualrole keeps up to date (it pays nothing to bring it up to date)."""
    return duckdb_report(path, source=f"read_parquet({_quoted(snapshot_path(path))})")


def snapshot_path(path: Path) -> Path:
    """Where ``analysis.responses(path, snapshot=True)`` keeps the analysis snapshot of a SQLite store."""
    return Path(str(Path(path).resolve()) + ".analysis.parquet")


PIPELINES = {"dualrole": dualrole_report, "duckdb": duckdb_report, "pandas": pandas_report,
             "dualrole_warm": dualrole_warm_report, "duckdb_parquet": duckdb_parquet_report}


def count_rows(path: Path) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT count(*) FROM responses").fetchone()[0]
