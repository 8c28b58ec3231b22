"""A real single-node Slurm cluster on this machine, for tests (test helper; starts daemons, owns them).

    munged (its own socket and key copy) <-- slurmctld (controller) <-- slurmd (the one node, "localhost")
                                              ^ sbatch / squeue / scontrol, told by SLURM_CONF

Debian's ``slurm-wlm`` and ``munge``; everything (config, state, spool, logs,
socket) in one folder, on ports nobody else uses, so it neither needs nor
touches a system Slurm. Run as root (slurmd starts jobs as their owner). The
cluster is stopped, daemons and jobs, when the ``with`` block ends.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

DAEMONS = ("munged", "slurmctld", "slurmd")
MUNGE_KEY = Path("/etc/munge/munge.key")


class SlurmUnavailable(RuntimeError):
    """Why no cluster could start here (the test skips with it)."""


def _free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


class SlurmCluster:
    """``with SlurmCluster(folder) as cluster: cluster.run("sbatch", ...)``."""

    def __init__(self, folder: Path, cpus: int | None = None) -> None:
        self.folder, self.cpus = folder, cpus or os.cpu_count() or 1
        self.env = {**os.environ, "SLURM_CONF": str(folder / "slurm.conf")}
        self.pids: list[int] = []

    def __enter__(self) -> "SlurmCluster":
        missing = [name for name in (*DAEMONS, "sbatch") if not shutil.which(name)]
        if missing:
            raise SlurmUnavailable(f"not installed: {', '.join(missing)} (Debian: apt-get install slurm-wlm munge)")
        if os.geteuid() != 0:
            raise SlurmUnavailable("slurmd must run as root to start jobs")
        if not MUNGE_KEY.is_file():
            raise SlurmUnavailable(f"no munge key at {MUNGE_KEY}")
        try:
            self._start()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _start(self) -> None:
        f = self.folder
        for sub in ("state", "spool", "log"):
            (f / sub).mkdir(parents=True, exist_ok=True)
        key = f / "munge.key"
        shutil.copy(MUNGE_KEY, key)
        key.chmod(0o400)
        ctld_port, d_port = _free_ports(2)
        memory_mb = max(1024, os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20 // 2)
        (f / "slurm.conf").write_text(f"""\
ClusterName=mpgrade-test
SlurmctldHost=localhost
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={f}/munge.socket
CredType=cred/munge
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={f}/state
SlurmdSpoolDir={f}/spool
SlurmctldPidFile={f}/slurmctld.pid
SlurmdPidFile={f}/slurmd.pid
SlurmctldLogFile={f}/log/slurmctld.log
SlurmdLogFile={f}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
MpiDefault=none
PlugStackConfig=/dev/null
NodeName=localhost CPUs={self.cpus} RealMemory={memory_mb} State=UNKNOWN
PartitionName=grading Nodes=localhost Default=YES MaxTime=INFINITE State=UP
""")
        self._daemon(["munged", "--force", "-S", str(f / "munge.socket"), f"--key-file={key}",
                      f"--pid-file={f}/munged.pid", f"--log-file={f}/log/munged.log", f"--seed-file={f}/munge.seed"],
                     f / "munged.pid")
        self._daemon(["slurmctld", "-i"], f / "slurmctld.pid")
        self._daemon(["slurmd", "-N", "localhost"], f / "slurmd.pid")
        deadline = time.monotonic() + 60
        state = ""
        while time.monotonic() < deadline:
            state = self.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip()
            if state == "idle":
                return
            time.sleep(0.5)
        raise SlurmUnavailable(f"the node did not become idle within 60 s (sinfo: {state!r}); "
                               f"logs in {f / 'log'}: {self.logs()[-1500:]}")

    def _daemon(self, command: list[str], pid_file: Path) -> None:
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise SlurmUnavailable(f"{command[0]} did not start: {(done.stderr or done.stdout).strip()[-500:]}")
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # the file appears before its number is written
            try:
                self.pids.append(int(pid_file.read_text().split()[0]))
                return
            except (OSError, ValueError, IndexError):
                time.sleep(0.1)
        raise SlurmUnavailable(f"{command[0]} wrote no pid file in 30 s: {self.logs()[-1500:]}")

    def run(self, *command: str, check: bool = True, cwd: Path | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run(command, env=self.env, capture_output=True, text=True, cwd=cwd, timeout=timeout)
        if check and done.returncode != 0:
            raise AssertionError(f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()}")
        return done

    def wait_idle(self, timeout: float) -> None:
        """Until no job is pending or running (a requeued task waits out its begin time: released at once)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            jobs = self.run("squeue", "-h", "-o", "%i %T %r", check=False).stdout.split("\n")
            jobs = [line for line in jobs if line.strip()]
            if not jobs:
                return
            for line in jobs:
                job, _, reason = line.split(" ", 2)
                if reason == "BeginTime":
                    self.run("scontrol", "update", f"jobid={job}", "StartTime=now", check=False)
            time.sleep(0.5)
        raise AssertionError(f"jobs still queued after {timeout:g} s: {jobs}")

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in sorted((self.folder / "log").glob("*.log")))

    def __exit__(self, *exc: object) -> None:
        if len(self.pids) == len(DAEMONS):  # jobs end before slurmd does, or their slurmstepd outlives it
            self.run("scancel", "--full", "--user=root", check=False, timeout=30)
            deadline = time.monotonic() + 30
            while self.run("squeue", "-h", check=False).stdout.strip() and time.monotonic() < deadline:
                time.sleep(0.2)
        for pid in reversed(self.pids):
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + 15
        for pid in self.pids:
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)
            else:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
