"""flask service close-overdue: end-of-activity check-outs and auto-confirmed orders."""

import click
from flask.cli import AppGroup

from .activities import close_forgotten
from .orders import auto_confirm

service_cli = AppGroup("service", help="1112 service housekeeping.")


@service_cli.command("close-overdue")
def close_overdue_command():
    """Check out volunteers who forgot (flagged for review) and confirm orders done 7+ days ago. Safe to rerun."""
    closed = close_forgotten()
    confirmed = auto_confirm()
    click.echo(f"closed {closed} forgotten check-outs; confirmed {confirmed} orders automatically")
