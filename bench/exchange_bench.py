"""Exchange benchmark: reservations and hand-overs over HTTP against gunicorn, beside a bare Flask endpoint.

    python bench/exchange_bench.py [--db sqlite|postgresql] [--workers 2] [--clients 8] [--handovers 400]

A fresh database (SQLite temp file, or a new PostgreSQL database dropped afterwards) is migrated
and seeded through the services; the app is served by gunicorn on 127.0.0.1; residents reserve
over HTTP (timed), then C stewards' tablets hand over distinct vouchers (POST /exchange/desk/handover,
JSON). bench/bare_app.py is served and loaded the same way. Each load stops after its count or
--seconds, whichever comes first. It prints figures and the issue's targets; it never fails on timing.
"""

import argparse
import json
import secrets
import sys
import uuid
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import load, seed  # noqa: E402
from bench.database import DEFAULT_PG, ROOT, fresh_database, migrate  # noqa: E402
from bench.webclient import Browser  # noqa: E402

BENCH = Path(__file__).resolve().parent
WARM_UP = 4  # requests per worker before a load is timed: imports, first connections, compiled statements


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to create the bench database on")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers, for both apps")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--handovers", type=int, default=400, help="vouchers reserved and handed over")
    parser.add_argument("--seconds", type=float, default=120, help="time limit of each load")
    parser.add_argument("--show-sql", action="store_true", help="print the statements of one hand-over")
    parser.add_argument(
        "--yardsticks", action="store_true", help="also load the app's own empty JSON POSTs (without and with the user)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args(argv)
    if not (1 <= args.workers <= 32 and 1 <= args.clients <= 200 and 1 <= args.handovers <= 9_000):
        parser.error("workers 1-32, clients 1-200, handovers 1-9000")
    return args


def app_env(url: str, secret: str) -> dict:
    """gunicorn's environment: production settings over plain HTTP on the loopback, no rate limits."""
    return {
        "DATABASE_URL": url,
        "SECRET_KEY": secret,
        "VOLUNTEER_ENV": "production",
        "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_ENABLED": "0",
    }


def logged_in(base_url: str, phones: list[str]) -> list[Browser]:
    return load.in_parallel(lambda phone: Browser(base_url).login(phone, seed.PASSWORD), phones)


def reserve_load(base_url: str, world: seed.World, count: int, clients: int, seconds: float) -> load.Result:
    """`count` reservations by the residents, C at a time; each resident's browser stays with one client."""
    residents = logged_in(base_url, world.resident_phones)
    work = [[] for _ in range(min(clients, len(residents)))]
    for i in range(count):
        r = i % len(residents)  # resident r's browser belongs to client r mod C: never two requests at once
        work[r % len(work)].append((residents[r], world.item_ids[i % len(world.item_ids)]))

    def send(task):
        browser, item_id = task
        # The item page makes a random one-time key (uuid4 hex) for its form; this client makes the same.
        answer = browser.post_form(f"/exchange/shop/{item_id}/reserve", {"request_key": uuid.uuid4().hex})
        if answer.status == 303 and "/exchange/vouchers/" in answer.location:
            return None
        return f"HTTP {answer.status} {answer.location or answer.text[:200]}"

    return load.run("reserve", work, send, seconds)


def handover_load(base_url: str, world: seed.World, tokens: list[str], args) -> load.Result:
    tills = logged_in(base_url, [world.steward_phone] * args.clients)
    for till in tills[: args.workers * WARM_UP] if tokens else []:
        till.post_json("/exchange/desk/scan", {"value": tokens[0]})  # read-only: warms the desk path

    def send(task):
        till, token = task
        answer = till.post_json("/exchange/desk/handover", {"value": token})
        reason = answer.json().get("reason") if answer.status in (200, 404, 409) else None
        return None if (answer.status, reason) == (200, "ok") else f"HTTP {answer.status} {reason or answer.text[:200]}"

    work = [[(till, t) for t in mine] for till, mine in zip(tills, load.deal(tokens, args.clients), strict=True)]
    return load.run("hand-over", work, send, args.seconds)


def json_load(name: str, clients: list[Browser], path: str, count: int, args) -> load.Result:
    """`count` JSON POSTs of a voucher-sized value to `path`, the clients taking turns; 200 + reason ok counts."""
    for client in clients[: args.workers * WARM_UP]:
        client.post_json(path, {"value": "warm-up"})

    def send(task):
        client, value = task
        answer = client.post_json(path, {"value": value})
        return None if answer.status == 200 and answer.json()["reason"] == "ok" else f"HTTP {answer.status}"

    values = [secrets.token_urlsafe(40) for _ in range(count)]  # about as long as a voucher token
    work = [[(c, v) for v in mine] for c, mine in zip(clients, load.deal(values, len(clients)), strict=True)]
    return load.run(name, work, send, args.seconds)


def bare_load(count: int, args) -> load.Result:
    with load.gunicorn("bare_app:app", str(BENCH), args.workers, {}, ready_path="/ping") as base_url:
        return json_load("bare endpoint", [Browser(base_url) for _ in range(args.clients)], "/ping", count, args)


# The real app with two endpoints that do nothing of their own (bench/yardstick_app.py): where its ceiling is.
YARDSTICKS = (("app, no user", "/_bench/nothing"), ("app, user", "/_bench/steward"))


def yardstick_loads(url: str, secret: str, world: seed.World, count: int, args) -> list[load.Result]:
    env = app_env(url, secret)
    with load.gunicorn("bench.yardstick_app:app", str(ROOT), args.workers, env, ready_path="/login") as base:
        tills = logged_in(base, [world.steward_phone] * args.clients)
        return [json_load(name, tills, path, count, args) for name, path in YARDSTICKS]


def measure(args) -> dict:
    secret = secrets.token_hex(32)
    with fresh_database(args.db, args.pg_url) as url:
        migrate(url)
        app = seed.make_app(url, secret)
        residents = min(args.handovers, max(args.clients, 40))
        world = seed.build(app, residents=residents, items=4, reservations=args.handovers)
        with load.gunicorn("wsgi:app", str(ROOT), args.workers, app_env(url, secret), ready_path="/login") as base:
            reserved = reserve_load(base, world, args.handovers, args.clients, args.seconds)
            tokens = seed.open_tokens(app)
            handed = handover_load(base, world, tokens, args)
        bare = bare_load(max(handed.requests, 1), args)
        sticks = yardstick_loads(url, secret, world, max(handed.requests, 1), args) if args.yardsticks else []
        one = seed.handover_statements(app, world)
        request = seed.request_statements(app, world)
        books = seed.books(app)
    figures = {"reserve": reserved, "handover": handed, "bare": bare, "one": one, "request": request, "books": books}
    return figures | {"yardsticks": sticks}


def targets(args, figures: dict) -> list[tuple[str, str, bool]]:
    handed, bare, one = figures["handover"], figures["bare"], figures["one"]
    ratio = handed.rate / bare.rate if bare.rate else 0.0
    errors = handed.errors + figures["reserve"].errors + bare.errors
    errors += figures["books"]["ledger_mismatches"] + figures["books"]["items_off"]
    where = f"(this run: {args.db}, {args.workers} workers, {args.clients} clients)"
    return [
        (f"hand-overs >= 40 % of bare, 2 workers, SQLite {where}", f"{ratio:.0%}", ratio >= 0.40),
        ("hand-over p99 < 50 ms at 8 clients", f"{handed.percentile(99):.1f} ms", handed.percentile(99) < 50),
        (
            "<= 8 SQL statements per hand-over (desk.hand_over, all statements sent)",
            f"{len(one.sent)} ({len(one.data)} data + {len(one.control)} BEGIN sent as statements)",
            len(one.sent) <= 8,
        ),
        ("zero errors (requests, ledger, stock)", f"{errors}", errors == 0),
    ]


def report(args, figures: dict) -> str:
    lines = [f"exchange benchmark · {args.db} · gunicorn -w {args.workers} · {args.clients} clients", ""]
    lines.append(f"{'load':<15}{'requests':>9}{'ok':>7}{'errors':>8}{'per s':>9}{'p50 ms':>9}{'p99 ms':>9}")
    for r in [figures[key] for key in ("reserve", "handover", "bare")] + figures["yardsticks"]:
        lines.append(
            f"{r.name:<15}{r.requests:>9}{r.ok:>7}{r.errors:>8}{r.rate:>9.1f}{r.percentile(50):>9.1f}"
            f"{r.percentile(99):>9.1f}" + ("  (time limit)" if r.stopped_by_time else "")
        )
        lines += [f"    {sample}" for sample in r.samples]
    bare = figures["bare"].rate
    lines.append(f"ratio hand-overs/s ÷ bare/s: {figures['handover'].rate / bare if bare else 0:.2f}")
    for r in figures["yardsticks"]:
        lines.append(f"ratio {r.name} ÷ bare/s: {r.rate / bare if bare else 0:.2f}")
    lines += ["", *_statements(args, figures), "", f"books after the run: {figures['books']}", "", "targets"]
    for name, value, ok in targets(args, figures):
        lines.append(f"  {'PASS' if ok else 'MISS'}  {name}: {value}")
    return "\n".join(lines)


def _statements(args, figures: dict) -> list[str]:
    one, request = figures["one"], figures["request"]
    lines = [
        f"SQL statements in one desk.hand_over(): {len(one.sent)} ({len(one.data)} data, "
        f"{len(one.control)} transaction control sent as statements: {', '.join(one.control) or 'none'}); "
        f"transactions begun {one.begun}, commits {one.committed} (sent by the driver), rollbacks {one.rolled_back}, "
        f"pool checkouts {one.checkouts} (on PostgreSQL each pinged with SELECT 1: pool_pre_ping)",
        f"SQL statements in one whole POST /exchange/desk/handover request (session user, answer): "
        f"{len(request.sent)} ({len(request.data)} data); commits {request.committed}, "
        f"pool checkouts {request.checkouts}",
    ]
    if args.show_sql:
        for title, seen in (("desk.hand_over()", one), ("the whole request", request)):
            lines.append(f"-- {title}:")
            lines += [f"  {i}. {' '.join(s.split())[:400]}" for i, s in enumerate(seen.sent, 1)]
    return lines


def as_json(args, figures: dict) -> dict:
    return {
        "options": {k: v for k, v in vars(args).items() if k != "pg_url"},
        **{k: figures[k].as_dict() for k in ("reserve", "handover", "bare", "one", "request")},
        "yardsticks": [r.as_dict() for r in figures["yardsticks"]],
        "books": figures["books"],
        "targets": [{"target": n, "value": v, "pass": ok} for n, v, ok in targets(args, figures)],
    }


def main(argv=None) -> int:
    args = options(argv)
    figures = measure(args)
    print(report(args, figures), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(as_json(args, figures), indent=2, ensure_ascii=False, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
