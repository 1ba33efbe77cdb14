"""The install story holds: environment.yml matches pyproject.toml, and import is cheap and clean."""

from __future__ import annotations

import os
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


def test_a_wheel_built_from_the_repository_carries_the_cases_and_notebooks_and_works_installed(tmp_path):
    # The deployment guide installs from a clone or from a wheel built from it: both must know every
    # case (the class service refuses answers to unknown cases) and have the instructor's notebooks.
    import site
    import zipfile

    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path / "dist"),
                            str(REPO)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    wheel = next((tmp_path / "dist").glob("dualrole-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    share = next(n.split("share/dualrole/")[0] for n in names if "share/dualrole/" in n) + "share/dualrole/"
    cases = sorted(p.name for p in (REPO / "data" / "cases").glob("*.md"))
    assert sorted(n[len(share + "data/cases/"):] for n in names if n.startswith(share + "data/cases/")) == cases
    notebooks = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert sorted(n[len(share + "notebooks/"):] for n in names if n.startswith(share + "notebooks/")) == notebooks
    for schema in (REPO / "data" / "schema").glob("*.json"):
        assert share + "data/schema/" + schema.name in names

    # Installed into a fresh environment (its dependencies borrowed from this one), run from elsewhere.
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / "bin" / "python"
    target = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                            capture_output=True, text=True, check=True).stdout.strip()
    deps = [p for p in site.getsitepackages() if Path(p).is_dir()]
    (Path(target) / "borrowed-dependencies.pth").write_text("\n".join(deps) + "\n", encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300, capture_output=True)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DUALROLE_HOME": str(tmp_path / "home"),
           "HOME": str(tmp_path)}

    def run(*args):
        done = subprocess.run([str(python), *args], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr
        return done.stdout

    where = run("-c", "import widgets, widgets.paths as p; print(widgets.__file__); print(p.data_dir())").split()
    assert where[0].startswith(target) and where[1].endswith("share/dualrole/data")
    listed = run("-m", "widgets", "cases")
    assert all(case.removesuffix(".md") in listed for case in cases if not case.startswith("_"))
    run("-m", "widgets", "notebooks", str(tmp_path / "home-notebooks"))
    assert (tmp_path / "home-notebooks" / "instructor_live.ipynb").is_file()
