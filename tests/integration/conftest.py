"""A real Celery worker, in its own process, on the test run's database and Redis, or on a
Redis of the test's own (`own_redis`): a module points its workers there by overriding
`celery_broker_url`, so what it breaks is never the machine's shared Redis."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import kombu.pools
import pytest
import redis
from django.conf import settings
from django.db import connection

from portal.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _database_url() -> str:
    """The test database this run created, as a URL for the worker's settings."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        pytest.skip("the worker shares the test database, which needs PostgreSQL")
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def free_port() -> int:
    """A loopback TCP port no one listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A redis-server of the test's own on a free loopback port, with nothing saved to disk:
    killed and started again (on the same port), it has forgotten every message."""

    def __init__(self, binary: str, directory: Path):
        self.binary, self.directory = binary, directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None

    def start(self) -> None:
        self.directory.mkdir(exist_ok=True)
        self.process = subprocess.Popen(
            [
                *(self.binary, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
                *("--dir", str(self.directory), "--logfile", str(self.directory / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                pass
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = (self.directory / "redis.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"redis-server did not start on port {self.port}:\n{log}")
            time.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or an OOM kill: no shutdown, no save."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=1)


@pytest.fixture
def own_redis(tmp_path):
    """A Redis of the test's own (`OwnRedis`), stopped after the test."""
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.access(binary, os.X_OK):
        pytest.skip(
            "no redis-server binary to start a Redis of the test's own"
            " (scripts/services installs it)"
        )
    server = OwnRedis(binary, tmp_path / "redis")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def celery_broker_url():
    """The Redis the test's tasks and its workers use: the run's own (REDIS_URL). A module
    that breaks its Redis overrides this with `own_redis.url`."""
    return settings.CELERY_BROKER_URL


@pytest.fixture
def celery_worker_env():
    """More environment for the workers (a module overrides it: a shorter retry delay)."""
    return {}


def _reset_producers() -> None:
    """Forget the pooled broker connections, so the next task goes to the broker now set."""
    kombu.pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def celery_queue(celery_broker_url, monkeypatch):
    """Tasks sent during the test go, not eagerly, to a queue of their own on
    `celery_broker_url`; its name. Workers from `start_celery_worker` take from it."""
    queue = f"test-{uuid.uuid4().hex[:8]}"
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)  # it would win over the conf
    conf = celery_app.conf
    saved = conf.task_always_eager, conf.task_default_queue, conf.broker_url
    conf.update(task_always_eager=False, task_default_queue=queue, broker_url=celery_broker_url)
    _reset_producers()
    try:
        yield queue
    finally:
        always_eager, default_queue, broker_url = saved
        conf.update(
            task_always_eager=always_eager, task_default_queue=default_queue, broker_url=broker_url
        )
        _reset_producers()


@pytest.fixture
def start_celery_worker(
    transactional_db, tmp_path, celery_queue, celery_broker_url, celery_worker_env
):
    """A function that starts a `celery worker` on the test's queue and returns its process
    once it is ready: `.log`, its output's lines; `.outbox`, its e-mail, a file per message.
    A test may start one after another (to replace one it killed); those still running
    are stopped after the test."""
    outbox = tmp_path / "outbox"
    outbox.mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": celery_broker_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "CELERY_QUEUE": celery_queue,
        "EMAIL_URL": f"filemail://{outbox}",
        "WEBHOOK_ALLOW_LOOPBACK": "true",  # as the tests' settings: receivers on loopback
        **celery_worker_env,
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("CELERY_BROKER_URL", None)
    started = []

    def start() -> subprocess.Popen:
        process = subprocess.Popen(
            [
                *(sys.executable, "-m", "celery", "-A", "portal", "worker", "--pool", "solo"),
                *("--queues", celery_queue, "--loglevel", "INFO"),
                *("--without-heartbeat", "--without-mingle", "--without-gossip"),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        process.outbox, process.log, ready = outbox, [], threading.Event()
        started.append(process)

        def read():
            for line in process.stdout:
                process.log.append(line)
                if " ready." in line:
                    ready.set()

        threading.Thread(target=read, daemon=True).start()
        if not ready.wait(timeout=60):
            pytest.fail("the Celery worker did not start:\n" + "".join(process.log[-30:]))
        return process

    start.started = started
    try:
        yield start
    finally:
        for process in started:
            if process.poll() is None:
                process.terminate()
        for process in started:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def celery_worker(start_celery_worker):
    """A `celery worker` on a queue of its own; tasks sent during the test go to it.

    Its e-mail goes to files in `worker.outbox` (one file per message).
    """
    return start_celery_worker()
