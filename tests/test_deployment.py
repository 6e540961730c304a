"""The production stack of docker-compose.yml, run as processes against PostgreSQL and Redis.

There is no container engine on the machines that run the tests, so these tests read the web,
worker and beat services' ``command`` and ``environment`` from docker-compose.yml and start those
very commands from the project root. Only what differs between the compose network and this
machine is replaced: where PostgreSQL and Redis are, the port, the media folder and a one-second
heartbeat. The secrets and host names an operator would export go through compose's own
``${...}`` expressions. A change to docker-compose.yml that breaks production breaks these tests.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from celery import Celery
from django.db import connection

from asi_wg.models import JobHeartbeat
from tests.helpers.processes import (
    PROJECT_ROOT,
    Processes,
    RunningProcess,
    clean_env,
    close_celery_app,
    free_port,
    http_get,
    run_in_project,
    started_processes,
    url_with_path,
    wait_for,
    wait_for_http,
)

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
DOCKERFILE = PROJECT_ROOT / "Dockerfile"
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
#: Nothing listens on port 1: the web process must report its database as down.
UNREACHABLE_DATABASE_URL = "postgres://postgres@127.0.0.1:1/nothing"
#: Redis databases the started processes use, one per xdist worker, away from the suite's own
#: (CI gives the suite /13 and flushes /13 and /14 before it runs).
SPARE_REDIS_DATABASES = (14, 15, 12, 11, 10, 9, 8, 7)
#: What an operator exports before ``docker compose up`` (see the top of docker-compose.yml),
#: except the secret key, which is new for every test.
OPERATOR_VARIABLES = {
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
    "EMAIL_URL": "smtp://127.0.0.1:1025",
    "POSTGRES_PASSWORD": "replaced-with-the-local-database-url",
    "WEB_CONCURRENCY": "2",
}
REQUIRED_VARIABLES = ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS", "EMAIL_URL", "POSTGRES_PASSWORD")

needs_postgres_and_redis = pytest.mark.skipif(
    not (DATABASE_URL.startswith("postgres") and REDIS_URL),
    reason="starts the docker-compose.yml commands against real services: "
    "set DATABASE_URL=postgres://... and REDIS_URL=redis://...",
)


# --- Reading docker-compose.yml -------------------------------------------------------------


class MissingVariable(LookupError):
    """A ``${NAME}`` or ``${NAME:?message}`` in docker-compose.yml that nobody supplied."""


_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<operator>:?[-?])(?P<argument>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


def interpolate(value: str, variables: Mapping[str, str]) -> str:
    """Compose's interpolation: ``$$``, ``$NAME``, ``${NAME}``, ``${NAME:-default}``,
    ``${NAME-default}``, ``${NAME:?message}`` and ``${NAME?message}``.

    Stricter than compose in one way: an unset ``${NAME}`` is an error, not an empty string.
    """

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["braced"] or match["bare"]
        operator, argument = match["operator"], match["argument"] or ""
        current = variables.get(name)
        if operator is None:
            if current is None:
                raise MissingVariable(f"${{{name}}} is not set")
            return current
        unset = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("-"):
            return argument if unset else str(current)
        if unset:
            raise MissingVariable(f"{name}: {argument}")
        return str(current)

    return _VARIABLE.sub(replace, value)


def load_compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return compose


def service_command(compose: Mapping[str, Any], service: str) -> list[str]:
    command = compose["services"][service]["command"]
    assert isinstance(command, list), f"{service}: write the command in list form"
    assert all(isinstance(argument, str) for argument in command), command
    return command


def service_environment(
    compose: Mapping[str, Any], service: str, variables: Mapping[str, str]
) -> dict[str, str]:
    """A service's ``environment`` after compose's interpolation with ``variables``."""
    raw = compose["services"][service].get("environment") or {}
    if isinstance(raw, list):
        pairs = (item.split("=", 1) if "=" in item else (item, None) for item in raw)
        raw = dict(pairs)
    environment = {}
    for name, value in raw.items():
        if value is None:  # `- NAME` or `NAME:` passes the operator's variable through
            if name not in variables:
                continue
            value = variables[name]
        text = str(value).lower() if isinstance(value, bool) else str(value)
        environment[name] = interpolate(text, variables)
    return environment


# --- The stack, on this machine -------------------------------------------------------------


@dataclass
class Stack:
    """docker-compose.yml's app services, pointed at this machine's PostgreSQL and Redis."""

    compose: dict[str, Any]
    processes: Processes
    database_url: str
    redis_url: str
    port: int
    media_root: Path
    static_root: Path
    runtime_dir: Path
    secret_key: str

    def env(self, service: str) -> dict[str, str]:
        variables = {**OPERATOR_VARIABLES, "DJANGO_SECRET_KEY": self.secret_key}
        environment = service_environment(self.compose, service, variables)
        local = {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis_url,
            "PORT": str(self.port),
            "MEDIA_ROOT": str(self.media_root),
        }
        missing = sorted(local.keys() - environment.keys())
        assert not missing, f"{service}: docker-compose.yml sets no {', '.join(missing)}"
        environment.update(local)
        environment["CELERY_HEARTBEAT_SECONDS"] = "1"
        # The image's collectstatic output; here a folder of this test's own.
        environment["STATIC_ROOT"] = str(self.static_root)
        # Never the schedule file of a `make run` that may be up on the same machine.
        environment["CELERY_BEAT_SCHEDULE_FILENAME"] = str(self.runtime_dir / "celerybeat-schedule")
        # gunicorn puts its control socket there (by default under $HOME).
        environment["XDG_RUNTIME_DIR"] = str(self.runtime_dir)
        return clean_env(**environment)

    def start(self, service: str) -> RunningProcess:
        return self.processes.start(
            service, service_command(self.compose, service), env=self.env(service)
        )

    def run_healthcheck(self, service: str) -> subprocess.CompletedProcess[str]:
        """Run the service's compose health check command on this machine."""
        test = self.compose["services"][service]["healthcheck"]["test"]
        assert test[0] == "CMD", f"{service}: write the health check as a CMD list"
        return run_in_project(test[1:], env=self.env(service), timeout=30)


def _emptied_spare_redis_url() -> str:
    """This test's own Redis database, emptied: no job or result left over from an earlier run."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw")
    index = int(worker) if worker.isdigit() else 0
    number = SPARE_REDIS_DATABASES[index % len(SPARE_REDIS_DATABASES)]
    url = url_with_path(REDIS_URL, str(number))
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


def _make_stack(
    processes: Processes, runtime_dir: Path, tmp_path: Path, database_url: str
) -> Stack:
    # The image has /app/var for beat's schedule file (CELERY_BEAT_SCHEDULE_FILENAME); so must
    # the checkout the commands run from here.
    (PROJECT_ROOT / "var").mkdir(exist_ok=True)
    return Stack(
        compose=load_compose(),
        processes=processes,
        database_url=database_url,
        redis_url=_emptied_spare_redis_url(),
        port=free_port(),
        media_root=tmp_path / "media",
        static_root=tmp_path / "static",
        runtime_dir=runtime_dir,
        secret_key=secrets.token_urlsafe(64),
    )


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    with started_processes(tmp_path / "logs") as started:
        yield started


@pytest.fixture
def runtime_dir() -> Iterator[Path]:
    # Short on purpose: a Unix socket path must fit in 108 bytes, and tmp_path may not.
    with tempfile.TemporaryDirectory(prefix="wg-") as path:
        yield Path(path)


@pytest.fixture
def stack(transactional_db: None, runtime_dir: Path, processes: Processes, tmp_path: Path) -> Stack:
    """Processes on the test database; they stop before the database is flushed."""
    test_database = connection.settings_dict["NAME"]
    return _make_stack(processes, runtime_dir, tmp_path, url_with_path(DATABASE_URL, test_database))


@pytest.fixture
def stack_without_database(runtime_dir: Path, processes: Processes, tmp_path: Path) -> Stack:
    return _make_stack(processes, runtime_dir, tmp_path, UNREACHABLE_DATABASE_URL)


# --- The files themselves -------------------------------------------------------------------


def test_compose_file_describes_the_production_stack() -> None:
    compose = load_compose()
    services = compose["services"]
    assert {"web", "worker", "beat", "migrate", "db", "redis"} <= services.keys()

    web = service_command(compose, "web")
    assert web[0] == "gunicorn"
    assert not any(arg.startswith(("-b", "--bind")) for arg in web), "bind comes from $PORT"
    worker = service_command(compose, "worker")
    assert worker[:4] == ["celery", "-A", "asi_wg", "worker"]
    assert not {"-B", "--beat"} & set(worker), "beat runs as its own single service"
    assert service_command(compose, "beat")[:4] == ["celery", "-A", "asi_wg", "beat"]
    assert services["beat"]["deploy"]["replicas"] == 1
    assert service_command(compose, "migrate")[:3] == ["python", "manage.py", "migrate"]

    for name in ("web", "worker", "beat"):
        depends_on = services[name]["depends_on"]
        assert depends_on["migrate"]["condition"] == "service_completed_successfully", name
        assert depends_on["db"]["condition"] == "service_healthy", name
        assert depends_on["redis"]["condition"] == "service_healthy", name
    assert services["migrate"]["depends_on"]["db"]["condition"] == "service_healthy"
    for name in ("web", "db", "redis"):
        assert services[name]["healthcheck"]["test"][0] == "CMD", name

    variables = {name: f"value-of-{name}" for name in REQUIRED_VARIABLES}
    for name in ("web", "worker", "beat", "migrate"):
        environment = service_environment(compose, name, variables)
        assert environment["DJANGO_ENV"] == "production", name
        assert environment["DATABASE_URL"].startswith("postgres://"), name
        assert environment["DATABASE_URL"].endswith("@db:5432/asi_wg"), name
        assert environment["REDIS_URL"] == "redis://redis:6379/0", name
        assert environment["MEDIA_ROOT"] == "/app/media", name
        assert environment["PORT"] == "8000", name
    for name in ("web", "worker"):
        assert "media:/app/media" in services[name]["volumes"], name
    assert {"db-data", "media"} <= compose["volumes"].keys()

    # Compose refuses to start while a secret or a host name is missing.
    for missing in REQUIRED_VARIABLES:
        others = {name: value for name, value in variables.items() if name != missing}
        with pytest.raises(MissingVariable, match=missing):
            service_environment(compose, "web", others)


def test_dockerfile_builds_a_non_root_image_serving_port_8000() -> None:
    lines = [line.strip() for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()]
    instructions = [line for line in lines if line and not line.startswith("#")]
    assert instructions[0] == "FROM python:3.11-slim-bookworm"
    assert "EXPOSE 8000" in instructions
    users = [line.split(None, 1)[1] for line in instructions if line.startswith("USER ")]
    assert users, "the image must not run as root"
    assert users[-1].split(":")[0] not in {"root", "0"}
    text = "\n".join(instructions)
    for package in ("libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz0b", "fonts-dejavu-core"):
        assert package in text, package
    assert "collectstatic" in text


# --- The stack, running ---------------------------------------------------------------------


@needs_postgres_and_redis
@pytest.mark.slow
def test_web_command_serves_healthz_with_every_dependency_ok(stack: Stack) -> None:
    web = stack.start("web")

    response = wait_for_http(stack.port, "/healthz", watch=[web])

    body = response.json()
    assert response.status == 200, body
    assert body["status"] == "ok", body
    for dependency in ("database", "cache", "broker", "scheduler"):
        assert body[dependency]["state"] == "ok", body
    # Anyone may ask: the answer names no database vendor, cache backend or broker transport.
    for dependency in ("database", "cache", "broker"):
        assert body[dependency] == {"state": "ok"}, body

    # The compose health check passes against it, sending a Host from DJANGO_ALLOWED_HOSTS.
    healthcheck = stack.run_healthcheck("web")
    assert healthcheck.returncode == 0, healthcheck.stderr

    # Production sends plain HTTP to HTTPS; /healthz, above, answered over plain HTTP.
    redirect = http_get(stack.port, "/accounts/login/")
    assert redirect.status == 301
    assert redirect.headers["location"] == f"https://127.0.0.1:{stack.port}/accounts/login/"


@needs_postgres_and_redis
@pytest.mark.slow
def test_worker_and_beat_commands_run_jobs_through_redis(stack: Stack) -> None:
    worker = stack.start("worker")
    beat = stack.start("beat")
    web = stack.start("web")
    # A client of the same broker and result backend, as the web process is.
    client = Celery(
        "deployment-test",
        broker=stack.redis_url,
        backend=stack.redis_url,
        set_as_current=False,
        fixups=[],
    )
    try:
        token = secrets.token_hex(8)
        result = client.send_task("asi_wg.tasks.ping", args=[token])
        wait_for(
            result.ready, what="the result of a ping sent through Redis", timeout=60, watch=[worker]
        )
        assert result.successful(), result.traceback
        assert str(result.result).startswith(f"pong:{token}:"), result.result
        result.forget()
    finally:
        close_celery_app(client)

    heartbeat = wait_for(
        lambda: JobHeartbeat.objects.filter(name="scheduler", runs__gte=2).first(),
        what="beat to schedule the heartbeat twice and the worker to run it",
        timeout=60,
        watch=[worker, beat],
    )
    assert heartbeat.worker

    response = wait_for_http(stack.port, "/healthz", watch=[web])
    body = response.json()
    assert body["status"] == "ok", body
    assert body["scheduler"]["last_run"] is not None, body


@needs_postgres_and_redis
@pytest.mark.slow
def test_web_command_reports_a_database_that_is_down(stack_without_database: Stack) -> None:
    stack = stack_without_database
    web = stack.start("web")

    response = wait_for_http(stack.port, "/healthz", watch=[web])

    body = response.json()
    assert response.status == 503, body
    assert body["status"] == "down", body
    assert body["database"] == {"state": "down"}, body
    assert "127.0.0.1" not in response.body.decode(), body
    # Why, and where, is in the web process's log instead.
    assert "healthz: database is down: OperationalError" in web.output()
    # And the compose health check marks the container unhealthy.
    assert stack.run_healthcheck("web").returncode != 0


@needs_postgres_and_redis
@pytest.mark.slow
def test_static_files_are_served_compressed_with_a_year_of_caching(
    stack_without_database: Stack,
) -> None:
    stack = stack_without_database
    # What the Dockerfile runs at build time, with the web service's environment.
    collect = run_in_project(
        [sys.executable, "manage.py", "collectstatic", "--noinput"],
        env=stack.env("web"),
        timeout=120,
    )
    assert collect.returncode == 0, collect.stderr
    manifest = json.loads((stack.static_root / "staticfiles.json").read_text())["paths"]
    stylesheet = manifest["css/site.css"]
    assert stylesheet != "css/site.css", "the stylesheet's name carries its content's hash"
    web = stack.start("web")
    wait_for_http(stack.port, "/healthz", watch=[web])
    behind_the_proxy = {"x-forwarded-proto": "https", "host": "127.0.0.1"}

    for encoding in ("br", "gzip"):
        response = http_get(
            stack.port,
            f"/static/{stylesheet}",
            headers={**behind_the_proxy, "accept-encoding": encoding},
        )
        assert response.status == 200, response.headers
        assert response.headers["content-encoding"] == encoding
        assert response.headers["vary"] == "Accept-Encoding"
        # A hashed name never changes content: browsers keep it a year without asking again.
        assert response.headers["cache-control"] == "max-age=315360000, public, immutable"

    plain = http_get(stack.port, f"/static/{stylesheet}", headers=behind_the_proxy)
    assert "content-encoding" not in plain.headers
    assert b"{" in plain.body
