"""ipplan settings: one module, read from environment variables with safe defaults.

SQLite under ``var/`` and eager Celery are the defaults so that one can check out the code and run it;
production sets ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and ``DEBUG=0``.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("IPPLAN_VAR_DIR", BASE_DIR / "var"))


def envbool(name: str, default: str) -> bool:
    value = os.environ.get(name, default).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), got {value!r}")


def envint(name: str, default: str) -> int:
    value = os.environ.get(name, default)
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, got {value!r}") from None


def envlist(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = envbool("DEBUG", "1")

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "django-insecure-ipplan-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# The address pages, emails and calendar feeds link to (no trailing slash).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "simple_history",
    "django_celery_beat",
    "ipplan.apps.AxesConfig",  # django-axes, named in Chinese
    "agencies",
    "tasks",
    "reminders",
    "workspace",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ipplan.middleware.RejectNullCharactersMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses logins after repeated failures before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = envint("AXES_FAILURE_LIMIT", "5")
AXES_COOLOFF_TIME = envint("AXES_COOLOFF_HOURS", "1")
# Lock a username from one client address (so nobody can lock out `admin` from elsewhere). Behind reverse
# proxies the client address is read from X-Forwarded-For, trusting exactly TRUSTED_PROXY_COUNT proxies
# (ipplan/lib/clientip.py); 0 means clients connect directly.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
TRUSTED_PROXY_COUNT = envint("TRUSTED_PROXY_COUNT", "0")
AXES_CLIENT_IP_CALLABLE = "ipplan.lib.clientip.client_ip"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT  # the same number, should django-ipware be installed
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"

# django-import-export: the role policy (agencies/admin_policy.py) decides; these codes are the fallback for
# any admin that does not mix it in.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Past versions are read in the admin, never saved back (changes go through the services that record why).
SIMPLE_HISTORY_REVERT_DISABLED = True

ROOT_URLCONF = "ipplan.urls"

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
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "agencies.context_processors.roles",
            ],
        },
    },
]

WSGI_APPLICATION = "ipplan.wsgi.application"

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'ipplan.sqlite3'}"),
        conn_max_age=envint("DB_CONN_MAX_AGE", "0"),
        # With persistent connections (docker-compose.yml sets DB_CONN_MAX_AGE=60), a connection the server
        # dropped is noticed when a request starts rather than failing that request.
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; a busy timeout instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
    # A file, not memory, so that a real Celery worker or a live server in another process sees test data
    # (such a process is given this name through DATABASE_URL); one per test process, so runs don't collide.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-{os.getpid()}.sqlite3")}
    # The task indexes' INCLUDE columns (covering index-only scans) are a PostgreSQL refinement; SQLite
    # builds the same indexes on their key columns, which is all it needs at its scale.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
if os.environ.get("TEST_DATABASE_NAME"):
    DATABASES["default"].setdefault("TEST", {})["NAME"] = os.environ["TEST_DATABASE_NAME"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns about a missing directory
STATICFILES_DIRS = [BASE_DIR / "static"] if (BASE_DIR / "static").is_dir() else []
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
MEDIA_URL = "/media/"
# Progress-report attachments: outside MEDIA_ROOT so they are served only through a permission check.
PRIVATE_MEDIA_ROOT = Path(os.environ.get("PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))

# The upload gate (ipplan/lib/uploads.py), passed by every file that comes in: web uploads, import pages and
# the import commands. Each file is refused past MAX_UPLOAD_BYTES while it streams in (the first handler keeps
# no more than that, in memory or on disk); .docx/.xlsx packages past MAX_UNZIPPED_BYTES unpacked or
# compressed more than MAX_ZIP_RATIO times (zip bombs); parsing runs in a child process killed after
# PARSE_TIMEOUT_SECONDS or past PARSE_MAX_MEMORY_MB of address space (0: no memory limit).
MAX_UPLOAD_BYTES = envint("MAX_UPLOAD_BYTES", str(10 * 1024 * 1024))
MAX_UNZIPPED_BYTES = envint("MAX_UNZIPPED_BYTES", str(100 * 1024 * 1024))
MAX_ZIP_RATIO = envint("MAX_ZIP_RATIO", "100")
PARSE_TIMEOUT_SECONDS = envint("PARSE_TIMEOUT_SECONDS", "30")
PARSE_MAX_MEMORY_MB = envint("PARSE_MAX_MEMORY_MB", "1024")
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_UPLOAD_BYTES
FILE_UPLOAD_HANDLERS = [
    "ipplan.lib.uploads.SizeLimitUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# The bureau's own 行政区划 (e.g. 东丽区): the default when importing a plan. Where several bureaus share one
# installation, each 督办人员 sets theirs in 管理后台 → 督办人员设置.
IPPLAN_JURISDICTION = os.environ.get("IPPLAN_JURISDICTION", "").strip()

# One-click 签收 links in messages (workspace/links.py): days a link works, and how many unknown tokens one
# address may try per quarter hour before the link pages answer 429.
ACTION_LINK_DAYS = envint("ACTION_LINK_DAYS", "14")
ACTION_LINK_FAILURE_LIMIT = envint("ACTION_LINK_FAILURE_LIMIT", "20")

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

# Email: SMTP when EMAIL_HOST is set, otherwise one file per message under var/mail/ for the demo.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = envint("EMAIL_PORT", "25")
    EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", "0")
    EMAIL_USE_SSL = envbool("EMAIL_USE_SSL", "0")
    EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", "20")
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = VAR_DIR / "mail"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL") or "ipplan <noreply@ipplan.localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Channels besides email (reminders/services/channels.py). The robots' addresses and keys are set per agency
# in the admin; the vendors' base addresses are settings so tests (and a proxy) can stand in for them.
WECOM_WEBHOOK_BASE = os.environ.get("WECOM_WEBHOOK_BASE", "https://qyapi.weixin.qq.com")
DINGTALK_ROBOT_BASE = os.environ.get("DINGTALK_ROBOT_BASE", "https://oapi.dingtalk.com")
CHANNEL_TIMEOUT = envint("CHANNEL_TIMEOUT", "10")  # seconds, per HTTP call to a vendor
# SMS: "aliyun" (阿里云短信服务 SendSms) or "" (off: 我的设置 does not offer SMS).
SMS_PROVIDER = os.environ.get("SMS_PROVIDER", "")
ALIYUN_SMS_ACCESS_KEY_ID = os.environ.get("ALIYUN_SMS_ACCESS_KEY_ID", "")
ALIYUN_SMS_ACCESS_KEY_SECRET = os.environ.get("ALIYUN_SMS_ACCESS_KEY_SECRET", "")
ALIYUN_SMS_SIGN_NAME = os.environ.get("ALIYUN_SMS_SIGN_NAME", "")
# A template with the variables ${kind} ${agency} ${total} ${overdue}, e.g. "您好,${agency}有${kind}:
# ${total}项任务需关注,其中逾期${overdue}项,请登录督办系统“我的任务”查看。"
ALIYUN_SMS_TEMPLATE_CODE = os.environ.get("ALIYUN_SMS_TEMPLATE_CODE", "")
ALIYUN_SMS_ENDPOINT = os.environ.get("ALIYUN_SMS_ENDPOINT", "https://dysmsapi.aliyuncs.com/")
ALIYUN_SMS_REGION = os.environ.get("ALIYUN_SMS_REGION", "cn-hangzhou")

# Celery: Redis when REDIS_URL is set; otherwise tasks run eagerly in-process so nothing else is needed.
REDIS_URL = os.environ.get("REDIS_URL", "")
# CELERY_BROKER_URL: a broker apart from the cache's Redis (default: REDIS_URL).
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or None
CELERY_TASK_ALWAYS_EAGER = CELERY_BROKER_URL == "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]

# Reminder delivery (reminders/services/outbox.py; README "Reminders: what is promised").
# A row left "sending" longer than the lease (a worker killed mid-send) is taken again by the recovery job
# (beat, every 3 minutes). Keep it well above EMAIL_TIMEOUT, or a slow but live send is doubled.
REMINDER_SENDING_LEASE_SECONDS = envint("REMINDER_SENDING_LEASE_SECONDS", "300")
# A failed send is retried after REMINDER_RETRY_BACKOFF_SECONDS, doubling up to ..._MAX_SECONDS, for
# REMINDER_RETRY_WINDOW_DAYS after the row was made; then it ends 已放弃 (gave_up) with the reason.
REMINDER_RETRY_BACKOFF_SECONDS = envint("REMINDER_RETRY_BACKOFF_SECONDS", "60")
REMINDER_RETRY_BACKOFF_MAX_SECONDS = envint("REMINDER_RETRY_BACKOFF_MAX_SECONDS", "3600")
REMINDER_RETRY_WINDOW_DAYS = envint("REMINDER_RETRY_WINDOW_DAYS", "7")
# Redis hands a job back to another worker when it stays unacknowledged longer than the visibility timeout,
# and a job waiting for its retry countdown counts as unacknowledged. So the visibility timeout must stay
# above the longest countdown (the backoff maximum and the lease), or Celery redelivers the waiting jobs in
# a loop; the system check reminders.E001 refuses to start otherwise. A job lost with its worker is found
# by the recovery job after the lease, not by this timeout.
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", "7200"),
}
# The web process (催办, resend) queues with a short connect timeout and no retries, then falls back to
# sending in-process: reminders/services/outbox.dispatch_with_celery.
REMINDER_BROKER_CONNECT_TIMEOUT = 1.5

CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Production hardening; `manage.py check --deploy` passes with DEBUG=0.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "1")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", str(60 * 60 * 24 * 365))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", "1")
    SECURE_CONTENT_TYPE_NOSNIFF = True
    X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# Content-Security-Policy (Django's middleware): scripts only from here or carrying the response's nonce
# (``{{ csp_nonce }}``); inline style attributes are allowed (the admin and our templates use them; they run
# no code). Nothing may frame the site, and forms post only to it.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.UNSAFE_INLINE],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stdout"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
