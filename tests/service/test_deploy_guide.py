"""The deployment guide, its config file, the README and the notebooks agree, and say what works.

tests/service/test_service_hub.py runs a real JupyterHub on docs/jupyterhub_config.py; these tests check the
words around it: the same names everywhere, every needed setting mentioned, no credentials in notebooks.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from click.testing import CliRunner

from widgets.cli import cli

REPO = Path(__file__).resolve().parents[2]
GUIDE = (REPO / "docs" / "deploy-jupyterhub.md").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def guide_settings():
    from hub.realhub import load_guide_config

    config_text = (REPO / "docs" / "jupyterhub_config.py").read_text(encoding="utf-8")
    cohort = re.search(r'^COHORT = "([^"]+)"$', config_text, re.MULTILINE).group(1)
    local = {"STORE_URL_FILE": REPO / "pyproject.toml", "SERVICE_URL": "http://127.0.0.1:10101",
             "COHORT": cohort, "INSTRUCTORS": ["prof-lee"], "MIN_CLASS": 5, "PROCESSES": 1}
    return cohort, load_guide_config(**local)


def test_the_guide_links_its_config_file_and_the_readme_links_both():
    assert "](jupyterhub_config.py)" in GUIDE
    assert "](docs/jupyterhub_config.py)" in README and "](docs/deploy-jupyterhub.md)" in README


def test_readme_guide_and_notebooks_use_the_cohort_name_the_config_sets():
    cohort, _ = guide_settings()
    live = "".join(c.source for c in nbformat.read(REPO / "notebooks" / "instructor_live.ipynb", as_version=4).cells)
    for where, text in (("README", README), ("guide", GUIDE), ("instructor_live", live)):
        exports = re.findall(r"dualrole class-export --out \S+ --cohort ([^\s`)]+)", text)
        assert exports, f"{where} shows no class-export"
        assert set(exports) == {cohort}, f"{where} exports cohort(s) {exports}, the config sets {cohort!r}"
    assert f'DUALROLE_COHORT: {cohort}' in GUIDE  # the Kubernetes values, too


def test_every_setting_the_service_needs_is_named_in_the_readme_and_the_guide():
    _, config = guide_settings()
    roles = {r["name"]: r for r in config.JupyterHub.load_roles}
    user_scopes = set(roles["user"]["scopes"])
    token_scopes = set(config.Spawner.server_token_scopes)
    service_scopes = {s for s in token_scopes if "service=dualrole" in s}
    # A server token gets only scopes its user holds: the user role must hold every service scope.
    assert service_scopes == {"access:services!service=dualrole", "read:services!service=dualrole"}
    assert service_scopes <= user_scopes
    for text in (README, GUIDE):
        for name in ("c.JupyterHub.services", "c.JupyterHub.load_roles", "c.Spawner.server_token_scopes",
                     "read:groups!group=instructors", *sorted(service_scopes)):
            assert name in text, name
    kubernetes_user_role = re.search(r"^\s+user: \{scopes: \[(.*)\]\}$", GUIDE, re.MULTILINE).group(1)
    assert all(f'"{s}"' in kubernetes_user_role for s in service_scopes)


def test_the_config_adds_to_what_tljh_set_before_it_and_pins_the_cohort():
    from hub.realhub import TLJH_ROLES, TLJH_SERVICES

    cohort, config = guide_settings()
    services = {s["name"]: s for s in config.JupyterHub.services}
    assert set(services) == {TLJH_SERVICES[0]["name"], "dualrole"}  # TLJH's idle culler is kept
    assert {r["name"] for r in config.JupyterHub.load_roles} >= {TLJH_ROLES[0]["name"], "user", "dualrole-service"}
    command = services["dualrole"]["command"]
    assert command[command.index("--cohort") + 1] == cohort
    # The config reads no file: the service reads the store-URL file itself, and says what is wrong.
    assert services["dualrole"]["environment"]["DUALROLE_STORE_FILE"] == str(REPO / "pyproject.toml")
    assert "DUALROLE_STORE" not in services["dualrole"]["environment"]


def test_install_steps_use_this_repository_and_the_voila_path_exists_after_dualrole_notebooks(tmp_path):
    assert "pip install 'dualrole[hub]'" not in GUIDE and "pip install dualrole " not in GUIDE
    assert "'/opt/dualrole-src[hub]'" in GUIDE
    voila = re.search(r"/voila/render/(\S+\.ipynb)", GUIDE).group(1)
    assert "dualrole notebooks ~/notebooks" in GUIDE and "dualrole notebooks ~/notebooks" in README
    home = tmp_path / "home"
    result = CliRunner().invoke(cli, ["notebooks", str(home / "notebooks")])
    assert result.exit_code == 0, result.output
    assert (home / voila).is_file()
    assert "Copied" in result.output


def test_dualrole_notebooks_keeps_an_edited_copy_unless_forced(tmp_path):
    dest = tmp_path / "notebooks"
    CliRunner().invoke(cli, ["notebooks", str(dest)])
    edited = dest / "instructor_live.ipynb"
    edited.write_text("my own edits", encoding="utf-8")
    again = CliRunner().invoke(cli, ["notebooks", str(dest)])
    assert again.exit_code == 0 and "Copied 0 notebook(s)" in again.output and "as they are" in again.output
    assert edited.read_text(encoding="utf-8") == "my own edits"
    forced = CliRunner().invoke(cli, ["notebooks", str(dest), "--force"])
    assert forced.exit_code == 0 and edited.read_text(encoding="utf-8") != "my own edits"


def test_no_notebook_puts_a_store_url_in_a_cell_and_the_review_reads_dualrole_store():
    credentials = re.compile(r"[a-z+]+://[^/\s:@]+:[^@\s/]+@")
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            assert not credentials.search(cell.source), f"{path.name}: a URL with a password"
            if cell.cell_type == "code":
                assert "postgresql" not in cell.source, f"{path.name}: a PostgreSQL URL in a code cell"
    review = nbformat.read(REPO / "notebooks" / "instructor_cohort_review.ipynb", as_version=4)
    assert any('os.environ.get("DUALROLE_STORE")' in c.source for c in review.cells if c.cell_type == "code")


def test_the_postgresql_steps_make_the_service_role_the_database_owner():
    block = re.search(r"<!-- dualrole:postgres-setup[^>]*-->\n```bash\n(.*?)```", GUIDE, re.DOTALL).group(1)
    assert "CREATE DATABASE class OWNER dualrole;" in block
    assert "GRANT ALL PRIVILEGES" not in block


CLASS_MINIMUM = "5 learners by default, never below 3"


def test_one_class_minimum_stated_identically_everywhere_and_as_the_code_has_it():
    from widgets.responses.disclosure import MIN_CLASS, MIN_CLASS_FLOOR

    assert CLASS_MINIMUM == f"{MIN_CLASS} learners by default, never below {MIN_CLASS_FLOOR}"
    config = (REPO / "docs" / "jupyterhub_config.py").read_text(encoding="utf-8")
    live = "".join(c.source for c in nbformat.read(REPO / "notebooks" / "instructor_live.ipynb", as_version=4).cells)
    for where, text in (("README", README), ("guide", GUIDE), ("config", config), ("instructor_live", live)):
        flat = " ".join(text.split())
        assert CLASS_MINIMUM in flat, where
        for other in ("ten learners (`min_class`)", "10 unless your administrator", "below 5 is not advised",
                      "| `DUALROLE_MIN_CLASS` | 10 |"):
            assert other not in flat, (where, other)
    assert re.search(rf"^MIN_CLASS = {MIN_CLASS}$", config, re.MULTILINE)


def test_the_guide_s_cohort_review_step_works_as_written_for_a_small_class(tmp_path, monkeypatch):
    from widgets.cases.library import load_case
    from widgets.responses.contract import Response
    from widgets.store import open_store

    command = re.search(r"run `(dualrole report --store (\S+) [^`]*)` in the same terminal", GUIDE)
    assert command, "the guide's cohort-review step names its dualrole report command"
    monkeypatch.chdir(tmp_path)
    store = open_store(f"sqlite:///{tmp_path / command.group(2)}")  # what class-export wrote, for 3 learners
    case = load_case("cosmetics")
    for i, learner in enumerate(("alice", "bob", "carol")):
        option = case.options[i % 2]
        store.add(Response(learner=learner, cohort="psy501-2025", case_id=case.id, case_version=case.case_version,
                           option_id=option.id, stance=option.stance, confidence=60,
                           justification="The roles conflict and the client could be harmed."))
    result = CliRunner().invoke(cli, command.group(1).split()[1:])
    assert result.exit_code == 0, result.output
    out = Path(re.search(r"--out (\S+)", command.group(1)).group(1))
    report = (tmp_path / out / "report.html").read_text(encoding="utf-8")
    assert "nothing more can be shown" not in report and "Learners: 3" in report
