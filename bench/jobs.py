"""The background jobs of the benchmark, in one process of their own (a worker's stand-in).

    DATABASE_URL=... .venv/bin/python bench/jobs.py --json out.json [--reminders 10000] ...

``bench/run.py`` starts it on the bench database after the demo and scale data are loaded. It
times, in this process, with the job functions the Celery tasks call:

- the slate proposal for 300 applicants across six groups (``bench/slate_bench.py``'s synthetic
  tenant, checked against every hard rule);
- the waiting-list promotion for ``--promotions`` free seats, with as many people waiting
  (``membership.services.waitlist_promote``; its offer e-mails are queued on the broker);
- the meetings' reminder job for ``--reminders`` due e-mails (``meeting_jobs_due_for``, with
  each e-mail job run in this process: rendered, claimed, sent to ``bench.mail``);
- the committee's PDF summary of the document with about ``--pdf-comments`` comments, and bare
  WeasyPrint on the same HTML, alternately ``--pdf-repeat`` times each (the fastest of each).

The set-up goes into a tenant of its own (``bench-jobs``), so nothing else is due there. Peak
memory (VmHWM) is read after each job. Writes its figures as JSON.
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "asi_wg.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.template.loader import render_to_string  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_scopes import scope, scopes_disabled  # noqa: E402

from asi_wg.demo import demo_password_hash  # noqa: E402
from asi_wg.models import Organisation, User  # noqa: E402

SLUG = "bench-jobs"

if os.environ.get("BENCH_BROKER_URL"):
    from asi_wg.celery import app as _celery

    # The offer e-mails the promotion queues go to a broker database of the benchmark's own.
    _celery.conf.broker_url = os.environ["BENCH_BROKER_URL"]


def peak_kib() -> int:
    """This process's peak resident memory so far (VmHWM), in KiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def slate(reps: int) -> dict[str, Any]:
    from bench import slate_bench
    from membership.selection import method, verification

    inputs = slate_bench.build(300, 2025)
    runs = []
    for _ in range(reps):
        began = time.perf_counter()
        slates = method.propose_slates(inputs)
        runs.append(time.perf_counter() - began)
    problems = verification.verify_slates(inputs, slates)
    return {
        "applicants": 300,
        "groups": len(inputs),
        "proposed": sum(len(s.proposals) for s in slates),
        "median_s": statistics.median(runs),
        "violations": len(problems),
    }


def _organisation() -> Organisation:
    org, _made = Organisation.objects.get_or_create(
        slug=SLUG,
        defaults={
            "name": "Benchmark Jobs Body",
            "short_name": "BJB",
            "time_zone": "Europe/London",
            "contact_email": f"secretariat@{SLUG}.example",
        },
    )
    return org


def _group(org: Organisation, number: int, name: str, seat_cap: int) -> Any:
    from groups.models import Phase, WorkingGroup

    group = WorkingGroup.objects.create(
        organisation=org,
        number=number,
        name=name,
        slug=name.lower().replace(" ", "-"),
        theme=name,
        summary=f"{name} for the benchmark.",
        scope="Benchmark.",
        seat_cap=seat_cap,
    )
    today = timezone.now().date()
    Phase.objects.create(
        group=group,
        number=1,
        name="Phase 1",
        starts_on=today - datetime.timedelta(days=30),
        ends_on=today + datetime.timedelta(days=300),
        meetings_min=1,
        meetings_max=10,
        status=Phase.Status.ACTIVE,
    )
    return group


def _people(org: Organisation, prefix: str, count: int) -> list[Any]:
    """``count`` IPAF participants (always eligible, no Member: no per-Member rule in play)."""
    from allauth.account.models import EmailAddress

    from membership.models import ParticipantProfile

    password = demo_password_hash()
    users = User.objects.bulk_create(
        [
            User(
                email=f"{prefix}.{n:05d}@{SLUG}.example",
                full_name=f"{prefix} {n:05d}",
                password=password,
                time_zone="Europe/London",
            )
            for n in range(count)
        ],
        batch_size=1000,
    )
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=1000,
    )
    ParticipantProfile.objects.bulk_create(
        [
            ParticipantProfile(
                organisation=org,
                user=u,
                affiliation=ParticipantProfile.Affiliation.IPAF,
                country="GB",
                languages="English",
            )
            for u in users
        ],
        batch_size=1000,
    )
    return users


#: Seats per group for the promotion: a group holds at most 500 (``groups_seat_cap_range``), so
#: 1,000 free seats are ten groups' worth, each with half as many again waiting.
PROMOTION_GROUP = 100
#: Seated participants per group and meetings per group for the reminders: 10,000 due e-mails
#: are ten groups of 100 participants, each group meeting ten times in the next day.
REMINDER_GROUP = 100
REMINDER_MEETINGS = 10


def promotion(seats: int) -> dict[str, Any]:
    """``seats`` free seats in groups of ``PROMOTION_GROUP``, each with 1.5 times as many people
    waiting; the promotion job (``waitlist_promote``, one run per group as its task does)."""
    from membership import services
    from membership.models import Application, Offer, ParticipantProfile

    org = _organisation()
    groups, seconds, offers, waiting = max(1, seats // PROMOTION_GROUP), 0.0, 0, 0
    per_group = seats // groups
    with scope(organisation=org):
        for g in range(groups):
            group = _group(org, 100 + g, f"Promotion {g + 1}", seat_cap=per_group)
            people = _people(org, f"waiting{g}", per_group * 3 // 2)
            waiting += len(people)
            profiles = {p.user_id: p for p in ParticipantProfile.objects.filter(user__in=people)}
            start = timezone.now() - datetime.timedelta(days=30)
            Application.objects.bulk_create(
                [
                    Application(
                        group=group,
                        applicant=u,
                        profile=profiles[u.pk],
                        statement="Waiting for a seat.",
                        status=Application.Status.WAITING,
                        applied_at=start + datetime.timedelta(minutes=n),
                    )
                    for n, u in enumerate(people)
                ],
                batch_size=1000,
            )
            began = time.perf_counter()
            offers += len(services.waitlist_promote(group=group))  # commits, queues the e-mails
            seconds += time.perf_counter() - began
        stored = Offer.objects.filter(
            group__organisation=org, status=Offer.Status.OPEN, group__number__gte=100
        ).count()
    return {
        "free_seats": per_group * groups,
        "groups": groups,
        "waiting": waiting,
        "offers": offers,
        "offers_stored": stored,
        "seconds": seconds,
    }


def reminders(count: int) -> dict[str, Any]:
    """``count`` meeting reminders due now: groups of up to ``REMINDER_GROUP`` seated
    participants, each meeting ``REMINDER_MEETINGS`` times within the next day, then the whole
    due job of the tenant, each e-mail job it queues run here, one after the other."""
    from django.core import mail

    from asi_wg.celery import app
    from bench import mail as bench_mail
    from groups.models import Phase
    from meetings import tasks as meeting_tasks
    from meetings.models import Meeting
    from membership.models import ParticipantProfile, Seat, SentNotification

    org = _organisation()
    groups = max(1, count // (REMINDER_GROUP * REMINDER_MEETINGS))
    seated = min(REMINDER_GROUP, max(1, count // (groups * REMINDER_MEETINGS)))
    soon = timezone.now() + datetime.timedelta(hours=12)
    with scope(organisation=org):
        for g in range(groups):
            group = _group(org, 200 + g, f"Reminders {g + 1}", seat_cap=seated)
            people = _people(org, f"seated{g}", seated)
            Seat.objects.bulk_create(
                [
                    Seat(
                        group=group,
                        holder=u,
                        affiliation=ParticipantProfile.Affiliation.IPAF,
                        started_at=timezone.now() - datetime.timedelta(days=20),
                    )
                    for u in people
                ],
                batch_size=1000,
            )
            phase = Phase.objects.get(group=group)
            Meeting.objects.bulk_create(
                [
                    Meeting(
                        organisation=org,
                        group=group,
                        phase=phase,
                        number=k + 1,
                        title=f"{group.name} meeting {k + 1}",
                        starts_at=soon + datetime.timedelta(minutes=30 * k),
                        time_zone="Europe/London",
                        join_url="https://video.example.org/j/1",
                        agenda="1. Antitrust statement",
                        status=Meeting.Status.SCHEDULED,
                    )
                    for k in range(REMINDER_MEETINGS)
                ]
            )
    settings.EMAIL_BACKEND = "bench.mail.CountingBackend"
    app.conf.task_always_eager = True  # each e-mail job runs here, one after the other
    mail.outbox = []
    try:
        began = time.perf_counter()
        jobs = meeting_tasks.meeting_jobs_due_for(organisation_id=org.pk)
        seconds = time.perf_counter() - began
    finally:
        app.conf.task_always_eager = False
    with scopes_disabled():
        recorded = SentNotification.objects.filter(
            state=SentNotification.State.SENT, key__startswith="meeting_reminder_1d:"
        ).count()
    return {
        "due": groups * seated * REMINDER_MEETINGS,
        "groups": groups,
        "meetings": groups * REMINDER_MEETINGS,
        "email_jobs": jobs,
        "sent": bench_mail.CountingBackend.sent,
        "recorded_sent": recorded,
        "bytes": bench_mail.CountingBackend.bytes,
        "seconds": seconds,
    }


def pdf(comments: int, repeat: int = 2) -> dict[str, Any]:
    """The document summary with the number of comments closest to ``comments`` (at least), and
    bare WeasyPrint on the same HTML: ``repeat`` times each, one after the other, keeping the
    fastest run of each. One run of each was a comparison of two moments of a shared machine as
    much as of the two: on a busy day the same code measured x0.88 and x1.12."""
    from weasyprint import CSS, HTML

    from feedback import pdf as feedback_pdf
    from feedback import summary_files
    from feedback.models import DraftDocument

    with scopes_disabled():
        documents = list(
            DraftDocument.objects.annotate(
                n=Count(
                    "rounds__answers",
                    filter=Q(rounds__answers__submitted_at__isnull=False)
                    & ~Q(rounds__answers__comment=""),
                )
            )
            .select_related("organisation")
            .order_by("n")
        )
    chosen = next((d for d in documents if d.n >= comments), documents[-1])
    org = chosen.organisation
    fetcher = feedback_pdf.local_only_fetcher()
    ours: list[float] = []
    bare: list[float] = []
    for _ in range(max(1, repeat)):
        with scope(organisation=org):
            began = time.perf_counter()
            subject = summary_files.summary_subject(
                organisation=org, kind="document", object_id=chosen.pk
            )
            context = summary_files.summary_context(organisation=org, subject=subject)
            rendered = feedback_pdf.render_document(summary_files.TEMPLATE, context, page_size="A4")
            ours.append(time.perf_counter() - began)
            html = render_to_string(summary_files.TEMPLATE, {**context, "page_size": "A4"})
        # Bare WeasyPrint on the same HTML, with the same stylesheets (the app's fetcher serves
        # them).
        began = time.perf_counter()
        size = CSS(string=feedback_pdf.page_size_css("A4"), url_fetcher=fetcher)
        bare_pdf = HTML(string=html, url_fetcher=fetcher).write_pdf(stylesheets=[size])
        bare.append(time.perf_counter() - began)
    return {
        "tenant": org.slug,
        "document": chosen.pk,
        "comments": chosen.n,
        "pages": rendered.pages,
        "bytes": len(rendered.pdf),
        "bare_bytes": len(bare_pdf or b""),
        "seconds": min(ours),
        "bare_seconds": min(bare),
        "ratio": min(ours) / min(bare) if min(bare) else None,
        "runs": {"seconds": ours, "bare_seconds": bare},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", required=True, help="where to write the figures")
    parser.add_argument("--reminders", type=int, default=10_000)
    parser.add_argument("--promotions", type=int, default=1_000)
    parser.add_argument("--pdf-comments", type=int, default=2_000)
    parser.add_argument("--slate-reps", type=int, default=5)
    parser.add_argument(
        "--pdf-repeat", type=int, default=2, help="runs of the PDF and of bare WeasyPrint each"
    )
    args = parser.parse_args()

    jobs: dict[str, Any] = {
        "slate": lambda: slate(args.slate_reps),
        "promotion": lambda: promotion(args.promotions),
        "reminders": lambda: reminders(args.reminders),
        "pdf": lambda: pdf(args.pdf_comments, args.pdf_repeat),
    }
    results: dict[str, Any] = {}
    for name, job in jobs.items():
        try:
            results[name] = job()
        except Exception as error:
            logging.getLogger("bench").exception("job %s failed", name)
            results[name] = {"error": f"{type(error).__name__}: {error}"[:500]}
        results[name]["peak_kib"] = peak_kib()
    results["peak_kib"] = peak_kib()
    Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
