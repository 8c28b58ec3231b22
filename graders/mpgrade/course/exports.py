"""What each grading platform needs, written as files (trusted side; grades nothing).

- ``workflow(names)``: ``.github/workflows/classroom.yml`` for GitHub Actions
  with GitHub Classroom's reporter: the kit installed once, one grading step
  that writes every exercise's reporter payload (partial credit per check)
  and the job summary, then the reporter, which runs even when grading failed.
- ``classroom50(out, names)``: the folder to put at
  ``CLASSROOM/autograders/ASSIGNMENT/`` in the classroom50 repository:
  ``autograder.py`` and the kit beside it (``mpgrade-kit/``).
- ``gradescope(zip)``: ``setup.sh`` and ``run_autograder`` at the zip root,
  with the kit beside them.

The scripts the platforms run are real files in ``platforms/``.
"""
from __future__ import annotations

import json
import re
import shutil
import stat
import zipfile
from pathlib import Path

from mpgrade.course.curriculum import grader_files, names as exercises
from mpgrade.platforms import script
from mpgrade.reporters.classroom import runner_id
from mpgrade.settings import KIT_ROOT

IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
"""What never goes into a release or a bundle."""

WORKFLOW_PYTHON = "3.14"
"""The Python the student workflow sets up: the newest the kit supports, as on Classroom 50."""
CLASSROOM50_BUDGET_S = 720
"""Grading time inside Classroom 50's 15-minute job (checkout, Python and installing take the rest)."""


def workflow(names: list[str] | None = None, timeout_min: int = 30) -> str:
    """The student repository's autograding workflow (GitHub Actions + GitHub Classroom's reporter)."""
    names = exercises() if names is None else names
    ids = [runner_id(name) for name in names]
    lines = [
        "name: Autograding Tests",
        "'on': [push, repository_dispatch, workflow_dispatch]",
        "permissions:",
        "  checks: write",
        "  actions: read",
        "  contents: read",
        "jobs:",
        "  run-autograding-tests:",
        "    runs-on: ubuntu-latest",
        "    if: github.actor != 'github-classroom[bot]'",
        f"    timeout-minutes: {timeout_min}",
        "    steps:",
        "    - name: Checkout code",
        "      uses: actions/checkout@v4",
        "      with:",
        "        persist-credentials: false",
        "    - name: Set up Python",
        "      uses: actions/setup-python@v5",
        "      with:",
        f"        python-version: '{WORKFLOW_PYTHON}'",
        "    - name: Install the kit",
        "      shell: bash",
        "      run: python -m pip install -e .",
        "    # One grading run: every exercise's points per check go to the step's outputs (one per",
        "    # exercise) and the table with feedback to the job summary. It exits 0 when it graded,",
        "    # whatever the score; the reporter fails the job when a check failed.",
        "    - name: Grade",
        "      id: grade",
        "      shell: bash",
        f"      run: mpgrade check {' '.join(ids)} --github-output",
        "    - name: Autograding Reporter",
        "      if: always()",
        "      uses: classroom-resources/autograding-grading-reporter@v1",
        "      env:",
        *[f"        {i.upper()}_RESULTS: ${{{{ steps.grade.outputs.{i} }}}}" for i in ids],
        "      with:",
        f"        runners: {','.join(ids)}",
    ]
    return "\n".join(lines) + "\n"


def _requirements(kit: Path) -> str:
    """The kit's dependencies, one per line, as ``[project] dependencies`` in pyproject.toml lists them."""
    text = (kit / "pyproject.toml").read_text(encoding="utf-8")
    block = re.search(r"^dependencies\s*=\s*\[(.*?)\]", text, re.S | re.M)
    if block is None:
        raise ValueError("pyproject.toml lists no [project] dependencies")
    return "".join(f"{item}\n" for item in re.findall(r'"([^"]+)"', block.group(1)))


def _copy_kit(kit: Path, target: Path, names: list[str]) -> None:
    """The engine, the graders of ``names`` (hidden ones too: this is the instructor's copy) and pyproject."""
    for package in ("mpgrade", "mpgrade_sandboxed"):
        shutil.copytree(kit / "graders" / package, target / "graders" / package, ignore=IGNORED)
    for name in names:
        for grader in grader_files(name, kit):
            copy = target / grader.relative_to(kit)
            copy.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(grader, copy)
    shutil.copy2(kit / "pyproject.toml", target / "pyproject.toml")


def classroom50(out: Path, names: list[str] | None = None, budget_s: float = CLASSROOM50_BUDGET_S,
                kit: Path = KIT_ROOT) -> Path:
    """Write the Classroom 50 autograder folder ``out``; return its ``autograder.py``."""
    out = Path(out)
    names = exercises(kit) if names is None else names
    bundle = out / "mpgrade-kit"
    if bundle.exists():
        shutil.rmtree(bundle)
    out.mkdir(parents=True, exist_ok=True)
    _copy_kit(kit, bundle, names)
    (bundle / "requirements.txt").write_text(_requirements(kit), encoding="utf-8")
    (bundle / "export.json").write_text(json.dumps({"exercises": names, "budget_s": budget_s}, indent=2) + "\n",
                                        encoding="utf-8")
    target = out / "autograder.py"
    target.write_text(script("classroom50_autograder.py"), encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return target


def gradescope(zip_path: Path, kit: Path = KIT_ROOT) -> Path:
    """Write the Gradescope autograder zip: setup.sh, run_autograder and the kit, all at the root."""
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)

    def add(zipped: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name)
        info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
        zipped.writestr(info, text)

    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        add(zipped, "setup.sh", script("gradescope_setup.sh"), executable=True)
        add(zipped, "run_autograder", script("gradescope_run_autograder.py"), executable=True)
        add(zipped, "pyproject.toml", (kit / "pyproject.toml").read_text(encoding="utf-8"))
        add(zipped, "README.md", (kit / "README.md").read_text(encoding="utf-8"))
        for path in sorted((kit / "graders").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                add(zipped, str(path.relative_to(kit)), path.read_text(encoding="utf-8"))
    return zip_path
