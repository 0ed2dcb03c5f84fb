"""Serve an app with gunicorn on a free local port, and load it with concurrent clients, bounded in count and time."""

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

from bench.webclient import Browser

START_TIMEOUT = 60  # seconds for gunicorn to answer its first request


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, chdir: str, workers: int, env: dict, ready_path: str = "/") -> Iterator[str]:
    """Base URL of `gunicorn -w <workers> -b 127.0.0.1:<free port> <app_spec>`, stopped when the block ends."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}"]
    command += ["--chdir", chdir, "--log-level", "warning", app_spec]
    process = subprocess.Popen(command, env={**os.environ, **env}, cwd=chdir)
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_ready(process, base_url, ready_path)
        yield base_url
    finally:
        process.terminate()  # gunicorn's graceful stop; its workers go with it
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _wait_until_ready(process: subprocess.Popen, base_url: str, path: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}")
        try:
            if Browser(base_url, timeout=5).get(path).status < 500:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not answer on {base_url} within {START_TIMEOUT} s")


def in_parallel(function: Callable, items: list, workers: int = 16) -> list:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(function, items))


@dataclass
class Result:
    """What one load phase measured: the latency of every request sent, successes and failures."""

    name: str
    latencies: list[float] = field(default_factory=list)  # seconds, every answered or failed request
    ok: int = 0
    errors: int = 0
    seconds: float = 0.0  # wall time from the clients' release to the last answer
    samples: list[str] = field(default_factory=list)  # the first few failures, to show why
    stopped_by_time: bool = False

    @property
    def requests(self) -> int:
        return self.ok + self.errors

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile of the latencies, in milliseconds."""
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1] * 1000

    def as_dict(self) -> dict:
        return {
            "name": self.name,
            "requests": self.requests,
            "ok": self.ok,
            "errors": self.errors,
            "seconds": round(self.seconds, 3),
            "rate": round(self.rate, 1),
            "p50_ms": round(self.percentile(50), 2),
            "p99_ms": round(self.percentile(99), 2),
            "stopped_by_time": self.stopped_by_time,
            "samples": self.samples,
        }


def run(name: str, work: list[list], send: Callable, max_seconds: float) -> Result:
    """Each list of tasks is one client sending them one after another; all clients start together.

    send(task) returns None when the answer is right, else a short description of what was wrong.
    A client stops when its tasks run out or `max_seconds` after the start, whichever comes first.
    """
    result = Result(name)
    lock = threading.Lock()
    barrier = threading.Barrier(len(work) + 1, timeout=max_seconds)
    stop_at = [0.0]

    def client(tasks):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return
        for task in tasks:
            if time.monotonic() >= stop_at[0]:
                with lock:
                    result.stopped_by_time = True
                return
            started = time.perf_counter()
            try:
                wrong = send(task)
            except Exception as err:  # noqa: BLE001 - a refused connection or a timeout is an error to count
                wrong = f"{type(err).__name__}: {err}"
            elapsed = time.perf_counter() - started
            with lock:
                result.latencies.append(elapsed)
                if wrong is None:
                    result.ok += 1
                else:
                    result.errors += 1
                    if len(result.samples) < 5:
                        result.samples.append(wrong[:300])

    threads = [threading.Thread(target=client, args=(tasks,), daemon=True) for tasks in work]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + max_seconds
    began = time.perf_counter()
    barrier.wait()
    for t in threads:
        t.join(timeout=max_seconds + 60)
    result.seconds = time.perf_counter() - began
    return result


def deal(tasks: list, clients: int) -> list[list]:
    """Share tasks round-robin among `clients`: one list of tasks per client."""
    return [tasks[i::clients] for i in range(clients)]
