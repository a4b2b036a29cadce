# The two commands a newcomer needs: `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

# Stripe for the demo and the tests: the local Stripe server (scripts/localstripe) and test keys.
STRIPE_LOCAL := STRIPE_API_BASE=http://127.0.0.1:8420 \
	STRIPE_JS_URL=http://127.0.0.1:8420/js.stripe.com/v3/ \
	STRIPE_SECRET_KEY=sk_test_portal_local STRIPE_PUBLISHABLE_KEY=pk_test_portal_local \
	STRIPE_WEBHOOK_SECRET=whsec_test_portal_local

# The demo's embedded defaults, whatever the shell has: SQLite under .var/, Celery eager.
# Beside the server, `run_periodic` runs the periodic jobs (Celery beat's schedule) in-process.
DEMO_ENV := DEBUG=true PORTAL_BASE_URL=http://127.0.0.1:$(PORT) SANDBOX_PUBLISHER_ENABLED=true \
	WEBHOOK_ALLOW_LOOPBACK=true \
	DATABASE_URL=sqlite:///$(CURDIR)/.var/portal.sqlite3 CELERY_TASK_ALWAYS_EAGER=true \
	$(STRIPE_LOCAL)

# The test run: PostgreSQL and Redis (started by scripts/services when none answers).
# Tests that are about background work start a real Celery worker themselves.
test: export DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
test: export REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_ENV := DEBUG=false SECRET_KEY=test-only-secret-key-not-for-production \
	PORTAL_BASE_URL=http://testserver CELERY_TASK_ALWAYS_EAGER=true $(STRIPE_LOCAL)

.PHONY: install demo test lint lock services-stop clean

$(BIN)/.installed: requirements-dev.lock
	@test -x $(BIN)/python || "$$(scripts/find-python)" -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.lock
	@touch $@

install: $(BIN)/.installed

demo: install
	scripts/ensure-pdf-deps
	$(STRIPE_LOCAL) scripts/localstripe
	$(DEMO_ENV) $(BIN)/python manage.py migrate --no-input
	$(DEMO_ENV) $(BIN)/python manage.py seed_demo
	$(DEMO_ENV) $(BIN)/python manage.py run_periodic --every 5 & trap 'kill $$!' EXIT; \
	$(DEMO_ENV) $(BIN)/python manage.py runserver 127.0.0.1:$(PORT)

test: install
	scripts/services
	$(STRIPE_LOCAL) scripts/localstripe
	scripts/ensure-chromium
	scripts/ensure-pdf-deps
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(BIN)/python manage.py makemigrations --check --dry-run
	$(TEST_ENV) $(BIN)/pytest

lint: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Re-pin every dependency after editing pyproject.toml (valid on Python 3.12 and 3.13):
# requirements.lock is what production installs, requirements-dev.lock adds the dev tools.
UV_COMPILE = $(BIN)/uv pip compile pyproject.toml --universal --python-version 3.12 --quiet
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(UV_COMPILE) -o requirements.lock
	$(UV_COMPILE) --extra dev -o requirements-dev.lock

services-stop:
	scripts/services stop
	scripts/localstripe stop

clean:
	rm -rf $(VENV) .var staticfiles
