"""A wheel built from the repository carries the case library: installed into a fresh virtual
environment outside the repository, ``dualrole cases`` lists every case, ``dualrole validate`` passes
and a card commits an answer.

The fresh environment borrows the test environment's third-party packages through a path file
(installing JupyterLab and pandas again would take minutes), but not its editable dualrole: packages
on a path added that way do not run their own ``.pth`` hooks, so ``import widgets`` can only find the
wheel.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from widgets.cases import load_library

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(root / "dist"),
                            str(REPO)], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{built.stderr[-2000:]}")
    [wheel] = (root / "dist").glob("dualrole-*.whl")
    env_dir = root / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    return python, root


def run(installed, *code_or_args, module=False):
    python, root = installed
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DUALROLE_", "PYTHONPATH"))}
    env["DUALROLE_HOME"] = str(root / "home")
    args = [str(python), "-m", "widgets", *code_or_args] if module else [str(python), "-c", code_or_args[0]]
    return subprocess.run(args, capture_output=True, text=True, cwd=root, env=env, timeout=120)


def test_the_installed_package_is_the_wheel_not_the_checkout(installed):
    where = run(installed, "import widgets, widgets.paths as p; print(widgets.__file__); print(p.data_dir())")
    package, data = where.stdout.split()
    assert str(REPO) not in package and str(REPO) not in data
    assert data.endswith(os.path.join("widgets", "data"))


def test_dualrole_cases_lists_every_case_and_validate_passes(installed):
    listed = run(installed, "cases", module=True)
    assert listed.returncode == 0, listed.stderr
    assert f"{len(load_library())} case(s)." in listed.stdout
    checked = run(installed, "validate", module=True)
    assert checked.returncode == 0 and f"All {len(load_library())} case(s) are valid." in checked.stdout


def test_a_card_commits_an_answer_from_the_wheel(installed):
    code = (
        "from widgets import CaseCard\n"
        "card = CaseCard('cosmetics')\n"
        "card.options.value = 'decline_only'\n"
        "card.justification.value = 'A purchase would make me her customer as well as her therapist.'\n"
        "card.submit.click()\n"
        "print(card.session.step, len(card.store.responses()))\n"
    )
    committed = run(installed, code)
    assert committed.returncode == 0, committed.stderr
    assert committed.stdout.split() == ["reconsidering", "1"]


def test_the_instructors_notebooks_come_with_the_wheel(installed):
    python, root = installed
    copied = run(installed, "notebooks", str(root / "mine"), module=True)
    assert copied.returncode == 0, copied.stderr
    shipped = sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (root / "mine").glob("*.ipynb")) == shipped
