"""Settings, driven by the environment (see .env.example for every variable)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

from aibos.db.roles import RUNTIME_ALIASES, SERVICE_ALIASES

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

MISSING_SECRET_KEY = (
    "DJANGO_SECRET_KEY is not set. A deployment (DATABASE_URL set, DJANGO_DEBUG off) needs its "
    'own key: set DJANGO_SECRET_KEY (e.g. to the output of `python -c "import secrets; '
    'print(secrets.token_urlsafe(50))"`), or DJANGO_DEBUG=1 on a development machine.'
)

DATABASE_URL = env.str("DATABASE_URL", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
# A development machine: debug on, or the embedded PostgreSQL (DATABASE_URL unset), which only
# ever serves one developer's checkout. There a fixed key is harmless and every command works
# in a fresh clone; a deployment must bring its own.
DEVELOPMENT = DEBUG or not DATABASE_URL
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (
    "insecure-dev-key-change-me" if DEVELOPMENT else ""
)
if not SECRET_KEY:
    raise ImproperlyConfigured(MISSING_SECRET_KEY)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: docs work offline
    "pgtrigger",
    "kernel",
    "config",
    "finance",
    # The proof: audit chain, governance views, evidence packs, Trust Test, compliance report.
    "assurance",
    # Schema Guardian (rules on migrations, SQL files and the live catalog; schema_doc) and
    # the Query Optimizer (captured workload -> index and query recommendations).
    "guardian",
    "optimizer",
    # The project layer last: it wires the apps above together (seed_demo, governance_report).
    "aibos",
]

MIDDLEWARE = [
    # Under /api/: JSON bodies only, size-limited, and a JSON answer whatever goes wrong.
    "aibos.middleware.ApiJsonMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Resolves the principal (session or API credential) and opens the tenant transaction on
    # every runtime alias; everything below it runs inside that tenant context.
    "aibos.middleware.TenantContextMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "aibos.urls"
WSGI_APPLICATION = "aibos.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Databases -------------------------------------------------------------------------------
# `default` is the owner / migration role and is used only by `migrate` and deploy-time
# commands. Requests run on the runtime aliases, each a login role that owns nothing, is not a
# superuser and has NOBYPASSRLS (see aibos/db/roles.py and docs/architecture.md).
if DATABASE_URL:
    _owner: dict[str, Any] = env.db_url_config(DATABASE_URL)
else:
    from aibos.embedded_postgres import embedded_database_settings

    _owner = embedded_database_settings(
        Path(env.str("AIBOS_PGDATA", default=str(BASE_DIR / ".pgdata")))
    )

_owner.setdefault("ENGINE", "django.db.backends.postgresql")
_owner["TEST"] = {"NAME": env.str("AIBOS_TEST_DB_NAME", default=f"test_{_owner['NAME']}")}

# Connection budget. Each runtime alias draws from one psycopg pool per process: however many
# threads serve requests, a process holds at most AIBOS_DB_POOL_SIZE server connections per
# alias (a request borrows one per alias it uses and returns it when it ends; requests beyond
# that wait up to AIBOS_DB_POOL_TIMEOUT seconds). Budget = processes x 3 aliases x size.
# A request takes its aliases in one order (kernel, finance, config: tenant_context), so
# threads waiting on each other's pools cannot deadlock.
# AIBOS_DB_POOL_SIZE=0 turns pooling off: one persistent connection per thread and alias.
DB_POOL_SIZE = env.int("AIBOS_DB_POOL_SIZE", default=4)
DB_POOL_TIMEOUT = env.float("AIBOS_DB_POOL_TIMEOUT", default=10.0)
if DB_POOL_SIZE < 0 or DB_POOL_TIMEOUT <= 0:
    raise ImproperlyConfigured("AIBOS_DB_POOL_SIZE must be >= 0 and AIBOS_DB_POOL_TIMEOUT > 0.")

_runtime_common: dict[str, Any] = {
    # With a pool Django hands the connection back at the end of each request (a pool requires
    # CONN_MAX_AGE=0). Reusing a server connection is safe: nothing session-level is ever SET.
    "CONN_MAX_AGE": 0 if DB_POOL_SIZE else env.int("AIBOS_CONN_MAX_AGE", default=60),
    "CONN_HEALTH_CHECKS": True,
    # Server-side cursors do not survive PgBouncer transaction pooling.
    "DISABLE_SERVER_SIDE_CURSORS": True,
}

DATABASES: dict[str, dict[str, Any]] = {"default": _owner}
for _alias, _role in RUNTIME_ALIASES.items():
    DATABASES[_alias] = {
        **{k: _owner[k] for k in ("ENGINE", "NAME", "HOST", "PORT")},
        **_runtime_common,
        # Django keeps one pool per alias and process.
        "OPTIONS": (
            {"pool": {"min_size": 1, "max_size": DB_POOL_SIZE, "timeout": DB_POOL_TIMEOUT}}
            if DB_POOL_SIZE
            else {}
        ),
        "USER": _role,
        "PASSWORD": env.str(f"AIBOS_{_alias.upper()}_ROLE_PASSWORD", default=""),
        # Same test NAME as `default`: the test runner creates one database and migrates it as
        # the owner; the runtime aliases then connect to it as their own roles.
        "TEST": {"NAME": _owner["TEST"]["NAME"]},
    }

for _alias, _role in SERVICE_ALIASES.items():
    DATABASES[_alias] = {
        **{k: _owner[k] for k in ("ENGINE", "NAME", "HOST", "PORT")},
        **_runtime_common,
        "CONN_MAX_AGE": 0,
        "USER": _role,
        "PASSWORD": env.str(f"AIBOS_{_alias.upper()}_ROLE_PASSWORD", default=""),
        "TEST": {"NAME": _owner["TEST"]["NAME"]},
    }

DATABASE_ROUTERS = ["aibos.db.routers.SchemaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Assurance: audit chain and evidence -----------------------------------------------------
# Signed checkpoints of the audit chain live OUTSIDE the database (a rewrite of the whole chain
# inside it is then still detected); keep the directory on storage the database's operators
# cannot rewrite (WORM bucket, another host). The Ed25519 key signs checkpoints and evidence
# manifests: an unencrypted OpenSSH private key file (`manage.py signing_keygen` for dev).
AUDIT_CHECKPOINT_DIR = Path(
    env.str("AIBOS_CHECKPOINT_DIR", default=str(BASE_DIR / ".aibos" / "checkpoints"))
)
SIGNING_KEY_FILE = Path(
    env.str("AIBOS_SIGNING_KEY_FILE", default=str(BASE_DIR / ".aibos" / "keys" / "signing_ed25519"))
)
# The Trust Test's latest JSON result, included in every evidence pack.
TRUST_TEST_RESULT = Path(
    env.str("AIBOS_TRUST_TEST_RESULT", default=str(BASE_DIR / "trust-test" / "results.json"))
)
# The sealer writes a checkpoint of each chain it extended at most this often (and on exit).
AUDIT_CHECKPOINT_SECONDS = env.float("AIBOS_CHECKPOINT_SECONDS", default=60.0)

# --- Auth and sessions -------------------------------------------------------------------------
AUTH_USER_MODEL = "kernel.User"
AUTHENTICATION_BACKENDS = ["kernel.auth.TenantCredentialBackend"]
# Signed-cookie sessions: no session table to read before the tenant is known. Each login also
# gets a row in kernel.sessions, checked on every request, so sessions stay revocable.
SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env.int("AIBOS_SESSION_SECONDS", default=8 * 3600)
MESSAGE_STORAGE = "django.contrib.messages.storage.cookie.CookieStorage"
LOGIN_URL = "admin:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "kernel.apis.authentication.ApiCredentialAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "EXCEPTION_HANDLER": "aibos.api.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "aibos.schema.AutoSchema",
    # A JSON API: UTF-8 JSON bodies only (415 otherwise), bounded in size and depth.
    "DEFAULT_PARSER_CLASSES": ["aibos.parsers.StrictJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": None,
}
# Largest request body accepted (bytes); the API answers 413 beyond it. A journal of 1,000
# lines is about 200 kB.
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("AIBOS_MAX_BODY_BYTES", default=1024 * 1024)
# Accounting dates (entry dates, paid-on dates) must fall in this window: not before
# AIBOS_BOOKS_EARLIEST_DATE and not more than AIBOS_BOOKS_MAX_DAYS_AHEAD days after today.
AIBOS_BOOKS_EARLIEST_DATE = dt.date.fromisoformat(
    env.str("AIBOS_BOOKS_EARLIEST_DATE", default="2000-01-01")
)
AIBOS_BOOKS_MAX_DAYS_AHEAD = env.int("AIBOS_BOOKS_MAX_DAYS_AHEAD", default=366)

SPECTACULAR_SETTINGS = {
    "TITLE": "AI-BOS Data Fabric API",
    "DESCRIPTION": (
        "The Cells API. Authenticate with `Authorization: Bearer aibos_<tenant>_<key>_<secret>`; "
        "the tenant comes from the credential only. Amounts are decimal strings."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema describes the API, not tenant data: readable without a credential.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "SERVE_AUTHENTICATION": [],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Inputs and outputs are separate serializers already, named for what they are
    # (JournalCreate, JournalDetail): no "...Request" twins.
    "COMPONENT_SPLIT_REQUEST": False,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "aibos.schema.add_links",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JournalStatus": "finance.models.JournalEntry.Status",
        "PaymentStatus": "finance.models.Payment.Status",
        "PaymentType": "finance.models.PaymentType",
        "AccountType": "finance.models.Account.Type",
        "Currency": "finance.currencies.ISO_CODES",
        "LineSide": ["debit", "credit"],
    },
}

# pgtrigger: triggers are installed by migrations only, never implicitly on `migrate`.
PGTRIGGER_INSTALL_ON_MIGRATE = False
PGTRIGGER_MIGRATIONS = True

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="WARNING")},
}

# Email is unique per tenant, not globally; TenantCredentialBackend always authenticates
# (tenant, email), so the non-unique USERNAME_FIELD is deliberate.
SILENCED_SYSTEM_CHECKS = ["auth.W004"]


# --- Schema Guardian (docs/guardian.md) ---------------------------------------------------------
# Which environment's enforcement levels apply (guardian.toml [levels.<environment>]).
AIBOS_ENVIRONMENT = env.str(
    "AIBOS_ENVIRONMENT", default="development" if DEVELOPMENT else "production"
)
GUARDIAN_CONFIG = Path(env.str("AIBOS_GUARDIAN_CONFIG", default=str(BASE_DIR / "guardian.toml")))

# --- Query Optimizer (docs/optimizer.md) -------------------------------------------------------
# Thresholds of the index advisor. Dexter's gates: a query matters from plan cost 100 and an
# index is suggested only if it cuts such a query's cost by at least half; ours also needs the
# query to carry 1 % of the workload's weight (calls x mean time) and the index to lower the
# workload's weighted cost by 1 %.
OPTIMIZER_MIN_COST = env.float("AIBOS_OPTIMIZER_MIN_COST", default=100.0)
OPTIMIZER_MIN_REDUCTION = env.float("AIBOS_OPTIMIZER_MIN_REDUCTION", default=0.5)
OPTIMIZER_MIN_WEIGHT_SHARE = env.float("AIBOS_OPTIMIZER_MIN_WEIGHT_SHARE", default=0.01)
OPTIMIZER_MIN_GAIN = env.float("AIBOS_OPTIMIZER_MIN_GAIN", default=0.01)
# Gain discounts: x (1 - penalty x write share) on write-heavy tables, x (1 - HOT penalty) when
# the index covers a column the workload UPDATEs (it would end HOT updates).
OPTIMIZER_WRITE_PENALTY = env.float("AIBOS_OPTIMIZER_WRITE_PENALTY", default=0.5)
OPTIMIZER_HOT_PENALTY = env.float("AIBOS_OPTIMIZER_HOT_PENALTY", default=0.25)
# Time budget of the configuration search (seconds); the best configuration so far is kept.
OPTIMIZER_SEARCH_SECONDS = env.float("AIBOS_OPTIMIZER_SEARCH_SECONDS", default=10.0)
# pg_stat_statements entries with fewer calls are ignored.
OPTIMIZER_MIN_CALLS = env.int("AIBOS_OPTIMIZER_MIN_CALLS", default=5)
# A sequential scan of a table this large is a finding.
OPTIMIZER_LARGE_TABLE_ROWS = env.int("AIBOS_OPTIMIZER_LARGE_TABLE_ROWS", default=100_000)
# N+1 (Sentry's criteria): repeats of one statement after a source query, and their total time
# (0: the count alone decides; local queries are fast, the count is what grows in production).
OPTIMIZER_NPLUSONE_MIN_REPEATS = env.int("AIBOS_OPTIMIZER_NPLUSONE_MIN_REPEATS", default=5)
OPTIMIZER_NPLUSONE_MIN_MS = env.float("AIBOS_OPTIMIZER_NPLUSONE_MIN_MS", default=0.0)
# Capture every request's queries (middleware) and log N+1s; RAISE turns them into errors.
OPTIMIZER_CAPTURE = env.bool("AIBOS_OPTIMIZER_CAPTURE", default=False)
OPTIMIZER_NPLUSONE_RAISE = env.bool("AIBOS_OPTIMIZER_NPLUSONE_RAISE", default=False)
OPTIMIZER_CAPTURE_FILE = Path(
    env.str(
        "AIBOS_OPTIMIZER_CAPTURE_FILE", default=str(BASE_DIR / ".aibos" / "optimizer-capture.jsonl")
    )
)
if OPTIMIZER_CAPTURE:
    MIDDLEWARE.append("optimizer.middleware.QueryCaptureMiddleware")
# Applying an index: automatic in the development environment (AIBOS_ENVIRONMENT above), only
# with a recorded approval otherwise. lock_timeout bounds the wait for the table's lock.
OPTIMIZER_AUTO_APPLY = AIBOS_ENVIRONMENT == "development"
OPTIMIZER_LOCK_TIMEOUT = env.str("AIBOS_OPTIMIZER_LOCK_TIMEOUT", default="5s")
# After applying: an index with at most this many scans after this many days is proposed for
# removal (pghero's unused-index threshold).
OPTIMIZER_UNUSED_SCANS = env.int("AIBOS_OPTIMIZER_UNUSED_SCANS", default=50)
OPTIMIZER_UNUSED_DAYS = env.int("AIBOS_OPTIMIZER_UNUSED_DAYS", default=14)
# --- end of Query Optimizer settings -----------------------------------------------------------


# --- The migration connection (docs/providers.md, adapters) -------------------------------------
# migrate refuses a transaction-mode pooler; point it at the direct endpoint here when
# DATABASE_URL is pooled (the owner's credentials, as in DATABASE_URL).
_migration_url = env.str("AIBOS_MIGRATION_DATABASE_URL", default="")
MIGRATION_DATABASE: dict[str, Any] | None = (
    {
        k: v
        for k, v in env.db_url_config(_migration_url).items()
        if k in ("NAME", "USER", "PASSWORD", "HOST", "PORT")
    }
    if _migration_url
    else None
)
# Every connection migrate opens: give up on a lock after this long instead of queueing every
# other query behind the migration's ALTER, and bound any one statement ("0": no bound).
MIGRATION_LOCK_TIMEOUT = env.str("AIBOS_MIGRATION_LOCK_TIMEOUT", default="10s")
MIGRATION_STATEMENT_TIMEOUT = env.str("AIBOS_MIGRATION_STATEMENT_TIMEOUT", default="1h")

# --- Provider portability (docs/providers.md) ---------------------------------------------------
# A capability fact older than this many days makes `manage.py check` warn (config.W001).
AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS = env.int("AIBOS_PROVIDER_PROFILE_MAX_AGE_DAYS", default=180)
