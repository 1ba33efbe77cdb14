"""Collecting a class: bundles merged without loss, bad lines quarantined with their reason.

Every learner and bundle here is synthetic. ``store_url`` runs the collect tests that matter on both
SQLite and PostgreSQL (tests/pg_fixture.py).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from widgets.cases.library import load_library
from widgets.cli import cli
from widgets.errors import StoreError
from widgets.exchange.bundle import BUNDLE_FORMAT, bundle_text
from widgets.exchange.collect import collect
from widgets.responses.contract import Response, response_schema
from widgets.responses.pacing import SELF_PACED, STAGES
from widgets.store import Store, open_store
from widgets.store.schema import COLUMNS
from widgets.vocab import CLIENTS, PHASES, RISK_LEVELS, STANCES

COHORT = "synthetic-class"


def answers(learner: str, n: int, **changes) -> list[dict]:
    """``n`` distinct synthetic answers of one learner (distinct case, phase and attempt)."""
    cases = list(load_library())[:3]
    rows = []
    for i in range(n):
        case = cases[i % 3]
        option = case.options[i % len(case.options)]
        rows.append(Response(learner=learner, cohort=COHORT, case_id=case.id, case_version=case.case_version,
                             option_id=option.id, stance=option.stance, confidence=10 + i, client="script",
                             phase=PHASES[(i // 3) % 3], attempt=1 + (i // 9) % 2,
                             justification=f"Synthetic reasoning number {i}: roles and power.").row() | changes)
    return rows


def write(folder: Path, name: str, learner: str, rows: list[dict]) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(bundle_text(learner, rows), encoding="utf-8")
    return path


def report_rows(path: Path) -> list[dict]:
    with path.open(newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def ids(rows) -> set[str]:
    return {r["response_id"] for r in rows}


@pytest.fixture
def downloads(tmp_path):
    """A folder as an LMS hands it over: good, duplicate and broken bundles, each broken one way."""
    folder = tmp_path / "downloads"
    good: list[dict] = []

    def keep(rows):
        good.extend(rows)
        return rows

    ana = write(folder, "ana.jsonl", "synthetic-ana", keep(answers("synthetic-ana", 3)))
    write(folder, "ben.jsonl", "synthetic-ben", keep(answers("synthetic-ben", 3)))
    shutil.copy(ana, folder / "ana (1).jsonl")  # downloaded twice

    cat = answers("synthetic-cat", 3)
    cut = write(folder, "truncated.jsonl", "synthetic-cat", cat)
    text = cut.read_text(encoding="utf-8")
    cut.write_text(text[: len(text) - 30], encoding="utf-8")  # the last line is cut off
    keep(cat[:2])

    dan = answers("synthetic-dan", 3)
    edited = write(folder, "checksum.jsonl", "synthetic-dan", dan)
    lines = edited.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[3] = lines[3].replace('"confidence": 12', '"confidence": 99')  # changed by hand after export
    edited.write_text("".join(lines), encoding="utf-8")
    keep(dan[:2])

    eve = answers("synthetic-eve", 2)
    write(folder, "unknown_case.jsonl", "synthetic-eve", [eve[0], eve[1] | {"case_id": "no-such-case"}])
    keep(eve[:1])

    fay = answers("synthetic-fay", 2)
    write(folder, "stale.jsonl", "synthetic-fay", [fay[0], fay[1] | {"case_version": "0123456789abcdef"}])
    keep(fay[:1])

    write(folder, "mixed.jsonl", "synthetic-gil",
          keep(answers("synthetic-gil", 2)) + answers("synthetic-hal", 1))

    ida = answers("synthetic-ida", 2, justification="Synthetic: the café owner is the client's aunt.")
    latin = write(folder, "latin1.jsonl", "synthetic-ida", ida)
    head, first, second = latin.read_bytes().decode("utf-8").splitlines(keepends=True)
    latin.write_bytes(head.encode() + first.encode() + second.encode("latin-1"))
    keep(ida[:1])

    utf16 = folder / "utf16.jsonl"
    utf16.write_text(bundle_text("synthetic-jon", answers("synthetic-jon", 1)), encoding="utf-16")
    (folder / "empty.jsonl").write_bytes(b"")
    with (folder / "huge.jsonl").open("wb") as f:
        f.truncate(50 * 2**20)  # 50 MB, sparse: refused by its size, never read
    return folder, good


EXPECTED_PROBLEMS = {
    ("truncated.jsonl", "4"): "truncated: the file ends part-way through this line",
    ("checksum.jsonl", "4"): "changed after export: the line does not match its checksum in the manifest",
    ("unknown_case.jsonl", "3"): "field 'case_id': no case 'no-such-case' in the case library",
    ("stale.jsonl", "3"): "field 'case_version': '0123456789abcdef' is not case",
    ("mixed.jsonl", "4"): "field 'learner': 'synthetic-hal' is not the learner sending it ('synthetic-gil')",
    ("latin1.jsonl", "3"): "not UTF-8 text: byte 0xe9 at column",
    ("utf16.jsonl", ""): "the file is UTF-16 text, not UTF-8",
    ("empty.jsonl", ""): "empty file",
    ("huge.jsonl", ""): "file is 50.0 MB, over the 16 MB limit for one bundle",
}


def test_a_folder_of_good_duplicate_and_broken_bundles_collects_exactly_once(downloads, store_url, tmp_path):
    folder, good = downloads
    quarantine = tmp_path / "quarantine"

    report = collect([folder], store_url, quarantine)

    store = open_store(store_url)
    assert ids(store.responses()) == ids(good)
    assert store.count() == len(good)
    assert report.imported == len(good)
    problems = {(Path(r["file"]).name, r["line"]): r["reason"] for r in report_rows(quarantine / "report.csv")}
    assert problems.keys() == EXPECTED_PROBLEMS.keys()
    for key, start in EXPECTED_PROBLEMS.items():
        assert problems[key].startswith(start), (key, problems[key])
    by_name = {f.path.name: f for f in report.files}
    twice = {(by_name[n].imported, by_name[n].duplicates) for n in ("ana.jsonl", "ana (1).jsonl")}
    assert twice == {(3, 0), (0, 3)}  # whichever comes first is imported, the other is all duplicates
    assert (by_name["truncated.jsonl"].imported, by_name["truncated.jsonl"].quarantined) == (2, 1)

    again = collect([folder], store_url, quarantine)

    assert again.imported == 0
    assert ids(store.responses()) == ids(good) and store.count() == len(good)
    assert {(Path(r["file"]).name, r["line"]): r["reason"] for r in report_rows(quarantine / "report.csv")} == problems


def test_quarantined_lines_are_kept_verbatim_beside_the_report(downloads, tmp_path):
    folder, _ = downloads
    quarantine = tmp_path / "quarantine"

    collect([folder], f"sqlite:///{tmp_path / 'class.sqlite'}", quarantine)

    rows = {r["file"].rsplit("/", 1)[-1]: r for r in report_rows(quarantine / "report.csv")}
    latin_line = (folder / "latin1.jsonl").read_bytes().splitlines()[2]
    assert (quarantine / rows["latin1.jsonl"]["quarantine_file"]).read_bytes() == latin_line + b"\n"
    assert (quarantine / rows["utf16.jsonl"]["quarantine_file"]).read_bytes() == (folder / "utf16.jsonl").read_bytes()
    assert rows["huge.jsonl"]["quarantine_file"] == ""  # far too big to copy: it stays where it is


def test_a_crash_part_way_through_a_bundle_leaves_the_store_as_before(tmp_path, monkeypatch, store_url):
    folder = tmp_path / "in"
    write(folder, "a.jsonl", "synthetic-ana", answers("synthetic-ana", 2))
    write(folder, "b.jsonl", "synthetic-ben", answers("synthetic-ben", 4))
    store = open_store(store_url)
    real_add_many = Store.add_many

    def crash_after_inserting(self, rows, conn=None):
        added = real_add_many(self, rows, conn)
        if rows[0]["learner"] == "synthetic-ben":
            raise KeyboardInterrupt  # the power goes, or the instructor presses Ctrl-C
        return added

    monkeypatch.setattr(Store, "add_many", crash_after_inserting)
    with pytest.raises(KeyboardInterrupt):
        collect([folder], store, tmp_path / "q")

    assert {r["learner"] for r in store.responses()} == {"synthetic-ana"}
    assert store.count() == 2


def test_a_store_failing_part_way_names_the_file_and_keeps_earlier_bundles(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    write(folder, "a.jsonl", "synthetic-ana", answers("synthetic-ana", 2))
    write(folder, "b.jsonl", "synthetic-ben", answers("synthetic-ben", 2))
    store = open_store(f"sqlite:///{tmp_path / 'class.sqlite'}")
    real_add_many = Store.add_many

    def disk_full(self, rows, conn=None):
        if rows[0]["learner"] == "synthetic-ben":
            raise StoreError("could not write: database or disk is full")
        return real_add_many(self, rows, conn)

    monkeypatch.setattr(Store, "add_many", disk_full)
    with pytest.raises(StoreError) as failed:
        collect([folder], store, tmp_path / "q")

    assert "the store failed while collecting" in str(failed.value) and "b.jsonl" in str(failed.value)
    assert "run collect again to finish" in str(failed.value)
    assert [f.path.name for f in failed.value.report.files] == ["a.jsonl"]
    assert store.count() == 2


def test_a_commit_failing_behind_the_next_check_names_its_file_and_keeps_earlier_bundles(tmp_path, monkeypatch,
                                                                                        store_url):
    """A bundle's commit runs while the next bundle is checked: when it fails, that bundle is the one named."""
    folder = tmp_path / "in"
    write(folder, "a.jsonl", "synthetic-ana", answers("synthetic-ana", 2))
    write(folder, "b.jsonl", "synthetic-ben", answers("synthetic-ben", 3))
    write(folder, "c.jsonl", "synthetic-cat", answers("synthetic-cat", 2))
    store = open_store(store_url)
    real_add_many, real_commit = Store.add_many, Store._commit
    adding = []

    def remember(self, rows, conn=None):
        adding.append(rows[0]["learner"])
        return real_add_many(self, rows, conn)

    def disk_full(self, began):
        if adding[-1] == "synthetic-ben":
            raise StoreError("could not write: database or disk is full")
        return real_commit(self, began)

    monkeypatch.setattr(Store, "add_many", remember)
    monkeypatch.setattr(Store, "_commit", disk_full)
    with pytest.raises(StoreError) as failed:
        collect([folder], store, tmp_path / "q")

    assert "the store failed while collecting" in str(failed.value) and "b.jsonl" in str(failed.value)
    assert [f.path.name for f in failed.value.report.files] == ["a.jsonl"]
    assert adding == ["synthetic-ana", "synthetic-ben"]  # nothing of c.jsonl was begun
    assert {r["learner"] for r in store.responses()} == {"synthetic-ana"} and store.count() == 2


def test_a_thousand_bundles_in_one_call(tmp_path):
    folder = tmp_path / "lms"
    row = answers("synthetic-template", 1)[0]
    for i in range(1000):
        learner = f"synthetic-{i:04d}"
        write(folder / f"learner{i:04d}", "answers.jsonl", learner,
              [row | {"learner": learner, "response_id": f"00000000-0000-4000-8000-{i:012d}"}])
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"

    first = collect([folder], url, tmp_path / "q")
    second = collect([folder], url, tmp_path / "q")

    assert (len(first.files), first.imported, first.quarantined) == (1000, 1000, 0)
    assert (second.imported, second.duplicates) == (0, 1000)
    assert open_store(url).count() == 1000
    assert not (tmp_path / "q").exists()  # nothing set aside, so no quarantine folder


def test_same_file_name_in_many_folders_gets_separate_quarantine_files(tmp_path):
    folder = tmp_path / "lms"
    for learner in ("synthetic-ana", "synthetic-ben"):
        rows = answers(learner, 2)
        write(folder / learner, "answers.jsonl", learner, [rows[0], rows[1] | {"case_id": "gone"}])

    report = collect([folder], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")

    names = sorted(f.quarantine_file.name for f in report.files)
    assert names == ["answers.quarantined-2.jsonl", "answers.quarantined.jsonl"]
    assert report.imported == 2 and report.quarantined == 2


def test_a_rerun_replaces_the_previous_quarantine(tmp_path):
    folder = tmp_path / "in"
    rows = answers("synthetic-ana", 2)
    bad = write(folder, "ana.jsonl", "synthetic-ana", [rows[0], rows[1] | {"case_id": "gone"}])
    url, quarantine = f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q"
    collect([folder], url, quarantine)
    assert (quarantine / "ana.quarantined.jsonl").exists()

    write(folder, "ana.jsonl", "synthetic-ana", rows)  # the learner hands in a corrected bundle
    report = collect([bad], url, quarantine)

    assert (report.imported, report.duplicates, report.quarantined) == (1, 1, 0)
    assert sorted(p.name for p in quarantine.iterdir()) == []


def test_stale_case_versions_import_when_allowed(tmp_path):
    folder = tmp_path / "in"
    write(folder, "fay.jsonl", "synthetic-fay", answers("synthetic-fay", 1, case_version="0123456789abcdef"))
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"

    refused = collect([folder], url, tmp_path / "q")
    allowed = collect([folder], url, tmp_path / "q", allow_stale_cases=True)

    assert (refused.imported, refused.quarantined) == (0, 1)
    assert (allowed.imported, allowed.quarantined) == (1, 0)
    assert open_store(url).responses()[0]["case_version"] == "0123456789abcdef"


@pytest.mark.parametrize(("change", "reason"), [
    ({"confidence": 150}, "field 'confidence': expected a whole number from 0 to 100"),
    ({"stance": "maybe"}, "field 'stance': expected the stance of the chosen option"),
    ({"submitted_at": "yesterday"}, "field 'submitted_at': expected an ISO 8601 date and time"),
    ({"submitted_at": "2025-02-30T10:00:00+00:00"}, "field 'submitted_at': '2025-02-30T10:00:00+00:00' is not a real date"),
    ({"mood": "tired"}, "field 'mood': unknown field (from a newer dualrole? upgrade dualrole)"),
    ({"option_id": "o99"}, "field 'option_id': not an option of case"),
    ({"stance": "accept", "option_id": None}, "field 'stance': 'accept' does not match option"),
])
def test_each_bad_field_gets_its_own_reason(tmp_path, change, reason):
    row = answers("synthetic-ana", 1)[0]
    if change.get("option_id", "") is None:  # a real option of the case with a stance it does not have
        option = next(o for o in load_library()[row["case_id"]].options if o.stance != "accept")
        change = {"option_id": option.id, "stance": "accept"}
    write(tmp_path / "in", "ana.jsonl", "synthetic-ana", [row | change])

    report = collect([tmp_path / "in"], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")

    assert [p.line for p in report.problems] == [2]
    assert report.problems[0].reason.startswith(reason), report.problems[0].reason


def test_a_missing_field_is_named(tmp_path):
    row = answers("synthetic-ana", 1)[0]
    del row["phase"]
    write(tmp_path / "in", "ana.jsonl", "synthetic-ana", [row])

    report = collect([tmp_path / "in"], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")

    assert report.problems[0].reason == "field 'phase': required"


def test_an_answer_clashing_with_one_already_stored_is_set_aside(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    row = answers("synthetic-ana", 1)[0]
    write(tmp_path / "first", "ana.jsonl", "synthetic-ana", [row])
    collect([tmp_path / "first"], url, tmp_path / "q")
    other = row | {"response_id": "00000000-0000-4000-8000-000000000001", "option_id": row["option_id"]}
    write(tmp_path / "second", "ana.jsonl", "synthetic-ana", [other])

    report = collect([tmp_path / "second"], url, tmp_path / "q")

    assert report.imported == 0
    assert report.problems[0].reason == (f"field 'attempt': attempt 1 at case '{row['case_id']}' ({row['phase']}) is "
                                         "already recorded for this learner (the store holds it as response_id "
                                         f"{row['response_id']})")


def test_new_bundles_go_in_as_they_would_through_the_look_up_first(tmp_path, store_url, request, monkeypatch):
    """A bundle is first inserted as new; a bundle the store already holds part of is rolled back and sorted
    out by looking up what the store holds. Both give the stored rows and the report of the look-up alone."""
    from widgets.exchange import collect as collecting
    from widgets.responses.contract import Reflection

    held = answers("synthetic-ana", 4)
    first, later = tmp_path / "first", tmp_path / "later"
    write(first, "ana.jsonl", "synthetic-ana", held[:2])
    clash = held[0] | {"response_id": "00000000-0000-4000-8000-000000000001", "confidence": 99}
    write(later, "1-ana-again.jsonl", "synthetic-ana", held)  # two held, two new
    write(later, "2-ana-clash.jsonl", "synthetic-ana", [clash])  # a held attempt under another id
    write(later, "3-ben.jsonl", "synthetic-ben", answers("synthetic-ben", 5))  # new, after the clash
    reflection = Reflection(learner="synthetic-cat", cohort=COHORT, lesson="01_confidentiality",
                            text="Synthetic reflection.").row()
    (later / "4-cat.jsonl").write_text(bundle_text("synthetic-cat", answers("synthetic-cat", 2), [reflection]),
                                       encoding="utf-8")

    def collected(url):
        collect([first], url, tmp_path / "q")
        report = collect([later], url, tmp_path / "q")
        store = open_store(url)
        with store.engine.connect() as conn:
            # The answers' own columns: the database's row numbers differ between two stores by design.
            rows = conn.exec_driver_sql(f"SELECT {', '.join(COLUMNS)} FROM responses ORDER BY response_id").all()
        outcome = [(f.path.name, f.imported, f.duplicates, f.quarantined, f.reflections,
                    [str(p) for p in f.problems]) for f in report.files]
        return rows, store.reflections(), outcome

    other = (f"sqlite:///{tmp_path / 'looked-up.sqlite'}" if store_url.startswith("sqlite")
             else request.getfixturevalue("pg_server").new_database())
    fast = collected(store_url)
    monkeypatch.setattr(collecting, "_import_new", lambda *args: False)  # always look up first
    looked_up = collected(other)

    assert fast == looked_up
    rows, reflections, outcome = fast
    assert len(rows) == 4 + 5 + 2 and [r["text"] for r in reflections] == ["Synthetic reflection."]
    assert [o[1:5] for o in outcome] == [(2, 2, 0, 0), (0, 0, 1, 0), (5, 0, 0, 0), (2, 0, 0, 1)]
    assert outcome[1][5][0].startswith("2-ana-clash.jsonl:2: field 'attempt': attempt 1 at case")


def test_newer_bundle_formats_and_other_files_are_refused_whole(tmp_path):
    folder = tmp_path / "in"
    newer = json.loads(bundle_text("synthetic-ana", []).splitlines()[0]) | {"dualrole_bundle": BUNDLE_FORMAT + 1}
    (folder / "newer.jsonl").parent.mkdir(parents=True)
    (folder / "newer.jsonl").write_text(json.dumps(newer) + "\n", encoding="utf-8")
    (folder / "notes.txt").write_text("Dear teacher, here are my answers\n", encoding="utf-8")
    (folder / "all.zip").write_bytes(b"PK\x03\x04 not really")
    (folder / "no_count.jsonl").write_text(json.dumps({"dualrole_bundle": 1, "learner": "x"}) + "\n")

    report = collect([folder], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")

    reasons = {f.path.name: f.rejected for f in report.files}
    assert reasons["newer.jsonl"] == (f"bundle format {BUNDLE_FORMAT + 1} is newer than this dualrole reads "
                                      f"(format {BUNDLE_FORMAT}): upgrade with: pip install -U dualrole")
    assert reasons["notes.txt"].startswith("not a dualrole bundle: line 1 is not a bundle manifest")
    assert reasons["all.zip"] == "a zip archive, not a bundle: unzip it, then collect the folder"
    assert reasons["no_count.jsonl"].startswith("line 1: bad bundle manifest: ")
    assert "'count' is a required property" in reasons["no_count.jsonl"]


def test_windows_line_endings_and_a_byte_order_mark_are_harmless(tmp_path):
    rows = answers("synthetic-ana", 2)
    text = "\ufeff" + bundle_text("synthetic-ana", rows).replace("\n", "\r\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ana.jsonl").write_bytes(text.encode("utf-8"))

    report = collect([tmp_path / "in"], f"sqlite:///{tmp_path / 'c.sqlite'}", tmp_path / "q")

    assert (report.imported, report.problems) == (2, [])


def test_export_then_collect_gives_back_the_same_rows(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_USER", "synthetic-ana")
    own = open_store()
    for row in answers("synthetic-ana", 4):
        own.add(Response(**row))
    assert CliRunner().invoke(cli, ["export", "--out", str(tmp_path / "ana.jsonl")]).exit_code == 0
    url = f"sqlite:///{tmp_path / 'class.sqlite'}"

    collect([tmp_path / "ana.jsonl"], url, tmp_path / "q")

    assert open_store(url).responses() == own.responses()


def test_the_schema_follows_the_codebook():
    props = response_schema()["properties"]
    assert set(props) == set(COLUMNS)
    assert props["stance"]["enum"] == list(STANCES)
    assert props["phase"]["enum"] == list(PHASES)
    assert props["client"]["enum"] == list(CLIENTS)
    assert props["kitchener_power"]["enum"] == [*RISK_LEVELS, None]
    assert props["stage"]["enum"] == [SELF_PACED, *STAGES, None]


# -- the command --------------------------------------------------------------------------------


def test_cli_exits_0_with_a_table_when_lines_were_quarantined(downloads, tmp_path, monkeypatch):
    folder, good = downloads
    monkeypatch.chdir(tmp_path)

    result = CliRunner().invoke(cli, ["collect", str(folder), "--store", "class.sqlite"])

    assert result.exit_code == 0, result.output
    header = result.stdout.splitlines()[0].split()
    assert header == ["file", "learner", "imported", "duplicates", "quarantined", "note"]
    total = next(line for line in result.stdout.splitlines() if line.startswith("total")).split()
    assert total[:6] == ["total", "12", "file(s)", str(len(good)), "3", "6"]
    assert "9 problem(s); set-aside lines and report.csv are in dualrole-quarantine/:" in result.stdout
    assert "Collecting 12 file(s)" in result.stderr and "Collecting" not in result.stdout
    assert (tmp_path / "dualrole-quarantine" / "report.csv").exists()


def test_cli_unreachable_store_is_an_error_without_traceback(tmp_path):
    write(tmp_path / "in", "ana.jsonl", "synthetic-ana", answers("synthetic-ana", 1))

    result = CliRunner().invoke(cli, ["collect", str(tmp_path / "in"), "--store",
                                      "postgresql://teacher:secret@127.0.0.1:1/class"])

    assert result.exit_code == 1
    assert result.output.startswith(
        "Error: cannot open the response store postgresql+psycopg://teacher:***@127.0.0.1:1/class: ")
    assert "Traceback" not in result.output and "secret" not in result.output


def test_cli_with_no_bundles_is_an_error(tmp_path):
    (tmp_path / "empty").mkdir()

    result = CliRunner().invoke(cli, ["collect", str(tmp_path / "empty"), "--store", str(tmp_path / "c.sqlite")])

    assert result.exit_code == 1
    assert result.output == (f"Error: no bundle files in {tmp_path / 'empty'} (bundles end in .jsonl; "
                             "make them with 'dualrole export')\n")


def test_cli_takes_the_store_from_the_environment(tmp_path, monkeypatch):
    write(tmp_path / "in", "ana.jsonl", "synthetic-ana", answers("synthetic-ana", 2))
    monkeypatch.setenv("DUALROLE_STORE", str(tmp_path / "class.sqlite"))

    result = CliRunner().invoke(cli, ["collect", str(tmp_path / "in")])

    assert result.exit_code == 0, result.output
    assert open_store(f"sqlite:///{tmp_path / 'class.sqlite'}").count() == 2


def test_collect_lists_the_files_it_skips_as_not_bundles(tmp_path):
    folder = tmp_path / "in"
    write(folder, "ana.jsonl", "synthetic-ana", answers("synthetic-ana", 1))
    (folder / "02_business.ipynb").write_text("{}", encoding="utf-8")
    result = CliRunner().invoke(cli, ["collect", str(folder), "--store", str(tmp_path / "c.sqlite")])
    assert result.exit_code == 0, result.output
    assert (f"Skipped 1 file(s) that are not bundles (bundles end in .jsonl): {folder / '02_business.ipynb'}"
            in result.output)
