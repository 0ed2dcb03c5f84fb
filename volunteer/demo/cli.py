"""flask seed-demo (placeholder replaced by the demo builder)."""

import click


@click.command("seed-demo")
def seed_demo():
    raise click.ClickException("not built yet")
