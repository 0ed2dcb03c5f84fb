"""Register every domain's CLI commands on the app."""

from flask import Flask


def register_cli(app: Flask) -> None:
    from .demo.cli import seed_demo
    from .exchange.cli import exchange_cli
    from .ledger.cli import ledger_cli, points_cli
    from .letters.cli import letters_cli
    from .service.cli import service_cli

    for command in (seed_demo, ledger_cli, points_cli, service_cli, exchange_cli, letters_cli):
        app.cli.add_command(command)
