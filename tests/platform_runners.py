"""Faithful models of how each grading platform's runner calls an exported artefact (test helpers).

Written from each platform's documented contract and the source of its
runner, so that a test runs our artefact the way the platform does, not the
way we imagine it:

- Classroom 50 (foundation50/classroom50, ``runner.py`` and ``collect_scores.py``,
  the wiki's "Advanced Autograding"): the instructor's autograder folder is
  tarred, extracted with ``filter="data"`` into ``$RUNNER_TEMP/classroom50-runtime``
  (outside the checkout) and run as ``[sys.executable, autograder.py]`` with
  the checkout as working directory and the whole job environment plus its
  own variables; non-zero exit = infrastructure error; then the runner stamps
  ``owner``, ``assignment_type``, ``datetime`` and validates ``result.json``.
- GitHub Actions with ``classroom-resources/autograding-grading-reporter@v1``:
  steps in order, ``if:`` conditions, ``shell: bash`` run as
  ``bash --noprofile --norc -eo pipefail {0}``, outputs parsed from
  ``$GITHUB_OUTPUT``, ``${{ steps.ID.outputs.NAME }}`` substituted, and the
  reporter's two computations (its console table and the "Points" notice,
  which sums ``tests[].score`` over runners whose ``max_score`` is truthy,
  then fails the job when a runner's status is ``fail`` or ``error``).

Gradescope's model (the ``/autograder`` layout) lives in its test.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import tarfile
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import yaml

# ---------------------------------------------------------------------------------------------- Classroom 50

C50_SCHEMA = "classroom50/result/v1"


def classroom50_errors(data: object, env: dict[str, str]) -> list[str]:
    """Every rule ``validate_result`` (runner.py) and ``collect_scores.py`` apply to a stamped result.json."""
    def non_negative_int(value: object) -> bool:
        return isinstance(value, int) and not isinstance(value, bool) and value >= 0

    if not isinstance(data, dict):
        return ["result.json is not an object"]
    errors = []
    if data.get("schema") != C50_SCHEMA:
        errors.append(f"schema is {data.get('schema')!r}")
    for key, variable in (("classroom", "CLASSROOM"), ("assignment", "ASSIGNMENT")):
        if data.get(key) != env[variable]:
            errors.append(f"{key} {data.get(key)!r} != {variable} {env[variable]!r}")
    owner = data.get("owner")
    if not isinstance(owner, str) or not owner or owner.lower() != env["OWNER"].lower():
        errors.append(f"owner {owner!r}")
    if data.get("assignment_type") != env["ASSIGNMENT_TYPE"]:
        errors.append(f"assignment_type {data.get('assignment_type')!r}")
    submission = data.get("submission")
    if not isinstance(submission, str) or not submission.startswith("submit/"):
        errors.append(f"submission {submission!r} is not a submit/ tag")
    for key in ("commit", "release", "review", "datetime"):
        if not isinstance(data.get(key), str) or not data[key]:
            errors.append(f"{key} is not a non-empty string: {data.get(key)!r}")
    score, most = data.get("score"), data.get("max-score")
    if not non_negative_int(score) or not non_negative_int(most):
        errors.append(f"score {score!r} / max-score {most!r} are not non-negative integers")
    elif score > most:
        errors.append(f"score {score} > max-score {most}")
    tests = data.get("tests")
    if not isinstance(tests, list):
        return errors + ["tests is not a list"]
    for test in tests:
        if not isinstance(test, dict):
            errors.append(f"test {test!r} is not an object")
            continue
        name = test.get("test-name")
        if not isinstance(name, str) or not name:
            errors.append(f"test-name {name!r}")
        if not isinstance(test.get("passed"), bool):
            errors.append(f"{name}: passed {test.get('passed')!r} is not a boolean")
        if not non_negative_int(test.get("score")) or not non_negative_int(test.get("max-score")):
            errors.append(f"{name}: score {test.get('score')!r} / max-score {test.get('max-score')!r} not integers")
        elif test["score"] > test["max-score"]:
            errors.append(f"{name}: score > max-score")
    return errors


@dataclass
class Classroom50Run:
    """What the runner ended with."""

    returncode: int
    output: str
    result: dict | None
    errors: list[str]
    release_body: str | None


def classroom50_job_env(python_bin: Path, runner_temp: Path, classroom: str, assignment: str, owner: str,
                        sha: str = "a1b2c3d4e5f6a7b8c9d0a1b2c3d4e5f6a7b8c9d0") -> dict[str, str]:
    """The grade job's environment (a GitHub runner's plus Classroom 50's), with nothing of the kit in it."""
    repo = f"{classroom}/{assignment}-{owner}"
    tag = f"submit/2026-11-23T10-00-00Z-{sha[:7]}"
    server = "https://github.com"
    env = {
        "PATH": f"{python_bin}{os.pathsep}/usr/local/bin:/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8", "CI": "true", "GITHUB_ACTIONS": "true", "RUNNER_TEMP": str(runner_temp),
        "RUNNER_OS": "Linux", "GITHUB_REPOSITORY": repo, "GITHUB_REPOSITORY_OWNER": classroom, "GITHUB_SHA": sha,
        "GITHUB_REF": f"refs/tags/{tag}", "GITHUB_REF_NAME": tag, "GITHUB_ACTOR": owner,
        "GITHUB_SERVER_URL": server, "GITHUB_WORKFLOW": "autograde",
        "PAGES_BASE_URL": f"https://{classroom}.github.io/classroom50", "CLASSROOM": classroom,
        "ASSIGNMENT": assignment, "SUBMISSION_TAG": tag, "MODE": "individual",
        # set by runner.py for the autograder
        "USERNAME": owner, "OWNER": owner, "ASSIGNMENT_TYPE": "individual",
        "COMMIT_URL": f"{server}/{repo}/commit/{sha}",
        "RELEASE_URL": f"{server}/{repo}/releases/tag/{tag.replace('/', '%2F')}",
        "REVIEW_URL": f"{server}/{repo}/compare/0000000...{sha}",
    }
    for name, value in os.environ.items():  # this machine's way to the package index, as a runner has its own
        if name.startswith("PIP_") or name in ("SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "http_proxy", "https_proxy"):
            env[name] = value
    return env


def run_classroom50(instructor_folder: Path, checkout: Path, python: Path, env: dict[str, str],
                    timeout: float = 900) -> Classroom50Run:
    """Bundle ``instructor_folder`` (CLASSROOM/autograders/ASSIGNMENT/), run it as runner.py does, validate."""
    runtime = Path(env["RUNNER_TEMP"]) / "classroom50-runtime"
    if runtime.exists():
        subprocess.run(["rm", "-rf", str(runtime)], check=True)
    runtime.mkdir(parents=True)
    bundle = Path(env["RUNNER_TEMP"]) / "bundle.tar.gz"
    with tarfile.open(bundle, "w:gz") as tar:
        tar.add(instructor_folder, arcname=env["ASSIGNMENT"])
    assert bundle.stat().st_size < 10 * 1024 * 1024, "Classroom 50 refuses bundles over 10 MB"
    with tarfile.open(bundle) as tar:
        tar.extractall(runtime, filter="data")
    entrypoint = runtime / env["ASSIGNMENT"] / "autograder.py"
    for stale in ("result.json", "release-body.md"):
        (checkout / stale).unlink(missing_ok=True)
    env = {**env, "CLASSROOM50_BUNDLE_DIR": str(entrypoint.parent)}  # the one variable of its own it sets
    done = subprocess.run([str(python), str(entrypoint)], cwd=checkout, env=env, capture_output=True, text=True,
                          timeout=timeout)
    output = done.stdout + done.stderr
    result_file = checkout / "result.json"
    if done.returncode != 0:
        return Classroom50Run(done.returncode, output, None, [f"autograder exited {done.returncode}"], None)
    if not result_file.is_file():
        return Classroom50Run(0, output, None, ["autograder did not produce result.json"], None)
    try:
        result = json.loads(result_file.read_text(encoding="utf-8"))
    except ValueError as problem:
        return Classroom50Run(0, output, None, [f"result.json is not JSON: {problem}"], None)
    if isinstance(result, dict):  # finalize_result stamps these before validating
        result.update(owner=env["OWNER"], assignment_type=env["ASSIGNMENT_TYPE"],
                      datetime=datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
    body = checkout / "release-body.md"
    return Classroom50Run(0, output, result, classroom50_errors(result, env),
                          body.read_text(encoding="utf-8") if body.is_file() else None)


# --------------------------------------------------------------------------------------------- GitHub Actions

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
REPORTER = "classroom-resources/autograding-grading-reporter@v1"


@dataclass
class Reporter:
    """What autograding-grading-reporter@v1 computed."""

    points: float | None = None
    """The "Points" notice's total (None when it emitted no notice)."""
    max_points: float | None = None
    table_points: dict[str, float] = field(default_factory=dict)
    """Its console table: per runner, passed tests / all tests * max_score (it ignores scores)."""
    failed: str | None = None
    """The message it failed the job with, if it did."""


@dataclass
class WorkflowRun:
    """One run of the job."""

    steps: list[tuple[str, str]] = field(default_factory=list)
    """(step name, outcome: success, failure or skipped)."""
    logs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    reporter: Reporter | None = None

    @property
    def succeeded(self) -> bool:
        return all(outcome != "failure" for _, outcome in self.steps)


def _outputs(text: str) -> dict[str, str]:
    """``$GITHUB_OUTPUT``'s two forms: ``name=value`` and ``name<<DELIMITER`` ... ``DELIMITER``."""
    found, lines = {}, text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            end = lines.index(delimiter, index + 1)
            found[name] = "\n".join(lines[index + 1:end])
            index = end + 1
            continue
        if "=" in line:
            name, value = line.split("=", 1)
            found[name] = value
        elif line.strip():
            raise ValueError(f"unparseable line in GITHUB_OUTPUT: {line!r}")
        index += 1
    return found


def _reporter(runners: str, env: dict[str, str]) -> Reporter:
    """autograding-grading-reporter@v1 (src/main.js, helpers/test-helpers.js, notify-classroom.js)."""
    seen = Reporter()
    try:
        results = []
        for runner in runners.split(","):
            encoded = env.get(f"{runner.strip().upper()}_RESULTS")
            if encoded is None:
                raise TypeError('The first argument must be of type string (Buffer.from(undefined))')
            results.append((runner, json.loads(base64.b64decode(encoded).decode("utf-8"))))
        for runner, result in results:  # ConsoleResults: throws on a result without tests
            tests = result["tests"]
            passed = sum(test["status"] == "pass" for test in tests)
            seen.table_points[runner] = passed / len(tests) * (result.get("max_score") or 0)
        total, most = 0, 0
        for _, result in results:  # NotifyClassroom
            if not result.get("max_score"):
                continue
            most += result["max_score"]
            for test in result["tests"]:
                total += test["score"]
        if most:
            seen.points, seen.max_points = total, most
        if any(result["status"] == "fail" for _, result in results):
            seen.failed = "Some tests failed."
        elif any(result["status"] == "error" for _, result in results):
            seen.failed = "Some tests errored."
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as problem:
        seen.failed = str(problem) or type(problem).__name__
    return seen


def run_workflow(workflow: str, workspace: Path, python_bin: Path, base_env: dict[str, str],
                 actor: str = "student", timeout: float = 900) -> WorkflowRun:
    """Run the single job of ``workflow`` in ``workspace`` (already checked out) as a GitHub runner would."""
    parsed = yaml.safe_load(workflow)
    (job,) = parsed["jobs"].values()
    run = WorkflowRun()
    outputs: dict[str, dict[str, str]] = {}
    context = {"github.actor": actor}

    def evaluate(expression: str) -> str:
        match = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if match:
            return outputs.get(match.group(1), {}).get(match.group(2), "")
        raise NotImplementedError(f"expression not modelled: {expression}")

    def substitute(text: str) -> str:
        return EXPRESSION.sub(lambda m: evaluate(m.group(1)), str(text))

    def condition(text: str | None, failed: bool) -> bool:
        text = EXPRESSION.sub(lambda m: m.group(1), text or "success()").strip()
        if text == "always()":
            return True
        if text == "success()":
            return not failed
        if text == "failure()":
            return failed
        match = re.fullmatch(r"github\.actor\s*(==|!=)\s*'([^']*)'", text)
        if match:
            return (context["github.actor"] == match.group(2)) == (match.group(1) == "==")
        raise NotImplementedError(f"condition not modelled: {text}")

    if not condition(job.get("if"), False):
        return run
    env = {**base_env, "GITHUB_WORKSPACE": str(workspace), "CI": "true", "GITHUB_ACTIONS": "true"}
    scratch = workspace.parent / f".runner-{workspace.name}"
    scratch.mkdir(exist_ok=True)
    summary_parts = []
    for number, step in enumerate(job["steps"]):
        name = step.get("name") or step.get("uses") or step.get("run")
        failed = any(outcome == "failure" for _, outcome in run.steps)
        if not condition(step.get("if"), failed):
            run.steps.append((name, "skipped"))
            continue
        step_env = {**env, **{k: substitute(v) for k, v in (step.get("env") or {}).items()}}
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            run.steps.append((name, "success"))
        elif uses.startswith("actions/setup-python@"):
            env["PATH"] = f"{python_bin}{os.pathsep}{env['PATH']}"
            run.steps.append((name, "success"))
        elif uses == REPORTER:
            run.reporter = _reporter(str(step["with"]["runners"]), step_env)
            run.steps.append((name, "failure" if run.reporter.failed else "success"))
        elif "run" in step:
            shell = step.get("shell")
            script = scratch / f"step{number}.sh"
            script.write_text(substitute(step["run"]) + "\n", encoding="utf-8")
            command = (["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)] if shell == "bash"
                       else ["bash", "-e", str(script)] if shell is None else None)
            if command is None:
                raise NotImplementedError(f"shell not modelled: {shell}")
            output_file, summary_file = scratch / f"output{number}", scratch / f"summary{number}"
            output_file.write_text("")
            summary_file.write_text("")
            done = subprocess.run(command, cwd=workspace, capture_output=True, text=True, timeout=timeout,
                                  env={**step_env, "GITHUB_OUTPUT": str(output_file),
                                       "GITHUB_STEP_SUMMARY": str(summary_file)})
            run.logs[name] = done.stdout + done.stderr
            outputs[step.get("id", f"__{number}")] = _outputs(output_file.read_text(encoding="utf-8"))
            summary_parts.append(summary_file.read_text(encoding="utf-8"))
            run.steps.append((name, "success" if done.returncode == 0 else "failure"))
        else:
            raise NotImplementedError(f"step not modelled: {step}")
    run.summary = "".join(summary_parts)
    return run


# ---------------------------------------------------------------------------------------------- matrix workflows

def run_matrix_workflow(workflow: str, workspace: Path, base_env: dict[str, str],
                        timeout: float = 900) -> dict[str, list[str]]:
    """Run every job of ``workflow`` in ``needs`` order, each matrix entry as its own job, as GitHub would.

    Modelled: ``strategy.job-index`` (0-based, in matrix order), ``strategy.job-total``,
    ``matrix.*`` in job ``env`` and in steps; ``run`` steps under ``bash -e`` in the
    job's own copy of ``workspace`` (each job is a fresh runner); ``upload-artifact``
    (the ``path`` folder under ``name``) and ``download-artifact`` with no name (every
    artifact, each into a folder named after it). Not modelled: ``pip install``
    steps, which are skipped (the test's Python has the kit installed). Returns
    each job's logs; raises AssertionError for a step that fails.
    """
    import itertools
    import shutil

    parsed = yaml.safe_load(workflow)
    artifacts = workspace.parent / f".artifacts-{workspace.name}"
    artifacts.mkdir(exist_ok=True)
    logs: dict[str, list[str]] = {}
    done: set[str] = set()
    jobs = dict(parsed["jobs"])
    while jobs:
        name, job = next((n, j) for n, j in jobs.items() if set(_as_list(j.get("needs"))) <= done)
        del jobs[name]
        matrix = (job.get("strategy") or {}).get("matrix") or {}
        keys = list(matrix)
        entries = [dict(zip(keys, values)) for values in itertools.product(*(matrix[k] for k in keys))] or [{}]
        for index, entry in enumerate(entries):
            context = {"strategy.job-index": str(index), "strategy.job-total": str(len(entries)),
                       **{f"matrix.{k}": str(v) for k, v in entry.items()}}

            def substitute(text: object) -> str:
                def evaluate(match: re.Match) -> str:
                    if match.group(1) not in context:
                        raise NotImplementedError(f"expression not modelled: {match.group(1)}")
                    return context[match.group(1)]
                return EXPRESSION.sub(evaluate, str(text))

            runner = workspace.parent / f".job-{workspace.name}-{name}-{index}"
            shutil.rmtree(runner, ignore_errors=True)
            shutil.copytree(workspace, runner, symlinks=True)
            env = {**base_env, "CI": "true", "GITHUB_ACTIONS": "true", "GITHUB_WORKSPACE": str(runner),
                   **{k: substitute(v) for k, v in (job.get("env") or {}).items()}}
            for step in job["steps"]:
                uses, run = step.get("uses", ""), step.get("run")
                if uses.startswith(("actions/checkout@", "actions/setup-python@")):
                    continue
                if uses.startswith("actions/upload-artifact@"):
                    with_ = {k: substitute(v) for k, v in step["with"].items()}
                    shutil.copytree(runner / with_["path"], artifacts / with_["name"], dirs_exist_ok=False)
                elif uses.startswith("actions/download-artifact@"):
                    for artifact in sorted(artifacts.iterdir()):
                        shutil.copytree(artifact, runner / artifact.name)
                elif run is not None and run.strip().startswith("pip install"):
                    continue
                elif run is not None:
                    result = subprocess.run(["bash", "-e", "-c", substitute(run)], cwd=runner, env=env,
                                            capture_output=True, text=True, timeout=timeout)
                    logs.setdefault(name, []).append(result.stdout + result.stderr)
                    assert result.returncode == 0, f"{name}[{index}] step {run!r} failed:\n{result.stderr}"
                else:
                    raise NotImplementedError(f"step not modelled: {step}")
        done.add(name)
    return logs


def _as_list(value: object) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def readme_block(language: str, containing: str) -> str:
    """The README's one fenced ``language`` block that contains ``containing``: tests run what users read."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(rf"^```{language}\n(.*?)^```", readme, re.M | re.S) if containing in b]
    assert len(blocks) == 1, f"expected one {language} block with {containing!r} in README.md, found {len(blocks)}"
    return blocks[0]
