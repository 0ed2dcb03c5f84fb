"""The exchange benchmark and its in-process profile run end to end on a tiny load with zero errors (no timing)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_twenty_hand_overs_run_with_zero_errors(app, tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "bench/exchange_bench.py", "--handovers", "20", "--clients", "4", "--seconds", "60"]
    command += ["--show-sql", "--yardsticks", "--json", str(out)]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        command += ["--db", "postgresql", "--pg-url", os.environ["DATABASE_URL"]]  # its own database on that server
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]

    figures = json.loads(out.read_text())
    assert (figures["reserve"]["ok"], figures["reserve"]["errors"]) == (20, 0)
    assert (figures["handover"]["ok"], figures["handover"]["errors"]) == (20, 0)
    assert (figures["bare"]["ok"], figures["bare"]["errors"]) == (20, 0)
    assert [(y["name"], y["ok"], y["errors"]) for y in figures["yardsticks"]] == [
        ("app, no user", 20, 0),
        ("app, user", 20, 0),
    ]
    # 20 over HTTP and two measured in-process, every one handed over exactly once
    assert figures["books"] == {"ledger_mismatches": 0, "items_off": 0, "vouchers": {"redeemed": 22}}
    assert any(sql.startswith("UPDATE exchange_vouchers") for sql in figures["one"]["sql"])
    assert figures["one"]["data"] >= 5 and figures["request"]["total"] >= figures["one"]["data"]
    assert [t["pass"] for t in figures["targets"]][-1] is True  # zero errors
    assert (
        "targets" in done.stdout
        and "hand-overs/s ÷ bare/s" in done.stdout
        and "ratio app, user ÷ bare/s" in done.stdout
    )


def test_the_in_process_profile_runs_and_leaves_the_books_balanced(app):
    command = [sys.executable, "bench/profile_handover.py", "--requests", "5", "--profile", "5", "--top", "5"]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        command += ["--db", "postgresql", "--pg-url", os.environ["DATABASE_URL"]]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "hand-over (POST /exchange/desk/handover, JSON):" in done.stdout and "cProfile of 5" in done.stdout
    assert "{'ledger_mismatches': 0, 'items_off': 0, 'vouchers': {'redeemed': 30}}" in done.stdout
