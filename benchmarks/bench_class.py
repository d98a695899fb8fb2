"""A class on one hub: N students run chapter 2, then chapter 12, all at the same time.

The hub is deploy/jupyterhub_config.py as tests/test_hub.py runs it (deploy/localhub.py: the
dummy authenticator, every user run as the current Unix user in a home folder of their own,
free ports of 127.0.0.1). Each student's server starts, pulls the book with nbgitpuller from a
local bare clone of this repository (its HEAD), then all students start at once: chapter 2 in a
fresh kernel, cell by cell over the kernel's websocket, then chapter 12 in another. A student
fails when a cell raises, prints to stderr, or a kernel or request fails.

With --runaway, one more user runs ``while True: pass`` in their kernel from the start: the
others must still finish. Their cell is still running when the last student finishes, and is
then interrupted.

Printed: the time to the last student's finish; the slowest and fastest student; the peak
memory (resident set) of each student's server and of each student's kernel (median and
largest over the class), sampled every half second; the kernels' CPU time per student; the
failures (exit 1 unless 0).

Run: ``.venv/bin/python benchmarks/bench_class.py [--students 20] [--runaway]`` (``make bench``
runs it with --runaway; it needs ``make hub-env vendor``).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil
from _cli import positive

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "deploy"))

from localhub import HubError, LocalHub  # noqa: E402

CHAPTERS = ("cnn6/book/02_convolution.ipynb", "cnn6/book/12_training.ipynb")
MIB = 2**20


class Monitor(threading.Thread):
    """Samples the hub's processes: peak RSS of each user's server and of each kernel, and
    the last CPU time seen of each kernel."""

    def __init__(self, hub: LocalHub, period: float = 0.5):
        super().__init__(daemon=True)
        self.hub, self.period = hub, period
        self.server_peak: dict[str, int] = {}
        self.kernel_peak: dict[str, int] = {}  # user -> largest RSS of any of their kernels
        self.kernel_cpu: dict[int, tuple[str, float]] = {}  # pid -> (user, cpu seconds)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(self.period):
            for proc in self.hub.processes():
                try:
                    user = proc.environ().get("JUPYTERHUB_USER")
                    cmdline = " ".join(proc.cmdline())
                    rss = proc.memory_info().rss
                    cpu = proc.cpu_times()
                except psutil.Error:
                    continue
                if not user:
                    continue
                if "jupyterhub-singleuser" in cmdline:
                    self.server_peak[user] = max(self.server_peak.get(user, 0), rss)
                elif "ipykernel_launcher" in cmdline:
                    self.kernel_peak[user] = max(self.kernel_peak.get(user, 0), rss)
                    self.kernel_cpu[proc.pid] = (user, cpu.user + cpu.system)


def student(user, barrier: threading.Barrier, record: dict) -> None:
    """Wait for the whole class, then run each chapter in a fresh kernel; time it."""
    try:
        notebooks = [user.read(path) for path in CHAPTERS]
        barrier.wait()
        record["start"] = time.monotonic()
        for path, notebook in zip(CHAPTERS, notebooks, strict=True):
            kernel = user.kernel(path)
            for result in kernel.run_notebook(notebook):
                if result.errors:
                    raise HubError(f"{path} cell {result.index}: {result.errors[0][:300]}")
            kernel.close()
        record["end"] = time.monotonic()
    except Exception as exc:  # counted as a failure and printed
        record["error"] = f"{type(exc).__name__}: {exc}"
        record.setdefault("start", time.monotonic())
        record["end"] = time.monotonic()


def runaway(user, started: threading.Event, record: dict) -> None:
    """A student whose cell never ends: it runs until the kernel is interrupted."""
    try:
        kernel = user.kernel("runaway.ipynb")
        record["kernel"] = kernel
        started.set()
        result = kernel.execute("while True:\n    pass", timeout=3600)
        record["interrupted"] = any("KeyboardInterrupt" in e for e in result.errors)
        kernel.close()
    except Exception as exc:
        record["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        started.set()


def mib(values) -> str:
    values = sorted(values)
    if not values:
        return "n/a"
    return f"{statistics.median(values) / MIB:.0f} MiB (largest {values[-1] / MIB:.0f} MiB)"


def main(students: int = 20, with_runaway: bool = False) -> int:
    cores = os.cpu_count()
    memory = psutil.virtual_memory().total / 2**30
    print(
        f"A class on one hub: {students} students run chapter 2, then chapter 12, all at once"
        f"{' (and one runaway cell)' if with_runaway else ''}.\n"
        f"Machine: {platform.machine()}, {cores} cores, {memory:.1f} GiB; "
        f"load average before: {os.getloadavg()[0]:.1f}"
    )
    with tempfile.TemporaryDirectory(prefix="cnn6-class-") as tmp:
        origin = Path(tmp) / "cnn6.git"
        subprocess.run(["git", "init", "-q", "--bare", str(origin)], check=True)
        subprocess.run(
            ["git", "-C", str(ROOT), "push", "-q", str(origin), "HEAD:refs/heads/main"],
            check=True,
        )
        with LocalHub(Path(tmp) / "class", teachers=()) as hub:
            names = [f"student{k:02d}" for k in range(1, students + 1)]
            users = [hub.add_user(name) for name in names]
            loop_user = hub.add_user("runaway") if with_runaway else None
            everyone = users + ([loop_user] if loop_user else [])
            t0 = time.monotonic()
            hub.start_servers(everyone, timeout=600)
            servers_ready = time.monotonic() - t0

            pulls = [
                threading.Thread(target=u.git_pull, args=(str(origin), "main", "cnn6"))
                for u in users
            ]
            for thread in pulls:
                thread.start()
            for thread in pulls:
                thread.join()

            monitor = Monitor(hub)
            monitor.start()
            loop: dict = {}
            if loop_user:
                started = threading.Event()
                looping = threading.Thread(target=runaway, args=(loop_user, started, loop))
                looping.start()
                started.wait(120)
            barrier = threading.Barrier(len(users))
            records = [{} for _ in users]
            threads = [
                threading.Thread(target=student, args=(u, barrier, r))
                for u, r in zip(users, records, strict=True)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            if loop_user:
                time.sleep(1.0)
                loop["running_at_end"] = (
                    loop_user.request("GET", f"api/kernels/{loop['kernel'].id}").json()[
                        "execution_state"
                    ]
                    == "busy"
                )
                loop["kernel"].interrupt()
                looping.join(120)
            monitor.halt.set()
            monitor.join()

    start = min(r["start"] for r in records)
    times = [r["end"] - r["start"] for r in records]
    failures = [(n, r["error"]) for n, r in zip(names, records, strict=True) if "error" in r]
    cpu = {}
    for user, seconds in monitor.kernel_cpu.values():
        cpu[user] = cpu.get(user, 0.0) + seconds
    student_cpu = [cpu.get(name, 0.0) for name in names]
    per_student = statistics.median(student_cpu)
    print()
    print("| figure | value |")
    print("|---|---|")
    print(f"| all {len(everyone)} servers ready | {servers_ready:.1f} s |")
    print(f"| time to the last student's finish | {max(r['end'] for r in records) - start:.1f} s |")
    print(f"| slowest student | {max(times):.1f} s |")
    print(f"| fastest student | {min(times):.1f} s |")
    server_peaks = [monitor.server_peak.get(n, 0) for n in names]
    kernel_peaks = [monitor.kernel_peak.get(n, 0) for n in names]
    print(f"| peak memory per student: server | {mib(server_peaks)} |")
    print(f"| peak memory per student: kernel | {mib(kernel_peaks)} |")
    both = sum(server_peaks) + sum(kernel_peaks)
    print(f"| peak memory per student: both | {both / len(names) / MIB:.0f} MiB |")
    print(f"| kernel CPU time per student | {per_student:.1f} s |")
    print(f"| failures | {len(failures)} |")
    if loop_user:
        still = "yes" if loop.get("running_at_end") else "no"
        print(f"| runaway cell still running at the last finish | {still} |")
        stopped = "yes" if loop.get("interrupted") else "no"
        print(f"| runaway cell stopped by an interrupt | {stopped} |")
    print()
    print(
        f"{students} students on {cores} cores: {students / cores:.1f} students per core; "
        f"one core gives {3600 / per_student:.0f} student-runs of both chapters per hour."
    )
    for name, error in failures:
        print(f"FAILED {name}: {error}")
    if loop_user and "error" in loop:
        print(f"FAILED runaway: {loop['error']}")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--students", type=positive(int), default=20, help="students in the class (20)"
    )
    parser.add_argument(
        "--runaway",
        action="store_true",
        help="one more user runs an infinite loop from the start; the others must finish",
    )
    args = parser.parse_args()
    sys.exit(main(args.students, args.runaway))
