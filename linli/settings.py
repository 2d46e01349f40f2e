"""Linli settings.

Defaults run the platform on one machine with SQLite and the SQLite huey queue, so a fresh
checkout just works. Production sets DATABASE_URL (PostgreSQL), REDIS_URL, SECRET_KEY and the
personal-data keys (see README, "Production").
"""

import datetime as dt
import os
import sys
from pathlib import Path

import environ

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("LINLI_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

env = environ.Env()
TESTING = "pytest" in sys.modules or os.environ.get("LINLI_TESTING") == "1"

DEBUG = env.bool("DEBUG", default=not env.str("DATABASE_URL", default=""))


def _local_secret(name: str, nbytes: int = 32) -> str:
    """A per-checkout random secret kept in var/ (never committed), for development only."""
    import secrets

    path = VAR_DIR / f"{name}.secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = env.str("SECRET_KEY", default="") or _local_secret("django")

# Personal data keys (AES-256-GCM), separate from SECRET_KEY. LINLI_DATA_KEYS holds
# "kid:base64key" pairs separated by commas; LINLI_DATA_KEY_ID names the one used to encrypt.
# LINLI_INDEX_KEY keys the HMAC blind index used for exact search.
LINLI_DATA_KEYS = env.str("LINLI_DATA_KEYS", default="")
LINLI_DATA_KEY_ID = env.str("LINLI_DATA_KEY_ID", default="")
LINLI_INDEX_KEY = env.str("LINLI_INDEX_KEY", default="")
if not LINLI_DATA_KEYS:
    import base64
    import hashlib

    # Development: derive a stable key from a local random file (var/, not committed).
    _dev = hashlib.sha256(("data:" + _local_secret("pii")).encode()).digest()
    LINLI_DATA_KEYS = "dev1:" + base64.b64encode(_dev).decode()
    LINLI_DATA_KEY_ID = "dev1"
if not LINLI_INDEX_KEY:
    LINLI_INDEX_KEY = _local_secret("pii-index")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "treebeard",
    "auditlog",
    "rules.apps.AutodiscoverRulesConfig",
    "huey.contrib.djhuey",
    "axes",
    # The apps, from the bottom layer up (ARCHITECTURE.md): the demo city is built in this order.
    "linli",
    "accounts",
    "regions",
    "registry",
    "insights",
    "workorders",
    "mediation",
    "fieldwork",
    "api",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "linli.middleware.ChineseFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last: turns a refused sign-in of a locked account or address into its answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "linli.urls"
WSGI_APPLICATION = "linli.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    # First: refuses a sign-in while its user name or address is locked (django-axes).
    "axes.backends.AxesStandaloneBackend",
    "rules.permissions.ObjectPermissionBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "web.context.navigation",
            ],
        },
    },
]

# Database: SQLite (WAL, immediate transactions, busy timeout) unless DATABASE_URL is set.
_sqlite_path = VAR_DIR / "linli.sqlite3"
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{_sqlite_path}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Reads go through a memory map of the whole file (up to SQLite's 2 GB limit): a search
    # that lands on rows no request has read yet costs page faults, not a read() per page (the
    # slowest searches of a big city; bench/NOTES.md). The mapped pages are the operating
    # system's file cache, shared by every process.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
            " PRAGMA cache_size=-64000; PRAGMA mmap_size=2147418112;"
        ),
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = env.bool("CONN_HEALTH_CHECKS", default=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": "linli",
        "url": REDIS_URL,
        "immediate": TESTING,
        "consumer": {"workers": env.int("HUEY_WORKERS", default=2), "worker_type": "thread"},
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": "linli",
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": TESTING,
        "consumer": {"workers": env.int("HUEY_WORKERS", default=2), "worker_type": "thread"},
    }

# Internationalisation: Chinese first, English second.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# The apps' catalogues are listed here so that their wording wins over Django's bundled ones
# (django.contrib.admin comes first in INSTALLED_APPS and would otherwise answer "History", "Add"...).
LOCALE_PATHS = [BASE_DIR / "locale"] + [BASE_DIR / app / "locale" for app in ("linli", "regions", "accounts", "registry", "workorders", "insights", "mediation", "fieldwork", "api", "web")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# Files (work-order photos and videos, import files) go to local disk under MEDIA_ROOT, or to an
# S3-compatible object store when LINLI_S3_BUCKET is set (django-storages; endpoint, keys and
# region from the environment, never from the repository).
LINLI_S3_BUCKET = env.str("LINLI_S3_BUCKET", default="")
if LINLI_S3_BUCKET:
    STORAGES["default"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": LINLI_S3_BUCKET,
            "endpoint_url": env.str("LINLI_S3_ENDPOINT", default="") or None,
            "region_name": env.str("LINLI_S3_REGION", default="") or None,
            "access_key": env.str("LINLI_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("LINLI_S3_SECRET_KEY", default="") or None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }

# Private files (photos, reports) are handed out only by views that check who may see them
# (linli/files.py): streamed by the web process ("django"), or by nginx after an
# X-Accel-Redirect to LINLI_ACCEL_PREFIX ("accel"), or by Apache/lighttpd ("sendfile"); on S3 a
# presigned URL. Signed addresses for public files expire after LINLI_FILE_URL_SECONDS.
LINLI_FILE_SERVING = env.str("LINLI_FILE_SERVING", default="django")
LINLI_ACCEL_PREFIX = env.str("LINLI_ACCEL_PREFIX", default="/protected/")
LINLI_FILE_URL_SECONDS = env.int("LINLI_FILE_URL_SECONDS", default=24 * 3600)

# Work-order attachments: photos up to 10 MB, short videos up to 50 MB, PDFs up to 10 MB.
LINLI_MAX_IMAGE_BYTES = env.int("LINLI_MAX_IMAGE_BYTES", default=10 * 1024 * 1024)
LINLI_MAX_VIDEO_BYTES = env.int("LINLI_MAX_VIDEO_BYTES", default=50 * 1024 * 1024)
LINLI_MAX_DOCUMENT_BYTES = env.int("LINLI_MAX_DOCUMENT_BYTES", default=10 * 1024 * 1024)

# Deadlines that count working hours use these spans on working days (Holiday rows add swaps).
LINLI_WORK_HOURS = env.list("LINLI_WORK_HOURS", default=["09:00-12:00", "13:30-17:30"])

# Notifications: email through Django's mail settings (console in development); SMS and WeChat
# template messages through this backend (the default writes them to the log).
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default="django.core.mail.backends.locmem.EmailBackend" if TESTING else "django.core.mail.backends.console.EmailBackend",
)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="linli@localhost")
LINLI_MESSAGE_BACKEND = env.str("LINLI_MESSAGE_BACKEND", default="workorders.services.notify.LogMessageBackend")

# Uploads: spreadsheets up to 20 MB; bigger files are refused with a message.
LINLI_MAX_UPLOAD_BYTES = env.int("LINLI_MAX_UPLOAD_BYTES", default=20 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# API tokens live this many days.
LINLI_TOKEN_DAYS = env.int("LINLI_TOKEN_DAYS", default=30)
# Answers to a phone's offline uploads are kept this many days for replays, then deleted nightly.
LINLI_SYNC_RECEIPT_DAYS = env.int("LINLI_SYNC_RECEIPT_DAYS", default=90)

# Sign-in throttling (django-axes): after LINLI_LOGIN_FAILURES wrong passwords for one user name,
# or from one address, within LINLI_LOGIN_LOCK_MINUTES, both are locked for that long (each
# further try restarts the wait); a right password resets the count. Pages and the API answer
# 429 with Retry-After; administrators unlock at /accounts/locked/.
LINLI_LOGIN_FAILURES = env.int("LINLI_LOGIN_FAILURES", default=10)
LINLI_LOGIN_LOCK_MINUTES = env.int("LINLI_LOGIN_LOCK_MINUTES", default=15)
# Reverse proxies in front of the web processes (nginx, a load balancer): the client's address
# is then read from X-Forwarded-For, and HTTPS from X-Forwarded-Proto.
LINLI_PROXY_COUNT = env.int("LINLI_PROXY_COUNT", default=0)
AXES_FAILURE_LIMIT = LINLI_LOGIN_FAILURES
AXES_COOLOFF_TIME = dt.timedelta(minutes=LINLI_LOGIN_LOCK_MINUTES)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "linli.middleware.client_ip"
AXES_LOCKOUT_CALLABLE = "accounts.views.locked_out"
AXES_VERBOSE = False

SESSION_COOKIE_HTTPONLY = True
# HTTPS: on by default where DATABASE_URL is set (a deployment), off for the embedded
# `make run`, which serves plain HTTP on this machine.
LINLI_HTTPS = env.bool("LINLI_HTTPS", default=bool(env.str("DATABASE_URL", default="")) and not DEBUG)
SESSION_COOKIE_SECURE = LINLI_HTTPS and not TESTING
CSRF_COOKIE_SECURE = LINLI_HTTPS and not TESTING
if LINLI_HTTPS:
    SECURE_SSL_REDIRECT = not TESTING
    SECURE_HSTS_SECONDS = env.int("LINLI_HSTS_SECONDS", default=31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("LINLI_HSTS_SUBDOMAINS", default=False)
    if LINLI_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

AUDITLOG_INCLUDE_ALL_MODELS = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
    "loggers": {"linli": {"level": "INFO"}},
}

if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
