"""Settings come from the environment; production variables pass `check --deploy`."""

from tests.manage import manage as run_manage

PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k3y-" + "x7Qp9Zr2Lm5Vb8Nc4Hd6Jf1Gs3Ka0We" * 2,
    "PORTAL_BASE_URL": "https://portal.example.com",
    "DATABASE_URL": "postgres://portal:secret@db.internal:5432/portal",
    "REDIS_URL": "redis://cache.internal:6379/0",
    "CACHE_URL": "redis://cache.internal:6379/1",
    "EMAIL_URL": "smtp+tls://mailer:secret@smtp.example.com:587",
}


def manage(*args, env):
    """The settings as production reads them: none of the test run's own values leak in."""
    return run_manage(*args, env=env, drop=PRODUCTION, timeout=60)


def test_check_deploy_passes_with_production_variables():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_missing_secret_key_with_debug_off_is_an_error():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off." in result.stderr


def test_debug_is_off_unless_set():
    env = {k: v for k, v in PRODUCTION.items() if k != "DEBUG"}
    result = manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.DEBUG)",
        env=env,
    )
    assert result.stdout.strip() == "False", result.stderr


def test_a_misspelt_yes_or_no_is_an_error_not_false():
    result = manage("check", env={**PRODUCTION, "DEBUG": "ture"})
    assert result.returncode != 0
    assert "DEBUG must be true or false, not 'ture'." in result.stderr


def _cache_backend(cache_url):
    return manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        env={**PRODUCTION, "CACHE_URL": cache_url},
    )


def test_cache_url_is_parsed_by_django_environ():
    # Django's Redis backend, keeping its clients (portal.cache)
    assert (
        _cache_backend("redis://cache.internal:6379/1").stdout.strip() == "portal.cache.RedisCache"
    )
    assert _cache_backend("locmem://").stdout.strip().endswith("LocMemCache")


def test_a_cache_url_we_do_not_support_stops_start_up_with_one_line():
    result = _cache_backend("memcache://cache.internal:11211")
    assert result.returncode != 0
    assert "CACHE_URL must be redis://… or locmem://, not 'memcache://cache.internal:11211'." in (
        result.stderr
    )


def _session_engine(cache_url):
    return manage(
        "shell",
        "--no-imports",
        "-c",
        "from django.conf import settings; print(settings.SESSION_ENGINE)",
        env={**PRODUCTION, "CACHE_URL": cache_url},
    ).stdout.strip()


def test_sessions_come_from_the_cache_only_where_every_process_shares_it():
    assert _session_engine("redis://cache.internal:6379/1").endswith(".cached_db")
    # a per-process cache would keep a signed-out session alive in the other processes
    assert _session_engine("locmem://").endswith(".db")
