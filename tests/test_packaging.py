"""The install story holds: environment.yml matches pyproject.toml, and import is cheap and clean."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
_REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)(\[[^\]]*\])?\s*(.*)$")


def _normalise(requirement: str) -> tuple[str, str]:
    name, _extras, spec = _REQ.match(requirement).groups()
    return re.sub(r"[-_.]+", "-", name).lower(), spec.replace(" ", "")


def test_environment_yml_lists_the_same_runtime_dependencies_as_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    wanted = dict(map(_normalise, project["dependencies"]))
    listed = dict(map(_normalise, [d for d in conda if not d.startswith(("python", "pip"))]))
    assert listed == wanted, "environment.yml and pyproject.toml dependencies differ"
    assert conda.count("pip") == 1 and "-e ." in pip_section
    python = next(d for d in conda if d.startswith("python"))
    assert python.replace("python", "") == project["requires-python"]
    assert env["channels"] == ["conda-forge"]


def test_console_script_and_package_name():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "dualrole"
    assert project["scripts"] == {"dualrole": "widgets.cli:main"}


def _modules_after(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_widgets_loads_no_ipywidgets_and_creates_nothing(tmp_path):
    home = tmp_path / "home"
    env_code = f"import os; os.environ['DUALROLE_HOME'] = {str(home)!r}; import widgets, widgets.cases.library, widgets.store.sql"
    modules = _modules_after(env_code)
    assert "ipywidgets" not in modules
    assert not home.exists(), "import must not create the data folder or the store"


def test_the_widgets_alias_never_appears_in_our_code():
    # `import ipywidgets as widgets` would shadow our own package; the convention is `ipw`.
    offenders = [p for p in (REPO / "widgets").rglob("*.py") if "ipywidgets as widgets" in p.read_text(encoding="utf-8")]
    assert offenders == []


def test_the_wheel_lists_every_subpackage_and_the_data_folders():
    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    code = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "widgets").rglob("__init__.py")}
    data = {"widgets.data"} | {"widgets.data." + ".".join(d.relative_to(REPO / "data").parts)
                               for d in (REPO / "data").rglob("*") if d.is_dir()}
    assert set(setuptools["packages"]) == code | data | {"widgets.notebooks"}
    assert setuptools["package-dir"] == {"widgets.data": "data", "widgets.notebooks": "notebooks"}
