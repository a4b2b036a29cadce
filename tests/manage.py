"""`manage.py` in a child process, for tests about settings, start-up and the demo's SQLite."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child_env(env: dict, drop=()) -> dict:
    """This process's environment, the names in `drop` taken out and `env` laid over it."""
    base = {k: v for k, v in os.environ.items() if k not in {*drop, "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    return {**base, **env}


def manage(*args, env: dict, drop=(), check=False, timeout=120, **kwargs):
    """Run `manage.py *args` in `child_env(env, drop)`; the result has the exit code and the
    captured output."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=child_env(env, drop),
        check=check,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )


def sqlite_env(tmp_path, name: str, **extra) -> dict:
    """The environment of a child process on its own SQLite file, as the demo runs."""
    return {"DATABASE_URL": f"sqlite:///{tmp_path / name}", **extra}
