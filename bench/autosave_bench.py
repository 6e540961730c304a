"""Latency of the feedback form's autosave under concurrent participants, on PostgreSQL.

    .venv/bin/python bench/autosave_bench.py [--clients 16] [--saves 60] [--workers 4]

Builds a throw-away PostgreSQL database (``asi_wg_bench`` on the local server, or
``BENCH_DATABASE_URL``), migrates it, and sets up one tenant with a working group, ``--clients``
seated participants who acknowledged the antitrust policy, and an open round of 30 criteria.
Then it serves the app with gunicorn (``--workers`` processes, production-like settings, no
debug) and lets ``--clients`` threads, one per participant, each signed in with its own session,
autosave their answers as a browser would: an htmx POST per save, cycling through the criteria
with a growing comment and the version the previous save returned. Each save is timed from
request to full response over a kept-alive connection.

It reports the median, 95th and 99th percentile and the worst latency, the throughput, and the
same figures for ``/healthz`` under the same concurrency (the floor: routing, middleware and one
query), as ratios. It then reads the database back and exits with status 1 unless every save
is there: one answer per participant and criterion touched, each at the version its saves
reached, with the last text sent, and no conflict or error on the way.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/asi_wg_bench"
CRITERIA = 30


def _prepare_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def _drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{parts.path.lstrip("/")}" WITH (FORCE)')


@dataclass
class Participant:
    user_id: int
    session: str
    csrf: str = field(default_factory=lambda: secrets.token_hex(16))  # 32 characters


@dataclass
class Scenario:
    slug: str
    round_id: int
    criteria: list[int]
    participants: list[Participant]


def _set_up(clients: int) -> Scenario:
    """One tenant, one group, ``clients`` seated participants, an open round of 30 criteria."""
    import datetime

    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone
    from django_scopes import scopes_disabled

    from feedback import services
    from membership import services as membership_services
    from tests.conftest import make_secretariat
    from tests.factories import (
        CriterionFactory,
        DraftDocumentFactory,
        OrganisationFactory,
        WorkingGroupFactory,
    )
    from tests.meetings.conftest import seat_person

    call_command("migrate", verbosity=0)
    with scopes_disabled(), membership_services.quiet():
        org = OrganisationFactory.create(name="Bench Body", slug="bench", time_zone="UTC")
        staff = make_secretariat(org, email="staff@bench.example")
        group = WorkingGroupFactory.create(
            organisation=org, name="Circularity", slug="circularity", seat_cap=clients + 5
        )
        policy = membership_services.antitrust_policy_publish(
            organisation=org, title="Antitrust policy", body="Do not collude.", acting_user=None
        )
        people = [seat_person(group, staff).holder for _ in range(clients)]
        for person in people:
            membership_services.antitrust_acknowledge(organisation=org, user=person, policy=policy)
        document = DraftDocumentFactory.create(organisation=org)
        criteria = [
            CriterionFactory.create(document=document, reference=f"5.{n}")
            for n in range(1, CRITERIA + 1)
        ]
        now = timezone.now()
        feedback_round = services.round_create(
            group=group,
            document=document,
            title="Bench round",
            criteria=criteria,
            opens_at=now - datetime.timedelta(hours=1),
            closes_at=now + datetime.timedelta(days=7),
            acting_user=staff,
        )
    participants = []
    for person in people:
        client = Client()
        client.force_login(person)
        participants.append(Participant(person.pk, client.cookies["sessionid"].value))
    return Scenario(org.slug, feedback_round.pk, [c.pk for c in criteria], participants)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(port: int, workers: int, timeout: float = 30) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "asi_wg.wsgi",
            f"--workers={workers}",
            f"--bind=127.0.0.1:{port}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz within {timeout:.0f} s")


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    saves: dict[int, tuple[int, str]] = field(default_factory=dict)  # criterion: (version, text)


def _autosave_path(scenario: Scenario, criterion: int) -> str:
    return f"/{scenario.slug}/feedback/rounds/{scenario.round_id}/criteria/{criterion}/autosave/"


def _participant_run(
    port: int,
    scenario: Scenario,
    person: Participant,
    saves: int,
    start: threading.Barrier,
    result: Result,
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {
        "Cookie": f"sessionid={person.session}; csrftoken={person.csrf}",
        "Content-Type": "application/x-www-form-urlencoded",
        "HX-Request": "true",
        "X-CSRFToken": person.csrf,
    }
    versions: dict[int, int] = {}
    start.wait()
    for n in range(saves):
        criterion = scenario.criteria[n % len(scenario.criteria)]
        version = versions.get(criterion, 0)
        text = f"Participant {person.user_id}, save {n}: the criterion needs examples."
        body = urlencode({"comment": text, "version": version})
        began = time.perf_counter()
        connection.request("POST", _autosave_path(scenario, criterion), body, headers)
        response = connection.getresponse()
        response.read()
        result.latencies.append(time.perf_counter() - began)
        result.statuses[response.status] += 1
        if response.status == 200:
            versions[criterion] = version + 1
            result.saves[criterion] = (version + 1, text)
    connection.close()


def _healthz_run(port: int, requests: int, start: threading.Barrier, result: Result) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    start.wait()
    for _ in range(requests):
        began = time.perf_counter()
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        response.read()
        result.latencies.append(time.perf_counter() - began)
        result.statuses[response.status] += 1
    connection.close()


def _concurrently(targets: list[tuple[object, ...]]) -> float:
    threads = [threading.Thread(target=t[0], args=t[1:]) for t in targets]  # type: ignore[arg-type]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - began


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _line(name: str, latencies: list[float], seconds: float) -> tuple[str, float, float]:
    p50 = statistics.median(latencies) * 1000
    p95 = _percentile(latencies, 0.95) * 1000
    p99 = _percentile(latencies, 0.99) * 1000
    worst = max(latencies) * 1000
    rate = len(latencies) / seconds
    return (
        f"{name:>10} {len(latencies):>8} {p50:>9.1f} {p95:>9.1f} {p99:>9.1f} {worst:>9.1f} "
        f"{rate:>9.0f}",
        p50,
        p95,
    )


def _check(scenario: Scenario, results: list[Result]) -> list[str]:
    """Every save is in the database: version and last text per participant and criterion."""
    from django_scopes import scopes_disabled

    from feedback.models import Answer

    problems = []
    with scopes_disabled():
        stored = {
            (a.author_id, a.criterion_id): (a.version, a.comment)
            for a in Answer.objects.filter(round_id=scenario.round_id)
        }
    expected = {
        (person.user_id, criterion): saved
        for person, result in zip(scenario.participants, results, strict=True)
        for criterion, saved in result.saves.items()
    }
    if set(stored) != set(expected):
        problems.append(f"{len(stored)} answers stored, {len(expected)} expected")
    for key, saved in expected.items():
        if stored.get(key) != saved:
            problems.append(f"answer {key}: stored {stored.get(key)}, expected {saved}")
    for person, result in zip(scenario.participants, results, strict=True):
        bad = {status: n for status, n in result.statuses.items() if status != 200}
        if bad:
            problems.append(f"participant {person.user_id}: responses {bad}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--saves", type=int, default=60, help="saves per participant")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--keep", action="store_true", help="keep the bench database")
    args = parser.parse_args()

    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)
    _prepare_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asi_wg.settings")
    os.environ["DJANGO_DEBUG"] = "false"
    import django

    django.setup()
    server = None
    try:
        scenario = _set_up(args.clients)
        port = _free_port()
        server = _serve(port, args.workers)

        warm = [Result() for _ in scenario.participants]
        barrier = threading.Barrier(len(scenario.participants))
        _concurrently(
            [
                (_participant_run, port, scenario, p, 2, barrier, r)
                for p, r in zip(scenario.participants, warm, strict=True)
            ]
        )
        from django_scopes import scopes_disabled

        from feedback.models import Answer

        with scopes_disabled():
            Answer.objects.filter(round_id=scenario.round_id).delete()

        health = [Result() for _ in scenario.participants]
        barrier = threading.Barrier(len(health))
        health_seconds = _concurrently(
            [(_healthz_run, port, args.saves, barrier, r) for r in health]
        )
        results = [Result() for _ in scenario.participants]
        barrier = threading.Barrier(len(results))
        seconds = _concurrently(
            [
                (_participant_run, port, scenario, p, args.saves, barrier, r)
                for p, r in zip(scenario.participants, results, strict=True)
            ]
        )
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)

    problems = _check(scenario, results)
    if not args.keep:
        from django.db import connections

        connections.close_all()
        _drop_database(url)

    print(
        f"{args.clients} participants autosaving concurrently, {args.saves} saves each, "
        f"gunicorn with {args.workers} workers, PostgreSQL; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs\n"
    )
    columns = ("count", "p50 ms", "p95 ms", "p99 ms", "max ms", "req/s")
    print(f"{'request':>10} {columns[0]:>8} " + " ".join(f"{c:>9}" for c in columns[1:]))
    print("-" * 68)
    health_line, health_p50, health_p95 = _line(
        "/healthz", [x for r in health for x in r.latencies], health_seconds
    )
    save_line, p50, p95 = _line("autosave", [x for r in results for x in r.latencies], seconds)
    print(health_line)
    print(save_line)
    print(
        f"\nautosave / healthz: x{p50 / health_p50:.1f} at the median, "
        f"x{p95 / health_p95:.1f} at the 95th percentile"
    )
    print(
        f"\nAcceptance: autosave under {args.clients} concurrent participants on PostgreSQL: "
        f"median {p50:.1f} ms, 95th percentile {p95:.1f} ms."
    )
    if problems:
        print("\nNOT every save arrived intact:")
        for problem in problems[:20]:
            print(f"  {problem}")
        return 1
    print("Every save arrived: each answer at the version its saves reached, with the last text.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
