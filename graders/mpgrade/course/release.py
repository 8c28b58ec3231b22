"""The student release (trusted side; writes files, grades nothing).

- ``release(out)``: the student-facing repository: stubs, visible graders, the
  engine, pyproject, a student README and the autograding workflow (``exports.workflow``).
  Never ``solutions/``, ``tests/`` or hidden graders (``graders/hidden/`` or a
  module marked ``pytestmark = pytest.mark.hidden``).

The platform exports (GitHub Actions workflow, Classroom 50 bundle,
Gradescope zip) are in ``exports.py``.
"""
from __future__ import annotations

import shutil
from pathlib import Path

from mpgrade.course.curriculum import is_hidden, names as exercises
from mpgrade.course.exports import IGNORED, workflow
from mpgrade.settings import KIT_ROOT

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


def release(out: Path, kit: Path = KIT_ROOT, names: list[str] | None = None) -> list[Path]:
    """Write the student repository to ``out`` (all exercises, or ``names``); return the files written."""
    names = exercises(kit) if names is None else names
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty")
    (out / "exercises").mkdir(parents=True)
    for path in sorted((kit / "exercises").iterdir()):
        if path.suffix == ".md" or (path.suffix == ".py" and path.stem in names):
            shutil.copy2(path, out / "exercises" / path.name)
    graders = out / "graders"
    for package in ("mpgrade", "mpgrade_sandboxed"):
        shutil.copytree(kit / "graders" / package, graders / package, ignore=IGNORED)
    for grader in sorted((kit / "graders").glob("test_*.py")):
        if not is_hidden(grader) and grader.stem.removeprefix("test_") in names:
            shutil.copy2(grader, graders / grader.name)
    shutil.copy2(kit / "pyproject.toml", out / "pyproject.toml")
    (out / "README.md").write_text(STUDENT_README, encoding="utf-8")
    (out / ".gitignore").write_text("__pycache__/\n*.egg-info/\n.venv/\n", encoding="utf-8")
    (out / ".github" / "workflows").mkdir(parents=True)
    (out / ".github" / "workflows" / "classroom.yml").write_text(workflow(names), encoding="utf-8")
    return sorted(p for p in out.rglob("*") if p.is_file())
