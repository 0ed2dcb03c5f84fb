"""The letters benchmark runs end to end on ten letters: every email arrives once per run (no timing is asserted)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_ten_letters_are_sent_once_by_one_and_two_workers(app, tmp_path):
    out = tmp_path / "figures.json"
    command = [sys.executable, "bench/letters_bench.py", "--letters", "10", "--seconds", "240", "--json", str(out)]
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        command += ["--db", "postgresql", "--pg-url", os.environ["DATABASE_URL"]]  # its own database on that server
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]

    figures = json.loads(out.read_text())
    assert figures["batch"] == {**figures["batch"], "state": "done", "letters": 10}
    assert [(r["workers"], r["ok"], r["distinct"], r["duplicates"]) for r in figures["runs"]] == [
        (1, True, 10, 0),
        (2, True, 10, 0),
    ]
    assert "letters/s" in done.stdout and "PASS  -w 2" in done.stdout
