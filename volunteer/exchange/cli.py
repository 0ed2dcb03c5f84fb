"""flask exchange expire: give back the points and stock of vouchers past their expiry."""

import click
from flask.cli import AppGroup

from .vouchers import expire_due

exchange_cli = AppGroup("exchange", help="Points-exchange supermarket housekeeping.")


@exchange_cli.command("expire")
def expire_command():
    """Release every reserved voucher past its expiry (the desk refuses them anyway). Safe to rerun."""
    click.echo(f"expired {expire_due()} vouchers")
