"""Register every domain's CLI commands on the app."""

from flask import Flask


def register_cli(app: Flask) -> None:
    from .demo.cli import seed_demo

    app.cli.add_command(seed_demo)
