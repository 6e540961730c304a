"""Test settings: the same configuration as the environment selects, made fast and quiet."""

import os

os.environ.setdefault("DJANGO_ENV", "test")

from asi_wg.settings import *  # noqa: F403
from asi_wg.settings import BASE_DIR, DATABASES, VAR_DIR

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
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not memory, so that the worker and web processes the job tests start can share it.
    # TEST_SQLITE_NAME lets two test runs in one checkout keep out of each other's way.
    DATABASES["default"]["TEST"] = {
        "NAME": os.environ.get("TEST_SQLITE_NAME") or str(BASE_DIR / "var" / "test.sqlite3")
    }
