"""The seat cap under concurrency, on PostgreSQL: 50 threads at once try to take the last free
seat, through staff seating and through offer acceptance. Exactly one wins, every time; the
control run without the group lock shows the race does happen, so the test proves something."""

from __future__ import annotations

import datetime
import threading
import time
from collections import Counter
from collections.abc import Callable
from functools import partial

import pytest
from django.db import connection, connections
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from groups.models import WorkingGroup
from membership import rules, services
from membership.models import Application, Offer, Seat
from tests.factories import ApplicationFactory, WorkingGroupFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks and real concurrency need PostgreSQL"
    ),
]

THREADS = 50
REPETITIONS = 20
CAP = 30


@pytest.fixture
def widened_window(monkeypatch: pytest.MonkeyPatch) -> None:
    """Hold each transaction a moment between counting and writing, in both runs alike, so
    that without the lock the threads reliably overlap."""
    read = rules.GroupState.read

    def slow_read(group: WorkingGroup) -> rules.GroupState:
        state = read(group)
        time.sleep(0.005)
        return state

    monkeypatch.setattr(rules.GroupState, "read", staticmethod(slow_read))


def without_lock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        services,
        "lock_group",
        lambda group_id: WorkingGroup.objects.select_related("organisation").get(pk=group_id),
    )


def race(org: Organisation, jobs: list[Callable[[], object]], timeout: float = 120) -> Counter[str]:
    """Run every job in its own thread, all released at once; return how each one ended.

    Each thread records its own outcome (under a lock); the race is only judged once every
    thread has finished and recorded one, so a hung or silently lost thread fails the test
    instead of shrinking the counts."""
    outcomes: list[str | None] = [None] * len(jobs)
    barrier = threading.Barrier(len(jobs))
    lock = threading.Lock()

    def worker(index: int, job: Callable[[], object]) -> None:
        try:
            barrier.wait()
            with scope(organisation=org):
                result = job()
            kind = "seated" if isinstance(result, Seat) else f"returned {result!r}"
        except DomainError as error:
            kind = type(error).__name__
        except Exception as error:  # noqa: BLE001 - counted, and then judged by the test
            kind = type(error).__name__
        finally:
            connections.close_all()
        with lock:
            outcomes[index] = kind

    threads = [
        threading.Thread(target=worker, args=(index, job), daemon=True)
        for index, job in enumerate(jobs)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    alive = [index for index, thread in enumerate(threads) if thread.is_alive()]
    assert not alive, f"threads {alive} still running after {timeout}s"
    with lock:
        missing = [index for index, kind in enumerate(outcomes) if kind is None]
        assert not missing, f"threads {missing} finished without recording an outcome"
        return Counter(kind for kind in outcomes if kind is not None)


class Scenario:
    """28 seats held, one open offer (29 of 30 held): one seat is free for staff seating, and
    the offer may be accepted once. 25 threads seat applicants, 25 accept the same offer."""

    def __init__(self, org: Organisation, staff: User) -> None:
        self.org, self.staff = org, staff
        self.group = WorkingGroupFactory.create(organisation=org, seat_cap=CAP, slug="race")
        self.seated = [ApplicationFactory.create(group=self.group) for _ in range(CAP - 2)]
        self.offered = ApplicationFactory.create(group=self.group)
        self.contenders = [ApplicationFactory.create(group=self.group) for _ in range(THREADS // 2)]

    def reset(self) -> None:
        with scopes_disabled():
            Seat.objects.filter(group=self.group).delete()
            Offer.objects.filter(group=self.group).delete()
            Application.objects.filter(group=self.group).update(status=Application.Status.SUBMITTED)
            Seat.objects.bulk_create(
                Seat(group=self.group, holder=a.applicant, application=a, affiliation="member")
                for a in self.seated
            )
            now = timezone.now()
            self.offer = Offer.objects.create(
                group=self.group,
                application=self.offered,
                offered_at=now,
                expires_at=now + datetime.timedelta(days=7),
            )
            Application.objects.filter(pk=self.offered.pk).update(status=Application.Status.OFFERED)

    def jobs(self) -> list[Callable[[], object]]:
        seat_jobs = [
            (lambda a=a: services.seat_take(application=a, acting_user=self.staff))
            for a in self.contenders
        ]
        accept_jobs = [
            (lambda: services.offer_accept(offer=self.offer, user=self.offered.applicant))
            for _ in range(THREADS - len(seat_jobs))
        ]
        return [job for pair in zip(seat_jobs, accept_jobs, strict=True) for job in pair]

    def run(self) -> Counter[str]:
        return race(self.org, self.jobs())

    def held(self) -> tuple[int, int, int]:
        with scopes_disabled():
            seats = Seat.objects.filter(group=self.group, ended_at__isnull=True).count()
            offers = Offer.objects.filter(group=self.group, status=Offer.Status.OPEN).count()
            accepted = Offer.objects.filter(pk=self.offer.pk, status=Offer.Status.ACCEPTED).count()
        return seats, offers, accepted


@pytest.fixture
def scenario(org: Organisation, secretariat: User) -> Scenario:
    return Scenario(org, secretariat)


def test_fifty_threads_never_seat_a_31st_participant(
    scenario: Scenario, widened_window: None
) -> None:
    for repetition in range(REPETITIONS):
        scenario.reset()
        outcomes = scenario.run()
        seats, offers, accepted = scenario.held()
        assert seats == CAP, (repetition, outcomes)
        assert offers == 0
        assert accepted == 1
        # One seat_take and one acceptance won; everyone else was refused with a reason.
        assert outcomes["seated"] == 2, (repetition, outcomes)
        assert outcomes["SeatCapReached"] == THREADS // 2 - 1, outcomes
        assert outcomes["OfferNotOpen"] == THREADS // 2 - 1, outcomes


def test_control_without_the_lock_the_race_happens(
    scenario: Scenario, widened_window: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    without_lock(monkeypatch)
    overbooked = 0
    for _repetition in range(3):
        scenario.reset()
        scenario.run()
        seats, _offers, _accepted = scenario.held()
        overbooked = max(overbooked, seats - CAP)
    assert overbooked > 0, "without the lock, concurrent seating should exceed the cap"


def test_staff_cannot_seat_anyone_while_the_last_seat_is_held_for_an_offer(
    org: Organisation, secretariat: User
) -> None:
    group = WorkingGroupFactory.create(organisation=org, seat_cap=1)
    offered, other = ApplicationFactory.create(group=group), ApplicationFactory.create(group=group)
    now = timezone.now()
    with scopes_disabled():
        Offer.objects.create(
            group=group,
            application=offered,
            offered_at=now,
            expires_at=now + datetime.timedelta(days=7),
        )
    with scope(organisation=org), pytest.raises(services.SeatCapReached):
        services.seat_take(application=other, acting_user=secretariat)


def test_group_limit_holds_when_two_groups_seat_the_same_member_at_once(
    org: Organisation, secretariat: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With Members limited to one group, two secretariat members seating the same Member's two
    representatives in two oversubscribed groups at the same moment: one is refused."""
    from tests.factories import MemberFactory, ParticipantProfileFactory

    org.member_group_limit = 1
    org.save()
    member = MemberFactory.create(organisation=org, name="Busy Metals")
    read = rules.GroupState.read

    def slow_read(group: WorkingGroup) -> rules.GroupState:
        # Two threads only: a window long enough that both have read before either writes.
        state = read(group)
        time.sleep(0.3)
        return state

    monkeypatch.setattr(rules.GroupState, "read", staticmethod(slow_read))

    def contest(lock: bool) -> tuple[Counter[str], int]:
        """Both sides at once; how each ended, and how many seats the Member then holds."""
        if not lock:
            # The group row only (FOR UPDATE OF): a plain join would lock the tenant row too.
            monkeypatch.setattr(
                services,
                "lock_group",
                lambda group_id: (
                    WorkingGroup.objects.select_for_update(of=("self",))
                    .select_related("organisation")
                    .get(pk=group_id)
                ),
            )
        reps = []
        for _side in ("a", "b"):
            group = WorkingGroupFactory.create(organisation=org, seat_cap=1)
            reps.append(
                ApplicationFactory.create(
                    group=group,
                    profile=ParticipantProfileFactory.create(organisation=org, member=member),
                )
            )
            ApplicationFactory.create(group=group)  # someone else waits: oversubscribed
        jobs: list[Callable[[], object]] = [
            partial(services.seat_take, application=rep, acting_user=secretariat) for rep in reps
        ]
        outcomes = race(org, jobs, timeout=60)
        with scopes_disabled():
            held = Seat.objects.filter(member=member, ended_at__isnull=True).count()
            Seat.objects.filter(member=member).update(
                ended_at=timezone.now(), end_reason=Seat.EndReason.OTHER
            )
        return outcomes, held

    for _repetition in range(5):
        # One side seated, the other refused by the group limit: the Member sits in one group.
        assert contest(lock=True) == (Counter({"seated": 1, "RuleBlocks": 1}), 1)
    # Control: with only the group rows locked, both sides read "no other group" and both sit.
    controls = [contest(lock=False) for _ in range(3)]
    assert max(held for _outcomes, held in controls) == 2, controls
    assert Counter({"seated": 2}) in [outcomes for outcomes, _held in controls], controls
