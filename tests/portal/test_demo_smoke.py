"""The demo as `make demo` runs it: a fresh SQLite database, migrations, seed twice, a server."""

import socket
import subprocess
import sys
import time
import urllib.request

from tests.manage import ROOT, child_env, sqlite_env
from tests.manage import manage as run_manage


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_demo_migrates_seeds_twice_and_serves_the_login_page(tmp_path):
    port = free_port()
    env = sqlite_env(
        tmp_path,
        "demo.sqlite3",
        DEBUG="true",
        PORTAL_BASE_URL=f"http://127.0.0.1:{port}",
        CELERY_TASK_ALWAYS_EAGER="true",
    )
    drop = ("DATABASE_URL", "SECRET_KEY")

    def manage(*args):
        return run_manage(*args, env=env, drop=drop, check=True)

    manage("migrate", "--no-input")
    manage("seed_demo")
    second = manage("seed_demo")
    assert "admin@contoso.example" in second.stdout
    assert f"http://127.0.0.1:{port}/" in second.stdout

    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=child_env(env, drop),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/") as page:
                    assert page.status == 200
                    assert b"Sign in" in page.read()
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=10)
