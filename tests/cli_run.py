"""Run the `alur` command as its own process, as an office clerk or a script would."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "rahasia-uji"


def alur_env(database_url: str, home: Path) -> dict:
    """The environment of one `alur` run: this test's database, no ALUR_* leaking in from outside."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUR_")}
    env.update(ALUR_DATABASE_URL=database_url, ALUR_PASSWORD=PASSWORD, ALUR_HOME=str(home))
    return env


def run_alur(args, env: dict, *, command=None) -> subprocess.CompletedProcess:
    """Run `alur ARGS` as its own process and return what it did."""
    command = command or [sys.executable, "-m", "web.cli"]
    return subprocess.run([*command, *map(str, args)], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL, check=False)


def ok(args, env: dict) -> subprocess.CompletedProcess:
    """Run `alur` and insist it succeeded."""
    done = run_alur(args, env)
    assert done.returncode == 0, f"alur {' '.join(map(str, args))} failed:\n{done.stderr}"
    assert "Traceback" not in done.stderr
    return done


def ok_json(args, env: dict):
    """Run `alur ... --json` and return the parsed JSON it printed."""
    return json.loads(ok([*args, "--json"], env).stdout)


def refused(args, env: dict, code: int | None = None) -> str:
    """Run `alur` expecting a user's mistake: non-zero exit, a message, never a traceback."""
    done = run_alur(args, env)
    assert done.returncode != 0, f"alur {' '.join(map(str, args))} should have failed:\n{done.stdout}"
    if code is not None:
        assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr and "Traceback" not in done.stdout
    assert done.stderr.strip(), "a refusal must say why on stderr"
    return done.stderr
