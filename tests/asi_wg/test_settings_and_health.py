"""Configuration from the environment, production hardening, and /healthz."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client

ROOT = Path(__file__).resolve().parents[2]
STRONG_KEY = secrets.token_urlsafe(64)
PRODUCTION = {
    "DJANGO_ENV": "production",
    "DJANGO_SETTINGS_MODULE": "asi_wg.settings",
    "DJANGO_ALLOWED_HOSTS": "wg.example.org",
    "EMAIL_URL": "smtp+tls://user:secret@smtp.example.org:587",
}


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_check_deploy_is_clean() -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**PRODUCTION, "DJANGO_SECRET_KEY": STRONG_KEY},
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (None, "DJANGO_SECRET_KEY is not set"),
        ("", "DJANGO_SECRET_KEY is not set"),
        ("short-key", "DJANGO_SECRET_KEY is too weak"),
        ("a" * 60, "DJANGO_SECRET_KEY is too weak"),
        ("django-insecure-" + "x1y2z3w4v5" * 5, "DJANGO_SECRET_KEY is too weak"),
    ],
)
def test_production_refuses_to_start_without_a_strong_secret_key(
    key: str | None, message: str
) -> None:
    env = dict(PRODUCTION)
    if key is not None:
        env["DJANGO_SECRET_KEY"] = key
    result = run(["manage.py", "check"], env)
    assert result.returncode != 0
    assert message in result.stderr


def test_production_refuses_to_start_without_allowed_hosts_or_email() -> None:
    env = {**PRODUCTION, "DJANGO_SECRET_KEY": STRONG_KEY}
    no_hosts = {k: v for k, v in env.items() if k != "DJANGO_ALLOWED_HOSTS"}
    assert "DJANGO_ALLOWED_HOSTS is not set" in run(["manage.py", "check"], no_hosts).stderr
    no_mail = {k: v for k, v in env.items() if k != "EMAIL_URL"}
    assert "EMAIL_URL is not set" in run(["manage.py", "check"], no_mail).stderr


def test_unknown_django_env_is_refused() -> None:
    result = run(["manage.py", "check"], {"DJANGO_ENV": "staging"})
    assert result.returncode != 0
    assert "DJANGO_ENV must be" in result.stderr


def test_embedded_default_needs_no_variable(tmp_path: Path) -> None:
    script = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.EMAIL_BACKEND, "
        "s.CACHES['default']['BACKEND'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DJANGO_SETTINGS_MODULE": "asi_wg.settings", "REDIS_URL": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "django.db.backends.sqlite3" in result.stdout
    assert "filesystem://" in result.stdout
    assert "filebased.EmailBackend" in result.stdout
    assert "LocMemCache" in result.stdout


@pytest.mark.django_db
def test_healthz_names_each_dependency(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] in {"ok", "degraded"}
    assert body["database"]["state"] == "ok"
    assert body["cache"]["state"] == "ok"
    assert set(body) >= {"database", "cache", "broker", "scheduler"}


def test_healthz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    script = (
        "import django, json; django.setup(); from django.test import Client; "
        "r = Client().get('/healthz'); print(r.status_code); print(r.content.decode())"
    )
    missing = tmp_path / "no-such-folder" / "db.sqlite3"
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "asi_wg.settings",
            "DATABASE_URL": f"sqlite:///{missing}",
            "CELERY_FILESYSTEM_DIR": str(tmp_path / "celery"),
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    status, body = result.stdout.strip().split("\n", 1)
    assert status == "503"
    data = json.loads(body)
    assert data["status"] == "down"
    assert data["database"]["state"] == "error"
    assert "unable to open database file" in data["database"]["error"]
