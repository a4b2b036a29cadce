"""The PostgreSQL helpers the benchmarks share: statements on the server at 127.0.0.1:5432,
as its superuser, databases copied from a loaded template, and the environment of a portal
process on one of them."""

import os

PG = "postgres://postgres@127.0.0.1:5432"


def portal_env(database: str, redis: str, **extra: str) -> dict:
    """The environment of a portal process (command, worker) on `database`: production
    settings, with `extra` on top."""
    return {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-secret-key",
        "DATABASE_URL": f"{PG}/{database}",
        "REDIS_URL": redis,
        "CACHE_URL": redis,
        "PORTAL_BASE_URL": "http://testserver",
        "ALLOWED_HOSTS": "testserver",
        "LOG_LEVEL": "WARNING",
        "DJANGO_SETTINGS_MODULE": "portal.settings",
        **extra,
    }


def admin(statement: str) -> None:
    """Run a statement on the server (CREATE or DROP DATABASE), outside any database."""
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(statement)


def sql(database: str, statement: str, params=()):
    """Run a statement in `database`: its rows, or the count of rows it changed."""
    import psycopg

    with psycopg.connect(f"{PG}/{database}", autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else cursor.rowcount


def drop(database: str) -> None:
    admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def copy(base: str, name: str) -> str:
    """A fresh copy of the database `base`, named `<base>_<name>`."""
    database = f"{base}_{name}"
    drop(database)
    admin(f'CREATE DATABASE "{database}" TEMPLATE "{base}"')
    return database
