"""Fleetwatch settings: one module, read from the environment (12-factor).

Embedded defaults (SQLite under ``var/``, no broker, local storage) make ``make demo`` work on a
laptop; production sets ``FLEETWATCH_ENV=production`` plus the variables in the README.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from fleetwatch.databases import databases
from fleetwatch.env import envbool, envchoice, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(envstr("FLEETWATCH_VAR_DIR", str(BASE_DIR / "var")))

FLEETWATCH_ENV = envchoice("FLEETWATCH_ENV", "development", ("development", "production"))
PRODUCTION = FLEETWATCH_ENV == "production"

DEBUG = envbool("DEBUG", "False")
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG=true is refused when FLEETWATCH_ENV=production")

# A development key is only acceptable off production; production must supply its own.
SECRET_KEY = envstr("SECRET_KEY", None if PRODUCTION else "dev-only-insecure-key-" + "x" * 40)
ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "django_celery_beat",
    "audit.ledger",
    "fleetwatch",
    "registry",
    "monitors",
    "monitors.checks",
    "simulation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "audit.ledger.middleware.CorrelationIdMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "fleetwatch.urls"
WSGI_APPLICATION = "fleetwatch.wsgi.application"
ASGI_APPLICATION = "fleetwatch.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
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

# --- Database ---------------------------------------------------------------------------------
# DATABASE_URL: the runtime role the application connects as (SELECT/INSERT only on the ledger).
# DATABASE_OWNER_URL: the role that owns the tables and runs ``migrate --database owner``.
DATABASES = databases(
    envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'fleetwatch.sqlite3'}"),
    envstr("DATABASE_OWNER_URL", "") or None,
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# SQLite cannot enforce "nulls not distinct" uniqueness (tier-default plans, batches); PostgreSQL,
# the production database, does. Say so once here instead of on every command.
SILENCED_SYSTEM_CHECKS = ["models.W047"] if DATABASES["default"]["ENGINE"].endswith("sqlite3") else []

# --- Security ---------------------------------------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", str(PRODUCTION))
SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", str(PRODUCTION))
CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", str(PRODUCTION))
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0", minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", str(PRODUCTION))
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", str(PRODUCTION))
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(VAR_DIR / "static")))

# --- Storage ----------------------------------------------------------------------------------
FLEETWATCH_STORAGE_DIR = Path(envstr("FLEETWATCH_STORAGE_DIR", str(VAR_DIR / "storage")))
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(FLEETWATCH_STORAGE_DIR)},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "registry.auth.ServiceAccountTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}
SPECTACULAR_SETTINGS = {"TITLE": "Fleetwatch API", "VERSION": "1", "SERVE_INCLUDE_SCHEMA": False}

# --- Celery -----------------------------------------------------------------------------------
# Without a broker the checks run in-process (``manage.py run_checks``); ``memory://`` only keeps
# the Celery app importable. Time limits must stay below the broker's visibility timeout, or Redis
# would redeliver a task that is still legitimately running.
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "memory://")
CELERY_RESULT_BACKEND = envstr("CELERY_RESULT_BACKEND", "") or None
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = False  # opted into per task, only where a claim makes it idempotent
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
FLEETWATCH_VISIBILITY_TIMEOUT = envint("FLEETWATCH_VISIBILITY_TIMEOUT", "3600", minimum=10)
CELERY_TASK_TIME_LIMIT = envint("FLEETWATCH_TASK_TIME_LIMIT", "1800", minimum=5)
CELERY_TASK_SOFT_TIME_LIMIT = max(CELERY_TASK_TIME_LIMIT - 30, CELERY_TASK_TIME_LIMIT * 9 // 10)
if CELERY_TASK_TIME_LIMIT >= FLEETWATCH_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        f"FLEETWATCH_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT} must be below "
        f"FLEETWATCH_VISIBILITY_TIMEOUT={FLEETWATCH_VISIBILITY_TIMEOUT}"
    )
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": FLEETWATCH_VISIBILITY_TIMEOUT}

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
}

# --- Checks -----------------------------------------------------------------------------------
# A claimed run holds a lease. Ordering matters: the task's hard time limit ends an attempt before
# its lease runs out (so two attempts never both believe they hold it), and the lease runs out
# before Redis redelivers an unacknowledged message (so a redelivery after a crash finds it expired).
FLEETWATCH_CHECK_LEASE_SECONDS = envint(
    "FLEETWATCH_CHECK_LEASE_SECONDS",
    str((CELERY_TASK_TIME_LIMIT + FLEETWATCH_VISIBILITY_TIMEOUT) // 2),
    minimum=6,
)
if not CELERY_TASK_TIME_LIMIT < FLEETWATCH_CHECK_LEASE_SECONDS < FLEETWATCH_VISIBILITY_TIMEOUT:
    raise ImproperlyConfigured(
        f"FLEETWATCH_CHECK_LEASE_SECONDS={FLEETWATCH_CHECK_LEASE_SECONDS} must lie between "
        f"FLEETWATCH_TASK_TIME_LIMIT={CELERY_TASK_TIME_LIMIT} and "
        f"FLEETWATCH_VISIBILITY_TIMEOUT={FLEETWATCH_VISIBILITY_TIMEOUT}"
    )
# A run left ``scheduled`` this long is enqueued again by the reconciler (its message may be lost).
FLEETWATCH_CHECK_REQUEUE_AFTER_SECONDS = envint("FLEETWATCH_CHECK_REQUEUE_AFTER_SECONDS", "900", minimum=1)
# A window still unchecked this long after its deadline is recorded as ``missed``.
FLEETWATCH_CHECK_MISSED_HORIZON_HOURS = envint("FLEETWATCH_CHECK_MISSED_HORIZON_HOURS", "168", minimum=1)
# A version's first sweep schedules the windows of at most this many days back (then every
# window, in order): onboarding a model that has served for years files no years of missed runs.
FLEETWATCH_CHECK_FIRST_LOOKBACK_DAYS = envint("FLEETWATCH_CHECK_FIRST_LOOKBACK_DAYS", "31", minimum=1)
FLEETWATCH_SWEEP_QUEUE = envstr("FLEETWATCH_SWEEP_QUEUE", "sweep")
FLEETWATCH_CHECKS_QUEUE = envstr("FLEETWATCH_CHECKS_QUEUE", "checks")
# Defaults for the beat schedules that ``install_schedules`` creates; the admin edits them after.
FLEETWATCH_SWEEP_CRONTAB = envstr("FLEETWATCH_SWEEP_CRONTAB", "15 2 * * *")
if len(FLEETWATCH_SWEEP_CRONTAB.split()) != 5:
    raise ImproperlyConfigured(
        f"FLEETWATCH_SWEEP_CRONTAB={FLEETWATCH_SWEEP_CRONTAB!r} needs five fields: "
        "minute hour day-of-month month day-of-week"
    )
FLEETWATCH_RECONCILE_EVERY_SECONDS = envint("FLEETWATCH_RECONCILE_EVERY_SECONDS", "120", minimum=5)
# How often a worker looks for deliveries whose worker died (unacknowledged past the visibility
# timeout) and puts them back on their queue; kombu's default scans only every ~100 s.
FLEETWATCH_UNACKED_RESTORE_SECONDS = envint("FLEETWATCH_UNACKED_RESTORE_SECONDS", "60", minimum=1)
CELERY_BROKER_TRANSPORT_OPTIONS.update(
    unacked_restore_interval=FLEETWATCH_UNACKED_RESTORE_SECONDS, unacked_restore_throttle=1
)
CELERY_TASK_ROUTES = {
    "checks.fleet_sweep": {"queue": FLEETWATCH_SWEEP_QUEUE},
    "checks.reconcile": {"queue": FLEETWATCH_SWEEP_QUEUE},
    "checks.run_execute": {"queue": FLEETWATCH_CHECKS_QUEUE},
}

# --- Data plane ---
# Ingestion limits (a model may lower or raise them with a monitors.IngestLimits row).
FLEETWATCH_INGEST_MAX_ROWS = envint("FLEETWATCH_INGEST_MAX_ROWS", "5000000", minimum=1)
FLEETWATCH_INGEST_MAX_BYTES = envint("FLEETWATCH_INGEST_MAX_BYTES", str(2 * 1024**3), minimum=1)
# Timestamps later than now + this are refused as future timestamps (clock skew allowance).
FLEETWATCH_INGEST_FUTURE_TOLERANCE_SECONDS = envint(
    "FLEETWATCH_INGEST_FUTURE_TOLERANCE_SECONDS", "300", minimum=0
)
# Production batches name the serving model version of each row in this column.
FLEETWATCH_VERSION_LABEL_COLUMN = envstr("FLEETWATCH_VERSION_LABEL_COLUMN", "model_version")
# Rows whose version label was not the champion or a challenger at their timestamp: refuse the
# batch, or accept it flagged; either way an inventory exception is listed.
FLEETWATCH_UNKNOWN_VERSION_POLICY = envchoice(
    "FLEETWATCH_UNKNOWN_VERSION_POLICY", "refuse", ("refuse", "flag")
)
# A label for a record not seen yet waits this long for it, then is reported as an orphan.
FLEETWATCH_LABEL_PARK_HOURS = envint("FLEETWATCH_LABEL_PARK_HOURS", "720", minimum=1)
# Stored files without a batch row are removed only when older than this; it must exceed the
# longest ingest, so that a file written but not yet committed is never taken for an orphan.
FLEETWATCH_ORPHAN_GRACE_HOURS = envint("FLEETWATCH_ORPHAN_GRACE_HOURS", "24", minimum=1)
# The reference artefact built beside each reference profile: a seeded subsample of this many
# reference rows, and every holdout row up to this cap (over it, a seeded sample of the cap).
FLEETWATCH_REFERENCE_SUBSAMPLE_ROWS = envint("FLEETWATCH_REFERENCE_SUBSAMPLE_ROWS", "5000", minimum=1)
FLEETWATCH_REFERENCE_HOLDOUT_CAP = envint("FLEETWATCH_REFERENCE_HOLDOUT_CAP", "200000", minimum=1)
# Batches and reference profiles: local disk (temp file, fsync, rename) or an S3-compatible bucket.
FLEETWATCH_S3_BUCKET = envstr("FLEETWATCH_S3_BUCKET", "")
if FLEETWATCH_S3_BUCKET:
    STORAGES["batches"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": FLEETWATCH_S3_BUCKET,
            "location": envstr("FLEETWATCH_S3_PREFIX", ""),
            "endpoint_url": envstr("FLEETWATCH_S3_ENDPOINT_URL", "") or None,
            "region_name": envstr("FLEETWATCH_S3_REGION", "") or None,
            "access_key": envstr("FLEETWATCH_S3_ACCESS_KEY_ID", "") or None,
            "secret_key": envstr("FLEETWATCH_S3_SECRET_ACCESS_KEY", "") or None,
            "file_overwrite": True,  # names are content hashes: the same name is the same bytes
            "default_acl": None,
        },
    }
else:
    STORAGES["batches"] = {
        "BACKEND": "monitors.storage.DurableFileSystemStorage",
        "OPTIONS": {"location": str(FLEETWATCH_STORAGE_DIR)},
    }
