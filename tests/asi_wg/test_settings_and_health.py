"""Configuration from the environment, production hardening, and /healthz."""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from allauth.account.adapter import get_adapter
from django.test import Client, RequestFactory

from asi_wg import health
from asi_wg.celery import app as celery_app
from tests.factories import PASSWORD, UserFactory
from tests.helpers.processes import free_port

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


def production_settings(names: list[str], **variables: str) -> dict[str, Any]:
    """The values production settings give ``names`` with these extra variables."""
    script = (
        "import django, json; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    result = run(["-c", script], {**PRODUCTION, "DJANGO_SECRET_KEY": STRONG_KEY, **variables})
    assert result.returncode == 0, result.stderr
    values: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return values


@pytest.mark.parametrize("hsts", [{}, {"DJANGO_HSTS_PRELOAD": "1"}], ids=["default", "preload"])
def test_production_check_deploy_is_clean(hsts: dict[str, str]) -> None:
    result = run(
        ["manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        {**PRODUCTION, "DJANGO_SECRET_KEY": STRONG_KEY, **hsts},
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


def test_production_refuses_to_start_with_debug_on() -> None:
    result = run(
        ["manage.py", "check"], {**PRODUCTION, "DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_DEBUG": "1"}
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG is on, and production never runs" in result.stderr
    # Outside production the variable still turns the debug pages on.
    assert run(["manage.py", "check"], {"DJANGO_DEBUG": "1"}).returncode == 0


HSTS = ["SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS", "SECURE_HSTS_PRELOAD"]


@pytest.mark.parametrize(
    ("variables", "header"),
    [
        ({}, "max-age=31536000"),
        ({"DJANGO_HSTS_INCLUDE_SUBDOMAINS": "1"}, "max-age=31536000; includeSubDomains"),
        ({"DJANGO_HSTS_PRELOAD": "1"}, "max-age=31536000; includeSubDomains; preload"),
    ],
    ids=["default", "subdomains", "preload"],
)
def test_hsts_covers_subdomains_and_asks_for_preload_only_when_told_to(
    variables: dict[str, str], header: str, settings: Any, client: Client
) -> None:
    for name, value in production_settings(HSTS, **variables).items():
        setattr(settings, name, value)
    response = client.get("/healthz", secure=True)
    assert response.headers["Strict-Transport-Security"] == header


def test_hsts_preload_without_subdomains_is_refused() -> None:
    result = run(
        ["manage.py", "check"],
        {
            **PRODUCTION,
            "DJANGO_SECRET_KEY": STRONG_KEY,
            "DJANGO_HSTS_PRELOAD": "1",
            "DJANGO_HSTS_INCLUDE_SUBDOMAINS": "0",
        },
    )
    assert result.returncode != 0
    assert "HSTS preload list only takes sites whose policy covers every" in result.stderr


@pytest.mark.django_db
def test_the_csrf_cookie_is_out_of_reach_of_scripts(client: Client) -> None:
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert response.cookies["csrftoken"]["httponly"] is True


PROXY = ["SECURE_PROXY_SSL_HEADER", "ALLAUTH_TRUSTED_PROXY_COUNT"]


def forwarded_request() -> Any:
    """A plain-HTTP request from 198.51.100.7 whose headers claim HTTPS and another client."""
    return RequestFactory().get(
        "/",
        REMOTE_ADDR="198.51.100.7",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )


def test_forwarded_headers_are_ignored_unless_a_proxy_is_configured(settings: Any) -> None:
    values = production_settings(PROXY)
    assert values == {"SECURE_PROXY_SSL_HEADER": None, "ALLAUTH_TRUSTED_PROXY_COUNT": 0}
    for name, value in values.items():
        setattr(settings, name, value)
    request = forwarded_request()
    assert not request.is_secure()
    assert get_adapter().get_client_ip(request) == "198.51.100.7"


def test_one_variable_makes_both_forwarded_headers_trusted(settings: Any) -> None:
    values = production_settings(PROXY, DJANGO_TRUSTED_PROXY_COUNT="1")
    assert values == {
        "SECURE_PROXY_SSL_HEADER": ["HTTP_X_FORWARDED_PROTO", "https"],
        "ALLAUTH_TRUSTED_PROXY_COUNT": 1,
    }
    settings.SECURE_PROXY_SSL_HEADER = tuple(values["SECURE_PROXY_SSL_HEADER"])
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = values["ALLAUTH_TRUSTED_PROXY_COUNT"]
    request = forwarded_request()
    assert request.is_secure()
    assert get_adapter().get_client_ip(request) == "203.0.113.9"


def test_the_old_proxy_variable_is_refused_with_the_new_name() -> None:
    result = run(["manage.py", "check"], {"ALLAUTH_TRUSTED_PROXY_COUNT": "1"})
    assert result.returncode != 0
    assert "set DJANGO_TRUSTED_PROXY_COUNT instead" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("proxies", ["0", "1"])
def test_the_sign_in_rate_limit_counts_the_address_that_is_trusted(
    proxies: str, settings: Any
) -> None:
    """Twenty failures from one address, each claiming another X-Forwarded-For: without a proxy
    they all count against the real address, which is then refused; behind one, against the
    address the proxy reports, so a new one still gets in."""
    count = production_settings(PROXY, DJANGO_TRUSTED_PROXY_COUNT=proxies)[
        "ALLAUTH_TRUSTED_PROXY_COUNT"
    ]
    assert count == int(proxies)
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = count
    user = UserFactory.create(email="someone@example.org")

    def sign_in(email: str, password: str, forwarded_for: str) -> str:
        response = Client().post(
            "/accounts/login/",
            {"login": email, "password": password},
            REMOTE_ADDR="198.51.100.7",
            HTTP_X_FORWARDED_FOR=forwarded_for,
        )
        return response.content.decode() if response.status_code == 200 else "signed in"

    for n in range(20):
        sign_in(f"sprayed{n}@example.org", "guess-again", f"203.0.113.{n + 1}")
    answer = sign_in(user.email, PASSWORD, "203.0.113.200")
    if count == 0:
        assert "Too many failed login attempts" in answer
    else:
        assert answer == "signed in"


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
def test_healthz_names_each_dependency_and_only_its_state(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert set(body) == {"status", "database", "cache", "broker", "scheduler"}
    for name in ("database", "cache", "broker"):
        assert body[name] == {"state": "ok"}, body
    # When the scheduler last ran says nothing of where anything is.
    assert body["scheduler"] == {"state": "ok", "last_run": None}


def broken_url(port: int) -> str:
    return f"redis://healthuser:hunter2@127.0.0.1:{port}/0"


@pytest.mark.django_db
def test_healthz_says_down_without_saying_where_and_logs_why(
    client: Client, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    port = free_port()  # nothing listens there
    settings.CACHES = {
        "default": {
            "BACKEND": "asi_wg.redis_cache.RedisCache",
            "LOCATION": broken_url(port),
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
    monkeypatch.setitem(celery_app.conf, "broker_url", broken_url(port))
    with caplog.at_level(logging.WARNING, logger="asi_wg.health"):
        response = client.get("/healthz")

    assert response.status_code == 200  # the site still serves pages
    body = response.json()
    assert body["status"] == "degraded"
    assert body["cache"] == {"state": "down"}
    assert body["broker"] == {"state": "down"}
    assert body["database"] == {"state": "ok"}
    text = response.content.decode()
    for secret in ("127.0.0.1", str(port), "healthuser", "hunter2", "redis", "Error", "refused"):
        assert secret not in text, secret
    logged = "\n".join(r.getMessage() for r in caplog.records if r.name == "asi_wg.health")
    assert "healthz: cache is down: ConnectionError" in logged
    assert "healthz: broker is down:" in logged
    assert f"127.0.0.1:{port}" in logged


@pytest.mark.django_db
def test_healthz_shows_a_platform_superuser_why(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    monkeypatch.setitem(celery_app.conf, "broker_url", broken_url(port))
    admin = Client()
    admin.force_login(UserFactory.create(is_superuser=True, is_staff=True))
    staff = Client()
    staff.force_login(UserFactory.create(is_staff=True))

    details = admin.get("/healthz").json()
    assert details["broker"]["state"] == "down"
    assert f"127.0.0.1:{port}" in details["broker"]["error"]
    assert details["database"]["vendor"]
    assert staff.get("/healthz").json()["broker"] == {"state": "down"}


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
    assert data["database"] == {"state": "down"}
    assert "unable to open" not in body
    assert "no-such-folder" not in body
    # The reason is in the log (the console handler writes it to stderr).
    assert "healthz: database is down: OperationalError: unable to open database file" in (
        result.stderr
    )


def test_the_cache_probe_holds_when_many_requests_probe_at_once() -> None:
    """Web workers probe the same cache at once: each must read back its own token, not a
    value another one wrote meanwhile (which reported the cache as down under load). Threads
    interleave there only on Redis (the PostgreSQL and Redis run: 1,426 of 1,600 probes failed
    with one shared key); the in-process cache of the embedded default answers within the GIL."""
    failures: list[str] = []

    def probe_often() -> None:
        for _ in range(200):
            try:
                health._cache()
            except RuntimeError as error:
                failures.append(str(error))

    threads = [threading.Thread(target=probe_often) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


@pytest.mark.parametrize(("variable", "prepared"), [(None, True), ("0", False)])
def test_prepared_statements_are_on_for_postgresql_unless_a_pooler_needs_them_off(
    variable: str | None, prepared: bool
) -> None:
    extra = {"DATABASE_URL": "postgres://postgres@127.0.0.1:5432/any"}
    if variable is not None:
        extra["DATABASE_PREPARED_STATEMENTS"] = variable
    options = production_settings(["DATABASES"], **extra)["DATABASES"]["default"]["OPTIONS"]
    assert options.get("server_side_binding", False) is prepared
    assert options.get("prepare_threshold") == (5 if prepared else None)


@pytest.mark.django_db
def test_postgresql_prepares_a_query_a_connection_runs_again_and_again() -> None:
    from django.db import connection

    from asi_wg.models import Organisation

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")

    def prepared() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s",
                ["%asi_wg_organisation%time_zone%"],
            )
            return int(cursor.fetchone()[0])

    before = prepared()
    for _ in range(6):
        # A query of this test's own: no other test has had it prepared on this connection.
        list(Organisation.objects.filter(time_zone="Nowhere/Prepared", slug="nowhere"))
    assert prepared() == before + 1
