"""In-process cost of one hand-over request beside the bare endpoint: CPU per request, and where it goes (cProfile).

    python bench/profile_handover.py [--db sqlite|postgresql] [--requests 300] [--profile 100] [--top 40]

exchange_bench.py says how fast the desk is under gunicorn; this says why. The database is set up
and seeded as for the benchmark and the app has the environment gunicorn gets there (production
settings, CSRF on), but the requests go through app.test_client() in this process, one at a time:
the CPU time of each is measured without the load generator, gunicorn and the other worker around it.
"""

import argparse
import cProfile
import io
import os
import pstats
import secrets
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root makes `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import seed  # noqa: E402
from bench.bare_app import app as bare_app  # noqa: E402
from bench.database import DEFAULT_PG, fresh_database, migrate  # noqa: E402
from bench.exchange_bench import app_env  # noqa: E402
from bench.webclient import CSRF_INPUT, CSRF_META  # noqa: E402

WARM_UP = 20  # requests before timing: first connections, compiled statements, loaded translations
JSON = {"Accept": "application/json"}


def options(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--pg-url", default=DEFAULT_PG, help="a PostgreSQL server to create the database on")
    parser.add_argument("--requests", type=int, default=300, help="hand-overs (and bare requests) timed")
    parser.add_argument("--profile", type=int, default=100, help="further hand-overs run under cProfile (0: none)")
    parser.add_argument("--top", type=int, default=40, help="profile lines printed")
    args = parser.parse_args(argv)
    if not (1 <= args.requests <= 5_000 and 0 <= args.profile <= 5_000):
        parser.error("requests 1-5000, profile 0-5000")
    return args


def _csrf(page: str) -> str:
    found = CSRF_META.search(page) or CSRF_INPUT.search(page)
    return next(group for group in found.groups() if group)


def add_yardsticks(app) -> None:
    """Two JSON endpoints on the real app that do nothing of their own: what a request costs before the desk's work."""
    from flask import jsonify
    from flask_babel import lazy_gettext as _l
    from flask_login import current_user

    from volunteer.exchange.access import desk_community_ids

    @app.post("/_bench/nothing")
    def nothing():  # Flask, the session cookie, CSRF, the app's hooks
        return jsonify(reason="ok")

    @app.post("/_bench/steward")
    def steward():  # ... and the logged-in user (Flask-Login's loader), the locale and one translated message
        return jsonify(reason="ok" if desk_community_ids(current_user) else "no", message=str(_l("Handed over.")))


def steward_client(url: str, secret: str, world: seed.World):
    """A test client of the app as gunicorn serves it, logged in as the steward through the login form."""
    os.environ.update(app_env(url, secret))
    from volunteer import create_app

    app = create_app()
    add_yardsticks(app)
    client = app.test_client()
    form = {"phone": world.steward_phone, "password": seed.PASSWORD, "csrf_token": _csrf(client.get("/login").text)}
    if client.post("/login", data=form).status_code not in (302, 303):
        raise RuntimeError("the steward could not log in")
    return client, {**JSON, "X-CSRFToken": _csrf(client.get("/").text)}


def cpu_ms(send, values: list) -> float:
    """CPU time of this process per call of send(value), in milliseconds."""
    started = time.process_time()
    for value in values:
        send(value)
    return (time.process_time() - started) / max(len(values), 1) * 1000


def profiled(send, values: list, top: int) -> str:
    profile = cProfile.Profile()
    profile.runcall(cpu_ms, send, values)
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


def measure(args) -> str:
    secret, count = secrets.token_hex(32), WARM_UP + args.requests + args.profile
    with fresh_database(args.db, args.pg_url) as url:
        migrate(url)
        app = seed.make_app(url, secret)
        world = seed.build(app, residents=40, items=4, reservations=count)
        tokens = seed.reserve_tokens(app, world, count)
        client, headers = steward_client(url, secret, world)

        def hand_over(token):
            answer = client.post("/exchange/desk/handover", json={"value": token}, headers=headers)
            if answer.status_code != 200 or answer.json["reason"] != "ok":
                raise RuntimeError(f"hand-over answered {answer.status_code}: {answer.text[:200]}")

        bare = bare_app.test_client()

        def ping(value):
            bare.post("/ping", json={"value": value})

        def yardstick(path):
            return lambda value: client.post(path, json={"value": value}, headers=headers)

        values = [secrets.token_urlsafe(40) for _ in range(WARM_UP + args.requests)]  # as long as a voucher token
        sticks = {"nothing": yardstick("/_bench/nothing"), "steward": yardstick("/_bench/steward"), "bare": ping}
        for send in (hand_over, *sticks.values()):
            cpu_ms(send, (tokens if send is hand_over else values)[:WARM_UP])
        handed = cpu_ms(hand_over, tokens[WARM_UP : WARM_UP + args.requests])
        spent = {name: cpu_ms(send, values[WARM_UP:]) for name, send in sticks.items()}
        profile = profiled(hand_over, tokens[WARM_UP + args.requests :], args.top) if args.profile else ""
        books = seed.books(app)
    lines = [
        f"in-process CPU per request · {args.db} · test client, production settings · {args.requests} requests each",
        f"  hand-over (POST /exchange/desk/handover, JSON):          {handed:.2f} ms",
        f"  the app, a steward's JSON POST answering one message:    {spent['steward']:.2f} ms",
        f"  the app, a JSON POST that reads neither user nor locale: {spent['nothing']:.2f} ms",
        f"  bare endpoint (bare_app POST /ping):                     {spent['bare']:.2f} ms",
        f"  bare ÷ hand-over: {spent['bare'] / handed:.2f} (under gunicorn both also pay the server and the client)",
        f"books after the run: {books}",
    ]
    if profile:
        lines += ["", f"cProfile of {args.profile} more hand-overs, by cumulative time:", profile]
    return "\n".join(lines)


def main(argv=None) -> int:
    print(measure(options(argv)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
