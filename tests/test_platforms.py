"""The student release and the platform exports, each checked by running what it produced."""
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

from conftest import KIT_ROOT
from mpgrade.release import release, workflow
from mpgrade.stubs import solution_lines

SCHEMAS = Path(__file__).resolve().parent / "schemas"


def _schema(name: str) -> dict:
    return json.loads((SCHEMAS / name).read_text())


def _run(command, cwd, env=None, timeout=300):
    return subprocess.run(command, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    out = tmp_path_factory.mktemp("release") / "repo"
    release(out)
    return out


def test_release_holds_stubs_graders_engine_and_no_solution_text(released):
    names = {str(p.relative_to(released)) for p in released.rglob("*") if p.is_file()}
    assert "exercises/ex01_processes.py" in names and "graders/test_ex05_counter.py" in names
    assert "graders/mpgrade/plugin.py" in names and "graders/mpgrade_probe/runner.py" in names
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


def test_the_released_repository_grades_its_stubs(released, tmp_path):
    env = {"PYTHONPATH": str(released / "graders"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md")}
    done = _run([sys.executable, "-m", "mpgrade", "check", "ex01", "--report", str(tmp_path / "r.json")],
                cwd=released, env=env)
    assert done.returncode == 1 and "ex01_processes  0/10" in done.stdout, done.stdout + done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["submission"] == str(released / "exercises")
    assert "| ex01_processes |" in (tmp_path / "summary.md").read_text()


def test_workflow_has_the_shape_github_classroom_generated():
    parsed = yaml.safe_load(workflow())
    assert parsed["name"] == "Autograding Tests" and set(parsed[True] if True in parsed else parsed["on"]) == {
        "push", "repository_dispatch"}
    steps = parsed["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if s.get("uses") == "classroom-resources/autograding-command-grader@v1"]
    assert [s["with"]["test-name"] for s in graders] == sorted(p.stem for p in (KIT_ROOT / "exercises").glob("ex*.py"))
    for step in graders:
        assert set(step["with"]) == {"test-name", "setup-command", "command", "timeout", "max-score"}
        assert step["with"]["command"] == f"mpgrade check {step['id']}" and step["with"]["max-score"] == 10
    reporter = steps[-1]
    assert reporter["uses"] == "classroom-resources/autograding-grading-reporter@v1"
    assert reporter["with"]["runners"] == ",".join(s["id"] for s in graders)
    assert reporter["env"]["EX01_RESULTS"] == "${{steps.ex01.outputs.result}}"


@pytest.fixture(scope="module")
def ex01_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "report.json"
    done = _run([sys.executable, "-m", "mpgrade", "check", "ex01", "--submission",
                 str(KIT_ROOT / "tests" / "submissions" / "serial_join"), "--report", str(path)], cwd=KIT_ROOT)
    assert path.exists(), done.stdout + done.stderr
    return path


def test_classroom_payload_carries_partial_credit(ex01_report):
    done = _run([sys.executable, "-m", "mpgrade", "report", "--format", "classroom", str(ex01_report),
                 "--exercise", "ex01"], cwd=KIT_ROOT)
    payload = json.loads(base64.b64decode(done.stdout.strip()))
    jsonschema.validate(payload, _schema("classroom-result.json"))
    assert payload["status"] == "fail" and payload["max_score"] == 10
    assert sum(t["score"] for t in payload["tests"]) == 8
    failing = [t for t in payload["tests"] if t["status"] == "fail"]
    assert len(failing) == 1 and "one after another" in failing[0]["message"]


def _checkout(root: Path, module: Path) -> Path:
    (root / "exercises").mkdir(parents=True)
    shutil.copy(module, root / "exercises" / "ex01_processes.py")
    return root


def test_classroom50_autograder_writes_result_json(tmp_path):
    done = _run([sys.executable, "-m", "mpgrade", "export", "classroom50", str(tmp_path / "c50")], cwd=KIT_ROOT)
    assert done.returncode == 0
    checkout = _checkout(tmp_path / "checkout", KIT_ROOT / "solutions" / "ex01_processes.py")
    env = {"GITHUB_REPOSITORY": "cs101/mp-alice", "GITHUB_SHA": "abc123", "CLASSROOM50_REVIEW": "r1"}
    done = _run([sys.executable, str(tmp_path / "c50" / "autograder.py"), str(checkout), "--out",
                 str(tmp_path / "result.json")], cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "result.json").read_text())
    jsonschema.validate(result, _schema("classroom50-result.json"))
    assert (result["classroom"], result["assignment"], result["commit"], result["review"]) == (
        "cs101", "mp-alice", "abc123", "r1")
    assert result["score"] == 10 and result["max-score"] == 100  # only ex01 was handed in
    assert any(t["test-name"].startswith("ex01_processes") and t["passed"] for t in result["tests"])


def test_gradescope_zip_runs_in_a_fake_autograder_root(tmp_path):
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
    _checkout(root / "submission", KIT_ROOT / "solutions" / "ex01_processes.py")
    # setup.sh's venv: this test's own (it has the kit's dependencies), which run_autograder must switch to.
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(root / "venv")],
                   check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    (root / "venv" / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"
     / "outer.pth").write_text("\n".join(p for p in sys.path if p.endswith("site-packages")) + "\n")
    done = _run([str(root / "run_autograder")], cwd=root, env={"MPGRADE_AUTOGRADER_ROOT": str(root)})
    assert done.returncode == 0, done.stdout + done.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(results, _schema("gradescope-results.json"))
    assert results["score"] == 10
    assert all(t["visibility"] == "visible" for t in results["tests"])
    assert any(t["name"].startswith("ex01_processes") and t["status"] == "passed" for t in results["tests"])
