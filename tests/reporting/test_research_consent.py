"""Who is in a research export: one consent rule, on the shared store and on collected bundles.

A class is seeded with learners who must never reach a research output (one who never consented,
one who withdrew in the shared store, one who withdrew offline before handing in a bundle, one who
never consented offline, and three in a cohort too small to export) and with learners who must
(a late consent in the shared store and offline, a learner whose class code changed). Every byte
of every file the export writes, and the Parquet file's dictionaries and metadata, are then
searched for anything of the excluded learners: their ids, their reasoning, their answers' ids,
and the withheld cohorts' names. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd
import pyarrow.parquet as pq
import pytest

from widgets import analysis
from widgets.exchange.bundle import write_bundle
from widgets.exchange.collect import collect
from widgets.reporting.research_export import research_export
from widgets.reporting.simulate import simulate
from widgets.responses.contract import Script
from widgets.store import open_store

CLASS = "synthetic-psy612"
TINY = "synthetic-tiny-seminar"  # 3 consenting learners: under the minimum of 10, withheld whole
SELF_STUDY = "synthetic-self-study-x"  # where the mover answered before setting the class code


def _learner_rows(rows: pd.DataFrame, source: str, learner: str, cohort: str, consent: bool) -> pd.DataFrame:
    mine = rows[rows["learner"] == source].copy()
    mine["learner"], mine["cohort"], mine["consent"] = learner, cohort, consent
    mine["justification"] = f"[synthetic] reasoning written by {learner} only"
    return mine


@pytest.fixture(params=[True, False], ids=["with-justifications", "without"])
def seeded(request, store_url, tmp_path):
    """The instructor's store after a term: shared-store answers plus collected offline bundles."""
    rows = simulate(learners=20, cohorts=1, seed=11, consent_rate=1.0)
    sources = sorted(rows["learner"].unique())
    store = open_store(store_url)
    included = {f"synthetic-in-{i:02d}": sources[i] for i in range(10)}
    excluded = {"synthetic-never-q7": sources[10], "synthetic-withdrew-k2": sources[11],
                "synthetic-tiny-a1": sources[12], "synthetic-tiny-b2": sources[13], "synthetic-tiny-c3": sources[14]}
    late, mover = "synthetic-late-m4", "synthetic-mover-z9"
    frames = [_learner_rows(rows, s, name, CLASS, True) for name, s in included.items()]
    frames.append(_learner_rows(rows, excluded["synthetic-never-q7"], "synthetic-never-q7", CLASS, False))
    frames.append(_learner_rows(rows, excluded["synthetic-withdrew-k2"], "synthetic-withdrew-k2", CLASS, True))
    frames += [_learner_rows(rows, excluded[n], n, TINY, True) for n in ("synthetic-tiny-a1", "synthetic-tiny-b2",
                                                                           "synthetic-tiny-c3")]
    late_rows = _learner_rows(rows, sources[15], late, CLASS, False)  # answered before consenting
    mover_rows = _learner_rows(rows, sources[16], mover, CLASS, True)
    mover_rows.loc[mover_rows["phase"] == "pre", "cohort"] = SELF_STUDY
    frames += [late_rows, mover_rows]
    store.add_many(pd.concat(frames).to_dict("records"))
    for learner in [*included, "synthetic-withdrew-k2", "synthetic-tiny-a1", "synthetic-tiny-b2",
                    "synthetic-tiny-c3", mover]:
        store.set_consent(learner, True)
    store.set_consent("synthetic-withdrew-k2", False)  # withdrew at the end of term
    store.set_consent(late, True)  # consented after the pre-test

    # Offline learners answer in their own stores and hand in bundles, which collect merges.
    offline = {"synthetic-off-withdrew-n5": (sources[17], [True, False]),  # withdrew before handing in
               "synthetic-off-never-p6": (sources[18], []),
               "synthetic-off-late-o3": (sources[19], [True])}  # consented after answering
    bundles = tmp_path / "bundles"
    for learner, (source, choices) in offline.items():
        local = open_store(f"sqlite:///{tmp_path / (learner + '.sqlite')}")
        answered_with = choices[0] if choices and learner.endswith("n5") else False
        local.add_many(_learner_rows(rows, source, learner, CLASS, answered_with).to_dict("records"))
        for choice in choices:
            local.set_consent(learner, choice)
        write_bundle(local, learner, bundles / f"{learner}.jsonl")
    report = collect([bundles], store, tmp_path / "quarantine")
    assert report.quarantined == 0 and report.imported > 0
    excluded_all = [*excluded, "synthetic-off-withdrew-n5", "synthetic-off-never-p6"]
    in_all = [*included, late, mover, "synthetic-off-late-o3"]
    # Every learner, in or out, wrote what they would say after a first answer.
    for learner in [*in_all, *excluded_all]:
        first = next(r for r in store.responses(learner=learner) if r["attempt"] == 1)
        store.save_script(Script(learner=learner, cohort=first["cohort"], case_id=first["case_id"],
                                 case_version=first["case_version"], response_id=first["response_id"], kind="script",
                                 text=f"[synthetic] script written by {learner} only", checks=[0, 2]))
    df = analysis.responses(store)
    out, crosswalk = tmp_path / "export", tmp_path / "private" / "crosswalk.csv"
    if request.param:
        with pytest.warns(UserWarning, match="justifications"):
            result = research_export(df, out, crosswalk=crosswalk, include_justifications=True,
                                     scripts=store.latest_scripts())
    else:
        result = research_export(df, out, crosswalk=crosswalk, scripts=store.latest_scripts())
    return {"df": df, "result": result, "excluded": excluded_all, "included": in_all, "late": late,
            "mover": mover, "offline_late": "synthetic-off-late-o3", "justifications": request.param}


def _forbidden(seeded) -> list[str]:
    df = seeded["df"]
    out = df[df["learner"].isin(seeded["excluded"])]
    texts = set(seeded["excluded"]) | {TINY, SELF_STUDY}
    texts |= {f"reasoning written by {learner}" for learner in seeded["excluded"]}
    texts |= {f"script written by {learner}" for learner in seeded["excluded"]}
    texts |= set(out["response_id"].astype(str))
    return sorted(texts)


def _parquet_text(path) -> str:
    """Everything the Parquet file holds, decoded: values, every dictionary, the schema and its metadata."""
    table = pq.read_table(path)
    parts = [str(table.schema), json.dumps({k.decode(): v.decode() for k, v in (table.schema.metadata or {}).items()})]
    for column in table.columns:
        for chunk in column.chunks:
            if hasattr(chunk, "dictionary"):
                parts.append("\n".join(map(str, chunk.dictionary.to_pylist())))
            parts.append("\n".join(map(str, chunk.to_pylist())))
    frame = pd.read_parquet(path)
    for column in frame.columns:
        if isinstance(frame[column].dtype, pd.CategoricalDtype):
            parts.append("\n".join(map(str, frame[column].cat.categories)))
    return "\n".join(parts)


def test_nothing_of_an_excluded_learner_or_withheld_cohort_is_in_any_byte_of_the_export(seeded):
    result = seeded["result"]
    forbidden = _forbidden(seeded)
    assert len(forbidden) > 50  # the ids of the excluded answers are searched too
    files = sorted(result.out_dir.rglob("*"))
    assert {p.name for p in files} >= {"responses.csv", "responses.parquet", "xapi.jsonl", "datapackage.json",
                                       "scripts.csv"}
    for path in files:
        assert not [text for text in forbidden if text in path.name], path.name
        content = path.read_bytes()
        found = [text for text in forbidden if text.encode("utf-8") in content]
        assert not found, f"{path.name} holds {found[:3]}"
        if path.suffix == ".parquet":
            decoded = _parquet_text(path)
            found = [text for text in forbidden if text in decoded]
            assert not found, f"{path.name} (decoded) holds {found[:3]}"


def test_the_consent_at_export_decides_for_every_answer_on_both_paths(seeded):
    result, df = seeded["result"], seeded["df"]
    walk = pd.read_csv(result.crosswalk, dtype=str)
    assert set(walk["learner"]) == set(seeded["included"])
    exported = pd.read_csv(result.out_dir / "responses.csv", dtype=str, keep_default_na=False)
    codes = dict(zip(walk["learner"], walk["research_code"]))
    for learner in (seeded["late"], seeded["offline_late"]):
        # Late consent covers every answer, the pre-test included, in the shared store and offline.
        mine = exported[exported["research_code"] == codes[learner]]
        assert len(mine) == int((df["learner"] == learner).sum())
        assert "pre" in set(mine["phase"])
    mover = exported[exported["research_code"] == codes[seeded["mover"]]]
    assert set(mover["cohort"]) == {CLASS} and {"pre", "post"} <= set(mover["phase"])
    if seeded["justifications"]:
        assert exported["justification"].str.startswith("[synthetic] reasoning written by synthetic-").all()
    assert set(exported["cohort"]) == {CLASS}


def test_a_script_is_exported_exactly_when_the_answer_it_follows_is(seeded):
    result = seeded["result"]
    walk = pd.read_csv(result.crosswalk, dtype=str)
    codes = dict(zip(walk["learner"], walk["research_code"]))
    said = pd.read_csv(result.out_dir / "scripts.csv", dtype=str, keep_default_na=False)
    assert sorted(said["research_code"]) == sorted(codes[learner] for learner in seeded["included"])
    assert set(said["cohort"]) == {CLASS}  # the mover's script is under their one cohort, as their answers are
    assert set(said["checks"]) == {"0 2"} and set(said["checked"]) == {"2"}
    if seeded["justifications"]:
        assert sorted(said["text"]) == sorted(f"[synthetic] script written by {learner} only"
                                              for learner in seeded["included"])
    else:
        assert "text" not in said.columns
        assert not [f for f in json.loads((result.out_dir / "datapackage.json").read_text())["resources"][2]
                    ["schema"]["fields"] if f["name"] == "text"]
    frictionless = pytest.importorskip("frictionless")
    report = frictionless.validate(result.out_dir / "datapackage.json")
    assert report.valid, report.flatten(["rowNumber", "fieldName", "type", "note"])[:5]


def test_a_withdrawal_carried_by_a_bundle_is_honoured_after_collect(seeded, tmp_path):
    df = seeded["df"]
    assert not df.loc[df["learner"] == "synthetic-off-withdrew-n5", "consent"].any()
    assert df.loc[df["learner"] == "synthetic-off-late-o3", "consent"].all()


def test_collecting_a_bundle_twice_adds_no_consent_record(store_url, tmp_path):
    rows = simulate(learners=1, cohorts=1, seed=2)
    local = open_store(f"sqlite:///{tmp_path / 'local.sqlite'}")
    local.add_many(rows.to_dict("records"))
    learner = rows["learner"].iloc[0]
    local.set_consent(learner, True)
    local.set_consent(learner, False)
    write_bundle(local, learner, tmp_path / "b" / "one.jsonl")
    store = open_store(store_url)
    collect([tmp_path / "b"], store, tmp_path / "q")
    collect([tmp_path / "b"], store, tmp_path / "q")
    records = store.consent_records(learner)
    assert [r["consent"] for r in records] == [True, False]
    assert records[1]["recorded_at"] - records[0]["recorded_at"] < timedelta(minutes=1)
    assert store.consent(learner) is False


def test_a_bad_consent_line_is_quarantined_with_its_reason(tmp_path):
    from widgets.exchange.bundle import bundle_text

    text = bundle_text("synthetic-ana", [], consents=[{"learner": "synthetic-ana", "consent": True,
                                                       "recorded_at": pd.Timestamp("2026-09-08", tz="UTC")}])
    broken = text.replace('"consent_event": true', '"consent_event": "yes"')
    lines = broken.splitlines()
    from widgets.exchange.bundle import checksum, line_digest

    manifest = json.loads(lines[0]) | {"sha256": checksum(lines[1:]), "line_sha256": [line_digest(x) for x in lines[1:]]}
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "ana.jsonl").write_text("\n".join([json.dumps(manifest), *lines[1:]]) + "\n")
    report = collect([tmp_path / "b"], f"sqlite:///{tmp_path / 's.sqlite'}", tmp_path / "q")
    assert report.quarantined == 1
    assert "field 'consent_event': expected true or false" in report.problems[0].reason
