"""Reads about meetings that several views, tasks and e-mails need, already scoped and filtered
to what the person may see.

Who sees what: the secretariat sees every meeting of its organisation, with join links and
materials. A participant sees the meetings of the groups they hold a seat in, with the join
link; they read the materials only once they have acknowledged the current antitrust policy
(``membership.selectors.participant_access``). Nobody else sees a meeting at all.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from asi_wg.models import Organisation, OrganisationRole, User
from groups.models import WorkingGroup
from meetings.models import Apology, InterpretationRequest, Material, Meeting
from membership.models import Seat
from membership.selectors import antitrust_status


@dataclass(frozen=True)
class MeetingAccess:
    """What one person may do with one meeting."""

    staff: bool = False
    seated: bool = False
    acknowledged: bool = False

    @property
    def can_view(self) -> bool:
        return self.staff or self.seated

    @property
    def can_join(self) -> bool:
        return self.staff or self.seated

    @property
    def can_read_materials(self) -> bool:
        return self.staff or (self.seated and self.acknowledged)


def is_secretariat(*, organisation: Organisation, user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_perm(f"asi_wg.{OrganisationRole.SECRETARIAT.value}", organisation)
    )


def seated_group_ids(*, organisation: Organisation, user: Any) -> set[int]:
    """The groups of ``organisation`` in which ``user`` holds a seat now."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    return set(
        Seat.objects.filter(
            holder=user, ended_at__isnull=True, group__organisation=organisation
        ).values_list("group_id", flat=True)
    )


def meeting_access(*, organisation: Organisation, user: Any, meeting: Meeting) -> MeetingAccess:
    if meeting.organisation_id != organisation.pk:
        return MeetingAccess()
    if is_secretariat(organisation=organisation, user=user):
        return MeetingAccess(staff=True)
    if meeting.group_id not in seated_group_ids(organisation=organisation, user=user):
        return MeetingAccess()
    acknowledged = antitrust_status(organisation=organisation, user=user).acknowledged
    return MeetingAccess(seated=True, acknowledged=acknowledged)


def published_materials(now: datetime.datetime | None = None) -> QuerySet[Material]:
    now = now or timezone.now()
    return Material.objects.filter(withdrawn_at__isnull=True, publish_at__lte=now).order_by(
        "publish_at", "id"
    )


def _with_details(
    meetings: QuerySet[Meeting], *, user: User, now: datetime.datetime
) -> QuerySet[Meeting]:
    """Group, phase, published materials and the person's own apology and interpretation
    request: a fixed number of queries for any number of meetings."""
    return meetings.select_related("group", "phase").prefetch_related(
        Prefetch("materials", queryset=published_materials(now), to_attr="published"),
        Prefetch(
            "apologies",
            queryset=Apology.objects.filter(person=user, withdrawn_at__isnull=True),
            to_attr="my_apologies",
        ),
        Prefetch(
            "interpretation_requests",
            queryset=InterpretationRequest.objects.filter(person=user, withdrawn_at__isnull=True),
            to_attr="my_interpretation",
        ),
    )


@dataclass
class ParticipantMeetings:
    upcoming: list[Meeting]
    past: list[Meeting]
    groups: list[WorkingGroup]
    acknowledged: bool


def meetings_for_participant(
    *, organisation: Organisation, user: User, now: datetime.datetime | None = None
) -> ParticipantMeetings:
    """The meetings of every group the person sits in, upcoming first (soonest first), then
    past ones (latest first)."""
    now = now or timezone.now()
    group_ids = seated_group_ids(organisation=organisation, user=user)
    meetings = list(
        _with_details(
            Meeting.objects.filter(organisation=organisation, group_id__in=group_ids),
            user=user,
            now=now,
        ).order_by("starts_at", "id")
    )
    groups = list(WorkingGroup.objects.filter(pk__in=group_ids).order_by("number"))
    return ParticipantMeetings(
        upcoming=[m for m in meetings if m.ends_at >= now],
        past=[m for m in reversed(meetings) if m.ends_at < now],
        groups=groups,
        acknowledged=bool(group_ids)
        and antitrust_status(organisation=organisation, user=user).acknowledged,
    )


def meeting_detail(
    *, organisation: Organisation, user: User, uid: Any, now: datetime.datetime | None = None
) -> Meeting | None:
    return (
        _with_details(
            Meeting.objects.filter(organisation=organisation, uid=uid),
            user=user,
            now=now or timezone.now(),
        )
        .select_related("organisation")
        .first()
    )


def meetings_for_feed(*, organisation: Organisation, user: User) -> tuple[list[Meeting], set[int]]:
    """Every meeting a person's calendar feed lists (their groups' meetings, cancelled ones too
    so that calendars remove them), and the groups whose join links it may carry."""
    if is_secretariat(organisation=organisation, user=user):
        meetings = Meeting.objects.filter(organisation=organisation)
        groups = set(meetings.values_list("group_id", flat=True))
    else:
        groups = seated_group_ids(organisation=organisation, user=user)
        meetings = Meeting.objects.filter(organisation=organisation, group_id__in=groups)
    return list(meetings.select_related("group", "phase").order_by("starts_at")), groups


def seated_participants(group: WorkingGroup) -> list[User]:
    """Who holds a seat in the group now, by name."""
    return list(
        User.objects.filter(
            Q(seats__group=group) & Q(seats__ended_at__isnull=True), is_active=True
        ).order_by("full_name", "email")
    )
