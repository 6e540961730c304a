"""Test settings: the same configuration as the environment selects, made fast and quiet."""

import os
from urllib.parse import urlsplit

os.environ.setdefault("DJANGO_ENV", "test")

from asi_wg.settings import *  # noqa: F403
from asi_wg.settings import BASE_DIR, CACHES, DATABASES, REDIS_URL, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = VAR_DIR / "test-media"
PRIVATE_MEDIA_ROOT = VAR_DIR / "test-private"
# Jobs queued in a test run inline after commit; the job tests start real workers instead.
CELERY_TASK_ALWAYS_EAGER = True
# Typesetting the demo's PDF summary costs some 25 s on every load_demo: only the tests about
# that file ask for it.
DEMO_PDF_SUMMARY = False
CELERY_TASK_EAGER_PROPAGATES = True
# Every write and read of a test runs in its process, and the cache is cleared between tests:
# the tests see the caches as production has them, on the embedded default too.
TENANT_CACHE = True
# Likewise sessions, read from the cache as production reads them with Redis: a page's queries
# are the same number in both phases of the suite.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the worker and web processes the job tests start can share it.
    # TEST_SQLITE_NAME lets two test runs in one checkout keep out of each other's way.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME") or str(BASE_DIR / "var" / "test.sqlite3")
    }

# pytest-xdist runs the suite in several processes (gw0, gw1, ...), each with its own test
# database. Each gets its own Redis database and media folders too: the suite empties the cache
# around every test, which must not empty another process's mid-test.
_XDIST_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
if _XDIST_WORKER.removeprefix("gw").isdigit() and _XDIST_WORKER != "gw0":
    _index = int(_XDIST_WORKER.removeprefix("gw"))
    MEDIA_ROOT = VAR_DIR / f"test-media-{_XDIST_WORKER}"
    PRIVATE_MEDIA_ROOT = VAR_DIR / f"test-private-{_XDIST_WORKER}"
    if REDIS_URL:
        # Databases 0-2 are the ones no test process takes (the suite's own is the URL's, the
        # job and deployment tests take 3-15): gw1 gets 2, gw2 gets 1.
        _database = str(max(0, 3 - _index))
        _url = urlsplit(REDIS_URL)._replace(path="/" + _database).geturl()
        CACHES["default"]["LOCATION"] = _url
        CELERY_BROKER_URL = CELERY_RESULT_BACKEND = _url
