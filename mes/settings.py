"""Django settings for the MES.

Everything that differs between a laptop demo and a plant deployment comes from environment
variables (see mes/env.py and README). The defaults run with no servers: a SQLite file and a
filesystem message broker. Set DATABASE_URL and REDIS_URL to use PostgreSQL and Redis.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from mes.dburl import database_url_parse
from mes.env import env_bool, env_int, env_list, env_str, env_timezone, env_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("MES_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("MES_REQUIRE_SECRET_KEY", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production.")
    # A fixed development key: `make run` and the tests need no configuration. Production sets
    # SECRET_KEY (and MES_REQUIRE_SECRET_KEY=1 in docker-compose makes its absence fatal).
    SECRET_KEY = "dev-insecure-mes-key-change-me-0123456789abcdefghijklmnopqrstuvwxyz"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]", "testserver"])
# Load balancers whose X-Forwarded-For is believed (addresses or networks): the audit trail then records
# the client's address instead of the balancer's (mes/clientaddr.py). Empty: the header is ignored.
MES_TRUSTED_PROXIES = env_list("MES_TRUSTED_PROXIES", [])
for _proxy in MES_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"MES_TRUSTED_PROXIES: {_proxy!r} is not an address or network.") from _exc
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "simple_history",
    "guardian",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "mes",
    "audit",
    "materials",
    "equipment",
    "orders",
    "batches",
    "quality",
    "administration",
    "integrations",
    "reports",
    "validation",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "mes.middleware.RequestContextMiddleware",
    # /api/ errors outside the API views (unknown URL, unexpected exception) as problem+json.
    "integrations.api.problems.ApiProblemMiddleware",
    # Outside every middleware that redirects to log in (session ended, second factor, password change).
    "mes.middleware.HtmxRedirectMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "mes.middleware.IdleTimeoutMiddleware",
    "administration.otp.SecondFactorMiddleware",
    "administration.password_change.PasswordChangeRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, so its view hook runs after the session and the user were read (from the primary).
    "mes.dbrouting.ReplicaRoutingMiddleware",
]

ROOT_URLCONF = "mes.urls"
WSGI_APPLICATION = "mes.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "mes.context_processors.navigation",
                "administration.context_processors.administration",
            ],
            # Same output as Django's truncatechars and date, less CPU on list pages (see the module).
            "builtins": ["mes.templatetags.fast_filters", "mes.templatetags.units"],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_url(
    "DATABASE_URL",
    f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
    schemes=("sqlite", "postgres", "postgresql", "pgsql"),
)
DATABASES = {
    "default": database_url_parse(
        DATABASE_URL,
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0),
        # A persistent connection is checked before a request reuses it: after a database restart the
        # first request of each process reconnects instead of failing on the dead connection.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # IMMEDIATE transactions take SQLite's write lock at BEGIN, so the audit chain head is
    # serialised on SQLite as SELECT ... FOR UPDATE serialises it on PostgreSQL.
    DATABASES["default"]["OPTIONS"] = {"transaction_mode": "IMMEDIATE", "timeout": 20}
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # The embedded demo database cannot hold "unique, nulls distinct" constraints (equipment capture
    # alerts); PostgreSQL, the production database, enforces them.
    SILENCED_SYSTEM_CHECKS = ["models.W047"]
# django-guardian checks that its backend is listed by its own dotted path; the backend listed below
# is a subclass of it (answers from a per-request map: mes/permcache.py).
SILENCED_SYSTEM_CHECKS = [*globals().get("SILENCED_SYSTEM_CHECKS", []), "guardian.W001"]
# Least privilege (issue 15): the application connects with DATABASE_URL as the runtime role, which owns
# nothing and is not superuser; migrations run as the owner role given by DATABASE_OWNER_URL (same
# database). Without it (SQLite, a single-role development database) migrations use DATABASE_URL.
DATABASE_OWNER_URL = env_str("DATABASE_OWNER_URL", "")
MES_DB_OWNER: dict = {}
if DATABASE_OWNER_URL:
    env_url("DATABASE_OWNER_URL", DATABASE_OWNER_URL, schemes=("postgres", "postgresql", "pgsql"))
    _owner = database_url_parse(DATABASE_OWNER_URL)
    MES_DB_OWNER = {key: _owner[key] for key in ("USER", "PASSWORD", "HOST", "PORT")}
# Streaming replica (docs/deployment.md, mes/dbrouting.py): pages marked read-only read from it while its
# replay lag is below the bound and the browser wrote nothing in the last seconds; absent, everything
# reads the primary. Tests mirror it onto the test database.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL", "")
MES_REPLICA_MAX_LAG_SECONDS = env_int("MES_REPLICA_MAX_LAG_SECONDS", 5, minimum=0, maximum=3600)
MES_REPLICA_LAG_CHECK_SECONDS = env_int("MES_REPLICA_LAG_CHECK_SECONDS", 1, minimum=0, maximum=60)
MES_REPLICA_RETRY_SECONDS = env_int("MES_REPLICA_RETRY_SECONDS", 10, minimum=0, maximum=3600)
MES_READ_YOUR_WRITES_SECONDS = env_int("MES_READ_YOUR_WRITES_SECONDS", 10, minimum=1, maximum=3600)
# Answers name the database a read-only page read from (X-MES-Read-From): for the drills, off by default.
MES_DB_ROUTING_HEADER = env_bool("MES_DB_ROUTING_HEADER", False)
if DATABASE_REPLICA_URL:
    env_url("DATABASE_REPLICA_URL", DATABASE_REPLICA_URL, schemes=("postgres", "postgresql", "pgsql"))
    DATABASES["replica"] = database_url_parse(
        DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"], conn_health_checks=True
    )
    # A stopped replica must cost a request one short wait, not the default connect timeout.
    DATABASES["replica"]["OPTIONS"] = {"connect_timeout": 2}
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["mes.dbrouting.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication and sessions ------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "mes.auth_backends.LockoutAwareBackend",
    "mes.auth_backends.ObjectPermissionBackend",
]
# Argon2id first (mes/hashers.py: a password is checked at every signature); older hashes still verify
# and are upgraded at the next log-in.
PASSWORD_HASHERS = [
    "mes.hashers.PlantArgon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Failed log-ins (and failed signature attempts) in a row before the account is locked.
MES_LOCKOUT_THRESHOLD = env_int("MES_LOCKOUT_THRESHOLD", 5, minimum=1, maximum=20)
# Minutes without activity after which a session is ended.
MES_IDLE_TIMEOUT_MINUTES = env_int("MES_IDLE_TIMEOUT_MINUTES", 15, minimum=1, maximum=480)
# Django's database sessions, read with one plain statement per request (mes/sessions.py).
SESSION_ENGINE = "mes.sessions"
SESSION_COOKIE_AGE = 12 * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("MES_HTTPS", False):
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("MES_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("MES_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content security policy (django-csp): scripts, styles, images and fonts only from this server; no
# inline scripts, no eval, no framing, forms post only here.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# The deployment defaults of controlled parameters (mes.config): the database value approved by
# change control wins once there is one. MES_CONFIG_MODEL holds the approved values (the foundation
# names it, like AUTH_USER_MODEL, rather than importing the app that keeps it under change control).
MES_CONFIG_MODEL = "administration.ConfigParameter"
MES_ALERT_THRESHOLD = env_int("MES_ALERT_THRESHOLD", 3, minimum=1, maximum=20)
MES_SIGNATURE_FULL_FIRST = env_bool("MES_SIGNATURE_FULL_FIRST", True)
MES_RETENTION_YEARS = env_int("MES_RETENTION_YEARS", 5, minimum=5, maximum=50)
MES_BACKUP_RETENTION_DAYS = env_int("MES_BACKUP_RETENTION_DAYS", 30, minimum=1, maximum=3650)
MES_TOTP_ROLES = env_str("MES_TOTP_ROLES", "")  # e.g. "admin,qa": these roles need a second factor
OTP_TOTP_ISSUER = env_str("MES_OTP_ISSUER", "Pharma MES")

GUARDIAN_RAISE_403 = True
ANONYMOUS_USER_NAME = None

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = env_str("MES_LANGUAGE", "en")
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"MES_LANGUAGE={LANGUAGE_CODE!r} must be one of {', '.join(dict(LANGUAGES))}.")
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True  # stored in UTC
TIME_ZONE = env_timezone("MES_TIME_ZONE", "Asia/Shanghai")  # shown in plant time

# --- Static and stored files ----------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = Path(env_str("MES_MEDIA_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or env_bool("MES_PLAIN_STATIC", True)
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

# --- Audit trail ----------------------------------------------------------------------------
# The witness: signed checkpoints of the chain head, appended outside the database (a separate volume
# in production) at least every MES_AUDIT_CHECKPOINT_SECONDS. A tail removed from the trail is at most
# that long; verification fails when the witness is missing or its signatures do not hold.
MES_AUDIT_CHECKPOINT_FILE = Path(env_str("MES_AUDIT_CHECKPOINT_FILE", str(VAR_DIR / "audit-checkpoints.jsonl")))
# Writes the database refused, recorded outside the caller's transaction (audit.refusals).
MES_AUDIT_REFUSAL_FILE = Path(env_str("MES_AUDIT_REFUSAL_FILE", str(VAR_DIR / "audit-refusals.jsonl")))
MES_AUDIT_CHECKPOINT_SECONDS = env_int("MES_AUDIT_CHECKPOINT_SECONDS", 60, minimum=10, maximum=3600)
# The key ring that keys the chain (HMAC-SHA-256) and signs the checkpoints: a file outside the database
# ({"current": id, "keys": {id: hex}}), or MES_AUDIT_KEYS="id:hex,id:hex" (the first is current). A file
# is created with a new key when neither exists and MES_REQUIRE_AUDIT_KEY is off (development).
MES_AUDIT_KEY_FILE = Path(env_str("MES_AUDIT_KEY_FILE", str(VAR_DIR / "audit-keys.json")))
MES_AUDIT_KEYS = env_str("MES_AUDIT_KEYS", "")
MES_REQUIRE_AUDIT_KEY = env_bool("MES_REQUIRE_AUDIT_KEY", False)
# The audited save's statements and the key lookups every operator request makes are prepared on the
# PostgreSQL server (audit.prepared); turn off behind a connection pooler in transaction mode that
# cannot keep prepared statements. (MES_AUDIT_PREPARED_STATEMENTS is the earlier name of the switch.)
MES_PREPARED_STATEMENTS = env_bool("MES_PREPARED_STATEMENTS", env_bool("MES_AUDIT_PREPARED_STATEMENTS", True))

# --- Backups and archives (SEC-5, BAT-4) ---------------------------------------------------------
MES_BACKUP_DIR = Path(env_str("MES_BACKUP_DIR", str(VAR_DIR / "backups")))
MES_ARCHIVE_DIR = Path(env_str("MES_ARCHIVE_DIR", str(VAR_DIR / "archives")))
# A backup older than this many hours makes the system status page warn.
MES_BACKUP_MAX_AGE_HOURS = env_int("MES_BACKUP_MAX_AGE_HOURS", 26, minimum=1)

# --- E-mail (security alerts to administrators) ------------------------------------------------
# Until a mail relay is configured, e-mails are written as files under var/mail/, never to the console:
# a message may carry a temporary password or a report, and console output ends up in logs.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
EMAIL_FILE_PATH = Path(env_str("EMAIL_FILE_PATH", str(VAR_DIR / "mail")))
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "mes@localhost")

# --- Cache: shared (Redis) when configured, so approved configuration reaches every process ----
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Celery ---------------------------------------------------------------------------------
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    env_url("REDIS_URL", REDIS_URL, schemes=("redis", "rediss"))
    CELERY_BROKER_URL = REDIS_URL
    CACHES = {"default": {"BACKEND": "mes.cache.PlantRedisCache", "LOCATION": REDIS_URL}}
    # acks_late: a task stays "unacked" in Redis until it finished. If its worker dies (kill -9, power
    # cut), the message is handed out again once it is older than the visibility timeout; each worker
    # sweeps for such messages every restore interval. A task running or waiting (countdown/ETA) longer
    # than the timeout would be handed out twice: tasks are idempotent, so that costs work, not data.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": env_int("MES_BROKER_VISIBILITY_TIMEOUT", 3600, minimum=5),
        "unacked_restore_interval": env_int("MES_BROKER_RESTORE_INTERVAL", 10, minimum=1),
        "unacked_restore_throttle": 1,  # scan on every sweep (kombu's default scans every 10th: 100 s)
        "socket_connect_timeout": 3,  # a web request never hangs on a broker that is down
    }
else:
    # An embedded broker that needs no server: messages are files under var/broker.
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        # Exchange bindings; kombu's default is ./control, relative to wherever the process started.
        "control_folder": str(_broker_dir / "control"),
    }
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
# One queue per external system (integrations/routing.py); each needs its own worker
# (`celery -A mes worker -Q integration.erp`, see docker-compose.scale.yml and docs/deployment.md).
if env_bool("MES_CELERY_QUEUE_PER_INTEGRATION", False):
    CELERY_TASK_ROUTES = ("integrations.routing.route_task",)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
CELERY_BEAT_LOCK_KEY = "mes:beat:lock"
CELERY_BEAT_SCHEDULER = "mes.beat:SingleBeatScheduler"
CELERY_BEAT_SCHEDULE = {
    "audit-checkpoint": {"task": "audit.tasks.audit_checkpoint", "schedule": float(MES_AUDIT_CHECKPOINT_SECONDS)},
    "beat-heartbeat": {"task": "mes.tasks.heartbeat", "schedule": 60.0},
    # Integrations: re-queue due outbox messages (nothing is lost if a queued task was), pull ERP plans.
    "integrations-outbox-sweep": {
        "task": "integrations.tasks.outbox_sweep",
        "schedule": float(env_int("MES_OUTBOX_SWEEP_SECONDS", 10, minimum=1)),
    },
    "integrations-erp-plan-pull": {
        "task": "integrations.erp.tasks.erp_plans_pull",
        "schedule": float(env_int("MES_ERP_PULL_SECONDS", 900, minimum=10)),
    },
    "equipment-opcua-poll": {"task": "equipment.tasks.poll_opcua", "schedule": 1.0, "options": {"expires": 5}},
    "equipment-pm-work-orders": {"task": "equipment.tasks.pm_generate_work_orders", "schedule": 900.0},
    # Machine readings: next months' partitions ahead of time (PostgreSQL; idempotent).
    "equipment-reading-partitions": {"task": "equipment.tasks.reading_partitions_ensure", "schedule": 6 * 3600.0},
    "backup-daily": {"task": "administration.tasks.backup_run", "schedule": 24 * 3600.0},
    # Sends every report subscription that is due (REP-3); the due time is in the database.
    "reports-subscriptions": {"task": "reports.tasks.subscriptions_run_due", "schedule": 300.0},
}

# --- Integrations (ERP, LIMS, QMS, WMS, MQTT) and the REST API ------------------------------
# Each external system: base URL (empty = not connected; its messages wait in the outbox),
# API token we present, request time-out in seconds.
MES_INTEGRATIONS = {
    system: {
        "base_url": env_str(f"MES_{system.upper()}_URL", ""),
        "token": env_str(f"MES_{system.upper()}_TOKEN", ""),
        "timeout": float(env_int(f"MES_{system.upper()}_TIMEOUT", 10, minimum=1, maximum=300)),
    }
    for system in ("erp", "lims", "qms", "wms")
}
MES_OUTBOX_MAX_ATTEMPTS = env_int("MES_OUTBOX_MAX_ATTEMPTS", 10, minimum=1, maximum=100)
MES_OUTBOX_BACKOFF_SECONDS = env_int("MES_OUTBOX_BACKOFF_SECONDS", 5, minimum=1)
MES_OUTBOX_BACKOFF_MAX_SECONDS = env_int("MES_OUTBOX_BACKOFF_MAX_SECONDS", 3600, minimum=1)
MES_OUTBOX_BATCH = env_int("MES_OUTBOX_BATCH", 100, minimum=1, maximum=1000)
# A delivery claim lasts the longest one request can take (from the system's time-out) plus this.
MES_OUTBOX_LEASE_MARGIN_SECONDS = env_int("MES_OUTBOX_LEASE_MARGIN_SECONDS", 30, minimum=1, maximum=3600)
# A machine reading whose source time is ahead of its receipt by more than this is stored flagged
# ("source clock ahead") and raises one clock alert per equipment; it is never dropped.
MES_CAPTURE_CLOCK_TOLERANCE_SECONDS = env_int("MES_CAPTURE_CLOCK_TOLERANCE_SECONDS", 5, minimum=0)
MES_MQTT = {
    "host": env_str("MES_MQTT_HOST", "127.0.0.1"),
    "port": env_int("MES_MQTT_PORT", 1883, minimum=1, maximum=65535),
    "username": env_str("MES_MQTT_USERNAME", ""),
    "password": env_str("MES_MQTT_PASSWORD", ""),
    "topic_prefix": env_str("MES_MQTT_TOPIC_PREFIX", "plant"),
}
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "integrations.api.auth.IntegrationTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "integrations.api.pagination.BoundedLimitOffsetPagination",
    # Strict JSON: NaN, Infinity, 1e999, lone surrogates and deep nesting are refused (400), not 500s.
    "DEFAULT_PARSER_CLASSES": [
        "integrations.api.parsers.StrictJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "PAGE_SIZE": 50,
    "EXCEPTION_HANDLER": "integrations.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Pharma MES API",
    "DESCRIPTION": "Orders, batches, materials, quality and equipment for ERP, LIMS, QMS and WMS.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",  # vendored assets: no CDN
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "integrations.api.schema.problem_json_errors",
    ],
    # Several records have a "status": each enum gets its own name in the schema.
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "orders.models.OrderStatus",
        "BatchStatusEnum": "batches.models.BatchStatus",
        "LotStatusEnum": "materials.models.LotStatus",
        "OutboxStatusEnum": "integrations.models.OutboxStatus",
        "InboxStatusEnum": "integrations.models.InboxStatus",
        "InspectionStatusEnum": "quality.models.inspections.InspectionStatus",
        "DeviationStatusEnum": "quality.models.deviations.DeviationStatus",
        "CAPAStatusEnum": "quality.models.deviations.CAPAStatus",
    },
}

# --- Logging --------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    # httpx logs every request at INFO: the outbox records each delivery itself.
    # Libraries that narrate every step at INFO (WeasyPrint: one line per PDF page) speak up only on trouble.
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "httpx": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# Django's default: a page's messages ride in a signed cookie (the session only when they do not fit),
# so an operator's action and the page after it do not each write the session row.
MESSAGE_STORAGE = "django.contrib.messages.storage.fallback.FallbackStorage"

# --- Weigh & dispense (issue 19) ------------------------------------------------------------------
# The network label printer for dispensed containers' ZPL labels (raw TCP, port 9100 by convention);
# `make run` starts a printer simulator there. Empty: no printer, labels are printed as PDF only.
MES_LABEL_PRINTER = env_str("MES_LABEL_PRINTER", "127.0.0.1:9100")
# The dispensing booth offers "put material on the pan" buttons for simulated balances (demo only).
MES_BALANCE_SIMULATOR_CONTROLS = env_bool("MES_BALANCE_SIMULATOR_CONTROLS", False)
