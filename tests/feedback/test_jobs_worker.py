"""The feedback beat job on a real Celery worker with Redis, as the meetings' one is tested
(``tests/meetings/test_jobs_worker.py``, whose worker, broker and mail server this reuses): run
twice, with a mail server that refuses the first message, every e-mail arrives exactly once."""

from __future__ import annotations

import datetime
from collections import Counter

import redis
from django.utils import timezone
from django_scopes import scopes_disabled

from asi_wg.models import User
from membership.models import SentNotification
from tests.feedback.conftest import Consultation, make_round
from tests.helpers.processes import Processes, wait_for
from tests.helpers.smtp import SmtpServer
from tests.meetings import test_jobs_worker as meetings_worker
from tests.membership.test_jobs_worker import count_succeeded, enqueue

JOBS = "feedback.tasks.feedback_jobs_due"
PER_ORGANISATION = "feedback.tasks.feedback_jobs_due_for"
NOTIFY = meetings_worker.NOTIFY

pytestmark = meetings_worker.pytestmark

# The meetings test's fixtures: a Redis database of the test's own, the processes, the SMTP server.
broker_url = meetings_worker.broker_url
processes = meetings_worker.processes
smtp = meetings_worker.smtp


def test_the_feedback_job_twice_and_a_refused_message_still_send_each_email_once(
    consultation: Consultation,
    secretariat: User,
    processes: Processes,
    broker_url: str,
    smtp: SmtpServer,
) -> None:
    c = consultation
    now = timezone.now()
    make_round(
        group=c.group,
        document=c.document,
        criteria=[c.criteria["5.10"]],
        staff=secretariat,
        title="Closing soon",
        opens_at=now - datetime.timedelta(days=10),
        closes_at=now + datetime.timedelta(hours=20),
    )
    people = [c.participant.email, c.second.email]
    expected = Counter(
        {
            **{(p, "Feedback round open: First consultation (Circularity)"): 1 for p in people},
            **{
                (p, "Feedback round closes within a day: Closing soon (Circularity)"): 1
                for p in people
            },
        }
    )
    smtp.refuse = 1  # the first message is turned away: its job must retry

    worker = meetings_worker.start_worker(processes, broker_url=broker_url, smtp=smtp)
    enqueue(broker_url, JOBS, {}, times=2)

    client = redis.Redis.from_url(broker_url)
    calm: list[bool] = []

    def drained() -> bool:
        # Two runs, each queueing one e-mail job per round and kind (two due), all done.
        done = (
            count_succeeded([worker], PER_ORGANISATION) >= 2
            and count_succeeded([worker], NOTIFY) >= 4
            and client.llen("celery") == 0
            and client.hlen("unacked") == 0
        )
        calm.append(done)
        return calm[-2:] == [True, True]

    try:
        wait_for(drained, what="the worker to run every job", timeout=25, watch=[worker])
    finally:
        client.close()

    assert smtp.refused == 1
    assert "] retry: Retry in " in worker.output()  # the refused message's job retried...
    assert meetings_worker.received(smtp) == expected  # ...and every e-mail arrived once
    with scopes_disabled():
        rows = [
            (key.split(":")[0], state)
            for key, state in SentNotification.objects.values_list("key", "state")
            if key.startswith("feedback")
        ]
    assert Counter(rows) == {
        ("feedback_round_open", SentNotification.State.SENT): 2,
        ("feedback_reminder_1d", SentNotification.State.SENT): 2,
    }
