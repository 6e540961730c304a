"""Settings for the working-group platform, read from the environment.

With no variable set this is the embedded default: SQLite in the project folder, e-mail written
to files under ``var/mail``, an in-process cache, and Celery on a filesystem broker so that a
worker with an embedded beat runs the scheduled jobs without any server. ``DATABASE_URL`` and
``REDIS_URL`` switch to PostgreSQL and Redis; ``DJANGO_ENV=production`` turns on the production
hardening and refuses to start without a strong ``DJANGO_SECRET_KEY``.
"""

from __future__ import annotations

from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be 'development', 'production' or 'test', not {DJANGO_ENV!r}."
    )
PRODUCTION = DJANGO_ENV == "production"
if not PRODUCTION:
    # The embedded default keeps its mail, broker queue and beat schedule here.
    VAR_DIR.mkdir(exist_ok=True)

# --- Secret key -------------------------------------------------------------------------------

_DEV_SECRET_KEY = "development-only-key-never-used-in-production-3f9a1c7e5b2d8046"  # noqa: S105


def _require_strong_secret_key(value: str) -> str:
    """Refuse to start production with a missing or guessable key (same bar as check --deploy)."""
    if not value:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is not set. Production needs a secret key of at least 50 characters "
            "with at least 5 different characters, for example the output of "
            "`python -c 'import secrets; print(secrets.token_urlsafe(64))'`."
        )
    if len(value) < 50 or len(set(value)) < 5 or value.startswith("django-insecure-"):
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is too weak for production: it needs at least 50 characters and at "
            "least 5 different characters, and must not be a generated 'django-insecure-' key."
        )
    if value == _DEV_SECRET_KEY:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is the development key; set a secret one.")
    return value


if PRODUCTION:
    SECRET_KEY = _require_strong_secret_key(env.str("DJANGO_SECRET_KEY", default=""))
else:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY", default=_DEV_SECRET_KEY)

# Off unless asked for, so that `make run` shows people the real pages (friendly 404s included).
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    # Debug pages show settings, SQL and stack traces to anyone who triggers an error.
    raise ImproperlyConfigured(
        "DJANGO_DEBUG is on, and production never runs with Django's debug pages: they show "
        "settings, queries and stack traces to every visitor. Unset DJANGO_DEBUG (or set it to 0)."
    )

ALLOWED_HOSTS = env.list(
    "DJANGO_ALLOWED_HOSTS",
    default=[] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"],
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured(
        "DJANGO_ALLOWED_HOSTS is not set. Give the host names the site is served under, "
        "comma-separated, for example 'wg.example.org'."
    )

# --- Applications -----------------------------------------------------------------------------

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "guardian",
    "django_htmx",
    "import_export",
    "django_countries",
    # Our apps, in the one direction their imports run: each may import those above it.
    "asi_wg",
    "groups",
    "membership",
    "meetings",
    "feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "asi_wg.compression.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "asi_wg.tenancy.TenantMiddleware",
]

ROOT_URLCONF = "asi_wg.urls"
TENANT_ADMIN_URLCONF = "asi_wg.urls_tenant_admin"
WSGI_APPLICATION = "asi_wg.wsgi.application"

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
                "asi_wg.context_processors.tenant",
            ],
        },
    },
]

# --- Database, cache, broker ------------------------------------------------------------------

# An empty variable counts as unset, so `DATABASE_URL= make test` runs the embedded default.
DATABASES = {
    "default": env.db_url_config(
        env.str("DATABASE_URL", default="") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}"
    ),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process and the embedded worker share the file.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "init_command": "PRAGMA journal_mode=WAL;", "transaction_mode": "IMMEDIATE"}
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DATABASE_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's, with a health check that asks the server only when its socket has
        # something to say (asi_wg/postgresql/base.py).
        DATABASES["default"]["ENGINE"] = "asi_wg.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    # Behind PgBouncer in transaction pooling, a server-side cursor would outlive the
    # transaction that made it: set this, and DATABASE_CONN_MAX_AGE=0 (the pooler keeps them).
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = env.bool(
        "DATABASE_DISABLE_SERVER_SIDE_CURSORS", default=False
    )
    # Prepared statements: PostgreSQL plans a query once per connection, not on every request
    # (the triage's main query took 4.6 ms to plan and 1.6 ms to run). psycopg prepares a query
    # on its fifth run on a connection; that needs parameters bound by the server. Turn it off
    # behind a pooler that cannot keep prepared statements (PgBouncer in transaction pooling
    # before 1.21, or without max_prepared_statements).
    if env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
        DATABASES["default"]["OPTIONS"]["server_side_binding"] = True
        DATABASES["default"]["OPTIONS"].setdefault("prepare_threshold", 5)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")

if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "asi_wg.redis_cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "asi_wg",
            "OPTIONS": {"socket_connect_timeout": 3, "socket_timeout": 3},
        }
    }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_RESULT_BACKEND = REDIS_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    # A broker that needs no server: messages are files under var/celery, shared by the web
    # process that queues them and the worker that runs them.
    # kombu's transport, writing each message whole before a worker can take it (asi_wg.broker).
    CELERY_BROKER_URL = "filesystem://"
    _celery_dir = Path(env.str("CELERY_FILESYSTEM_DIR", default=str(VAR_DIR / "celery")))
    if not PRODUCTION:
        # kombu's filesystem transport expects its folders to exist.
        for _folder in ("queue", "processed", "control"):
            (_celery_dir / _folder).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_celery_dir / "queue"),
        "data_folder_out": str(_celery_dir / "queue"),
        "processed_folder": str(_celery_dir / "processed"),
        "control_folder": str(_celery_dir / "control"),
        "store_processed": False,
    }
    CELERY_RESULT_BACKEND = None

# The tenant's row and its public pages' fragments are cached (asi_wg.caching) only where every
# process shares the cache: a write in the worker or another web process must reach them all.
# The embedded default's in-process cache is not shared with its worker.
TENANT_CACHE = env.bool("TENANT_CACHE", default=bool(REDIS_URL))

# Sessions are read from the shared cache and written through to the database: one query less on
# every signed-in request, and a flushed or restarted Redis signs nobody out. Not with the
# embedded default's in-process cache, which the worker and other web processes do not share.
if TENANT_CACHE:
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# Each signed-in person's pages are served from the shared cache until a write to what they may
# show (asi_wg.pagecache), and for this many seconds at most: what changes with time alone (a
# deadline passing) shows within it. 0 turns it off; it is off without TENANT_CACHE.
PAGE_CACHE_SECONDS = env.int("PAGE_CACHE_SECONDS", default=60)

CELERY_TIMEZONE = "UTC"
# Acknowledged on receipt by default: a task that a lost worker was running is not run again.
# Each idempotent task asks for acks_late and reject_on_worker_lost itself (see the tasks.py
# files), so only a job that is safe to run twice is ever redelivered.
CELERY_TASK_ACKS_LATE = False
# No job may hang a worker for ever. The soft limit raises SoftTimeLimitExceeded inside the task
# (which can clean up and retry); the hard limit kills the worker process a little later.
# Time limits need the prefork pool (the default); `make run`'s solo pool does not enforce them.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=CELERY_TASK_SOFT_TIME_LIMIT + 60)
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default=str(VAR_DIR / "celerybeat-schedule")
)
CELERY_BEAT_SCHEDULE = {
    "scheduler-heartbeat": {
        "task": "asi_wg.tasks.scheduler_heartbeat",
        "schedule": env.float("CELERY_HEARTBEAT_SECONDS", default=60.0),
    },
    "offers-expire": {
        "task": "membership.tasks.offers_expire_all",
        "schedule": env.float("CELERY_OFFER_EXPIRY_SECONDS", default=300.0),
    },
    "phase-status-refresh": {
        "task": "groups.tasks.phase_status_refresh_all",
        "schedule": crontab(minute="5"),
    },
    # Meeting reminders, published materials, missing attendance (idempotent: meetings.jobs).
    "meeting-jobs-due": {
        "task": "meetings.tasks.meeting_jobs_due",
        "schedule": env.float("CELERY_MEETING_JOBS_SECONDS", default=600.0),
    },
    # Feedback rounds opening by the clock, and the reminders before they close (feedback.jobs).
    "feedback-jobs-due": {
        "task": "feedback.tasks.feedback_jobs_due",
        "schedule": env.float("CELERY_FEEDBACK_JOBS_SECONDS", default=600.0),
    },
}

# --- Authentication ---------------------------------------------------------------------------

AUTH_USER_MODEL = "asi_wg.User"
# Django's and allauth's, each reading a session's account with a query compiled once.
AUTHENTICATION_BACKENDS = [
    "asi_wg.auth_backends.ModelBackend",
    "asi_wg.auth_backends.AuthenticationBackend",
    "guardian.backends.ObjectPermissionBackend",
]
# Users have no username, and anonymous access needs no guardian user row.
ANONYMOUS_USER_NAME = None
GUARDIAN_RAISE_403 = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# A literal path, not a URL name: tenant admin pages reverse against their own URLconf.
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
ACCOUNT_LOGOUT_REDIRECT_URL = "/"

ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = env.str(
    "ACCOUNT_EMAIL_VERIFICATION", default="mandatory" if PRODUCTION else "optional"
)
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Working groups] "
ACCOUNT_PRESERVE_USERNAME_CASING = False
# allauth keeps these counters in the cache: Redis in production, so all workers share them.
# Per address: 5 failures in 5 minutes lock that account's sign-in; per IP a wider bucket, since a
# Member's office may sign in many people from one address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "20/5m/ip,5/5m/key",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "confirm_email": "1/3m/key",
}

# --- Proxies ----------------------------------------------------------------------------------

# One setting says whether a proxy is in front: the number of proxies the deployment controls
# (0: none, the default). X-Forwarded-For and X-Forwarded-Proto are client-supplied headers, so
# they are trusted only then: anyone reaching the app directly could otherwise pick the address
# the sign-in rate limit counts against, or make a plain-HTTP request pass for HTTPS.
if "ALLAUTH_TRUSTED_PROXY_COUNT" in env:
    raise ImproperlyConfigured(
        "ALLAUTH_TRUSTED_PROXY_COUNT is no longer read: set DJANGO_TRUSTED_PROXY_COUNT instead "
        "(the number of proxies in front of the app; it also decides whether X-Forwarded-Proto "
        "is trusted)."
    )
TRUSTED_PROXY_COUNT = env.int("DJANGO_TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("DJANGO_TRUSTED_PROXY_COUNT must be 0 (no proxy) or more.")
# allauth counts sign-in failures per client address: the address the nearest trusted proxy saw.
ALLAUTH_TRUSTED_PROXY_COUNT = TRUSTED_PROXY_COUNT
if TRUSTED_PROXY_COUNT:
    # The proxy terminates HTTPS and says so; it must overwrite (not pass on) this header.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- E-mail -----------------------------------------------------------------------------------

DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Working groups <no-reply@wg.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# E-mails link back to the site with absolute URLs built on this (no request to take it from).
SITE_URL = env.str(
    "SITE_URL",
    default=f"https://{ALLOWED_HOSTS[0].lstrip('.')}" if PRODUCTION else "http://127.0.0.1:8000",
)
if env.str("EMAIL_URL", default=""):
    vars().update(env.email_url("EMAIL_URL"))
elif PRODUCTION:
    raise ImproperlyConfigured(
        "EMAIL_URL is not set. Production sends e-mail over SMTP, for example "
        "'smtp+tls://user:password@smtp.example.org:587'."
    )
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = str(VAR_DIR / "mail")
# Seconds any one network operation with the mail server may take: a server that accepts the
# connection and never answers makes the send fail, and the job retry, instead of hanging.
EMAIL_TIMEOUT = env.float("EMAIL_TIMEOUT", default=20.0)
# The e-mail job's own limits: a few slow exchanges with the server, then it gives up and retries.
EMAIL_TASK_SOFT_TIME_LIMIT = env.int("EMAIL_TASK_SOFT_TIME_LIMIT", default=int(EMAIL_TIMEOUT * 3))
EMAIL_TASK_TIME_LIMIT = env.int("EMAIL_TASK_TIME_LIMIT", default=EMAIL_TASK_SOFT_TIME_LIMIT + 30)
# How long a notification's claim holds before another run may take it over: longer than the
# e-mail job's hard limit, so a claim is only ever taken from a worker that is gone.
NOTIFICATION_CLAIM_LEASE_SECONDS = env.int(
    "NOTIFICATION_CLAIM_LEASE_SECONDS", default=EMAIL_TASK_TIME_LIMIT + 60
)
if NOTIFICATION_CLAIM_LEASE_SECONDS <= EMAIL_TASK_TIME_LIMIT:
    raise ImproperlyConfigured(
        "NOTIFICATION_CLAIM_LEASE_SECONDS must be longer than EMAIL_TASK_TIME_LIMIT, or a "
        "notification still being sent could be sent a second time."
    )

# --- Internationalisation and time ------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media -------------------------------------------------------------------------

STATIC_URL = "/static/"
# collectstatic writes hashed names with gzip and brotli copies beside them (the production
# storage below); WhiteNoise serves those with a year's immutable cache headers.
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Reading materials: outside MEDIA_ROOT (which DEBUG serves), read only through a permission-
# checked view (meetings/storage.py).
PRIVATE_MEDIA_ROOT = Path(env.str("PRIVATE_MEDIA_ROOT", default=str(BASE_DIR / "var" / "private")))
# load_demo typesets the closed demo round's PDF summary (some 25 s); the test settings turn it
# off for every test but the ones about that file.
DEMO_PDF_SUMMARY = env.bool("DEMO_PDF_SUMMARY", default=True)
MATERIAL_MAX_BYTES = env.int("MATERIAL_MAX_BYTES", default=20 * 1024 * 1024)
# Outside production WhiteNoise serves straight from the source folders: no collectstatic needed.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# --- Import and export ------------------------------------------------------------------------

IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# A cell that starts with '=' is never written to a spreadsheet as a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

# --- Security ---------------------------------------------------------------------------------

SESSION_COOKIE_HTTPONLY = True
# No script of ours reads the CSRF cookie: every form carries the token in its hidden field.
CSRF_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    # The load balancer and the compose health check call /healthz over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=31536000)
    # Both commit every subdomain of the site's domain to HTTPS (preload for good: leaving the
    # browsers' list takes months), so only when the operator asks, knowing what else lives on
    # the domain. Preload implies subdomains: the list takes no policy without them.
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=False)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool(
        "DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=SECURE_HSTS_PRELOAD
    )
    if SECURE_HSTS_PRELOAD and not SECURE_HSTS_INCLUDE_SUBDOMAINS:
        raise ImproperlyConfigured(
            "DJANGO_HSTS_PRELOAD=1 with DJANGO_HSTS_INCLUDE_SUBDOMAINS=0: the HSTS preload list "
            "only takes sites whose policy covers every subdomain. Unset one of the two."
        )
    # check --deploy warns whenever these are off; off is the deliberate default here (above),
    # so its warnings are silenced exactly when the operator has not asked for them.
    SILENCED_SYSTEM_CHECKS = [
        *([] if SECURE_HSTS_INCLUDE_SUBDOMAINS else ["security.W005"]),
        *([] if SECURE_HSTS_PRELOAD else ["security.W021"]),
    ]
    CSRF_TRUSTED_ORIGINS = env.list(
        "DJANGO_CSRF_TRUSTED_ORIGINS", default=[f"https://{host}" for host in ALLOWED_HOSTS]
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Platform ---------------------------------------------------------------------------------

# First URL segments that can never be a tenant's slug.
RESERVED_SLUGS = frozenset(
    {"accounts", "admin", "healthz", "static", "media", "api", "i18n", "favicon.ico", "robots.txt"}
)
