"""The student release and the platform exports, each run the way its platform's runner runs it.

Three students hand in the same two-exercise assignment (ex01, ex05): the
reference solutions (20/20), the untouched stubs (0/20) and a partly wrong
one (ex01 joins each process before starting the next: 8/10; ex05 reads the
counter under the lock but writes it outside: 4/10; 12/20 in all). Each
platform's recorded total must be exactly the kit's.
"""
from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import jsonschema
import pytest
import yaml

from conftest import KIT_ROOT, SUBMISSIONS as FIXTURES, whole
from mpgrade.course.exports import workflow
from mpgrade.course.release import release
from mpgrade.course.stubs import solution_lines
from platform_runners import classroom50_job_env, run_classroom50, run_workflow

SCHEMAS = Path(__file__).resolve().parent / "schemas"
ASSIGNMENT = ["ex01_processes", "ex05_counter"]
STUDENTS = {
    # name: (where each exercise module comes from, the kit's total out of 20)
    "full": ({"ex01_processes": KIT_ROOT / "solutions", "ex05_counter": KIT_ROOT / "solutions"}, 20),
    "stubs": ({"ex01_processes": KIT_ROOT / "exercises", "ex05_counter": KIT_ROOT / "exercises"}, 0),
    "partly_wrong": ({"ex01_processes": FIXTURES / "serial_join",
                      "ex05_counter": whole(FIXTURES / "ex05_lock_around_read_only")}, 12),
}
PARTLY_WRONG_FAILS = {"ex01_processes": 1, "ex05_counter": 2}
"""How many checks of each exercise the partly wrong student fails."""


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _run(command, cwd, env=None, timeout=300):
    return subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


def _hand_in(repository: Path, student: str) -> Path:
    """Put ``student``'s exercise modules into ``repository/exercises``."""
    sources, _ = STUDENTS[student]
    (repository / "exercises").mkdir(parents=True, exist_ok=True)
    for name, folder in sources.items():
        shutil.copy(folder / f"{name}.py", repository / "exercises" / f"{name}.py")
    return repository


def _python_without_the_kit(folder: Path) -> Path:
    """A fresh virtual environment from the base interpreter: pip, and nothing of ours or of the kit's needs."""
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(folder)], check=True, env={"PATH": os.environ["PATH"]})
    python = folder / "bin" / "python"
    probe = subprocess.run([str(python), "-c", "import mpgrade"], capture_output=True, text=True,
                           env={"PATH": os.environ["PATH"]}, cwd=folder)
    assert probe.returncode != 0 and "No module named 'mpgrade'" in probe.stderr
    return python


def _private_lock() -> dict[str, str]:
    return {"MPGRADE_LOCK_DIR": os.environ["MPGRADE_LOCK_DIR"]}


# -------------------------------------------------------------------------------------------- the release

@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "repo"
    release(out)
    return out


def test_release_holds_stubs_graders_engine_and_no_solution_text(released):
    names = {str(p.relative_to(released)) for p in released.rglob("*") if p.is_file()}
    assert "exercises/ex01_processes.py" in names and "graders/test_ex05_counter.py" in names
    assert "graders/mpgrade/grading/plugin.py" in names and "graders/mpgrade_sandboxed/runner.py" in names
    assert ".github/workflows/classroom.yml" in names and "README.md" in names and "pyproject.toml" in names
    assert not any(name.startswith(("solutions/", "tests/")) for name in names)
    def secret(solution: Path) -> set[str]:
        return {line for line in solution_lines(solution.read_text()) if len(line) > 20}

    def lines(path: Path) -> set[str]:
        return {line.strip() for line in path.read_text().splitlines()}

    solutions = sorted((KIT_ROOT / "solutions").glob("ex*.py"))
    given = set().union(*(lines(released / "exercises" / s.name) for s in solutions))
    everything = set().union(*(secret(s) for s in solutions)) - given
    for solution in solutions:  # each stub: nothing of its own solution
        stub = released / "exercises" / solution.name
        assert not (lines(stub) & secret(solution)), (stub, lines(stub) & secret(solution))
    for path in (released / "graders").glob("test_*.py"):  # graders: nothing of any solution
        assert not (lines(path) & everything), (path, lines(path) & everything)


def test_hidden_graders_stay_out_of_the_release(tmp_path):
    kit = tmp_path / "kit"
    for part in ("exercises", "graders", "pyproject.toml"):
        source = KIT_ROOT / part
        (shutil.copytree(source, kit / part, ignore=shutil.ignore_patterns("__pycache__")) if source.is_dir()
         else shutil.copy(source, kit / part))
    (kit / "graders" / "test_ex05_hidden.py").write_text("import pytest\npytestmark = pytest.mark.hidden\n")
    release(tmp_path / "out", kit=kit)
    assert not (tmp_path / "out" / "graders" / "test_ex05_hidden.py").exists()
    assert (tmp_path / "out" / "graders" / "test_ex05_counter.py").exists()


def test_a_release_of_some_exercises_holds_only_those(tmp_path):
    done = _run([sys.executable, "-m", "mpgrade", "release", str(tmp_path / "out"), "--exercises", "ex01,ex05"],
                cwd=KIT_ROOT)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "out" / "exercises").glob("ex*.py")) == [
        "ex01_processes.py", "ex05_counter.py"]
    assert sorted(p.name for p in (tmp_path / "out" / "graders").glob("test_*.py")) == [
        "test_ex01_processes.py", "test_ex05_counter.py"]
    flow = yaml.safe_load((tmp_path / "out" / ".github" / "workflows" / "classroom.yml").read_text())
    assert flow["jobs"]["run-autograding-tests"]["steps"][-1]["with"]["runners"] == "ex01,ex05"
    wrong = _run([sys.executable, "-m", "mpgrade", "release", str(tmp_path / "x"), "--exercises", "ex77"],
                 cwd=KIT_ROOT)
    assert wrong.returncode == 2 and "unknown exercise 'ex77'" in wrong.stderr


def test_the_released_repository_grades_its_stubs(released, tmp_path):
    env = {"PYTHONPATH": str(released / "graders"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    done = _run([sys.executable, "-m", "mpgrade", "check", "ex01", "--report", str(tmp_path / "r.json")],
                cwd=released, env=env)
    assert done.returncode == 1 and "ex01_processes  0/10" in done.stdout, done.stdout + done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["submission"] == str(released / "exercises")
    summary = (tmp_path / "summary.md").read_text()
    assert "| ex01_processes |" in summary and "Your TODO there" in summary


# ------------------------------------------------------------------------------------------ workflow linters

def _lint(path: Path) -> None:
    """A workflow file passes GitHub's workflow schema and zizmor's audits (tags allowed, see zizmor.yml)."""
    schema = _run([sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows",
                   str(path)], cwd=KIT_ROOT)
    assert schema.returncode == 0, schema.stdout + schema.stderr
    zizmor = shutil.which("zizmor", path=os.path.dirname(sys.executable)) or shutil.which("zizmor")
    assert zizmor, "zizmor is a test dependency ('.[test]')"
    audit = _run([zizmor, "--offline", "--no-progress", "--config", str(KIT_ROOT / ".github" / "zizmor.yml"),
                  str(path)], cwd=KIT_ROOT)
    assert audit.returncode == 0, audit.stdout + audit.stderr


def test_the_student_workflow_passes_the_linters(tmp_path):
    path = tmp_path / "classroom.yml"
    path.write_text(workflow())
    _lint(path)


def test_the_kits_own_ci_workflow_passes_the_linters_and_covers_every_python():
    path = KIT_ROOT / ".github" / "workflows" / "ci.yml"
    _lint(path)
    job = yaml.safe_load(path.read_text())["jobs"]["test"]
    pythons = {str(v) for v in job["strategy"]["matrix"]["python"]}
    assert pythons == {"3.10", "3.11", "3.12", "3.13", "3.14"}
    assert any("macos" in str(entry.get("os")) for entry in job["strategy"]["matrix"].get("include", []))
    readme = (KIT_ROOT / "README.md").read_text()
    test_command = next(line for line in readme.splitlines() if line.startswith("python3 -m venv") and "[test]" in line)
    assert any(test_command.split("&&")[-1].strip().split()[-3:] == step.get("run", "").split("&&")[-1].strip()
               .split()[-3:] for step in job["steps"])


def test_no_invented_classroom50_variables_are_named():
    invented = [f"CLASSROOM50_{name}" for name in ("CLASSROOM", "ASSIGNMENT", "SUBMISSION", "COMMIT",
                                                     "RELEASE", "REVIEW")]
    for path in [*KIT_ROOT.glob("graders/**/*.py"), *KIT_ROOT.glob("tests/*.py"), KIT_ROOT / "README.md",
                 *KIT_ROOT.glob("docs/*.md")]:
        if path.name == Path(__file__).name:
            continue
        text = path.read_text(encoding="utf-8")
        assert not [name for name in invented if name in text], path


# ------------------------------------------------------------------------- GitHub Actions + Classroom's reporter

@pytest.fixture(scope="module")
def actions_python(tmp_path_factory):
    """What actions/setup-python gives: a Python with pip and nothing installed."""
    return _python_without_the_kit(tmp_path_factory.mktemp("setup-python") / "venv")


@pytest.fixture(scope="module")
def assignment_release(tmp_path_factory):
    out = tmp_path_factory.mktemp("assignment") / "repo"
    release(out, names=ASSIGNMENT)
    return out


@pytest.mark.parametrize("student", list(STUDENTS))
def test_github_actions_records_the_kits_total(student, assignment_release, actions_python, tmp_path):
    repository = _hand_in(Path(shutil.copytree(assignment_release, tmp_path / "repo")), student)
    flow = (repository / ".github" / "workflows" / "classroom.yml").read_text()
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"), "LANG": "C.UTF-8",
           **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}, **_private_lock()}
    run = run_workflow(flow, repository, actions_python.parent, env)
    _, total = STUDENTS[student]
    outcomes = dict(run.steps)
    assert outcomes["Install the kit"] == "success", run.logs
    assert outcomes["Grade"] == "success", run.logs["Grade"][-3000:]  # a low score is not a failed step
    assert run.reporter is not None and (run.reporter.points, run.reporter.max_points) == (total, 20), run.reporter
    assert outcomes["Autograding Reporter"] == ("success" if total == 20 else "failure")
    assert run.reporter.failed in (None, "Some tests failed.")
    assert "| ex05_counter |" in run.summary and f"mpgrade: {total:g} / 20" in run.summary
    if student == "partly_wrong":
        assert "one after another" in run.summary and "without holding the counter's lock" in run.summary


def test_github_actions_reporter_gets_an_error_payload_when_grading_cannot_run(tmp_path):
    outputs = tmp_path / "out"
    outputs.write_text("")
    done = _run([sys.executable, "-m", "mpgrade", "check", "ex01", "ex05", "--github-output", "--submission",
                 str(tmp_path), "--pytest-args", "--no-such-option"], cwd=KIT_ROOT,
                env={"GITHUB_OUTPUT": str(outputs)})
    assert done.returncode == 3
    lines = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    assert set(lines) == {"ex01", "ex05"}
    payload = json.loads(base64.b64decode(lines["ex05"]))
    jsonschema.validate(payload, _schema("classroom-result.json"))
    assert payload["status"] == "error" and payload["max_score"] == 10 and payload["tests"][0]["score"] == 0
    assert "could not grade" in payload["tests"][0]["message"]


# ---------------------------------------------------------------------------------------------- Classroom 50

@pytest.fixture(scope="module")
def classroom50_setup(tmp_path_factory):
    """The instructor's classroom50 repository with the exported folder, and a runner's Python and temp dir."""
    root = tmp_path_factory.mktemp("classroom50")
    folder = root / "classroom50" / "cs101" / "autograders" / "mp"
    done = _run([sys.executable, "-m", "mpgrade", "export", "classroom50", str(folder), "--exercises", "ex01,ex05"],
                cwd=KIT_ROOT)
    assert done.returncode == 0, done.stderr
    python = _python_without_the_kit(root / "setup-python")
    runner_temp = root / "runner-temp"  # one per job on GitHub; shared here so the kit's needs install once
    runner_temp.mkdir()
    return folder, python, runner_temp


@pytest.mark.parametrize("student", list(STUDENTS))
def test_classroom50_runner_accepts_the_result_with_the_kits_total(student, classroom50_setup, tmp_path):
    folder, python, runner_temp = classroom50_setup
    checkout = _hand_in(tmp_path / f"mp-{student}", student)
    (checkout / "README.md").write_text("student's repository\n")
    env = {**classroom50_job_env(python.parent, runner_temp, "cs101", "mp", student), **_private_lock()}
    run = run_classroom50(folder, checkout, python, env)
    assert run.errors == [], run.output[-4000:]
    result, (_, total) = run.result, STUDENTS[student]
    assert (result["score"], result["max-score"]) == (total, 20)
    assert sum(t["score"] for t in result["tests"]) == total
    assert (result["classroom"], result["assignment"], result["submission"]) == ("cs101", "mp", env["SUBMISSION_TAG"])
    assert (result["commit"], result["release"], result["review"]) == (env["COMMIT_URL"], env["RELEASE_URL"],
                                                                       env["REVIEW_URL"])
    failed = [t for t in result["tests"] if not t["passed"]]
    assert all(t["feedback"] for t in failed)
    if student == "partly_wrong":
        by_exercise = {name: sum(t["test-name"].startswith(name) for t in failed) for name in ASSIGNMENT}
        assert by_exercise == PARTLY_WRONG_FAILS
    assert run.release_body and f"mpgrade: {total:g} / 20" in run.release_body
    assert not (checkout / ".venv").exists() and not list(checkout.glob("mpgrade*"))  # nothing of ours left there


# ------------------------------------------------------------------------------------------------ Gradescope

@pytest.fixture(scope="module")
def gradescope_root(tmp_path_factory):
    """An /autograder folder as Gradescope builds it: the zip in source/, setup.sh's venv in venv/."""
    tmp_path = tmp_path_factory.mktemp("gradescope")
    archive = tmp_path / "autograder.zip"
    done = _run([sys.executable, "-m", "mpgrade", "export", "gradescope", str(archive)], cwd=KIT_ROOT)
    assert done.returncode == 0
    root = tmp_path / "autograder"
    with zipfile.ZipFile(archive) as zipped:
        names = zipped.namelist()
        assert "setup.sh" in names and "run_autograder" in names
        assert (zipped.getinfo("run_autograder").external_attr >> 16) & 0o111
        zipped.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "run_autograder").chmod(0o755)
    # setup.sh's venv: this test's own (it has the kit's dependencies), which run_autograder must switch to.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root / "venv")],
                   check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    (root / "venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
     / "outer.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    return root


def _run_autograder(root: Path) -> dict:
    results = root / "results" / "results.json"
    results.unlink(missing_ok=True)
    done = _run([str(root / "run_autograder")], cwd=root, env={"MPGRADE_AUTOGRADER_ROOT": str(root)})
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(results.read_text())
    jsonschema.validate(data, _schema("gradescope-results.json"))
    return data


@pytest.mark.parametrize("student", list(STUDENTS))
def test_gradescope_results_carry_the_kits_total(student, gradescope_root):
    shutil.rmtree(gradescope_root / "submission", ignore_errors=True)
    _hand_in(gradescope_root / "submission", student)
    results = _run_autograder(gradescope_root)
    _, total = STUDENTS[student]
    graded = [t for t in results["tests"] if t["name"].startswith(tuple(ASSIGNMENT))]
    assert sum(t["score"] for t in graded) == total and sum(t["max_score"] for t in graded) == 20
    assert results["output_format"] == "md" and results["test_output_format"] == "text"
    assert "| ex01_processes |" in results["output"]
    assert all(t["visibility"] == "visible" for t in results["tests"])
    if student == "partly_wrong":
        failed = [t for t in graded if t["status"] == "failed"]
        assert len(failed) == 3 and all(t["output"] for t in failed)


def test_gradescope_writes_results_even_when_the_kit_cannot_be_loaded(gradescope_root, tmp_path):
    broken = tmp_path / "autograder"
    shutil.copytree(gradescope_root, broken, symlinks=True, ignore=shutil.ignore_patterns("venv"))
    shutil.rmtree(broken / "source" / "graders" / "mpgrade")  # setup failed: no kit, no venv
    _hand_in(broken / "submission", "full")
    done = subprocess.run([sys.executable, "-I", "-S", str(broken / "run_autograder")], capture_output=True, text=True,
                          env={"MPGRADE_AUTOGRADER_ROOT": str(broken), "PATH": os.environ["PATH"]}, cwd=broken)
    assert done.returncode == 0, done.stderr
    results = json.loads((broken / "results" / "results.json").read_text())
    jsonschema.validate(results, _schema("gradescope-results.json"))
    assert results["score"] == 0 and results["tests"] == []
    assert "could not be loaded" in results["output"] and "ModuleNotFoundError" in results["output"]
