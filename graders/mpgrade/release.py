"""The student release and the platform exports (trusted side; writes files, grades nothing).

- ``release(out)``: the student-facing repository: stubs, visible graders, the
  engine, pyproject, a student README and the GitHub Classroom workflow.
  Never ``solutions/``, ``tests/`` or hidden graders (``graders/hidden/`` or a
  module marked ``pytestmark = pytest.mark.hidden``).
- ``workflow()``: ``.github/workflows/classroom.yml`` in the shape GitHub
  Classroom generated: one command-grader step per exercise, then the reporter.
- ``classroom50(out)``: an ``autograder.py`` that grades a checkout and writes
  ``result.json``.
- ``gradescope(zip)``: ``setup.sh`` and ``run_autograder`` at the zip root,
  with the kit beside them.
"""
from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

from .settings import KIT_ROOT

HIDDEN_MARK = "pytestmark = pytest.mark.hidden"
IGNORED = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")


def exercises(kit: Path = KIT_ROOT) -> list[str]:
    """Exercise names that have both a stub and a grader."""
    return sorted(p.stem for p in (kit / "exercises").glob("ex*.py")
                  if (kit / "graders" / f"test_{p.stem}.py").is_file())


def is_hidden(grader: Path) -> bool:
    """A grader module students must not see."""
    return "hidden" in grader.parts[-2:-1] or HIDDEN_MARK in grader.read_text(encoding="utf-8")


def workflow(names: list[str] | None = None, max_score: int = 10, timeout_min: int = 10) -> str:
    """The GitHub Classroom autograding workflow, one command-grader step per exercise."""
    names = exercises() if names is None else names
    lines = ["name: Autograding Tests", "'on':", "- push", "- repository_dispatch", "permissions:",
             "  checks: write", "  actions: read", "  contents: read", "jobs:", "  run-autograding-tests:",
             "    runs-on: ubuntu-latest", "    if: github.actor != 'github-classroom[bot]'", "    steps:",
             "    - name: Checkout code", "      uses: actions/checkout@v4",
             "    - name: Set up Python", "      uses: actions/setup-python@v5", "      with:",
             "        python-version: '3.12'"]
    for name in names:
        short = name.split("_")[0]
        lines += [f"    - name: {name}", f"      id: {short}",
                  "      uses: classroom-resources/autograding-command-grader@v1", "      with:",
                  f"        test-name: {name}", "        setup-command: pip install -e .",
                  f"        command: mpgrade check {short}", f"        timeout: {timeout_min}",
                  f"        max-score: {max_score}"]
    lines += ["    - name: Autograding Reporter", "      uses: classroom-resources/autograding-grading-reporter@v1",
              "      env:"]
    lines += [f"        {name.split('_')[0].upper()}_RESULTS: \"${{{{steps.{name.split('_')[0]}.outputs.result}}}}\""
              for name in names]
    lines += ["      with:", f"        runners: {','.join(n.split('_')[0] for n in names)}"]
    return "\n".join(lines) + "\n"


STUDENT_README = """# Multiprocessing exercises

Your work goes in `exercises/`: each module has `# TODO:` markers where you
write code (`exercises/README.md` lists the exercises and what you learn).

## Check your work

```
python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/mpgrade check
```

`mpgrade check ex03` checks one exercise; `pytest graders/` runs the same checks.
Each check shows its points; a failed one says what went wrong, your file and
line, and how to fix it.

## How grading works

The graders in `graders/` run your functions in separate, sandboxed processes
with the **spawn** start method (as macOS, Windows and Python 3.14 do), on
random inputs, with time limits. They check the results, that the work really
ran in several processes, that nothing is left running, that shared data is
updated under a lock, that your module is safe to import in a child process
(the `if __name__ == "__main__":` guard), and, where the exercise is about
speed, a speedup compared with what the machine can deliver. Pushing to
GitHub runs the same checks (`.github/workflows/classroom.yml`); your
instructor may run more checks than these.
"""


def release(out: Path, kit: Path = KIT_ROOT) -> list[Path]:
    """Write the student repository to ``out``; return the files written."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    (out / "exercises").mkdir(parents=True)
    for path in sorted((kit / "exercises").iterdir()):
        if path.suffix in (".py", ".md"):
            shutil.copy2(path, out / "exercises" / path.name)
    graders = out / "graders"
    for package in ("mpgrade", "mpgrade_probe"):
        shutil.copytree(kit / "graders" / package, graders / package, ignore=IGNORED)
    for grader in sorted((kit / "graders").glob("test_*.py")):
        if not is_hidden(grader):
            shutil.copy2(grader, graders / grader.name)
    shutil.copy2(kit / "pyproject.toml", out / "pyproject.toml")
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    (out / ".gitignore").write_text("__pycache__/\n*.egg-info/\n.venv/\n", encoding="utf-8")
    (out / ".github" / "workflows").mkdir(parents=True)
    (out / ".github" / "workflows" / "classroom.yml").write_text(workflow(exercises(kit)), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())


AUTOGRADER_PY = '''#!/usr/bin/env python3
"""Classroom 50 autograder: grade this checkout with mpgrade and write result.json.

    python autograder.py [CHECKOUT] [--out result.json]
"""
import json
import sys
from pathlib import Path

from mpgrade.cli import grade
from mpgrade.intake import exercises_folder
from mpgrade.reporters import classroom50

arguments = [a for a in sys.argv[1:] if a != "--out"]
out = Path(sys.argv[sys.argv.index("--out") + 1]) if "--out" in sys.argv else Path("result.json")
arguments = [a for a in arguments if a != str(out)]
checkout = Path(arguments[0]) if arguments else Path.cwd()
report = grade(exercises_folder(checkout.resolve()), [], checkout.resolve() / ".mpgrade-report.json")
out.write_text(json.dumps(classroom50.result(report), indent=2) + "\\n", encoding="utf-8")
print(f"{report['score']:g} / {report['max_score']:g} -> {out}")
'''


def classroom50(out: Path) -> Path:
    """Write ``autograder.py`` into ``out``; return its path."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    target = out / "autograder.py"
    target.write_text(AUTOGRADER_PY, encoding="utf-8")
    target.chmod(target.stat().st_mode | stat.S_IXUSR)
    return target


SETUP_SH = """#!/usr/bin/env bash
# Gradescope runs this once when it builds the autograder image.
set -euo pipefail
apt-get update -qq && apt-get install -y -qq python3 python3-pip python3-venv
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install -q -e /autograder/source
"""

RUN_AUTOGRADER = '''#!/usr/bin/env python3
"""Gradescope: grade /autograder/submission with mpgrade, write /autograder/results/results.json."""
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(os.environ.get("MPGRADE_AUTOGRADER_ROOT", "/autograder"))
VENV_PYTHON = ROOT / "venv" / "bin" / "python"
if VENV_PYTHON.exists() and Path(sys.prefix).resolve() != (ROOT / "venv").resolve():
    # Gradescope starts this with the image's python3; the kit and its dependencies are in setup.sh's venv.
    os.execv(str(VENV_PYTHON), [str(VENV_PYTHON), os.path.abspath(__file__), *sys.argv[1:]])
sys.path.insert(0, str(ROOT / "source" / "graders"))
began = time.time()
results_dir = ROOT / "results"
results_dir.mkdir(parents=True, exist_ok=True)
try:
    from mpgrade.cli import grade
    from mpgrade.intake import exercises_folder
    from mpgrade.reporters import gradescope

    report = grade(exercises_folder(ROOT / "submission"), [], results_dir / "mpgrade-report.json",
                   timeout_s=float(os.environ.get("MPGRADE_BUDGET_S", "1500")))
    results = gradescope.results(report, time.time() - began)
except Exception as problem:  # never leave Gradescope without a results file
    from mpgrade.reporters import gradescope

    results = gradescope.failure(f"Grading could not run: {problem}", time.time() - began)
(results_dir / "results.json").write_text(json.dumps(results, indent=2) + "\\n", encoding="utf-8")
'''


def gradescope(zip_path: Path, kit: Path = KIT_ROOT) -> Path:
    """Write the Gradescope autograder zip: setup.sh, run_autograder and the kit, all at the root."""
    zip_path = Path(zip_path)
    zip_path.parent.mkdir(parents=True, exist_ok=True)

    def add(zipped: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name)
        info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
        zipped.writestr(info, text)

    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        add(zipped, "setup.sh", SETUP_SH, executable=True)
        add(zipped, "run_autograder", RUN_AUTOGRADER, executable=True)
        add(zipped, "pyproject.toml", (kit / "pyproject.toml").read_text(encoding="utf-8"))
        add(zipped, "README.md", (kit / "README.md").read_text(encoding="utf-8"))
        for path in sorted((kit / "graders").rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and ".egg-info" not in str(path):
                add(zipped, str(path.relative_to(kit)), path.read_text(encoding="utf-8"))
    return zip_path

