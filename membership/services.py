"""Writes on profiles, applications, seats, offers and the antitrust policy.

Every function here is one transaction and writes its audit entry inside it. Anything that uses
up or frees a seat first locks the group row (``lock_group``) and only then counts, so that no
interleaving of requests or jobs can seat more people than the group's cap. E-mails and the
waiting-list job are queued with ``transaction.on_commit``: they never run for a change that
was rolled back.
"""

from __future__ import annotations

import contextlib
import contextvars
import datetime
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from asi_wg.audit import audit_record
from asi_wg.errors import DomainError
from asi_wg.models import AuditEntry, Organisation, User
from asi_wg.tenancy import same_organisation
from groups import services as group_services
from groups.models import FocusArea, GroupRole, WorkingGroup
from membership import rules
from membership.models import (
    AntitrustAcknowledgement,
    AntitrustPolicy,
    Application,
    Offer,
    ParticipantProfile,
    Seat,
)

# --- Errors -----------------------------------------------------------------------------------


class NotEligible(DomainError):
    default_message = _("You cannot take part in this group.")


class AlreadyApplied(DomainError):
    default_message = _("You have already applied to this group.")


class SeatCapReached(DomainError):
    default_message = _("All seats in this group are taken.")


class RuleBlocks(DomainError):
    """One or more selection rules refuse the step; ``checks`` says which."""

    def __init__(self, checks: list[rules.Check]) -> None:
        self.checks = checks
        super().__init__(" ".join(check.message for check in checks))


class OfferNotOpen(DomainError):
    default_message = _("This offer is no longer open.")


class OfferExpired(DomainError):
    default_message = _("This offer has expired, and the seat has moved on to the next person.")


class NotYourOffer(DomainError):
    default_message = _("This offer was made to someone else.")


class InvalidState(DomainError):
    default_message = _("This application is not in a state that allows that.")


# --- Locking ----------------------------------------------------------------------------------


def lock_group_row(group_id: int) -> WorkingGroup:
    """Lock only the group row (not the tenant): enough for a decision that uses no seat."""
    return WorkingGroup.objects.select_for_update().get(pk=group_id)


def lock_group(group_id: int) -> WorkingGroup:
    """Lock the group row for the rest of the transaction: the capacity every seat uses up.

    Seating, accepting, ending, promotion and expiry all pass through here, so they queue
    behind each other per group. (The race test's control replaces this with a plain read.)

    When the tenant limits the groups per Member, a decision in one group depends on seats and
    offers in the others, so the tenant row is locked first: such decisions queue across the
    tenant's groups. Always the tenant before the group, so two paths never wait on each other
    in opposite orders.
    """
    limit = (
        Organisation.objects.filter(working_groups__pk=group_id)
        .values_list("pk", "member_group_limit")
        .first()
    )
    if limit is not None and limit[1]:
        Organisation.objects.select_for_update().only("pk").get(pk=limit[0])
    return (
        WorkingGroup.objects.select_for_update(of=("self",))
        .select_related("organisation")
        .get(pk=group_id)
    )


def _queue_promotion(group: WorkingGroup) -> None:
    from membership import tasks

    organisation_id, group_id = group.organisation_id, group.pk
    transaction.on_commit(
        lambda: tasks.waitlist_promote.delay(organisation_id=organisation_id, group_id=group_id)
    )


_quiet: contextvars.ContextVar[bool] = contextvars.ContextVar("membership_quiet", default=False)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Make changes without e-mailing anyone (demo data, bulk corrections by the platform)."""
    token = _quiet.set(True)
    try:
        yield
    finally:
        _quiet.reset(token)


def notification_queue(kind: str, obj: Any, *, organisation: Organisation) -> None:
    """Send the notification ``kind`` about ``obj`` once the current transaction commits (a
    Celery task; see ``membership.notifications``). Later apps queue theirs through here too."""
    from membership import tasks

    if _quiet.get():
        return
    organisation_id, object_id = organisation.pk, obj.pk
    transaction.on_commit(
        lambda: tasks.notification_send.delay(
            organisation_id=organisation_id, kind=kind, object_id=object_id
        )
    )


# --- Profiles and antitrust -------------------------------------------------------------------

PROFILE_FIELDS = (
    "affiliation",
    "member",
    "expert_organisation",
    "job_title",
    "country",
    "languages",
    "interpretation_needs",
    "expertise",
    "name_consent",
)


@transaction.atomic
def profile_save(
    *, organisation: Organisation, user: User, data: dict[str, Any]
) -> ParticipantProfile:
    """Create or update the person's profile in this tenant; consent changes are dated.

    Refuses (``OtherTenant``) a Member of another organisation."""
    same_organisation(organisation, data.get("member"))
    profile = (
        ParticipantProfile.objects.select_for_update(of=("self",))
        .filter(organisation=organisation, user=user)
        .first()
    )
    created = profile is None
    if profile is None:
        profile = ParticipantProfile(organisation=organisation, user=user)
    before = {field: getattr(profile, field) for field in PROFILE_FIELDS} if not created else {}
    for field in PROFILE_FIELDS:
        if field in data:
            setattr(profile, field, data[field])
    if profile.affiliation != ParticipantProfile.Affiliation.MEMBER:
        profile.member = None
    if created or before.get("name_consent") != profile.name_consent:
        profile.name_consent_at = timezone.now()
    profile.full_clean()
    profile.save()
    changed = sorted(
        field for field in PROFILE_FIELDS if before.get(field) != getattr(profile, field)
    )
    audit_record(
        organisation=organisation,
        actor=user,
        action="profile.create" if created else "profile.update",
        target=profile,
        data={"fields": changed},
    )
    if created or "name_consent" in changed:
        # The consent history, whatever path changed it; the privacy export reads it back.
        audit_record(
            organisation=organisation,
            actor=user,
            action="profile.consent",
            target=profile,
            data={"name_consent": profile.name_consent},
        )
    return profile


@transaction.atomic
def expert_invite(*, profile: ParticipantProfile, acting_user: User) -> ParticipantProfile:
    """Record the secretariat's invitation of a technical expert."""
    same_organisation(profile.organisation_id, profile)
    if profile.affiliation != ParticipantProfile.Affiliation.EXPERT:
        raise DomainError(_("Only technical experts are invited; others qualify by membership."))
    if profile.expert_invited_at is None:
        profile.expert_invited_at = timezone.now()
        profile.save(update_fields=["expert_invited_at", "updated_at"])
        audit_record(
            organisation=profile.organisation,
            actor=acting_user,
            action="expert.invite",
            target=profile,
        )
    return profile


@transaction.atomic
def antitrust_policy_publish(
    *, organisation: Organisation, title: str, body: str, acting_user: User | None
) -> AntitrustPolicy:
    """Publish a new version; every participant must acknowledge it before taking part again."""
    if not body.strip():
        raise DomainError(_("The policy needs its text."))
    same_organisation(organisation)
    # Lock the tenant row: two publishers at once get versions n+1 and n+2, not a clash.
    Organisation.objects.select_for_update().get(pk=organisation.pk)
    latest = AntitrustPolicy.objects.filter(organisation=organisation).order_by("-version").first()
    policy = AntitrustPolicy.objects.create(
        organisation=organisation,
        version=(latest.version + 1) if latest else 1,
        title=title,
        body=body,
        published_by=acting_user,
    )
    audit_record(
        organisation=organisation,
        actor=acting_user,
        action="antitrust.publish",
        target=policy,
        data={"version": policy.version},
    )
    notification_queue("antitrust_new_version", policy, organisation=organisation)
    return policy


@transaction.atomic
def antitrust_acknowledge(
    *, organisation: Organisation, user: User, policy: AntitrustPolicy
) -> AntitrustAcknowledgement:
    """Record that the person read and acknowledged this version (idempotent)."""
    same_organisation(organisation, policy)
    ack, created = AntitrustAcknowledgement.objects.get_or_create(
        user=user, policy=policy, defaults={"organisation": organisation}
    )
    if created:
        audit_record(
            organisation=organisation,
            actor=user,
            action="antitrust.acknowledge",
            target=policy,
            data={"version": policy.version},
        )
    return ack


# --- Applications -----------------------------------------------------------------------------


@transaction.atomic
def application_submit(
    *,
    group: WorkingGroup,
    user: User,
    focus_areas: list[FocusArea],
    statement: str,
) -> Application:
    """Apply to a group. Checks eligibility and that the person has not applied already.

    Refuses (``OtherTenant``) a group or focus areas of another organisation, and an archived
    group (read under the group's lock, which archiving takes)."""
    same_organisation(group.organisation_id, group, *focus_areas)
    if lock_group_row(group.pk).archived_at is not None:
        raise group_services.GroupArchived(
            _("%(group)s is archived and takes no applications.") % {"group": group.name}
        )
    profile = ParticipantProfile.objects.filter(organisation=group.organisation, user=user).first()
    check = rules.eligibility(profile)
    if check.blocks:
        raise NotEligible(check.message)
    assert profile is not None
    if any(area.group_id != group.pk for area in focus_areas):
        raise DomainError(_("Choose focus areas of this group."))
    if not statement.strip():
        raise DomainError(_("Write a few lines on what you would bring to the group."))
    existing = Application.objects.filter(group=group, applicant=user).first()
    if existing is not None and existing.status != Application.Status.WITHDRAWN:
        raise AlreadyApplied()
    try:
        with transaction.atomic():
            if existing is not None:
                # Someone who withdrew may apply again: the same row, from the back of the queue.
                application = existing
                application.status = Application.Status.SUBMITTED
                application.statement = statement.strip()
                application.applied_at = timezone.now()
                application.priority = 0
                application.profile = profile
                application.save()
            else:
                application = Application.objects.create(
                    group=group, applicant=user, profile=profile, statement=statement.strip()
                )
    except IntegrityError as error:  # a double submit racing the check above
        raise AlreadyApplied() from error
    application.focus_areas.set(focus_areas)
    audit_record(
        organisation=group.organisation,
        actor=user,
        action="application.submit",
        target=application,
        data={"focus_areas": [area.pk for area in focus_areas]},
    )
    notification_queue("application_received", application, organisation=group.organisation)
    return application


@transaction.atomic
def application_withdraw(*, application: Application, acting_user: User) -> Application:
    """The applicant withdraws: an open offer is withdrawn, a seat ends, the seat moves on."""
    same_organisation(application.group.organisation_id, application)
    group = lock_group(application.group_id)
    application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    if application.status in {Application.Status.WITHDRAWN, Application.Status.ENDED}:
        raise InvalidState(_("This application has already been withdrawn."))
    if application.status not in Application.WITHDRAWABLE:
        # Withdrawing a decided application would let its owner re-apply to the front.
        raise InvalidState(_("This application is decided: there is nothing to withdraw."))
    frees_capacity = False
    for offer in Offer.objects.filter(application=application, status=Offer.Status.OPEN):
        offer.status = Offer.Status.WITHDRAWN
        offer.responded_at = timezone.now()
        offer.save(update_fields=["status", "responded_at"])
        frees_capacity = True
    seat = Seat.objects.filter(application=application, ended_at__isnull=True).first()
    if seat is not None:
        _end_seat(seat, reason=Seat.EndReason.WITHDREW, note="", acting_user=acting_user)
        frees_capacity = True
        if acting_user.pk != application.applicant_id:
            # Withdrawn by the secretariat: the person hears of it.
            notification_queue("seat_ended", seat, organisation=group.organisation)
    application.status = Application.Status.WITHDRAWN
    application.save(update_fields=["status", "updated_at"])
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="application.withdraw",
        target=application,
    )
    if frees_capacity:
        _queue_promotion(group)
    return application


@transaction.atomic
def application_waitlist(*, application: Application, acting_user: User) -> Application:
    """Staff put an applicant on the waiting list; a free seat is then offered by the job."""
    same_organisation(application.group.organisation_id, application)
    group = lock_group(application.group_id)
    application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    if application.status not in Application.ACTIONABLE - {Application.Status.WAITING}:
        raise InvalidState()
    application.status = Application.Status.WAITING
    application.save(update_fields=["status", "updated_at"])
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="application.waitlist",
        target=application,
    )
    notification_queue("waitlisted", application, organisation=group.organisation)
    _queue_promotion(group)
    return application


@transaction.atomic
def application_decline(
    *, application: Application, acting_user: User, reason: str = ""
) -> Application:
    """Staff decide not to select an applicant (not seated, not waiting)."""
    same_organisation(application.group.organisation_id, application)
    group = lock_group(application.group_id)
    application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    if application.status not in Application.POOL:
        raise InvalidState()
    application.status = Application.Status.DECLINED
    application.save(update_fields=["status", "updated_at"])
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="application.decline",
        target=application,
        data={"reason": reason},
    )
    return application


@transaction.atomic
def application_reprioritise(
    *, application: Application, priority: int, reason: str, acting_user: User
) -> Application:
    """Move an applicant on the waiting list; the reason is kept in the audit trail."""
    if not reason.strip():
        raise DomainError(_("Say why the waiting-list order changes."))
    if not -999 <= priority <= 999:
        raise DomainError(_("A priority is a whole number from -999 to 999."))
    same_organisation(application.group.organisation_id, application)
    group = lock_group(application.group_id)
    application = Application.objects.select_for_update(of=("self",)).get(pk=application.pk)
    if application.status not in Application.POOL:
        raise InvalidState(_("Only applicants awaiting selection or waiting have a place to move."))
    before = application.priority
    application.priority = priority
    application.save(update_fields=["priority", "updated_at"])
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="waitlist.reorder",
        target=application,
        data={"from": before, "to": priority, "reason": reason.strip()},
    )
    return application


@dataclass(frozen=True)
class BulkOutcome:
    application: Application
    ok: bool
    message: str


BULK_SEAT, BULK_WAITLIST, BULK_DECLINE = "seat", "waitlist", "decline"


def applications_bulk_decide(
    *,
    applications: list[Application],
    action: str,
    acting_user: User,
    override_reason: str = "",
    decline_reason: str = "",
) -> list[BulkOutcome]:
    """Seat, wait-list or decline each application in the given order (seat in the proposed
    slate's order). Not one transaction: each call is its own, so a refusal is reported and
    does not undo the others. Each call audits and queues its own side effects."""
    if action not in {BULK_SEAT, BULK_WAITLIST, BULK_DECLINE}:
        raise DomainError(_("Choose what to do with the selected applicants."))
    outcomes = []
    for application in applications:
        try:
            if action == BULK_SEAT:
                seat = seat_take(
                    application=application,
                    acting_user=acting_user,
                    override_reason=override_reason.strip(),
                )
                message = (
                    _("seated, with the override reason recorded")
                    if seat.override_reason
                    else _("seated")
                )
            elif action == BULK_WAITLIST:
                application_waitlist(application=application, acting_user=acting_user)
                message = _("put on the waiting list")
            else:
                application_decline(
                    application=application, acting_user=acting_user, reason=decline_reason.strip()
                )
                message = _("declined")
        except DomainError as error:
            outcomes.append(BulkOutcome(application, False, str(error)))
        else:
            outcomes.append(BulkOutcome(application, True, message))
    return outcomes


# --- Seats ------------------------------------------------------------------------------------


def _create_seat(
    *,
    group: WorkingGroup,
    application: Application,
    acting_user: User | None,
    override_reason: str = "",
) -> Seat:
    profile = application.profile
    seat = Seat.objects.create(
        group=group,
        holder=application.applicant,
        application=application,
        member=profile.member,
        affiliation=profile.affiliation,
        seated_by=acting_user,
        override_reason=override_reason,
    )
    application.status = Application.Status.SEATED
    application.save(update_fields=["status", "updated_at"])
    group_services.group_role_grant(
        group=group, user=application.applicant, role=GroupRole.PARTICIPANT, acting_user=acting_user
    )
    return seat


@transaction.atomic
def seat_take(*, application: Application, acting_user: User, override_reason: str = "") -> Seat:
    """Staff seat an applicant. Locks the group, re-checks every rule, writes seat and audit.

    Refuses with ``SeatCapReached`` when the group is full, and with ``RuleBlocks`` when a rule
    refuses; an overridable rule (second representative, per-Member group limit) is passed only
    with a written ``override_reason``, which is kept on the seat.
    """
    same_organisation(application.group.organisation_id, application)
    group = lock_group(application.group_id)
    application = (
        Application.objects.select_for_update(of=("self",))
        .select_related("profile__member", "applicant")
        .get(pk=application.pk)
    )
    if application.status not in Application.ACTIONABLE:
        raise InvalidState(
            _("Only an applicant who is not seated or offered a seat can be seated.")
        )
    state = rules.GroupState.read(group)
    checks = rules.seating_checks(state, application.profile)
    cap = next(c for c in checks if c.rule == rules.CAP)
    if cap.blocks:
        raise SeatCapReached(cap.message)
    refused = rules.blocking(checks, override=bool(override_reason.strip()))
    if refused:
        raise RuleBlocks(refused)
    overridden = [c for c in checks if c.blocks]
    seat = _create_seat(
        group=group,
        application=application,
        acting_user=acting_user,
        override_reason=override_reason.strip() if overridden else "",
    )
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="seat.take",
        target=seat,
        data={
            "application": application.pk,
            "overridden": [c.rule for c in overridden],
            "override_reason": seat.override_reason,
        },
    )
    notification_queue("seated", seat, organisation=group.organisation)
    return seat


def _end_seat(seat: Seat, *, reason: str, note: str, acting_user: User | None) -> None:
    seat.ended_at = timezone.now()
    seat.end_reason = reason
    seat.end_note = note
    seat.ended_by = acting_user
    seat.save(update_fields=["ended_at", "end_reason", "end_note", "ended_by"])
    group_services.group_role_revoke(
        group=seat.group, user=seat.holder, role=GroupRole.PARTICIPANT, acting_user=acting_user
    )
    audit_record(
        organisation=seat.group.organisation,
        actor=acting_user,
        action="seat.end",
        target=seat,
        data={"reason": reason, "note": note},
    )


@transaction.atomic
def seat_end(*, seat: Seat, reason: str, note: str = "", acting_user: User) -> Seat:
    """Staff end a seat with a reason; the freed seat is offered to the next on the list."""
    if reason not in Seat.EndReason.values:
        raise DomainError(_("Choose why the seat ends."))
    if reason == Seat.EndReason.OTHER and not note.strip():
        raise DomainError(_("Say why the seat ends."))
    same_organisation(seat.group.organisation_id, seat)
    group = lock_group(seat.group_id)
    seat = (
        Seat.objects.select_for_update(of=("self",))
        .select_related("holder", "application")
        .get(pk=seat.pk)
    )
    if seat.ended_at is not None:
        raise InvalidState(_("This seat has already ended."))
    seat.group = group
    _end_seat(seat, reason=reason, note=note.strip(), acting_user=acting_user)
    if seat.application is not None:
        seat.application.status = Application.Status.ENDED
        seat.application.save(update_fields=["status", "updated_at"])
    notification_queue("seat_ended", seat, organisation=group.organisation)
    _queue_promotion(group)
    return seat


@transaction.atomic
def group_seat_cap_change(*, group: WorkingGroup, seat_cap: int, acting_user: User) -> WorkingGroup:
    """Change the cap. It never drops below the seats held; raising it starts the promotion."""
    if not 1 <= seat_cap <= 500:
        raise DomainError(_("A group has from 1 to 500 seats."))
    same_organisation(group.organisation_id, group)
    group = lock_group(group.pk)
    state = rules.GroupState.read(group)
    if seat_cap < state.held():
        raise DomainError(
            _("%(held)d seats are held or offered: end seats before lowering the cap to %(cap)d.")
            % {"held": state.held(), "cap": seat_cap}
        )
    before = group.seat_cap
    group.seat_cap = seat_cap
    group.save(update_fields=["seat_cap", "updated_at"])
    audit_record(
        organisation=group.organisation,
        actor=acting_user,
        action="group.seat_cap",
        target=group,
        data={"from": before, "to": seat_cap},
    )
    if seat_cap > before:
        _queue_promotion(group)
    return group


# --- The waiting list and offers --------------------------------------------------------------


@transaction.atomic
def waitlist_promote(*, group: WorkingGroup, now: datetime.datetime | None = None) -> list[Offer]:
    """Offer each free seat to the next eligible person on the waiting list.

    Walks the list in its order (priority, then application time). Someone no longer eligible is
    skipped, and the skip is recorded. A second representative of a Member who already holds a
    seat or an offer is passed over while someone eligible from another Member waits (not one
    who would be a second representative too); a Member at the tenant's limit of groups (seats
    and open offers elsewhere) is passed over while the group is oversubscribed. Each offer
    holds its seat until it expires. Run twice, or on two workers at once, it makes no second
    offer for the same seat: the group lock serialises runs, and each run recounts under it.
    """
    now = now or timezone.now()
    same_organisation(group.organisation_id, group)
    group = lock_group(group.pk)
    organisation = group.organisation
    state = rules.GroupState.read(group)
    made: list[Offer] = []
    if state.free() <= 0:
        return made
    offered_ids = {offer.application_id for offer in state.open_offers}
    candidates = list(
        Application.objects.filter(group=group, status=Application.Status.WAITING)
        .exclude(pk__in=offered_ids)
        .select_related("profile__member", "applicant")
        .order_by(*rules.waiting_order())
    )
    held_by_people = {seat.holder_id for seat in state.held_seats}
    skipped: set[int] = set()
    while state.free() > 0:
        # Each offer changes who counts as waiting, so walk the list from the top again.
        application = _next_candidate(state, candidates, held_by_people, skipped)
        if application is None:
            break
        candidates.remove(application)
        offer = Offer.objects.create(
            group=group,
            application=application,
            offered_at=now,
            expires_at=now + datetime.timedelta(days=organisation.offer_hold_days),
        )
        application.status = Application.Status.OFFERED
        application.save(update_fields=["status", "updated_at"])
        offer.application = application
        state.open_offers.append(offer)
        # Holding an offer is no longer waiting: later candidates see the list as it now is.
        state.waiting = [app for app in state.waiting if app.pk != application.pk]
        made.append(offer)
        audit_record(
            organisation=organisation,
            actor=None,
            action="offer.make",
            target=offer,
            data={"application": application.pk, "expires_at": offer.expires_at.isoformat()},
        )
        notification_queue("offer", offer, organisation=organisation)
    return made


def _next_candidate(
    state: rules.GroupState,
    candidates: list[Application],
    held_by_people: set[int],
    skipped: set[int],
) -> Application | None:
    """The first application on the list that may be offered a seat now; records (once) each
    applicant skipped because they are no longer eligible."""
    for application in candidates:
        if application.pk in skipped or application.applicant_id in held_by_people:
            continue
        eligible = rules.eligibility(application.profile)
        if eligible.blocks:
            skipped.add(application.pk)
            already_recorded = AuditEntry.objects.filter(
                action="waitlist.skip",
                target_type=application._meta.label_lower,
                target_id=str(application.pk),
                created_at__gte=application.updated_at,
            ).exists()
            if not already_recorded:
                audit_record(
                    organisation=state.group.organisation,
                    actor=None,
                    action="waitlist.skip",
                    target=application,
                    data={"reason": eligible.message},
                )
            continue
        per_member = rules.one_per_member_check(state, application.profile)
        group_limit = rules.member_group_limit_check(state, application.profile)
        if per_member.blocks or group_limit.blocks:
            # Not a skip: they keep their place and are reached when the rule allows.
            continue
        return application
    return None


def offer_accept(*, offer: Offer, user: User, now: datetime.datetime | None = None) -> Seat:
    """The applicant accepts: re-checks the offer, eligibility and the cap under the lock.

    An offer found past its time is expired (and committed as such, with the seat moving on)
    before ``OfferExpired`` is raised.
    """
    now = now or timezone.now()
    with transaction.atomic():
        seat = _offer_accept_locked(offer=offer, user=user, now=now)
    if isinstance(seat, DomainError):
        raise seat
    return seat


def _offer_accept_locked(*, offer: Offer, user: User, now: datetime.datetime) -> Seat | DomainError:
    """Accept under the lock. A refusal that changes state (expiry, no longer eligible) is
    returned rather than raised, so that the change commits before the person is told."""
    same_organisation(offer.group.organisation_id, offer)
    group = lock_group(offer.group_id)
    offer = (
        Offer.objects.select_for_update(of=("self",))
        .select_related("application__profile__member", "application__applicant")
        .get(pk=offer.pk)
    )
    application = offer.application
    if application.applicant_id != user.pk:
        raise NotYourOffer()
    if offer.status != Offer.Status.OPEN:
        raise OfferNotOpen()
    if offer.expires_at <= now:
        offer.group = group
        _expire(offer, now=now)
        _queue_promotion(group)
        return OfferExpired()
    eligible = rules.eligibility(application.profile)
    if eligible.blocks:
        # The seat cannot be taken by this person: release it to the next on the list.
        offer.status = Offer.Status.WITHDRAWN
        offer.responded_at = now
        offer.save(update_fields=["status", "responded_at"])
        application.status = Application.Status.DECLINED
        application.save(update_fields=["status", "updated_at"])
        audit_record(
            organisation=group.organisation,
            actor=user,
            action="offer.withdraw_ineligible",
            target=offer,
            data={"reason": eligible.message},
        )
        _queue_promotion(group)
        return NotEligible(eligible.message)
    state = rules.GroupState.read(group)
    cap = rules.cap_check(state, excluding_offer=offer)
    if cap.blocks:
        raise SeatCapReached(cap.message)
    if any(seat.holder_id == user.pk for seat in state.held_seats):
        raise InvalidState(_("You already hold a seat in this group."))
    offer.status = Offer.Status.ACCEPTED
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at"])
    seat = _create_seat(group=group, application=application, acting_user=user)
    audit_record(
        organisation=group.organisation,
        actor=user,
        action="offer.accept",
        target=offer,
        data={"seat": seat.pk},
    )
    notification_queue("seated", seat, organisation=group.organisation)
    return seat


@transaction.atomic
def offer_decline(*, offer: Offer, user: User) -> Offer:
    """The applicant declines; the seat moves on to the next person."""
    same_organisation(offer.group.organisation_id, offer)
    group = lock_group(offer.group_id)
    offer = (
        Offer.objects.select_for_update(of=("self",)).select_related("application").get(pk=offer.pk)
    )
    if offer.application.applicant_id != user.pk:
        raise NotYourOffer()
    if offer.status != Offer.Status.OPEN:
        raise OfferNotOpen()
    offer.status = Offer.Status.DECLINED
    offer.responded_at = timezone.now()
    offer.save(update_fields=["status", "responded_at"])
    offer.application.status = Application.Status.OFFER_DECLINED
    offer.application.save(update_fields=["status", "updated_at"])
    audit_record(organisation=group.organisation, actor=user, action="offer.decline", target=offer)
    _queue_promotion(group)
    return offer


def _expire(offer: Offer, *, now: datetime.datetime) -> None:
    offer.status = Offer.Status.EXPIRED
    offer.responded_at = now
    offer.save(update_fields=["status", "responded_at"])
    application = offer.application
    application.status = Application.Status.OFFER_EXPIRED
    application.save(update_fields=["status", "updated_at"])
    audit_record(
        organisation=offer.group.organisation,
        actor=None,
        action="offer.expire",
        target=offer,
    )
    notification_queue("offer_expired", offer, organisation=offer.group.organisation)


def offers_expire(*, organisation: Organisation, now: datetime.datetime | None = None) -> int:
    """Expire every open offer past its time, one group at a time, and promote the next people.

    Idempotent: an offer already expired is no longer open, so a second run finds nothing.
    """
    now = now or timezone.now()
    same_organisation(organisation)
    group_ids = list(
        Offer.objects.filter(
            group__organisation=organisation, status=Offer.Status.OPEN, expires_at__lte=now
        )
        .values_list("group_id", flat=True)
        .distinct()
    )
    expired = 0
    for group_id in sorted(set(group_ids)):
        with transaction.atomic():
            group = lock_group(group_id)
            due = (
                Offer.objects.select_for_update(of=("self",))
                .filter(group=group, status=Offer.Status.OPEN, expires_at__lte=now)
                .select_related("application", "group__organisation")
            )
            for offer in due:
                _expire(offer, now=now)
                expired += 1
            _queue_promotion(group)
    return expired


# --- Archiving a group (asked by groups.services.group_archive) -------------------------------


def group_archive_refusal(group: WorkingGroup) -> str | None:
    """Why ``group`` cannot be archived yet: seats held, offers open or applications waiting.
    Called under the group's lock by ``groups.services.group_archive``."""
    seats = Seat.objects.filter(group=group, ended_at__isnull=True).count()
    offers = Offer.objects.filter(group=group, status=Offer.Status.OPEN).count()
    waiting = Application.objects.filter(group=group, status__in=Application.POOL).count()
    if not (seats or offers or waiting):
        return None
    return _(
        "%(group)s still has %(seats)d seats held, %(offers)d offers open and %(waiting)d "
        "applications waiting: end, withdraw or decide them on the selection workbench first."
    ) % {"group": group.name, "seats": seats, "offers": offers, "waiting": waiting}
