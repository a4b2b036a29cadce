"""Settings, read from the environment through django-environ.

The defaults run the demo with nothing else installed (SQLite under .var/, Celery eager).
Production sets the variables the README lists; `manage.py check --deploy` then passes.
"""

from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import environ
from celery.schedules import crontab, schedule
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / ".var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")

_TRUE, _FALSE = {"true", "1", "yes", "on"}, {"false", "0", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    """A yes/no variable; anything else is an error rather than a silent False."""
    value = env.str(name, default=str(default)).strip().lower()
    if value not in _TRUE | _FALSE:
        raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")
    return value in _TRUE


DEBUG = env_bool("DEBUG", default=False)

SECRET_KEY = env("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-demo-only-key-never-use-in-production"

# Where people reach the portal. Absolute links (e-mails, publisher hand-offs) are built
# from it, and an https:// URL turns on the HTTPS-only settings below.
PORTAL_BASE_URL = env("PORTAL_BASE_URL", default="http://127.0.0.1:8000").rstrip("/")
_base = urlsplit(PORTAL_BASE_URL)
if _base.scheme not in ("http", "https") or not _base.hostname:
    raise ImproperlyConfigured(f"PORTAL_BASE_URL is not an http(s) URL: {PORTAL_BASE_URL!r}")
HTTPS = _base.scheme == "https"

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS",
    default=[_base.hostname, "localhost", "127.0.0.1"] if DEBUG else [_base.hostname],
)
CSRF_TRUSTED_ORIGINS = env.list(
    "CSRF_TRUSTED_ORIGINS", default=[f"{_base.scheme}://{_base.netloc}"]
)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "django_htmx",
    "axes",
    "portal",
    "publishers",
    "billing",
    "subscriptions",
    "publishers.sandbox",  # its pages answer only when SANDBOX_PUBLISHER_ENABLED
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.SessionIdleExpiryMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "portal.middleware.PrivatePagesNotCachedMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.TenantMiddleware",
    # Last, as django-axes asks: it turns a lockout into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "portal.urls"
WSGI_APPLICATION = "portal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "portal.context_processors.navigation",
            ],
        },
    },
]

FORM_RENDERER = "portal.forms.FormRenderer"

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'portal.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # SQLite behind a threaded web server (the demo): readers don't wait for writers (WAL),
    # and every transaction takes the write lock at BEGIN, waiting up to 20 s for it, instead
    # of failing "database is locked" when two requests that read and then write meet.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Keep connections: a new one per request costs most of a simple page.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "portal.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "start"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# Login throttling: failures count per user *and* IP together, and the lock lifts itself.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"  # the login form's field (it holds the e-mail)
AXES_USERNAME_CALLABLE = "portal.forms.login_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "portal.client_ip.client_ip"
# Proxies in front of the portal that append to X-Forwarded-For (0: use REMOTE_ADDR).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# Sessions end after this much idle time: requests push the expiry forward (at most once a
# minute, portal.middleware.SessionIdleExpiryMiddleware).
SESSION_COOKIE_AGE = env.int("SESSION_IDLE_SECONDS", default=2 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# HTTPS-only settings follow PORTAL_BASE_URL; each can be overridden on its own.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=HTTPS)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", default=HTTPS)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", default=HTTPS)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=HTTPS)
if env_bool("BEHIND_TLS_PROXY", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content Security Policy: scripts and styles only from our own origin, nothing inline,
# no eval (htmx is configured for it in base.html).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}

# Stripe, for card payments. Production sets live keys; the demo and the tests point the API
# and Stripe.js at the local Stripe server that scripts/localstripe starts.
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", default="")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", default="")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", default="")
STRIPE_API_BASE = env("STRIPE_API_BASE", default="https://api.stripe.com").rstrip("/")
STRIPE_JS_URL = env("STRIPE_JS_URL", default="https://js.stripe.com/v3/")
# A Stripe call that takes longer fails with "Stripe did not answer" rather than hanging.
STRIPE_TIMEOUT_SECONDS = env.float("STRIPE_TIMEOUT_SECONDS", default=10)
for _name, _url in (("STRIPE_API_BASE", STRIPE_API_BASE), ("STRIPE_JS_URL", STRIPE_JS_URL)):
    if urlsplit(_url).scheme not in ("http", "https") or not urlsplit(_url).hostname:
        raise ImproperlyConfigured(f"{_name} is not an http(s) URL: {_url!r}")


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


# The card page alone may load Stripe.js, show its frames and let it reach Stripe's API.
STRIPE_CSP = {
    **SECURE_CSP,
    "script-src": [CSP.SELF, _origin(STRIPE_JS_URL)],
    "frame-src": [_origin(STRIPE_JS_URL), "https://hooks.stripe.com"],
    "connect-src": [CSP.SELF, _origin(STRIPE_JS_URL), _origin(STRIPE_API_BASE)],
}

# Check and wire transfer: where customers send payment. Invoices print these instructions.
REMITTANCE = {
    "payee": env("REMITTANCE_PAYEE", default="Marketplace Operator Ltd."),
    "bank_name": env("REMITTANCE_BANK_NAME", default="Example Bank plc"),
    "account_name": env("REMITTANCE_ACCOUNT_NAME", default="Marketplace Operator Ltd."),
    "iban": env("REMITTANCE_IBAN", default="GB33BUKB20201555555555"),
    "bic": env("REMITTANCE_BIC", default="BUKBGB22"),
    "account_number": env("REMITTANCE_ACCOUNT_NUMBER", default="55555555"),
    "routing_number": env("REMITTANCE_ROUTING_NUMBER", default="021000021"),
    "check_address": env(
        "REMITTANCE_CHECK_ADDRESS",
        default="Marketplace Operator Ltd., Lockbox 1234, 1 Example Plaza, New York, NY 10001, US",
    ),
}

# The seller on every invoice and credit note: the marketplace operator. Its address's lines
# are separated by newlines (or "\n" in the variable). Checked here: a country of the region
# table, and a VAT number valid there (python-stdnum), or the process doesn't start.
SELLER_NAME = env("SELLER_NAME", default="Marketplace Operator Ltd.")
SELLER_ADDRESS = env(
    "SELLER_ADDRESS", default="1 Example Quay\nDublin 2, D02 X285\nIreland"
).replace("\\n", "\n")
SELLER_COUNTRY = env("SELLER_COUNTRY", default="IE").upper()
SELLER_VAT_ID = env("SELLER_VAT_ID", default="IE6388047V")


def _check_seller() -> None:
    from portal.regions import InvalidTaxId, UnsupportedCountry, validate_tax_id

    if not SELLER_NAME.strip() or not SELLER_ADDRESS.strip():
        raise ImproperlyConfigured("SELLER_NAME and SELLER_ADDRESS must not be empty.")
    try:
        validate_tax_id(SELLER_COUNTRY, SELLER_VAT_ID)
    except (InvalidTaxId, UnsupportedCountry) as wrong:
        raise ImproperlyConfigured(f"SELLER_COUNTRY or SELLER_VAT_ID: {wrong}") from None


_check_seller()

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=VAR_DIR / "media")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# Outgoing mail, from one URL: smtp+tls://user:password@host:587, or consolemail:// (default).
_mail = env.email_url("EMAIL_URL", default="consolemail://")
_mail_options = {
    "host": _mail.get("EMAIL_HOST"),
    "port": _mail.get("EMAIL_PORT"),
    "username": _mail.get("EMAIL_HOST_USER"),
    "password": _mail.get("EMAIL_HOST_PASSWORD"),
    "use_tls": _mail.get("EMAIL_USE_TLS"),
    "use_ssl": _mail.get("EMAIL_USE_SSL"),
    "timeout": 10,
}
if _mail["EMAIL_BACKEND"].endswith("smtp.EmailBackend"):
    _mail_options = {k: v for k, v in _mail_options.items() if v not in (None, "")}
elif _mail["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):  # filemail:///var/mail/portal
    _mail_options = {"file_path": "/" + _mail["EMAIL_FILE_PATH"].lstrip("/")}
else:
    _mail_options = {}
MAILERS = {"default": {"BACKEND": _mail["EMAIL_BACKEND"], "OPTIONS": _mail_options}}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="Marketplace portal <portal@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Cache: per process by default (the demo); production shares one in Redis, e.g.
# CACHE_URL=redis://redis:6379/1, so every web process sees the same catalog version.
# django-environ parses the URL; `locmem://` is our name for its `locmemcache://`.
environ.Env.CACHE_SCHEMES.setdefault("locmem", environ.Env.CACHE_SCHEMES["locmemcache"])
CACHES = {"default": env.cache_url("CACHE_URL", default="locmem://")}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "portal.cache.RedisCache"  # keeps its Redis clients
elif CACHES["default"]["BACKEND"] != "django.core.cache.backends.locmem.LocMemCache":
    raise ImproperlyConfigured(
        f"CACHE_URL must be redis://… or locmem://, not {env('CACHE_URL')!r}."
    )

# Sessions are read from the cache and written through to the database, saving a query on
# every signed-in page, where every process shares the cache (Redis). A per-process cache
# would keep a signed-out session alive in the other processes: the database alone then.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if CACHES["default"]["BACKEND"] == "portal.cache.RedisCache"
    else "django.contrib.sessions.backends.db"
)

# The sandbox publisher's pages at /sandbox-publisher/ (publishers/sandbox/): the demo's and
# the tests' third party. Off in production.
SANDBOX_PUBLISHER_ENABLED = env.bool("SANDBOX_PUBLISHER_ENABLED", default=False)

# Webhooks may go to plain http and loopback addresses (the sandbox publisher's receiver on
# this machine): the demo and the tests only. Never private or link-local ones.
WEBHOOK_ALLOW_LOOPBACK = env_bool("WEBHOOK_ALLOW_LOOPBACK", default=False)
# For this long after a publisher's webhook secret is rotated, webhooks carry a signature by
# the old secret too (seconds; a day).
WEBHOOK_SECRET_OVERLAP = env.int("WEBHOOK_SECRET_OVERLAP", default=24 * 3600)
# Seconds before a failed webhook's second attempt; each wait after doubles it, with jitter
# (publishers/webhooks.py). The fault tests shorten it, so their retries take seconds.
WEBHOOK_RETRY_FIRST_DELAY = env.float("WEBHOOK_RETRY_FIRST_DELAY", default=10.0)
if WEBHOOK_RETRY_FIRST_DELAY <= 0:
    raise ImproperlyConfigured("WEBHOOK_RETRY_FIRST_DELAY must be a number of seconds above 0.")

# POST /api/oauth2/token: requests per IP, wrong credentials per client id, in a window of
# this many seconds.
PUBLISHER_TOKEN_RATE_LIMITS = (300, 20, 60)

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CELERY_BROKER_URL = REDIS_URL
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="portal")
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", default=True)
CELERY_TASK_EAGER_PROPAGATES = True
# A task's message is acknowledged when the task has finished, not when a worker took it,
# and given back to the queue when its worker dies: a killed worker's task runs again.
# Every task is idempotent and takes ids (the database says what is left), so twice is safe.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
# A worker takes one message at a time: none wait behind a slow one (a webhook's 15 s).
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 300  # seconds: the longest a task may run
# Celery closes Django's database connections around every task unless told to reuse them:
# a new PostgreSQL connection per task costs more than a webhook's delivery. Reused for this
# many tasks; CONN_MAX_AGE and the health check still apply between tasks (portal/celery.py).
CELERY_DB_REUSE_MAX = env.int("CELERY_DB_REUSE_MAX", default=1000)
# Redis gives an unacknowledged message to another worker after this many seconds: well
# above the longest task (and any countdown), or a running task would start twice.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
# Retries are bounded: webhooks are retried by the outbox (8 hours, then failed), other
# tasks by their own max_retries.
CELERY_TIMEZONE = "UTC"
# The periodic jobs: Celery beat in production, `manage.py run_periodic` beside the demo.
CELERY_BEAT_SCHEDULE = {
    "lifecycle-sweep": {  # renewals, expiries, set-up timeouts, their e-mails (daily, UTC)
        "task": "subscriptions.tasks.lifecycle_sweep",
        "schedule": crontab(minute=15, hour=0),
    },
    "publisher-secret-warnings": {  # API secrets expiring in 30, 7 or 1 days (daily, UTC)
        "task": "publishers.tasks.warn_expiring_secrets",
        "schedule": crontab(minute=30, hour=0),
    },
    "marketplace-token-purge": {  # landing-page tokens past their 24 hours (daily, UTC)
        "task": "subscriptions.tasks.purge_marketplace_tokens",
        "schedule": crontab(minute=45, hour=0),
    },
    "invoicing": {  # the month before's invoices on the 1st; what a failure left, after
        "task": "billing.tasks.invoicing_run",
        "schedule": crontab(minute=0, hour=2),
    },
    "card-charges": {  # card invoices' charges due: retries 1, 3, 5, 7 days after issue
        "task": "billing.tasks.card_charges_sweep",
        "schedule": crontab(minute=40),
    },
    "webhook-sweep": {  # outbox events due and not on their way (every few seconds)
        "task": "publishers.tasks.sweep_webhooks",
        "schedule": schedule(timedelta(seconds=5)),
    },
    "silent-confirmations": {  # customer changes the publisher let pass (every few seconds)
        "task": "subscriptions.tasks.confirm_silent_changes",
        "schedule": schedule(timedelta(seconds=5)),
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # httpx says INFO for every request: a webhook's attempts are kept in the outbox instead.
    "loggers": {
        "axes": {"level": "WARNING"},
        "stripe": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        # WeasyPrint tells each step of every invoice PDF it renders at INFO.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
