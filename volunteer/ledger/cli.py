"""flask ledger verify; flask points expire."""

import click
from flask.cli import AppGroup

from ..core.models import local_today
from .expiry import expire_all
from .verify import mismatches

ledger_cli = AppGroup("ledger", help="Check the points ledger.")
points_cli = AppGroup("points", help="Points housekeeping.")


@ledger_cli.command("verify")
def verify_command():
    """Recompute every account from its entries; exit 1 naming each account that disagrees."""
    bad = mismatches()
    for m in bad:
        click.echo(
            f"account {m.account_id} (user {m.user_id}, community {m.community_id}): "
            f"balance {m.balance} but entries say {m.entries_balance}; held {m.held} but entries say {m.entries_held}",
            err=True,
        )
    if bad:
        raise SystemExit(1)
    click.echo("ledger ok: every account equals the sum of its entries")


@points_cli.command("expire")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), help="Run as of this date (default: today).")
def expire_command(today):
    """Write expiry entries for points past their community's expiry date. Safe to run twice."""
    day = today.date() if today else local_today()
    accounts, points = expire_all(day)
    click.echo(f"expired {points} points on {accounts} accounts as of {day.isoformat()}")
