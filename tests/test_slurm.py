"""The README's Slurm job array, run by a real Slurm: every student graded once, the unsharded gradebook,
and a node failure mid-shard resumed by requeueing the task (munged, slurmctld and slurmd on this machine)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import KIT_ROOT, SUBMISSIONS, whole
from mpgrade.sandbox.machine import cpu_model
from mpgrade.grading.provenance import graders_digest
from platform_runners import readme_block
from slurm_cluster import SlurmCluster, SlurmUnavailable

EXERCISE = "ex01_processes.py"


@pytest.fixture
def cluster(tmp_path):
    try:
        with SlurmCluster(tmp_path / "slurm") as running:
            yield running
    except SlurmUnavailable as why:
        pytest.skip(f"no Slurm here: {why}")


def a_class(folder: Path) -> Path:
    """Five students: two reference solutions, an untouched stub, two known mistakes (ex01 only)."""
    sources = {"ana": KIT_ROOT / "solutions" / EXERCISE, "ben": KIT_ROOT / "exercises" / EXERCISE,
               "cleo": whole(SUBMISSIONS / "mistakes" / "ex01_never_joined") / EXERCISE,
               "dan": KIT_ROOT / "solutions" / EXERCISE,
               "eve": whole(SUBMISSIONS / "mistakes" / "ex01_target_called") / EXERCISE}
    for student, source in sources.items():
        (folder / f"course-{student}" / "exercises").mkdir(parents=True)
        shutil.copy(source, folder / f"course-{student}" / "exercises" / EXERCISE)
    return folder


def statuses(results: Path) -> dict[str, int]:
    return {p.parent.name: p.stat().st_mtime_ns for p in (results / "students").glob("*/status.json")}


def test_the_readme_job_array_grades_every_student_once_and_resumes_a_failed_node(cluster, tmp_path, leftovers):
    work = tmp_path / "work"
    submissions = a_class(work / "submissions")
    script = work / "grade.sbatch"
    script.write_text(readme_block("bash", "#SBATCH"))
    # The job inherits this environment (sbatch's default --export=ALL): the kit's venv on PATH.
    cluster.env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{cluster.env['PATH']}"
    for name in [k for k in cluster.env if k.startswith(("MPGRADE_SHARD", "JOB_COMPLETION"))]:
        del cluster.env[name]

    # One student at a time, so that the node can fail between two of shard 2's students.
    job = cluster.run("sbatch", "--parsable", "--array=1-2", str(script), "submissions", "--exercises", "ex01",
                      "--workers", "1", cwd=work).stdout.strip().split(";")[0]
    shard2 = work / "results-2"
    deadline = time.monotonic() + 600
    while not statuses(shard2) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert statuses(shard2), f"shard 2 graded nobody in 600 s:\n{cluster.logs()[-2000:]}"
    cluster.run("scancel", "--signal=KILL", "--full", f"{job}_2")  # the node dies
    cluster.wait_idle(timeout=120)
    assignment = json.loads((shard2 / "shard.json").read_text())
    assert assignment["shard"] == "2/2" and "SLURM_ARRAY_TASK_ID=2" in assignment["origin"]
    ours = ["ben", "dan"]  # every 2nd student from the 2nd, sorted by id: ana ben cleo dan eve
    finished = statuses(shard2)
    if set(finished) == set(ours):  # it finished before the kill landed: fail the last one as a node would
        (shard2 / "students" / "dan" / "status.json").unlink()
        finished = statuses(shard2)
    unfinished = sorted(set(ours) - set(finished))

    merged = cluster.run(sys.executable, "-m", "mpgrade", "merge", "results-1", "results-2", "--out", "partial",
                         cwd=work, check=False)
    assert merged.returncode == 1, merged.stdout + merged.stderr
    for student in unfinished:
        assert f"{student}: not graded: shard 2/2 (results-2) did not finish; run shard 2/2 again" in merged.stdout

    cluster.run("scontrol", "requeue", f"{job}_2")  # what --requeue does by itself when a node fails
    cluster.wait_idle(timeout=600)
    after = statuses(shard2)
    assert sorted(after) == ours
    assert {student: after[student] for student in finished} == finished  # kept, not graded again
    log = next(work.glob(f"mpgrade-{job}_2.out")).read_text()
    assert log.count("(unchanged, kept)") >= len(finished), log[-2000:]
    assert sorted(statuses(work / "results-1")) == ["ana", "cleo", "eve"]

    merged = cluster.run(sys.executable, "-m", "mpgrade", "merge", "results-1", "results-2", "--out", "results",
                         cwd=work, check=False)
    assert merged.returncode == 0, merged.stdout + merged.stderr
    whole = subprocess.run([sys.executable, "-m", "mpgrade", "grade", "submissions", "--out", "whole", "--shard",
                            "all", "--exercises", "ex01"], cwd=work, capture_output=True, text=True, timeout=600,
                           env={k: v for k, v in os.environ.items() if not k.startswith("SLURM_")})
    assert whole.returncode == 0, whole.stderr
    assert (work / "results" / "gradebook.csv").read_text() == (work / "whole" / "gradebook.csv").read_text()
    totals = {line.split(",")[0]: line.split(",")[1]
              for line in (work / "results" / "gradebook.csv").read_text().splitlines()[1:]}
    assert totals["ana"] == totals["dan"] == "10" and totals["ben"] == "0"
    assert 0 < float(totals["cleo"]) < 10 and 0 < float(totals["eve"]) < 10
    environment = json.loads((work / "results" / "students" / "ana" / "report.json").read_text())["environment"]
    assert environment["graders"] == graders_digest() and environment["cpu_model"] == cpu_model()

    deadline = time.monotonic() + 30  # a killed shard's grading must not outlive it for long
    while leftovers() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert leftovers() == []
