"""Documented defaults for every setting; no secrets here.

Layering (later wins): these defaults → ``instance/config.py`` → ``CODEV_*`` environment
variables (and ``DATABASE_URL``) → the ``test_config`` mapping given to ``create_app``.
"""

from __future__ import annotations

from datetime import timedelta


class Defaults:
    """Settings for a developer laptop; production overrides them."""

    # "production" (the default), "development" or "test". Outside an explicit development or test mode the
    # app refuses to start without a real SECRET_KEY (32 characters or more, CODEV_SECRET_KEY), the same in
    # every worker; `make run` sets CODEV_ENV_NAME=development and writes a key into instance/config.py.
    ENV_NAME = "production"
    SECRET_KEY: str | None = None  # never here: the environment or instance/config.py

    # Database: SQLite in instance/ unless DATABASE_URL / CODEV_DATABASE_URL says otherwise.
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    SQLITE_BUSY_TIMEOUT_MS = 15000

    # Logs / database pool.
    LOG_FORMAT = "text"  # "text" (one readable line per record) or "json" (one JSON object per line)
    LOG_LEVEL = "INFO"  # the access line of each request is INFO; the health probes' are DEBUG
    # PostgreSQL connections per process: at most DB_POOL_SIZE + DB_MAX_OVERFLOW. Every gunicorn worker,
    # the mail worker and each cron job is a process: keep servers × workers × (pool + overflow) + the
    # others below PostgreSQL's max_connections minus its reserve (README, "Connection pool"). A sync worker
    # holds one connection at a time; 2 + 2 leaves room for a gthread worker's threads: 3 servers × 5 workers
    # × 4 = 60 of PostgreSQL's default 100.
    DB_POOL_SIZE = 2
    DB_MAX_OVERFLOW = 2
    DB_POOL_TIMEOUT = 30  # seconds a request waits for a free connection before failing
    DB_POOL_RECYCLE = 1800  # seconds; older connections are replaced (proxies and firewalls drop idle ones)
    DB_CONNECT_TIMEOUT = 10  # seconds to open a connection (an unreachable server fails fast)
    DB_APPLICATION_NAME = "codev-web"  # shown in pg_stat_activity; e.g. "codev-mail" for the mail worker

    # Requests and sessions.
    MAX_CONTENT_LENGTH = 25 * 1024 * 1024  # one request, uploads included
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # also set per request when served over HTTPS
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PROXY_FIX_HOPS = 0  # set to 1 behind one reverse proxy (X-Forwarded-For/Proto)
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Passwords: the method and cost are named explicitly (Werkzeug's default scrypt cost is low).
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:600000"  # noqa: S105 (a method name, not a secret)
    PASSWORD_MIN_LENGTH = 10
    PASSWORD_MAX_LENGTH = 128
    PASSWORD_RESET_MAX_AGE = 3600  # seconds
    ACCOUNT_SETUP_MAX_AGE = 72 * 3600  # the first password link of an account made by an admin
    HANDOVER_MAX_AGE = 14 * 24 * 3600  # the hand-over link of an association an officer filed on paper
    INVITATION_MAX_AGE = 14 * 24 * 3600

    # Throttling, counted in the database (codev/core/throttle.py) so it holds across worker processes
    # and under bursts. A key's window opens at its first attempt; a window may also be given in seconds.
    # Old rows go with `flask --app codev prune-throttle` (from cron).
    LOGIN_MAX_FAILURES_PER_EMAIL = 5  # wrong passwords for one email (a success gives its slot back)
    LOGIN_MAX_FAILURES_PER_IP = 30  # wrong passwords from one address
    LOGIN_THROTTLE_WINDOW = timedelta(minutes=15)
    PASSWORD_RESET_MAX_PER_EMAIL = 3  # reset links asked for one address, whether it has an account or not
    PASSWORD_RESET_MAX_PER_IP = 20
    PASSWORD_RESET_THROTTLE_WINDOW = timedelta(hours=1)
    SIGNUP_MAX_PER_IP = 20  # sign-up forms sent, valid or not (the form tells whether an email is taken)
    SIGNUP_THROTTLE_WINDOW = timedelta(hours=1)
    LETTER_VERIFY_MAX_PER_IP = 30  # files checked against letters on the public verification pages
    LETTER_VERIFY_THROTTLE_WINDOW = timedelta(minutes=15)
    # Two-factor sign-in (codev/accounts/two_factor): codes from an authenticator app, throttled like passwords.
    TOTP_ISSUER = "codev"  # the name the authenticator app shows beside the account
    TOTP_MAX_FAILURES_PER_USER = 5  # wrong codes for one account per window (sign-in, step-up, enrolment)
    TOTP_MAX_FAILURES_PER_IP = 30  # wrong codes from one address per window
    TOTP_THROTTLE_WINDOW = timedelta(minutes=15)
    TWO_FACTOR_PENDING_MAX_AGE = 300  # seconds between the password and the code of one sign-in
    TOTP_ENCRYPTION_KEY: str | None = None  # encrypts the stored TOTP secrets; derived from SECRET_KEY when unset
    # Recovery codes carry 59 random bits (not a chosen password): a lighter stretching keeps checking ten of
    # them at a sign-in under a third of a second.
    RECOVERY_CODE_HASH_METHOD = "pbkdf2:sha256:60000"
    LOGIN_ATTEMPTS_KEEP_DAYS = 90  # prune-throttle deletes older rows of the sign-in log (login_attempts)

    # Languages.
    LANGUAGES = ("fr", "en")
    BABEL_DEFAULT_LOCALE = "fr"
    BABEL_DEFAULT_TIMEZONE = "UTC"

    # Files. Their bytes live in one store (codev/core/storage.py); the database holds what each file is
    # (name, type, size, SHA-256). STORAGE_BACKEND "local" keeps them in UPLOAD_FOLDER on this server's
    # disk; "s3" in a bucket of any S3-compatible store (AWS, MinIO, OVH, Scaleway…), so that several
    # app servers share them. The app refuses to start with an unknown backend or "s3" without a bucket.
    # `flask --app codev storage-migrate` copies the folder into the bucket (README, "Object storage").
    STORAGE_BACKEND = "local"  # "local" or "s3"
    UPLOAD_FOLDER: str | None = None  # default: instance/uploads
    S3_BUCKET: str | None = None  # required with "s3"
    S3_PREFIX = ""  # key prefix inside the bucket, e.g. "uploads/" (a missing final "/" is added)
    S3_ENDPOINT_URL: str | None = None  # None: AWS; e.g. "https://s3.gra.io.cloud.ovh.net", "http://minio:9000"
    S3_REGION: str | None = None  # e.g. "eu-west-3", "gra"; MinIO accepts any (us-east-1)
    # None: boto3's usual chain (AWS_ACCESS_KEY_ID… in the environment, ~/.aws, an instance profile).
    S3_ACCESS_KEY_ID: str | None = None
    S3_SECRET_ACCESS_KEY: str | None = None
    S3_ADDRESSING_STYLE = "auto"  # "path" for MinIO and most self-hosted stores, "virtual", or "auto"
    S3_TIMEOUT = 10  # seconds to connect and between bytes read; a store down answers a 503 page
    S3_MAX_ATTEMPTS = 3  # tries per request (botocore's standard retries, with backoff)
    STATUTES_MAX_BYTES = 10 * 1024 * 1024
    PROJECT_FILE_MAX_BYTES = 10 * 1024 * 1024  # one project document; a call caps the project's total

    # Backups (`flask --app codev backup DEST`, `restore ARCHIVE`, `check-data`; README, "Backups and restore").
    # PostgreSQL is dumped with pg_dump of the server's major version, found in /usr/lib/postgresql/<v>/bin
    # (Debian) or on the PATH; set this to the folder holding pg_dump and pg_restore to choose them yourself.
    PG_BIN_DIR: str | None = None

    # Mail: a request only writes the outbox table; the mail worker (`flask --app codev send-mail`, with
    # `--loop` as a service) sends it. With MAIL_SERVER unset, messages stay in the outbox, where
    # `flask --app codev outbox` reads them, and send-mail says so and sends nothing.
    MAIL_SERVER: str | None = None
    MAIL_PORT = 587
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = True
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 20  # seconds, each SMTP step (connect, TLS, login, send)
    MAIL_DEFAULT_SENDER = "codev <no-reply@codev.example.tg>"
    MAIL_MAX_ATTEMPTS = 10  # SMTP tries of one message before it is given up ("failed", shown at /admin/mail)
    MAIL_RETRY_BASE_SECONDS = 60  # wait after the first failure; doubled after each next one
    MAIL_RETRY_MAX_SECONDS = 6 * 3600  # the longest wait between two tries
    MAIL_CLAIM_TIMEOUT = 300  # seconds a worker holds a message; then another takes over (worker killed)
    MAIL_POLL_SECONDS = 10  # `send-mail --loop`: pause when nothing is due

    # Scheduled jobs (send-reminders, close-lapsed, prune-throttle) take a lock so that two runs never
    # overlap. PostgreSQL's advisory locks end with their connection; on SQLite a lock row older than this
    # is taken over (its run was killed).
    JOB_LOCK_SECONDS = 3600  # longer than the longest run; a killed run delays the next by at most this

    # Public base URL used in emails when there is no request (CLI, background work).
    SERVER_NAME: str | None = None
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # Pagination (a committee's ranking, one row per project, in pages of its own size: fifty rows, each a card
    # on a phone; a closed session's page shows a page of its frozen ranking and the same page of its reserve).
    PAGE_SIZE = 25
    RANKING_PAGE_SIZE = 50

    # Grants' money, four eyes: a disbursement needs an approver's second signature when it brings the
    # amount paid on its tranche, or on the grant within the last FOUR_EYES_PERIOD_DAYS days (counted by
    # recording date), above this amount (XOF); requests awaiting a signature count as paid. At or below
    # it, the officer's record is enough.
    FOUR_EYES_THRESHOLD_XOF = 10_000_000
    FOUR_EYES_PERIOD_DAYS = 30
    # Days before a grant's contribution deadline when the association is reminded (once each).
    REMINDER_DAYS = (30, 7)

    # Data retention (`flask --app codev apply-retention`, daily; codev/oversight/retention.py). A draft untouched
    # for RETENTION_DRAFT_IDLE_DAYS, or a withdrawn or rejected application unchanged for RETENTION_CLOSED_DAYS,
    # is noticed to its association (one email); RETENTION_NOTICE_DAYS later, if nobody changed it meanwhile,
    # its personal data (texts, names, files) are removed and its figures kept. An edit resets the notice.
    RETENTION_DRAFT_IDLE_DAYS = 365
    RETENTION_CLOSED_DAYS = 730
    RETENTION_NOTICE_DAYS = 30

    # The oversight figures (dashboard, register, maps, exports' counts, the API's figures) are kept per
    # process for one state of the data (codev/oversight/cache.py): any committed write to a table they read
    # makes them computed again. OVERSIGHT_CACHE_SECONDS bounds how long a kept value may serve (a write made
    # outside the app is seen after it at most; 0 turns the cache off); OVERSIGHT_CACHE_SIZE entries per process.
    OVERSIGHT_CACHE_SECONDS = 300
    OVERSIGHT_CACHE_SIZE = 512
    # Pages kept rendered per reader while nothing is written (codev/core/kept_pages.py: the officer's project
    # list): any committed write renders them again. PAGE_CACHE_SECONDS bounds how long a rendering serves (0
    # turns keeping off); PAGE_CACHE_SIZE renderings per process.
    PAGE_CACHE_SECONDS = 60
    PAGE_CACHE_SIZE = 128

    # The ministry's identity, printed on pages and documents.
    MINISTRY_NAME_FR = "Ministère des Affaires étrangères, de l'Intégration régionale et des Togolais de l'extérieur"
    MINISTRY_NAME_EN = "Ministry of Foreign Affairs, Regional Integration and Togolese Abroad"

    # Open data: the IATI identifier of the reporting organisation (the ministry), prefix of every
    # activity's identifier in /open-data/iati.xml. XI-IATI is the prefix the IATI Secretariat gives an
    # organisation without another registry; set CODEV_IATI_ORG_ID to the identifier actually registered.
    IATI_ORG_ID = "XI-IATI-TG-MAEIA"
