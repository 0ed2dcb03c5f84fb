"""A real `flask letters worker` in a subprocess of its own, for the tests that kill it.

The worker runs in a new session (its own process group), so `kill()` reaches the huey consumer
and every worker process it forked, as a crash or `systemctl kill` would, and nothing else.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def worker_env(database_url: str, queue_url: str, mail_port: int, **extra) -> dict:
    """The environment of a worker on the test's database, queue and SMTP server."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MAIL_", "LETTER_", "FLASK_"))}
    env.update(
        DATABASE_URL=database_url,
        QUEUE_URL=queue_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(mail_port),
        MAIL_TIMEOUT="20",
        SECRET_KEY="worker-test-secret",
        VOLUNTEER_ENV="development",
        PYTHONUNBUFFERED="1",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


class Worker:
    """`flask --app wsgi letters worker -w N`, its output in a log file."""

    def __init__(self, env: dict, workers: int, log: Path):
        self.env, self.workers, self.log = env, workers, log
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        command = [sys.executable, "-m", "flask", "--app", "wsgi", "letters", "worker", "-w", str(self.workers)]
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        return self

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """kill -9 the consumer and its worker processes at once: no chance to finish anything."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self, timeout: float = 20) -> None:
        """Ctrl+C (huey finishes the current task), then kill -9 whatever is left of the group."""
        if self.running:
            self.process.send_signal(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=timeout)
        self.kill()

    def output(self, tail: int = 6000) -> str:
        return self.log.read_text(errors="replace")[-tail:] if self.log.exists() else ""


def wait_for(condition, timeout: float, what: str, worker: Worker | None = None, every: float = 0.2):
    """Poll `condition()` until it returns something truthy; fail with the worker's log after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if worker is not None and worker.process is not None and not worker.running:
            raise AssertionError(f"the worker exited while waiting for {what}:\n{worker.output()}")
        if time.monotonic() > deadline:
            log = worker.output() if worker else ""
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}\n{log}")
        time.sleep(every)
