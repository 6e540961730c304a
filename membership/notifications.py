"""E-mails about applications, offers, seats and the antitrust policy, each sent once.

A service queues ``membership.tasks.notification_send(organisation_id, kind, object_id)`` on
commit; the task calls ``send``, which re-fetches the object inside the tenant's scope and builds
one message per recipient. Each message has a key (``offer:42``,
``antitrust_new_version:3:17``) and a ``SentNotification`` row with that unique key, in three
steps, none of which holds a transaction or a row lock while the mail server is talked to (a
server that hangs must never hold up the database):

1. **claim**: insert the rows as ``sending`` and commit, the whole batch's in one INSERT (a
   meeting's reminder goes to a whole group). The key is unique, so a second run, or a second
   worker at the same moment, finds it taken: already ``sent``, it sends nothing; still
   ``sending``, it waits a moment for the other to finish, then leaves it to a later retry
   (``ClaimHeld``);
2. **send**, one message after the other, outside any transaction, within ``EMAIL_TIMEOUT`` per
   exchange and the job's time limits. On any failure, a timeout or the job's soft time limit
   included, the claims of the messages not yet sent are deleted and the error raised again, so
   the task retries with backoff and those messages go then;
3. **mark sent**: each row becomes ``sent`` as soon as its message is out.

A worker killed while sending (the hard time limit, a lost machine) leaves the claims of its
batch's unsent messages behind. Its task is redelivered (late acknowledgement) and each claim is
taken over once its lease
(``NOTIFICATION_CLAIM_LEASE_SECONDS``, longer than the job's hard limit) has run out, by one
conditional UPDATE, so two workers never both take it. Marking sent and releasing touch only the
claim this run made (its ``claimed_at``), never one taken over from it.

Two gaps are left, both towards sending twice rather than never: a mail server that accepted a
message but whose answer was lost (a timeout after the data went out), and a worker lost between
sending and marking sent. At least once in those corners beats at most once everywhere.

A message about something that has moved on since the task was queued (an offer already
declined, an applicant no longer waiting) is not sent: the e-mail about the later change
supersedes it. Each e-mail speaks to its recipient only and never names another person.
"""

from __future__ import annotations

import datetime
import functools
import logging
import re
import secrets
import time
import zoneinfo
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from email import encoders
from email.headerregistry import Address
from email.mime.base import MIMEBase
from email.policy import Compat32
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import SafeMIMEText
from django.db import IntegrityError, connections, router, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import dateformat, timezone
from django.utils.translation import get_language
from django_scopes import scope

from asi_wg.compiled import column
from asi_wg.models import AuditEntry, Organisation, User
from groups.models import WorkingGroup
from membership import selectors
from membership.models import AntitrustPolicy, Application, Offer, Seat, SentNotification

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file sent with an e-mail. ``mimetype`` may carry parameters, as a calendar invitation
    needs: ``text/calendar; method=REQUEST; charset=utf-8`` (mail programs show the REQUEST as an
    invitation to accept and a CANCEL as a cancellation of the same event)."""

    filename: str
    content: bytes
    mimetype: str = "application/octet-stream"


@dataclass(frozen=True)
class Message:
    """One e-mail to one person: the templates ``emails/<kind>...`` render it."""

    kind: str
    key: str
    recipient: User
    context: dict[str, Any] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


#: A builder returns None when the object is gone, and an empty list when nothing is due.
Builder = Callable[[Organisation, int], "list[Message] | None"]


def send(*, organisation: Organisation, kind: str, object_id: int) -> bool:
    """Send the notification ``kind`` about ``object_id`` to each recipient not yet sent it.

    Returns True when this call sent at least one e-mail. Raises on a sending failure (after
    releasing the claims of the messages not sent), and ClaimHeld when another run is sending one
    of them, so that the Celery task retries. Must not be called inside a transaction: the
    claims commit on their own before any message is handed to the mail server.
    """
    builder = BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"There is no notification of kind {kind!r}.")
    with scope(organisation=organisation):
        messages = builder(organisation, object_id)
        if messages is None:
            logger.info("notification %s: object %s is gone; nothing sent", kind, object_id)
            return False
        # One connection to the mail server for the whole batch, not a new SMTP conversation
        # (and TLS handshake) per recipient: a meeting's reminder goes to thirty people at once.
        # It opens with the first message claimed, so a batch already sent contacts no server.
        connection = get_connection()
        try:
            sent = _send_all(organisation, messages, connection)
        finally:
            connection.close()
    return sent > 0


def sent_keys(keys: list[str]) -> set[str]:
    """Those of ``keys`` already sent, in one query: a builder that a periodic job calls again
    and again skips them before building attachments. The claim stays the proof against sending
    twice; this only saves work."""
    return set(
        SentNotification.objects.filter(
            key__in=keys, state=SentNotification.State.SENT
        ).values_list("key", flat=True)
    )


class ClaimHeld(Exception):
    """Another run holds this notification's claim: try again once its lease may have run out."""

    def __init__(self, key: str, retry_in: float):
        super().__init__(f"notification {key} is being sent by another run")
        self.key = key
        self.retry_in = retry_in


#: How long a run waits for another run's claim on the same key to resolve before leaving it to
#: a retry. Long enough for one ordinary SMTP conversation; short against the job's time limit.
CLAIM_WAIT_SECONDS = 5.0
_CLAIM_POLL_SECONDS = 0.1


@dataclass(frozen=True)
class Claim:
    key: str
    pk: int
    claimed_at: datetime.datetime


def _send_all(
    organisation: Organisation, messages: list[Message], connection: BaseEmailBackend
) -> int:
    """Claim the batch, then send each claimed message and mark it sent, in order. On any
    failure (SMTP, a timeout, the job's soft time limit) the claims not yet sent are released and
    the error raised again, so the task retries and they go then. Returns how many went out."""
    unsent = deque(_claim_all(organisation, messages))
    sent = 0
    try:
        while unsent:
            message, claim = unsent[0]
            email = render_email(organisation, message)
            email.connection = connection
            connection.open()  # once: an open connection stays open for the next message
            email.send()
            unsent.popleft()  # out: no longer ours to release, whatever happens next
            _mark_sent(claim, message)
            sent += 1
    except BaseException:
        # Nothing went out for these, as far as we can know (see the module docstring for the
        # one corner).
        _release([claim for _message, claim in unsent])
        raise
    return sent


def _claim_all(organisation: Organisation, messages: list[Message]) -> list[tuple[Message, Claim]]:
    """The messages this run now holds the claim of, each with its claim, committed: the new
    keys in one INSERT per ``_CLAIM_BATCH`` (a reminder goes to a whole group), then each key
    found taken through ``_claim`` (sent already: left out; a stale claim: taken over; a live
    one: ClaimHeld, after the claims taken here are released)."""
    first: dict[str, Message] = {}
    for message in messages:
        first.setdefault(message.key, message)  # a key twice in a batch goes once
    now = timezone.now()
    alias = router.db_for_write(SentNotification)
    try:
        if transaction.get_autocommit(alias):
            # No transaction is open (a job, as it runs): each INSERT commits on its own.
            taken = _insert_claims(organisation, list(first.values()), now, alias)
        else:
            # durable: the claims really commit here, never riding on a caller's transaction
            # (that would hold the transaction open while the e-mails are sent).
            with transaction.atomic(using=alias, durable=True):
                taken = _insert_claims(organisation, list(first.values()), now, alias)
    except BaseException:
        # A later INSERT refused, or the job's soft time limit between an INSERT's commit and
        # its answer: whatever this run claimed carries its token, and goes.
        _release_batch(list(first), now)
        raise
    claims: list[tuple[Message, Claim]] = []
    try:
        for key, message in first.items():
            if key in taken:
                claims.append((message, Claim(key, pk=taken[key], claimed_at=now)))
            elif (claim := _claim(organisation, message)) is not None:
                claims.append((message, claim))
    except BaseException:
        held = {pk: Claim(key, pk=pk, claimed_at=now) for key, pk in taken.items()}
        held.update({claim.pk: claim for _message, claim in claims})
        _release(list(held.values()))
        raise
    return claims


def _sent_column(name: str) -> str:
    return column(SentNotification, name)


def _release_batch(keys: list[str], claimed_at: datetime.datetime) -> None:
    """Delete this run's claims among ``keys`` (those with its token), whichever were made."""
    _delete_claims(Q(key__in=keys, claimed_at=claimed_at), f"{keys[0]} (its batch)", "s")


#: Claims per INSERT: well under any database's limit on parameters (five per row).
_CLAIM_BATCH = 500


def _insert_claims(
    organisation: Organisation, messages: list[Message], now: datetime.datetime, alias: str
) -> dict[str, int]:
    """Insert a ``sending`` row for each message whose key is free; the keys taken, with their
    rows' ids. A key already there (sent, or another run's claim) is skipped, not an error. In
    the keys' order, so that two runs claiming some of the same keys wait for each other rather
    than deadlock. Nothing, where the database cannot return the rows it inserted (SQLite before
    3.35): each key is then claimed on its own."""
    db = connections[alias]
    if not messages or not db.features.can_return_rows_from_bulk_insert:
        return {}
    messages = sorted(messages, key=lambda message: message.key)
    meta = SentNotification._meta
    quote = db.ops.quote_name
    columns = ", ".join(
        quote(_sent_column(name))
        for name in ("organisation", "key", "recipient", "state", "claimed_at")
    )
    claimed_at = db.ops.adapt_datetimefield_value(now)
    taken: dict[str, int] = {}
    with db.cursor() as cursor:
        for start in range(0, len(messages), _CLAIM_BATCH):
            batch = messages[start : start + _CLAIM_BATCH]
            rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(batch))
            params: list[Any] = []
            for message in batch:
                params += [
                    organisation.pk,
                    message.key,
                    message.recipient.pk,
                    SentNotification.State.SENDING.value,
                    claimed_at,
                ]
            cursor.execute(
                # Names from the model, quoted; values as parameters.
                f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {rows} "  # noqa: S608
                f"ON CONFLICT ({quote(_sent_column('key'))}) DO NOTHING "
                f"RETURNING {quote(_sent_column('id'))}, {quote(_sent_column('key'))}",
                params,
            )
            taken.update({key: pk for pk, key in cursor.fetchall()})
    return taken


def _claim(organisation: Organisation, message: Message) -> Claim | None:
    """Take the message's key, committed; None when it was sent already.

    Raises ClaimHeld when another run holds the key and has neither finished nor given up.
    """
    lease = datetime.timedelta(seconds=settings.NOTIFICATION_CLAIM_LEASE_SECONDS)
    deadline = time.monotonic() + CLAIM_WAIT_SECONDS
    while True:
        now = timezone.now()
        claim = {
            "organisation": organisation,
            "key": message.key,
            "recipient": message.recipient,
            "state": SentNotification.State.SENDING,
            "claimed_at": now,
        }
        try:
            if transaction.get_autocommit():
                # No transaction is open (a job, as it runs): the one INSERT commits on its own,
                # one round trip where an atomic block costs three.
                row = SentNotification.objects.create(**claim)
            else:
                # durable: the claim really commits here, never riding on a caller's transaction
                # (that would hold the transaction open while the e-mail is sent).
                with transaction.atomic(durable=True):
                    row = SentNotification.objects.create(**claim)
            return Claim(message.key, pk=row.pk, claimed_at=now)
        except IntegrityError as error:
            refused = error
        held = SentNotification.objects.filter(key=message.key).first()
        if held is None:
            if time.monotonic() >= deadline:
                raise refused  # not the key after all (or released over and over)
            continue  # released between our insert and this read: try again at once
        if held.state == SentNotification.State.SENT:
            logger.info("notification %s was sent already", message.key)
            return None
        # A stale claim, of a worker that is gone: taken over by exactly one run, since the
        # UPDATE re-checks claimed_at on the row it locks (a second one finds it fresh).
        taken = SentNotification.objects.filter(
            pk=held.pk, state=SentNotification.State.SENDING, claimed_at__lt=now - lease
        ).update(claimed_at=now, recipient=message.recipient)
        if taken:
            logger.warning(
                "notification %s: took over a claim left since %s", message.key, held.claimed_at
            )
            return Claim(message.key, pk=held.pk, claimed_at=now)
        if time.monotonic() >= deadline:
            retry_in = (held.claimed_at + lease - now).total_seconds()
            raise ClaimHeld(message.key, retry_in=max(retry_in, 1.0))
        time.sleep(_CLAIM_POLL_SECONDS)


def _release(claims: list[Claim]) -> None:
    """Delete these claims of this run's (each still ``sending`` with its own ``claimed_at``),
    so that a retry may take their keys at once."""
    if not claims:
        return
    by_token: dict[datetime.datetime, list[int]] = {}
    for claim in claims:
        by_token.setdefault(claim.claimed_at, []).append(claim.pk)
    match = Q()
    for claimed_at, pks in by_token.items():  # one token for a batch, one per claim taken over
        match |= Q(pk__in=pks, claimed_at=claimed_at)
    _delete_claims(match, *_named(claims))


def _delete_claims(match: Q, named: str, plural: str) -> None:
    """Delete the ``sending`` rows ``match`` finds: claims of this run's that it gives up."""
    try:
        SentNotification.objects.filter(match, state=SentNotification.State.SENDING).delete()
    except Exception:
        # The original error matters more; the claims' lease frees the keys in the end.
        logger.exception("notification %s: could not release its claim%s", named, plural)
    else:
        logger.warning("notification %s: not sent; claim%s released for a retry", named, plural)


def _named(claims: list[Claim]) -> tuple[str, str]:
    """The first claim's key, and how many more: "offer:42", or "offer:42 and 29 more"."""
    more = len(claims) - 1
    return (f"{claims[0].key} and {more} more", "s") if more else (claims[0].key, "")


def _mark_sent(claim: Claim, message: Message) -> None:
    """The claim's row becomes ``sent``, if it is still this run's claim. Once per e-mail, so in
    SQL of its own: the ORM's UPDATE cost more than the round trip."""
    db = connections[router.db_for_write(SentNotification)]
    with db.cursor() as cursor:
        cursor.execute(
            _mark_sent_sql(db.alias),
            [
                SentNotification.State.SENT.value,
                db.ops.adapt_datetimefield_value(timezone.now()),
                claim.pk,
                SentNotification.State.SENDING.value,
                db.ops.adapt_datetimefield_value(claim.claimed_at),
            ],
        )
        marked = cursor.rowcount
    if not marked:
        # Only when this run outlived its own lease, which the hard time limit rules out.
        logger.error("notification %s: sent, but its claim had been taken over", message.key)


@functools.cache
def _mark_sent_sql(alias: str) -> str:
    quote, meta = connections[alias].ops.quote_name, SentNotification._meta
    state, sent_at, claimed_at = (
        quote(_sent_column(name)) for name in ("state", "sent_at", "claimed_at")
    )
    return (
        f"UPDATE {quote(meta.db_table)} SET {state} = %s, {sent_at} = %s "  # noqa: S608
        f"WHERE {quote(_sent_column('id'))} = %s AND {state} = %s AND {claimed_at} = %s"
    )


# --- Rendering --------------------------------------------------------------------------------


def local_time(value: datetime.datetime, zone_name: str) -> str:
    """``value`` in the person's zone, with the zone named: "Thursday 3 December 2026, 14:00
    (Europe/Zurich)"."""
    try:
        zone = zoneinfo.ZoneInfo(zone_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone, zone_name = zoneinfo.ZoneInfo("UTC"), "UTC"
    return f"{dateformat.format(value.astimezone(zone), 'l j F Y, H:i')} ({zone_name})"


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def dashboard_url(organisation: Organisation) -> str:
    """The person's own page in the tenant (the dashboard at ``/<slug>/me/``)."""
    return absolute_url(f"/{organisation.slug}/me/")


def sender(organisation: Organisation) -> str:
    """The tenant's name as display name, on the platform's own sending address."""
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    return str(Address(display_name=organisation.name, addr_spec=address))


_BLANK_LINES = re.compile(r"\n{3,}")


def _tidy_text(text: str) -> str:
    """Template tags leave trailing blanks and runs of empty lines behind; plain text shows them."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)) + "\n"


class _Policy(Compat32):
    """The standard library's ``compat32``, which Django writes e-mails with, less its cost for a
    header that fits on one line in printable ASCII (most of them): ``compat32`` folds each
    header through an ``email.header.Header``, and returns such a one unchanged."""

    def _fold(self, name: str, value: Any, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and self.max_line_length
            and len(name) + 2 + len(value) <= self.max_line_length
            and value.isascii()
            and value.isprintable()
        ):
            return f"{name}: {value}{self.linesep}"
        return super()._fold(name, value, sanitize)  # type: ignore[misc]


_POLICY = _Policy()


class Email(EmailMultiAlternatives):
    """An e-mail that is quicker to write out, for a reminder to a whole group: its multipart
    boundaries are random tokens set beforehand (the standard library makes each one by compiling
    a new regular expression and searching the whole text with it; 128 random bits do not occur
    in the text), and its short headers skip the folding (``_Policy``)."""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        mime = super().message(*args, **kwargs)
        for part in mime.walk():
            part.policy = _POLICY
            if part.is_multipart() and part.get_boundary() is None:
                part.set_boundary(f"=_{secrets.token_hex(16)}")
        return mime


def render_email(organisation: Organisation, message: Message) -> Email:
    recipient = message.recipient
    context = {
        "organisation": organisation,
        "recipient": recipient,
        "organisation_url": absolute_url(organisation.get_absolute_url()),
        "dashboard_url": dashboard_url(organisation),
        "language_code": get_language() or settings.LANGUAGE_CODE,
        **message.context,
    }
    template = f"emails/{message.kind}"
    subject = " ".join(render_to_string(f"{template}_subject.txt", context).split())
    context["subject"] = subject
    email = Email(
        subject=subject,
        body=_tidy_text(render_to_string(f"{template}.txt", context)),
        from_email=sender(organisation),
        to=[recipient.email],
        reply_to=[organisation.contact_email] if organisation.contact_email else None,
        # RFC 3834: tells mail servers and out-of-office replies this is an automatic message.
        headers={"Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(render_to_string(f"{template}.html", context), "text/html")
    for attachment in message.attachments:
        email.attach(_mime_part(attachment))
    return email


def _mime_part(attachment: Attachment) -> MIMEBase:
    """The attachment as one MIME part, its content type's parameters kept as parameters (a
    plain ``EmailMessage.attach`` would fold them into the subtype)."""
    mimetype, *raw_params = (part.strip() for part in attachment.mimetype.split(";"))
    params = dict(param.split("=", 1) for param in raw_params if "=" in param)
    maintype, subtype = mimetype.split("/", 1)
    part: MIMEBase
    if maintype == "text":
        charset = params.pop("charset", "utf-8")
        part = SafeMIMEText(attachment.content.decode(charset), subtype, charset)
    else:
        part = MIMEBase(maintype, subtype)
        part.set_payload(attachment.content)
        encoders.encode_base64(part)
    for name, value in params.items():
        part.set_param(name, value)
    part.add_header("Content-Disposition", "attachment", filename=attachment.filename)
    return part


def _group_context(group: WorkingGroup) -> dict[str, Any]:
    return {"group": group, "group_url": absolute_url(group.get_absolute_url())}


# --- What each kind says, to whom -------------------------------------------------------------


def _application(organisation: Organisation, object_id: int) -> Application | None:
    return (
        Application.objects.filter(pk=object_id, group__organisation=organisation)
        .select_related("group__organisation", "applicant")
        .first()
    )


def _offer(organisation: Organisation, object_id: int) -> Offer | None:
    return (
        Offer.objects.filter(pk=object_id, group__organisation=organisation)
        .select_related("group__organisation", "application__applicant")
        .first()
    )


def _seat(organisation: Organisation, object_id: int) -> Seat | None:
    return (
        Seat.objects.filter(pk=object_id, group__organisation=organisation)
        .select_related("group__organisation", "holder")
        .first()
    )


def _active(user: User) -> bool:
    return user.is_active and bool(user.email)


def application_received(organisation: Organisation, object_id: int) -> list[Message] | None:
    application = _application(organisation, object_id)
    if application is None:
        return None
    if application.status == Application.Status.WITHDRAWN or not _active(application.applicant):
        return []
    # Someone who withdrew and applied again reuses the row with a new time: a new receipt.
    applied = application.applied_at.strftime("%Y%m%d%H%M%S%f")
    return [
        Message(
            kind="application_received",
            key=f"application_received:{application.pk}:{applied}",
            recipient=application.applicant,
            context={
                **_group_context(application.group),
                "applied_at": local_time(application.applied_at, application.applicant.time_zone),
            },
        )
    ]


def waitlisted(organisation: Organisation, object_id: int) -> list[Message] | None:
    application = _application(organisation, object_id)
    if application is None:
        return None
    if application.status != Application.Status.WAITING or not _active(application.applicant):
        # Offered, seated or withdrawn meanwhile: that change's own e-mail says where they stand.
        return []
    # An applicant may join the list again (after an expired offer): one e-mail each time.
    times = AuditEntry.objects.filter(
        organisation=organisation,
        action="application.waitlist",
        target_type=Application._meta.label_lower,
        target_id=str(application.pk),
    ).count()
    return [
        Message(
            kind="waitlisted",
            key=f"waitlisted:{application.pk}:{times}",
            recipient=application.applicant,
            context={
                **_group_context(application.group),
                "position": selectors.waiting_position(application),
                "hold_days": organisation.offer_hold_days,
            },
        )
    ]


def offer(organisation: Organisation, object_id: int) -> list[Message] | None:
    found = _offer(organisation, object_id)
    if found is None:
        return None
    applicant = found.application.applicant
    if found.status != Offer.Status.OPEN or not _active(applicant):
        return []
    return [
        Message(
            kind="offer",
            key=f"offer:{found.pk}",
            recipient=applicant,
            context={
                **_group_context(found.group),
                "offer": found,
                "expires_at": local_time(found.expires_at, applicant.time_zone),
            },
        )
    ]


def offer_expired(organisation: Organisation, object_id: int) -> list[Message] | None:
    found = _offer(organisation, object_id)
    if found is None:
        return None
    applicant = found.application.applicant
    if found.status != Offer.Status.EXPIRED or not _active(applicant):
        return []
    return [
        Message(
            kind="offer_expired",
            key=f"offer_expired:{found.pk}",
            recipient=applicant,
            context={
                **_group_context(found.group),
                "expired_at": local_time(found.expires_at, applicant.time_zone),
            },
        )
    ]


def seated(organisation: Organisation, object_id: int) -> list[Message] | None:
    seat = _seat(organisation, object_id)
    if seat is None:
        return None
    if seat.ended_at is not None or not _active(seat.holder):
        return []
    return [
        Message(
            kind="seated",
            key=f"seated:{seat.pk}",
            recipient=seat.holder,
            context={
                **_group_context(seat.group),
                "policy": _unacknowledged_policy(organisation, seat.holder),
            },
        )
    ]


def _unacknowledged_policy(organisation: Organisation, user: User) -> AntitrustPolicy | None:
    """The current antitrust policy when the person has yet to acknowledge it."""
    policy = selectors.current_policy(organisation)
    if policy is None or policy.acknowledgements.filter(user=user).exists():
        return None
    return policy


def seat_ended(organisation: Organisation, object_id: int) -> list[Message] | None:
    seat = _seat(organisation, object_id)
    if seat is None:
        return None
    if seat.ended_at is None or not _active(seat.holder):
        return []
    if seat.end_reason == Seat.EndReason.ERASED:
        # The person asked for their data to be erased: no more e-mail to them.
        return []
    # The staff note is for the secretariat (it may name people): only the reason is said.
    return [
        Message(
            kind="seat_ended",
            key=f"seat_ended:{seat.pk}",
            recipient=seat.holder,
            context={
                **_group_context(seat.group),
                "ended_at": local_time(seat.ended_at, seat.holder.time_zone),
                "reason": seat.get_end_reason_display(),
                "withdrew": seat.end_reason == Seat.EndReason.WITHDREW,
            },
        )
    ]


def antitrust_new_version(organisation: Organisation, object_id: int) -> list[Message] | None:
    policy = AntitrustPolicy.objects.filter(pk=object_id, organisation=organisation).first()
    if policy is None:
        return None
    if AntitrustPolicy.objects.filter(
        organisation=organisation, version__gt=policy.version
    ).exists():
        # Superseded before this went out: the newer version's e-mail asks for that one.
        return []
    holders = (
        User.objects.filter(
            seats__group__organisation=organisation, seats__ended_at__isnull=True, is_active=True
        )
        .exclude(acknowledgements__policy=policy)
        .exclude(email="")
        .distinct()
        .order_by("pk")
    )
    return [
        Message(
            kind="antitrust_new_version",
            key=f"antitrust_new_version:{policy.pk}:{user.pk}",
            recipient=user,
            context={"policy": policy},
        )
        for user in holders
    ]


#: Every kind of notification and its builder. Later apps add theirs with ``builder_register``
#: (from their AppConfig.ready()), since this app may not import them.
BUILDERS: dict[str, Builder] = {
    "application_received": application_received,
    "waitlisted": waitlisted,
    "offer": offer,
    "offer_expired": offer_expired,
    "seated": seated,
    "seat_ended": seat_ended,
    "antitrust_new_version": antitrust_new_version,
}


def builder_register(kind: str, builder: Builder) -> None:
    """Make ``send`` know the notification ``kind``: for a later app's e-mails (meetings), whose
    services queue them through ``membership.services.notification_queue``. Registering the same
    builder again is harmless (``ready()`` may run twice in tests); another one is an error."""
    registered = BUILDERS.get(kind)
    if registered is not None and registered is not builder:
        raise ValueError(f"A notification of kind {kind!r} is registered already.")
    BUILDERS[kind] = builder
