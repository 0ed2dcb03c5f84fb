"""Letters benchmark: thank-you letters rendered to PDF and sent over SMTP by `flask letters worker`, 1 and 2 processes.

    python bench/letters_bench.py [--db sqlite|postgresql] [--letters 500] [--workers 1,2] [--seconds 900]

A fresh database (SQLite temp file, or a new PostgreSQL database dropped afterwards) is migrated
with `flask db upgrade` and seeded through the services: one community, N party members reporting
to it from ten units, each with a verified service this quarter. A batch writes their N letters (and
N queued emails); then, for each worker count, `flask letters worker -w W` is started on a fresh
SQLite job queue with an aiosmtpd sink on 127.0.0.1 and timed until every email is sent. Between
runs the outbox rows are put back to "queued", so each run renders and sends the same N letters.
It prints the figures and exits 1 only if a run lost, failed or duplicated an email.
"""

import argparse
import email.parser
import email.policy
import json
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiosmtpd.controller import Controller  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from bench.database import DEFAULT_PG, ROOT, fresh_database, migrate  # noqa: E402
from bench.load import free_port  # noqa: E402
from bench.seed import one_community, resident  # noqa: E402
from volunteer import create_app  # noqa: E402
from volunteer.accounts.models import User  # noqa: E402
from volunteer.core.models import local_today, utcnow  # noqa: E402
from volunteer.extensions import db  # noqa: E402
from volunteer.letters import batches, periods  # noqa: E402
from volunteer.letters.models import Email  # noqa: E402
from volunteer.org import services as org  # noqa: E402
from volunteer.org.models import Unit  # noqa: E402
from volunteer.service import records  # noqa: E402

UNITS = 10
POLL = 0.25  # seconds between looks at the outbox while a worker drains it


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--letters", type=int, default=500, help="members, hence letters and emails")
    parser.add_argument("--workers", default="1,2", help="worker process counts to time, one run each")
    parser.add_argument("--seconds", type=float, default=900, help="time limit of each run")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    try:
        args.workers = [int(w) for w in args.workers.split(",")]
    except ValueError:
        parser.error("--workers: worker counts separated by commas, e.g. 1,2")
    if not (1 <= args.letters <= 5000 and all(1 <= w <= 16 for w in args.workers) and args.seconds > 0):
        parser.error("letters 1-5000, workers 1-16, seconds > 0")
    return args


# --- the SMTP sink ---------------------------------------------------------------------------------


class Sink:
    """An aiosmtpd handler that accepts everything and keeps (recipients, Message-ID) of each message."""

    def __init__(self):
        self.arrived: list[tuple[tuple[str, ...], str]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        headers = email.parser.BytesHeaderParser(policy=email.policy.default).parsebytes(envelope.content)
        with self.lock:
            self.arrived.append((tuple(envelope.rcpt_tos), str(headers["Message-ID"])))
        return "250 Message accepted for delivery"

    def take(self) -> list[tuple[tuple[str, ...], str]]:
        with self.lock:
            taken, self.arrived = self.arrived, []
        return taken


@contextmanager
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield sink, controller.port
    finally:
        controller.stop()


# --- the world: members with verified services, and their letters ----------------------------------


def make_app(url: str):
    """The app in this process, on the bench database; it enqueues nothing (the worker's sweep does)."""
    return create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": secrets.token_hex(32),
            "QUEUE_URL": "memory://",  # not the instance folder's queue file
            "ARGON2_TIME_COST": 1,  # the seeded members' passwords: hashing is not what is timed
            "ARGON2_MEMORY_COST": 1024,
        }
    )


def seed(app, letters: int) -> tuple[int, int]:
    """One community, its admin and steward, `letters` party members with a verified service: (community, admin)."""
    with app.app_context():
        community, building, admin, steward = one_community()
        units = [
            org.create(Unit, admin, name=f"压测单位{i}", contact_person=f"人事{i}", contact_email=f"hr{i}@unit{i}.test")
            for i in range(1, UNITS + 1)
        ]
        year = local_today().year
        for i in range(1, letters + 1):
            member = resident(building, f"137{i:08d}", f"党员{i}", party_member=True)
            org.report_member(member, community, units[i % UNITS], year, admin)
            minutes = 90 + i % 4 * 30
            row = records.enter_for(
                steward,
                member,
                community.id,
                day=local_today(),
                minutes=minutes,
                kind="activity",
                description="社区服务",
            )
            records.verify(steward, row.id)
        ids = community.id, admin.id
        db.session.remove()
    return ids


def generate(app, community_id: int, admin_id: int) -> dict:
    """One batch for this quarter, in-process; its emails stay queued for the worker's start-up sweep."""
    today = local_today()
    period = periods.quarter(today.year, (today.month - 1) // 3 + 1)
    with app.app_context():
        started = time.monotonic()
        batch = batches.start(community_id, period, db.session.get(User, admin_id))
        batch = batches.run(batch.id)
        figures = {"state": batch.state, "letters": batch.created, "seconds": time.monotonic() - started}
        db.session.remove()
    return figures


def requeue(app) -> None:
    """Every email back to "queued", as if never sent: the next run renders and sends them all again."""
    with app.app_context():
        db.session.execute(
            update(Email).values(
                state="queued", attempts=0, next_attempt_at=utcnow(), claimed_at=None, sent_at=None, last_error=""
            )
        )
        db.session.commit()
        db.session.remove()


# --- one timed run of the worker -------------------------------------------------------------------


@dataclass
class Run:
    workers: int
    letters: int
    sent: int = 0
    failed: int = 0
    arrived: int = 0
    distinct: int = 0
    duplicates: int = 0
    strangers: int = 0  # Message-IDs that arrived but belong to no email of the outbox
    wrong_recipient: int = 0
    wall_seconds: float = 0.0  # worker started → last email seen sent
    startup_seconds: float = 0.0  # worker started → first email claimed
    send_seconds: float = 0.0  # first claim → last sent_at
    per_letter_ms: list[float] = field(default_factory=list)
    stopped_by_time: bool = False
    exit_log: str = ""

    @property
    def rate(self) -> float:
        return self.sent / self.send_seconds if self.send_seconds else 0.0

    @property
    def wall_rate(self) -> float:
        return self.sent / self.wall_seconds if self.wall_seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.per_letter_ms:
            return 0.0
        ordered = sorted(self.per_letter_ms)
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    @property
    def ok(self) -> bool:
        clean = self.failed == self.duplicates == self.strangers == self.wrong_recipient == 0
        return clean and self.sent == self.distinct == self.arrived == self.letters and not self.stopped_by_time

    def as_dict(self) -> dict:
        figures = {k: v for k, v in asdict(self).items() if k not in ("per_letter_ms", "exit_log")}
        figures.update(rate=self.rate, wall_rate=self.wall_rate, ok=self.ok)
        figures.update(p50_ms=self.percentile(50), p99_ms=self.percentile(99))
        return figures


def worker_env(url: str, queue_url: str, port: int) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "QUEUE_URL": queue_url,
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": str(port),
        "SECRET_KEY": secrets.token_hex(32),
        "VOLUNTEER_ENV": "production",
    }


def states(app) -> Counter:
    with app.app_context():
        found = Counter(dict(db.session.execute(select(Email.state, func.count()).group_by(Email.state)).all()))
        db.session.remove()
    return found


def time_worker(app, url: str, sink: Sink, port: int, workers: int, args, folder: str) -> Run:
    """Start `flask letters worker -w W`, wait until no email is left to send (or the time limit), stop it."""
    run = Run(workers, args.letters)
    queue_url = f"sqlite:///{folder}/queue-w{workers}.sqlite"
    log = Path(folder) / f"worker-w{workers}.log"
    command = [sys.executable, "-m", "flask", "--app", "wsgi", "letters", "worker", "-w", str(workers)]
    started, launched = time.monotonic(), utcnow()
    with open(log, "wb") as out:
        env = worker_env(url, queue_url, port)
        worker = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        while True:
            seen = states(app)
            if seen["sent"] + seen["failed"] >= args.letters or worker.poll() is not None:
                break
            if time.monotonic() - started > args.seconds:
                run.stopped_by_time = True
                break
            time.sleep(POLL)
        run.wall_seconds = time.monotonic() - started
    finally:
        _stop(worker)
    run.exit_log = log.read_text(errors="replace")[-3000:]
    _outbox_figures(app, run, sink.take(), launched)
    return run


def _stop(worker: subprocess.Popen) -> None:
    """Ctrl+C (huey lets the current task finish), then kill -9 whatever is left of its process group."""
    if worker.poll() is None:
        worker.send_signal(signal.SIGINT)
        with suppress(subprocess.TimeoutExpired):
            worker.wait(timeout=30)
    with suppress(ProcessLookupError):
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=30)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _outbox_figures(app, run: Run, arrived: list[tuple[tuple[str, ...], str]], launched) -> None:
    """What the outbox says (states, per-letter times) against what the sink received."""
    with app.app_context():
        rows = db.session.execute(
            select(Email.message_id, Email.recipient, Email.state, Email.claimed_at, Email.sent_at)
        )
        rows = rows.all()
        db.session.remove()
    sent = [r for r in rows if r.state == "sent"]
    run.sent, run.failed = len(sent), sum(1 for r in rows if r.state == "failed")
    counts = Counter(message_id for _, message_id in arrived)
    recipient = {r.message_id: r.recipient for r in rows}
    run.arrived, run.distinct = len(arrived), len(counts)
    run.duplicates = sum(n - 1 for n in counts.values())
    run.strangers = sum(1 for message_id in counts if message_id not in recipient)
    run.wrong_recipient = sum(1 for rcpts, mid in arrived if mid in recipient and rcpts != (recipient[mid],))
    if sent:
        first_claim = min(_aware(r.claimed_at) for r in sent)
        run.send_seconds = (max(_aware(r.sent_at) for r in sent) - first_claim).total_seconds()
        run.startup_seconds = max((first_claim - launched).total_seconds(), 0.0)
        run.per_letter_ms = [(_aware(r.sent_at) - _aware(r.claimed_at)) / timedelta(milliseconds=1) for r in sent]


# --- the whole benchmark and its report ------------------------------------------------------------


def measure(args) -> dict:
    with fresh_database(args.db, args.pg_url) as url, tempfile.TemporaryDirectory(prefix="letters-bench-") as folder:
        migrate(url)
        app = make_app(url)
        started = time.monotonic()
        community_id, admin_id = seed(app, args.letters)
        seeded = time.monotonic() - started
        batch = generate(app, community_id, admin_id)
        runs = []
        with smtp_sink() as (sink, port):
            for i, workers in enumerate(args.workers):
                if i:
                    requeue(app)
                runs.append(time_worker(app, url, sink, port, workers, args, folder))
        with app.app_context():
            db.engine.dispose()
    return {"seed_seconds": seeded, "batch": batch, "runs": runs}


def report(args, figures: dict) -> str:
    batch = figures["batch"]
    lines = [
        f"letters benchmark · {args.db} · {args.letters} letters · SQLite job queue · aiosmtpd sink on 127.0.0.1",
        f"seeded {args.letters} members with a verified service each in {figures['seed_seconds']:.1f} s; "
        f"the batch wrote {batch['letters']} letters and queued their emails in {batch['seconds']:.1f} s "
        f"({batch['state']})",
        "",
        f"{'workers':>7}{'sent':>6}{'failed':>7}{'arrived':>8}{'dupl.':>6}{'letters/s':>10}{'send s':>8}"
        f"{'wall s':>8}{'start s':>8}{'p50 ms':>8}{'p99 ms':>8}",
    ]
    for r in figures["runs"]:
        lines.append(
            f"{r.workers:>7}{r.sent:>6}{r.failed:>7}{r.distinct:>8}{r.duplicates:>6}{r.rate:>10.2f}"
            f"{r.send_seconds:>8.1f}{r.wall_seconds:>8.1f}{r.startup_seconds:>8.1f}{r.percentile(50):>8.0f}"
            f"{r.percentile(99):>8.0f}" + ("  (time limit)" if r.stopped_by_time else "")
        )
    runs = {r.workers: r for r in figures["runs"]}
    if 1 in runs and 2 in runs and runs[1].rate:
        lines.append(f"speed-up, 2 workers ÷ 1: {runs[2].rate / runs[1].rate:.2f}")
    lines += [
        "",
        "letters/s = sent ÷ send s (first claim to last sent_at: render + SMTP); wall s includes start-up;",
        "p50/p99 = one letter's claimed_at → sent_at (PDF rendering, message, SMTP conversation).",
        "",
        "checks",
    ]
    for r in figures["runs"]:
        verdict = "PASS" if r.ok else "FAIL"
        lines.append(
            f"  {verdict}  -w {r.workers}: {r.distinct} distinct Message-IDs of {r.letters} arrived, {r.duplicates} "
            f"duplicates, {r.failed} failed, {r.strangers} unknown, {r.wrong_recipient} to the wrong address"
        )
        if not r.ok:
            lines += ["  worker log (end):", *("    " + line for line in r.exit_log.splitlines()[-40:])]
    return "\n".join(lines)


def main(argv=None) -> int:
    args = options(argv)
    figures = measure(args)
    print(report(args, figures), flush=True)
    if args.json:
        document = {
            "options": {k: v for k, v in vars(args).items() if k != "pg_url"},
            "seed_seconds": figures["seed_seconds"],
            "batch": figures["batch"],
            "runs": [r.as_dict() for r in figures["runs"]],
        }
        Path(args.json).write_text(json.dumps(document, indent=2, ensure_ascii=False))
    ok = figures["batch"]["letters"] == args.letters and all(r.ok for r in figures["runs"])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
