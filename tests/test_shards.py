"""Shards from the scheduler's variables, the README's Actions and Kubernetes recipes run as those platforms
run them, and what merge checks: one set of graders, one kind of machine, every student once, resume."""
from __future__ import annotations

import csv
import io
import json
import os
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from platform_runners import readme_block, run_matrix_workflow
from mpgrade.grading import report
from mpgrade.batch.grade import write_gradebook
from mpgrade.grading.provenance import graders_digest
from mpgrade.batch.shards import Shard, ShardRecord, check_resume, from_scheduler, resolve

CLASS = [f"student{n:02d}" for n in range(1, 8)]


def covered(shards: list[Shard], ids: list[str] = CLASS) -> list[str]:
    return sorted(student for shard in shards for student in shard.pick(ids))


def test_shards_cover_every_student_exactly_once():
    assert covered([Shard(index, 3) for index in (1, 2, 3)]) == sorted(CLASS)
    with pytest.raises(ValueError, match="between 1 and N"):
        Shard.parse("0/3")
    with pytest.raises(ValueError, match="I/N"):
        Shard.parse("two/3")


@pytest.mark.parametrize("array, task_ids", [("1-4", [1, 2, 3, 4]), ("0-3", [0, 1, 2, 3]), ("3-9:2", [3, 5, 7, 9])])
def test_a_slurm_array_numbers_its_shards_one_to_n(array, task_ids):
    low, high = task_ids[0], task_ids[-1]
    step = task_ids[1] - task_ids[0]
    shards = []
    for task in task_ids:  # the variables Slurm 22.05 sets in each task (seen with sbatch --array here)
        environ = {"SLURM_ARRAY_TASK_ID": str(task), "SLURM_ARRAY_TASK_COUNT": str(len(task_ids)),
                   "SLURM_ARRAY_TASK_MIN": str(low), "SLURM_ARRAY_TASK_MAX": str(high),
                   "SLURM_ARRAY_TASK_STEP": str(step), "SLURM_ARRAY_JOB_ID": "77"}
        shards.append(from_scheduler(environ))
    assert [(s.index, s.count) for s in shards] == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert "SLURM_ARRAY_TASK_ID" in shards[0].origin
    assert covered(shards) == sorted(CLASS)


def test_a_slurm_array_with_gaps_is_refused_with_the_fix():
    # sbatch --array=1,4,9: Slurm says count 3, min 1, max 9, step 1
    environ = {"SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MIN": "1",
               "SLURM_ARRAY_TASK_MAX": "9", "SLURM_ARRAY_TASK_STEP": "1"}
    with pytest.raises(ValueError, match=r"not an evenly stepped range.*--array=1-N.*--shard I/N"):
        from_scheduler(environ)


def test_kubernetes_and_actions_indexes_are_zero_based_with_a_given_count():
    assert [(s.index, s.count) for s in (from_scheduler({"JOB_COMPLETION_INDEX": str(i), "MPGRADE_SHARD_COUNT": "3"})
                                         for i in range(3))] == [(1, 3), (2, 3), (3, 3)]
    with pytest.raises(ValueError, match="MPGRADE_SHARD_COUNT is not"):
        from_scheduler({"JOB_COMPLETION_INDEX": "0"})
    actions = from_scheduler({"MPGRADE_SHARD_INDEX": "1", "MPGRADE_SHARD_COUNT": "2",
                              "SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "9"})
    assert (actions.index, actions.count) == (2, 2)  # set on purpose: outranks the scheduler around it
    with pytest.raises(ValueError, match="between 1 and N"):
        from_scheduler({"MPGRADE_SHARD_INDEX": "2", "MPGRADE_SHARD_COUNT": "2"})


def test_the_shard_option_auto_all_and_none():
    slurm = {"SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MIN": "1"}
    assert resolve(None, {}) is None
    assert (resolve(None, slurm).index, resolve("auto", slurm).index) == (2, 2)
    assert resolve("all", slurm) is None
    assert resolve("1/3", slurm) == Shard(1, 3)
    with pytest.raises(ValueError, match="no scheduler variables"):
        resolve("auto", {})


# ---------------------------------------------------------------------------------------- merge and resume

def unreadable_class(folder: Path, ids: list[str] = CLASS) -> Path:
    """Students whose zips are refused at intake: graded (as error rows) in no time, with no pytest run."""
    folder.mkdir(parents=True)
    for student in ids:
        with zipfile.ZipFile(folder / f"assignment-{student}.zip", "w") as zipped:
            zipped.writestr("../escape.py", "x = 1\n")
    return folder


def mpgrade(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mpgrade", *args], capture_output=True, text=True, cwd=cwd,
                          env=env, timeout=300)


def test_merge_lists_students_no_shard_graded_and_exits_1(tmp_path):
    submissions = unreadable_class(tmp_path / "class")
    for index in (1, 3):
        done = mpgrade("grade", str(submissions), "--out", str(tmp_path / f"results-{index}"), "--shard", f"{index}/3")
        assert done.returncode == 0, done.stderr
    (tmp_path / "results-3" / "students" / Shard(3, 3).pick(CLASS)[0] / "status.json").unlink()  # a node failed
    done = mpgrade("merge", str(tmp_path / "results-1"), str(tmp_path / "results-3"), "--out", str(tmp_path / "all"))
    assert done.returncode == 1, done.stdout + done.stderr
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    expected = {student: "not graded: shard 2/3 was not merged" for student in Shard(2, 3).pick(CLASS)}
    unfinished = Shard(3, 3).pick(CLASS)[0]
    assert {k: v for k, v in summary["missing"].items() if k != unfinished} == expected
    assert summary["missing"][unfinished].startswith("not graded: shard 3/3") and "again to resume" in \
        summary["missing"][unfinished]
    assert summary["students"] == len(CLASS) and summary["errors"] == len(CLASS) - len(expected) - 1
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((tmp_path / "all" / "gradebook.csv").read_text()))}
    assert {student for student, row in rows.items() if row["status"] == "missing"} == {*expected, unfinished}
    assert "Not graded yet (3)" in (tmp_path / "all" / "report.html").read_text()
    assert f"{unfinished}: not graded: shard 3/3" in done.stdout

    # Resuming shard 3 grades only its unfinished student; then nothing is missing.
    before = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "results-3" / "students").glob("*/status.json")}
    done = mpgrade("grade", str(submissions), "--out", str(tmp_path / "results-3"), "--shard", "3/3")
    assert done.returncode == 0, done.stderr
    after = {p.parent.name: p.stat().st_mtime_ns for p in (tmp_path / "results-3" / "students").glob("*/status.json")}
    assert set(after) == set(Shard(3, 3).pick(CLASS)) and all(after[k] == v for k, v in before.items())


def test_a_folder_is_resumed_only_with_its_own_slice_of_its_own_class(tmp_path):
    results = tmp_path / "results-3"
    results.mkdir()
    ShardRecord("3/4", CLASS, graders_digest()).write(results)
    check_resume(results, Shard(3, 4), CLASS)  # the same slice: fine
    resubmitted = from_scheduler({"SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_COUNT": "1",
                                  "SLURM_ARRAY_TASK_MIN": "3", "SLURM_ARRAY_TASK_MAX": "3"})
    with pytest.raises(ValueError, match=r"holds shard 3/4; this run would grade shard 1/1 .*give --shard 3/4"):
        check_resume(results, resubmitted, CLASS)
    with pytest.raises(ValueError, match=r"another class \(new: zed; gone: -\)"):
        check_resume(results, Shard(3, 4), [*CLASS, "zed"])


def fake_result(folder: Path, student: str, digest: str, cpu_model: str, cpus: int, speedup: bool = True) -> None:
    """A graded student as grade_one leaves one: status.json and a report v1 naming its machine."""
    details = {"calibration": {"serial_s": 1.0}} if speedup else {}
    graded = report.build([{"exercise": "ex02_pool", "name": "speeds up", "id": "t", "status": "passed", "score": 2,
                            "max_score": 2, "details": details}], student,
                          {"python": "3.12.1", "start_method": "forkserver", "usable_cpus": cpus,
                           "cpu_budget": float(cpus), "cpu_model": cpu_model})
    report.write(graded, folder / "students" / student / "report.json")
    (folder / "students" / student / "status.json").write_text(json.dumps(
        {"id": student, "status": "graded", "score": 2, "max_score": 2, "graders": digest, "kit": "0.1.0"}))


def test_merge_refuses_results_from_different_graders(tmp_path):
    fake_result(tmp_path / "a", "alice", "1111aaaa", "AMD EPYC", 2)
    fake_result(tmp_path / "b", "bob", "2222bbbb", "AMD EPYC", 2)
    done = mpgrade("merge", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(tmp_path / "all"))
    assert done.returncode == 2
    assert "different graders" in done.stderr and "1111aaaa" in done.stderr and "2222bbbb" in done.stderr
    assert not (tmp_path / "all" / "gradebook.csv").exists()


def test_merge_flags_speedups_judged_on_another_kind_of_machine(tmp_path):
    for student in ("alice", "bob", "carol"):
        fake_result(tmp_path / "node1", student, "1111aaaa", "AMD EPYC 7B13", 2)
    fake_result(tmp_path / "node2", "dave", "1111aaaa", "Intel Xeon Gold 6338", 32)
    fake_result(tmp_path / "node2", "erin", "1111aaaa", "Intel Xeon Gold 6338", 32, speedup=False)
    done = mpgrade("merge", str(tmp_path / "node1"), str(tmp_path / "node2"), "--out", str(tmp_path / "all"))
    assert done.returncode == 0, done.stderr
    rows = {row["id"]: row for row in csv.DictReader(io.StringIO((tmp_path / "all" / "gradebook.csv").read_text()))}
    assert rows["dave"]["flags"] == ("speedup-on-other-machine:32 CPUs of Intel Xeon Gold 6338 "
                                     "(most: 2 CPUs of AMD EPYC 7B13)")
    assert [row["flags"] for student, row in rows.items() if student != "dave"] == ["", "", "", ""]  # erin: no speedup
    summary = json.loads((tmp_path / "all" / "summary.json").read_text())
    assert summary["speedup_on_other_machine"] == ["dave"]
    assert summary["speedup_machines"] == [{"machine": "2 CPUs of AMD EPYC 7B13", "students": 3},
                                           {"machine": "32 CPUs of Intel Xeon Gold 6338", "students": 1}]
    assert "Speedups judged on different machines" in (tmp_path / "all" / "report.html").read_text()
    assert "regrade these on one kind" in done.stdout and "dave" in done.stdout


def test_a_grade_records_its_graders_and_machine(tmp_path):
    submissions = unreadable_class(tmp_path / "class", ["alice", "bob"])
    done = mpgrade("grade", str(submissions), "--out", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    status = json.loads((tmp_path / "results" / "students" / "alice" / "status.json").read_text())
    assert status["graders"] == graders_digest() and status["kit"]
    with_only = mpgrade("grade", str(submissions), "--out", str(tmp_path / "some"), "--only", "bob")
    assert with_only.returncode == 0, with_only.stderr
    assert "alice: not graded yet (a run that did not finish, or one with --only)" in with_only.stdout
    record = ShardRecord.read(tmp_path / "results")
    assert (record.shard, record.students, record.graders) == (None, ["alice", "bob"], graders_digest())
    assert {"cpu_model", "usable_cpus", "cpu_limits", "python", "start_method", "kit", "host"} <= set(record.machine)
    from mpgrade.sandbox.machine import environment

    assert environment()["cpu_model"] not in ("", None)


# ---------------------------------------------------------------------------------------- the README's recipes

def test_the_readme_actions_matrix_grades_every_student_once(tmp_path):
    workflow = readme_block("yaml", "strategy.job-index")
    workspace = tmp_path / "repo"
    unreadable_class(workspace / "submissions")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in ("MPGRADE_SHARD_INDEX", "MPGRADE_SHARD_COUNT", "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX"):
        env.pop(name, None)
    logs = run_matrix_workflow(workflow, workspace, env)
    shards = yaml.safe_load(workflow)["jobs"]["grade"]["strategy"]["matrix"]["shard"]
    assert [log.count("grading shard") for log in logs["grade"]] == [1] * len(shards)
    merged = tmp_path / f".job-repo-merge-0" / "results"
    summary = json.loads((merged / "summary.json").read_text())
    assert summary["students"] == len(CLASS) and summary["missing"] == {}
    assert sorted(p.name for p in (merged / "students").iterdir()) == CLASS


def test_the_readme_kubernetes_indexed_job_grades_every_student_once(tmp_path):
    manifest = yaml.safe_load(readme_block("yaml", "completionMode: Indexed"))
    assert manifest["kind"] == "Job" and manifest["spec"]["completionMode"] == "Indexed"
    (container,) = manifest["spec"]["template"]["spec"]["containers"]
    env = {item["name"]: item["value"] for item in container["env"]}
    completions = manifest["spec"]["completions"]
    assert env["MPGRADE_SHARD_COUNT"] == str(completions)
    data = tmp_path / "data"
    unreadable_class(data / "submissions")
    command = [part.replace("/data", str(data)) for part in container["command"]]
    base = {k: v for k, v in os.environ.items() if not k.startswith(("SLURM_", "MPGRADE_SHARD", "JOB_COMPLETION"))}
    base["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{base['PATH']}"
    for index in range(completions):  # each pod: the Job controller sets JOB_COMPLETION_INDEX
        done = subprocess.run(command, env={**base, **env, "JOB_COMPLETION_INDEX": str(index)},
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr
        assert f"grading shard {index + 1}/{completions}" in done.stderr
    done = mpgrade("merge", *sorted(map(str, data.glob("results-*"))), "--out", str(data / "results"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in (data / "results" / "students").iterdir()) == CLASS
    assert shlex.split(command[-1])[:2] == ["mpgrade", "grade"]
