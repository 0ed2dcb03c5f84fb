"""flask letters worker | sweep | send: run the job queue that sends letters and writes batches."""

import logging

import click
from flask import current_app
from flask.cli import AppGroup

from ..extensions import db
from . import queue

letters_cli = AppGroup("letters", help="Thank-you letters: the email worker and outbox housekeeping.")


@letters_cli.command("worker")
@click.option("--workers", "-w", default=1, show_default=True, help="Worker processes (or threads).")
@click.option("--threads", is_flag=True, help="Threads instead of processes.")
def worker_command(workers: int, threads: bool):
    """Send queued letters and run batches until stopped (Ctrl+C stops after the current email)."""
    from huey.consumer_options import ConsumerConfig

    jobs = queue.get()
    click.echo(f"enqueued {jobs.sweep()} emails left from before; waiting for work")
    db.session.remove()
    db.engine.dispose()  # the worker processes open their own connections
    config = ConsumerConfig(workers=workers, worker_type="thread" if threads else "process", max_delay=1.0)
    config.setup_logger()
    logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)  # seven lines per letter otherwise
    jobs.huey.create_consumer(**config.values).run()


@letters_cli.command("sweep")
def sweep_command():
    """Enqueue every due email (a worker sends them). A worker also does this once a minute."""
    click.echo(f"enqueued {queue.get().sweep()} emails")


@letters_cli.command("send")
def send_command():
    """Send every due email now, in this process, without a worker (for cron or a one-off)."""
    jobs = queue.get()
    jobs.sweep()
    click.echo(
        f"ran {jobs.run_pending()} tasks; SMTP {current_app.config['MAIL_SERVER']}:{current_app.config['MAIL_PORT']}"
    )
