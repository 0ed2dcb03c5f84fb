"""flask seed-demo: migrate to head, build the demo district in one transaction, print its logins."""

import time
import unicodedata

import click
import flask_migrate
from flask.cli import with_appcontext
from sqlalchemy import inspect

from ..extensions import db
from . import layout
from .build import AlreadySeeded, Login, build_demo

# In the order the table lists them.
ROLE_LABELS = {
    "organiser": "组织员 organiser",
    "admin": "社区管理员 admin",
    "steward": "社区工作者 steward",
    "collector": "信息员 collector",
    "council": "议事会成员 council",
    "resident": "居民 resident",
    "volunteer": "党员义工 volunteer",
    "employer": "单位联系人 employer",
}

PATTERN_NOTE = (
    "Community N (1-4 in the order above): admin 1390000001N, steward 1390000002N.\n"
    "Compound M of community N: collector 139000003NM, council members 139000004NM and 139000005NM."
)


def ensure_schema() -> None:
    """Run the Alembic migrations to head, unless the tables were made without Alembic (create_all)."""
    tables = inspect(db.engine).get_table_names()
    if tables and "alembic_version" not in tables:
        return  # e.g. the test suite's create_all(): not migration-managed, and already complete
    flask_migrate.upgrade()


@click.command("seed-demo")
@click.option("--reset", is_flag=True, help="Delete ALL data in the database first, then build the demo again.")
@with_appcontext
def seed_demo(reset: bool) -> None:
    """Build the demo district (2 streets, 4 communities, 300 residents) and print its logins."""
    ensure_schema()
    started = time.perf_counter()
    try:
        result = build_demo(reset=reset)
    except AlreadySeeded:
        raise click.ClickException(
            "This database already has data (streets or users); the demo was not built. "
            "Run `flask seed-demo --reset` to DELETE everything in it and build the demo again."
        ) from None
    elapsed = time.perf_counter() - started
    counts = ", ".join(f"{value} {key}" for key, value in result.counts.items())
    click.echo(f"Demo district built in {elapsed:.1f}s: {counts}.\n")
    click.echo(format_logins(result.logins))
    click.echo(f"\nPassword for every demo account: {layout.PASSWORD}")
    click.echo(PATTERN_NOTE)


def _width(text: str) -> int:
    """Terminal columns: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def format_logins(logins: list[Login]) -> str:
    """A plain-text table: role, name, phone, where."""
    header = ("角色 role", "姓名 name", "手机 phone", "所在 where")
    order = list(ROLE_LABELS)
    logins = sorted(logins, key=lambda x: order.index(x.role))
    rows = [header] + [(ROLE_LABELS[x.role], x.name, x.phone, x.place) for x in logins]
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(_pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
