"""Synthetic tenants for the benchmark: ``python manage.py load_demo --scale N``.

Beside the demo tenants, N standards bodies ``scale-01`` … ``scale-NN``, each with:

- 90 Members (membership classes, value-chain segments, countries and so regions), a
  secretariat account (``staff@scale-NN.example``) and a committee account
  (``committee@scale-NN.example``), all with the demo password;
- 6 working groups, each with 3 focus areas, a Phase 1 under way and 100 applicants (one
  account and participant profile each): 30 seated (their seats, the participant role, the
  antitrust acknowledgement), the other 70 waiting, awaiting selection, not selected, withdrawn
  or with an expired offer (and its offer);
- per group, 8 meetings of the phase (6 held, with notes and the attendance of every seated
  participant; 2 to come), each with 2 link materials;
- 3 draft documents of 60 criteria (10 per group responsible);
- 5 feedback rounds (on groups 1-5, each on every criterion of one document): 4 closed, with
  the secretariat's dispositions on most submitted comments, some published, and 1 open; each
  round has 30 answers per criterion, one from each seated participant of its group.

Rows are those the services would write (seated participants acknowledged the policy before
answering, seats from distinct Members, versions of 1 or more, ``submitted_at`` empty only for
drafts, times inside the round, attendance minutes only for people present, materials with a
link and no file), but they are bulk inserts, a few queries per table instead of one per row.
No e-mail is queued (``membership.services.quiet``) and **no audit entries are written**: the
generated data has no history to audit.

Idempotent: a tenant that exists is left alone (each tenant is made in one transaction), so
running again with the same N adds nothing and a larger N adds only the missing tenants.
Deterministic: each tenant's data comes from a ``random.Random`` seeded with its slug, and its
times from the day it is loaded (UTC midnight), so the same N gives the same data on one day.
"""

from __future__ import annotations

import datetime
import random
import uuid
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import slugify
from django_scopes import scope

from asi_wg.demo import demo_password_hash
from asi_wg.models import (
    AuditEntry,
    Organisation,
    OrganisationRole,
    OrganisationUserObjectPermission,
    User,
)
from feedback.models import (
    Answer,
    Criterion,
    Disposition,
    DraftDocument,
    FeedbackRound,
    Framework,
    natural_sort_key,
)
from groups.models import (
    FocusArea,
    GroupRole,
    Phase,
    RevisionObjective,
    Standard,
    WorkingGroup,
    WorkingGroupUserObjectPermission,
)
from meetings.models import Attendance, Material, Meeting
from membership import demo_data
from membership import services as membership_services
from membership.models import (
    AntitrustAcknowledgement,
    AntitrustPolicy,
    Application,
    ApplicationFocusArea,
    Member,
    MembershipClass,
    Offer,
    ParticipantProfile,
    Seat,
    ValueChainSegment,
)
from membership.regions import region_for

GROUPS = 6
SEATS = 30
APPLICANTS = 100
MEMBERS = 90
MEETINGS = 8
HELD = 6
MATERIALS = 2
DOCUMENTS = 3
CRITERIA = 60
ROUNDS = 5
DAY = datetime.timedelta(days=1)
BATCH = 1000

ADJECTIVES = ["Responsible", "Sustainable", "Fair", "Ethical", "Certified", "Traceable"]
MATERIALS_ = ["Cotton", "Cocoa", "Timber", "Palm Oil", "Copper", "Seafood", "Coffee", "Steel"]
KINDS = ["Initiative", "Council", "Alliance", "Standard", "Roundtable"]
GROUP_TOPICS = [
    "Climate",
    "Biodiversity",
    "Human Rights",
    "Labour",
    "Traceability",
    "Water",
    "Governance",
    "Community Relations",
    "Circularity",
    "Health and Safety",
]
CLASSES = ["Producers", "Processors", "Brands and Retailers", "Civil Society", "Associates"]
SEGMENTS = ["Extraction", "Primary processing", "Manufacturing", "Trading", "Retail", "Recycling"]
COUNTRIES = ["AU", "BR", "CA", "CN", "DE", "GH", "GB", "IN", "ID", "JP", "NO", "US", "ZA", "CL"]
ZONES = ["Europe/London", "Europe/Berlin", "America/Toronto", "Asia/Tokyo", "Australia/Sydney"]
FRAMEWORKS = ["ISO 14001", "GHG Protocol", "UN Guiding Principles", "OECD Due Diligence"]
WORDS = [
    "due diligence",
    "grievance mechanism",
    "emissions reporting",
    "water stewardship",
    "supplier engagement",
    "chain of custody",
    "free, prior and informed consent",
    "living wage",
    "waste management",
    "biodiversity assessment",
]
COMMENTS = [
    "The requirement on {topic} is relevant but vague for small entities.",
    "Please give examples of evidence for {topic}.",
    "{Topic}: the review interval is too long.",
    "We support the intent on {topic}; the wording mixes requirements and guidance.",
    "Align {topic} with ISO 14001 so that certified sites can reuse their system.",
    "Editorial: two terms are used for the same thing in {topic}.",
    "Clarify whether {topic} applies to the whole company or to certified sites only.",
]
PROPOSED = [
    "Replace 'documented approach' with 'documented and implemented approach'.",
    "Add: 'proportionate to the size and activities of the entity'.",
    "Move the second sentence to the guidance.",
]
RESPONSES = {
    Disposition.Status.ACCEPTED: "Accepted: the wording will change in the next draft.",
    Disposition.Status.ACCEPTED_MODIFIED: "Accepted in part; the point moves to the guidance.",
    Disposition.Status.NOTED: "Noted for the working group's next meeting.",
    Disposition.Status.NOT_ACCEPTED: "Not accepted: the current wording covers this case.",
    Disposition.Status.REFERRED: "Referred to the responsible working group.",
}
STATUSES = [
    Disposition.Status.ACCEPTED,
    Disposition.Status.ACCEPTED_MODIFIED,
    Disposition.Status.NOTED,
    Disposition.Status.NOTED,
    Disposition.Status.NOT_ACCEPTED,
]
RATINGS = [5, 4, 4, 3, 3, 2, 1, 0, None]
# The 70 applicants of a group who are not seated, by status.
UNSEATED = (
    [Application.Status.WAITING] * 35
    + [Application.Status.SUBMITTED] * 15
    + [Application.Status.DECLINED] * 12
    + [Application.Status.WITHDRAWN] * 5
    + [Application.Status.OFFER_EXPIRED] * 3
)
NOTES = "## Decisions\n\n- The draft criteria were reviewed.\n\n## Actions\n\n- Secretariat: "
NOTES += "circulate the revised draft."


def slug_for(index: int) -> str:
    return f"scale-{index:02d}"


@dataclass
class Tenant:
    """What one synthetic tenant is made of, as it is built."""

    index: int
    rng: random.Random
    today: datetime.datetime
    password: str
    organisation: Organisation = field(init=False)
    staff: User = field(init=False)
    groups: list[WorkingGroup] = field(default_factory=list)
    seated: dict[int, list[User]] = field(default_factory=dict)

    @property
    def slug(self) -> str:
        return slug_for(self.index)

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def load(count: int) -> list[str]:
    """Make the missing tenants ``scale-01`` … ``scale-<count>``; return the slugs made."""
    existing = set(
        Organisation.objects.filter(slug__startswith="scale-").values_list("slug", flat=True)
    )
    missing = [i for i in range(1, count + 1) if slug_for(i) not in existing]
    if not missing:
        return []
    password = demo_password_hash()
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    made = []
    for index in missing:
        tenant = Tenant(
            index=index,
            rng=random.Random(slug_for(index)),  # noqa: S311 - demo data
            today=today,
            password=password,
        )
        _tenant(tenant)
        made.append(tenant.slug)
    return made


@transaction.atomic
def _tenant(t: Tenant) -> None:
    rng = t.rng
    name = f"{rng.choice(ADJECTIVES)} {rng.choice(MATERIALS_)} {rng.choice(KINDS)} {t.index:02d}"
    t.organisation = Organisation.objects.create(
        slug=t.slug,
        name=name,
        short_name="".join(word[0] for word in name.split()[:-1]) + f"-{t.index:02d}",
        time_zone=rng.choice(ZONES),
        contact_email=f"secretariat@{t.slug}.example",
    )
    with scope(organisation=t.organisation), membership_services.quiet():
        _accounts_and_groups(t)
        members = _members(t)
        _applicants(t, members)
        _meetings(t)
        _feedback(t)


def _users(t: Tenant, rows: list[tuple[str, str]]) -> list[User]:
    users = [
        User(
            email=email,
            full_name=full_name,
            time_zone=t.rng.choice(ZONES),
            password=t.password,
            date_joined=t.today - 200 * DAY,
        )
        for email, full_name in rows
    ]
    User.objects.bulk_create(users, batch_size=BATCH)
    EmailAddress.objects.bulk_create(
        [EmailAddress(user=u, email=u.email, verified=True, primary=True) for u in users],
        batch_size=BATCH,
    )
    return users


def _permission(app_label: str, codename: str) -> Permission:
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def _accounts_and_groups(t: Tenant) -> None:
    org = t.organisation
    t.staff, committee = _users(
        t,
        [
            (f"staff@{t.slug}.example", f"Secretariat {t.index:02d}"),
            (f"committee@{t.slug}.example", f"Committee {t.index:02d}"),
        ],
    )
    OrganisationUserObjectPermission.objects.bulk_create(
        [
            OrganisationUserObjectPermission(
                user=t.staff,
                permission=_permission("asi_wg", OrganisationRole.SECRETARIAT.value),
                content_object=org,
            ),
            OrganisationUserObjectPermission(
                user=committee,
                permission=_permission("asi_wg", OrganisationRole.COMMITTEE.value),
                content_object=org,
            ),
        ]
    )
    standard = Standard.objects.create(
        organisation=org, name=f"{org.name} Standard", version="V2", position=1
    )
    RevisionObjective.objects.bulk_create(
        [RevisionObjective(organisation=org, number=n, title=f"Objective {n}") for n in range(1, 4)]
    )
    Framework.objects.bulk_create(
        [
            Framework(organisation=org, name=name, position=n)
            for n, name in enumerate(FRAMEWORKS, start=1)
        ]
    )
    topics = t.rng.sample(GROUP_TOPICS, GROUPS)
    t.groups = WorkingGroup.objects.bulk_create(
        [
            WorkingGroup(
                organisation=org,
                number=n,
                name=topic,
                slug=slugify(topic),
                theme=topic,
                summary=f"The {topic.lower()} criteria of the {org.name} standard.",
                scope=f"Reviews the criteria on {topic.lower()}.",
                seat_cap=SEATS,
            )
            for n, topic in enumerate(topics, start=1)
        ]
    )
    WorkingGroup.standards.through.objects.bulk_create(
        [
            WorkingGroup.standards.through(workinggroup_id=g.pk, standard_id=standard.pk)
            for g in t.groups
        ]
    )
    FocusArea.objects.bulk_create(
        [
            FocusArea(group=g, position=p, title=f"{g.name}: {word}")
            for g in t.groups
            for p, word in enumerate(t.rng.sample(WORDS, 3), start=1)
        ]
    )
    Phase.objects.bulk_create(
        [
            Phase(
                group=g,
                number=1,
                name="Phase 1",
                starts_on=(t.today - 84 * DAY).date(),
                ends_on=(t.today + 280 * DAY).date(),
                meetings_min=6,
                meetings_max=10,
                status=Phase.Status.ACTIVE,
            )
            for g in t.groups
        ]
    )


def _members(t: Tenant) -> list[Member]:
    org, rng = t.organisation, t.rng
    classes = MembershipClass.objects.bulk_create(
        [MembershipClass(organisation=org, name=n, position=p) for p, n in enumerate(CLASSES)]
    )
    segments = ValueChainSegment.objects.bulk_create(
        [ValueChainSegment(organisation=org, name=n, position=p) for p, n in enumerate(SEGMENTS)]
    )
    members = []
    for n in range(1, MEMBERS + 1):
        country = rng.choice(COUNTRIES)
        members.append(
            Member(
                organisation=org,
                name=f"{rng.choice(demo_data.LAST)} {rng.choice(MATERIALS_)} {n:03d}",
                membership_class=rng.choice(classes),
                country=country,
                region=region_for(country),
                size_band=rng.choice(Member.SizeBand.values),
                perspective=rng.choice(Member.Perspective.values),
                joined_on=datetime.date(2012 + n % 12, 1 + n % 12, 1),
                name_in_publications=rng.random() < 0.7,
            )
        )
    Member.objects.bulk_create(members, batch_size=BATCH)
    Member.segments.through.objects.bulk_create(
        [
            Member.segments.through(member_id=m.pk, valuechainsegment_id=s.pk)
            for m in members
            for s in rng.sample(segments, rng.choice((1, 1, 2, 3)))
        ],
        batch_size=BATCH,
    )
    return members


def _applicants(t: Tenant, members: list[Member]) -> None:
    org, rng = t.organisation, t.rng
    rows = []
    for n in range(GROUPS * APPLICANTS):
        first, last = rng.choice(demo_data.FIRST), rng.choice(demo_data.LAST)
        rows.append(
            (f"{slugify(first)}.{slugify(last)}.{n:03d}@{t.slug}.example", f"{first} {last}")
        )
    people = _users(t, rows)

    # Group g seats its first 30 applicants, each representing a different Member.
    member_of: list[Member] = []
    for g in range(GROUPS):
        for k in range(APPLICANTS):
            if k < SEATS:
                member_of.append(members[(g * 13 + k) % MEMBERS])
            else:
                member_of.append(rng.choice(members))
    profiles = []
    for person, member in zip(people, member_of, strict=True):
        consent = rng.random() < 0.5
        profiles.append(
            ParticipantProfile(
                organisation=org,
                user=person,
                affiliation=ParticipantProfile.Affiliation.MEMBER,
                member=member,
                country=member.country,
                languages="English",
                expertise=f"Works on sustainability at {member.name}.",
                name_consent=consent,
                name_consent_at=t.today - 150 * DAY if consent else None,
            )
        )
    ParticipantProfile.objects.bulk_create(profiles, batch_size=BATCH)

    areas: dict[int, list[FocusArea]] = {}
    for area in FocusArea.objects.filter(group__in=t.groups).order_by("position"):
        areas.setdefault(area.group_id, []).append(area)
    applications = []
    for g, group in enumerate(t.groups):
        statuses = [Application.Status.SEATED] * SEATS + rng.sample(UNSEATED, len(UNSEATED))
        for k, status in enumerate(statuses):
            i = g * APPLICANTS + k
            applications.append(
                Application(
                    group=group,
                    applicant=people[i],
                    profile=profiles[i],
                    statement=f"{member_of[i].name}'s perspective on {group.name.lower()}.",
                    status=status,
                    applied_at=t.today - 120 * DAY + datetime.timedelta(hours=i),
                )
            )
    Application.objects.bulk_create(applications, batch_size=BATCH)
    ApplicationFocusArea.objects.bulk_create(
        [
            ApplicationFocusArea(application_id=a.pk, focus_area_id=area.pk)
            for a in applications
            for area in rng.sample(areas[a.group_id], rng.choice((1, 1, 2)))
        ],
        batch_size=BATCH,
    )

    # Each expired offer: a seat offered from the waiting list and not taken in time.
    hold = org.offer_hold_days * DAY
    Offer.objects.bulk_create(
        [
            Offer(
                group_id=a.group_id,
                application=a,
                status=Offer.Status.EXPIRED,
                offered_at=t.today - 60 * DAY,
                expires_at=t.today - 60 * DAY + hold,
                responded_at=t.today - 60 * DAY + hold,
            )
            for a in applications
            if a.status == Application.Status.OFFER_EXPIRED
        ]
    )

    started = t.today - 84 * DAY + 9 * datetime.timedelta(hours=1)
    seats = [
        Seat(
            group_id=a.group_id,
            holder_id=a.applicant_id,
            application=a,
            member=member_of[i],
            affiliation=ParticipantProfile.Affiliation.MEMBER,
            started_at=started,
            seated_by=t.staff,
        )
        for i, a in enumerate(applications)
        if a.status == Application.Status.SEATED
    ]
    Seat.objects.bulk_create(seats, batch_size=BATCH)
    participate = _permission("groups", GroupRole.PARTICIPANT.value)
    WorkingGroupUserObjectPermission.objects.bulk_create(
        [
            WorkingGroupUserObjectPermission(
                user_id=s.holder_id, permission=participate, content_object_id=s.group_id
            )
            for s in seats
        ],
        batch_size=BATCH,
    )
    by_pk = {p.pk: p for p in people}
    for seat in seats:
        t.seated.setdefault(seat.group_id, []).append(by_pk[seat.holder_id])

    policy = AntitrustPolicy.objects.create(
        organisation=org,
        version=1,
        title="Antitrust Compliance Policy",
        body="Participants do not discuss prices, markets or commercially sensitive data.",
        published_at=t.today - 100 * DAY,
        published_by=t.staff,
    )
    # Every seated participant acknowledged it (so all of them may answer feedback rounds).
    AntitrustAcknowledgement.objects.bulk_create(
        [
            AntitrustAcknowledgement(
                organisation=org,
                user_id=s.holder_id,
                policy=policy,
                acknowledged_at=started + DAY,
            )
            for s in seats
        ],
        batch_size=BATCH,
    )


def _meetings(t: Tenant) -> None:
    org, rng = t.organisation, t.rng
    phases = {p.group_id: p for p in Phase.objects.filter(group__in=t.groups)}
    meetings = []
    for group in t.groups:
        for k in range(MEETINGS):
            starts_at = t.today + (14 * k - 77) * DAY + datetime.timedelta(hours=13)
            held = k < HELD
            meetings.append(
                Meeting(
                    organisation=org,
                    group=group,
                    phase=phases[group.pk],
                    number=k + 1,
                    title=f"{group.name} meeting {k + 1}",
                    starts_at=starts_at,
                    time_zone=org.time_zone,
                    join_url=f"https://video.example.org/j/{t.index:02d}{group.number}{k:02d}",
                    agenda=f"1. Antitrust statement\n2. Review of the {group.name} criteria",
                    interpretation_languages=["fr", "es"],
                    status=Meeting.Status.HELD if held else Meeting.Status.SCHEDULED,
                    uid=t.uuid(),
                    notes=NOTES if held else "",
                    notes_published_at=starts_at + DAY if held else None,
                    attendance_recorded_at=starts_at + DAY if held else None,
                )
            )
    Meeting.objects.bulk_create(meetings, batch_size=BATCH)
    Material.objects.bulk_create(
        [
            Material(
                organisation=org,
                meeting=m,
                title=f"Reading {j} for {m.title}",
                url=f"https://docs.example.org/{t.slug}/{m.uid}/{j}",
                reading_minutes=rng.choice((30, 45, 60, 90)),
                publish_at=m.starts_at - 7 * DAY,
                created_by=t.staff,
            )
            for m in meetings
            for j in range(1, MATERIALS + 1)
        ],
        batch_size=BATCH,
    )
    attendance = []
    for m in meetings:
        if m.status != Meeting.Status.HELD:
            continue
        for person in t.seated[m.group_id]:
            roll = rng.random()
            if roll < 0.08:
                status, minutes = Attendance.Status.APOLOGIES, None
            elif roll < 0.13:
                status, minutes = Attendance.Status.ABSENT, None
            else:
                status, minutes = Attendance.Status.PRESENT, rng.randrange(60, 91)
            attendance.append(
                Attendance(
                    organisation_id=org.pk,
                    meeting_id=m.pk,
                    person_id=person.pk,
                    status=status,
                    minutes=minutes,
                    recorded_by_id=t.staff.pk,
                    recorded_at=m.starts_at + DAY,
                )
            )
    Attendance.objects.bulk_create(attendance, batch_size=BATCH)


def _feedback(t: Tenant) -> None:
    org, rng = t.organisation, t.rng
    standard = Standard.objects.get(organisation=org)
    documents = DraftDocument.objects.bulk_create(
        [
            DraftDocument(
                organisation=org,
                standard=standard,
                version_label=f"{standard.name} {standard.version}, draft {d}",
                status=DraftDocument.Status.CONSULTATION,
            )
            for d in range(1, DOCUMENTS + 1)
        ]
    )
    criteria: dict[int, list[Criterion]] = {}
    for document in documents:
        for c in range(CRITERIA):
            principle, number = divmod(c, CRITERIA // GROUPS)
            reference = f"{principle + 1}.{number + 1}"
            topic = rng.choice(WORDS)
            criteria.setdefault(document.pk, []).append(
                Criterion(
                    organisation=org,
                    document=document,
                    reference=reference,
                    sort_key=natural_sort_key(reference),
                    title=f"{topic[0].upper()}{topic[1:]}",
                    text=f"The entity shall have a documented and implemented approach to {topic}.",
                    guidance=f"Evidence of {topic} includes procedures and records.",
                )
            )
    every = [c for d in documents for c in criteria[d.pk]]
    Criterion.objects.bulk_create(every, batch_size=BATCH)
    Criterion.groups.through.objects.bulk_create(
        [
            Criterion.groups.through(
                criterion_id=c.pk,
                workinggroup_id=t.groups[int(c.reference.split(".")[0]) - 1].pk,
            )
            for c in every
        ],
        batch_size=BATCH,
    )

    rounds = []
    for r in range(ROUNDS):
        if r == ROUNDS - 1:  # the open one
            opens_at, closes_at = t.today - 10 * DAY, t.today + 20 * DAY
        else:
            opens_at = t.today - (200 - 40 * r) * DAY
            closes_at = opens_at + 30 * DAY
        rounds.append(
            FeedbackRound(
                organisation=org,
                group=t.groups[r],
                document=documents[r % DOCUMENTS],
                title=f"Round {r + 1} on {documents[r % DOCUMENTS].version_label}",
                opens_at=opens_at,
                closes_at=closes_at,
                instructions="Are the criteria relevant, clear and feasible?",
            )
        )
    FeedbackRound.objects.bulk_create(rounds)
    FeedbackRound.criteria.through.objects.bulk_create(
        [
            FeedbackRound.criteria.through(feedbackround_id=fr.pk, criterion_id=c.pk)
            for fr in rounds
            for c in criteria[fr.document_id]
        ],
        batch_size=BATCH,
    )
    frameworks = list(Framework.objects.filter(organisation=org))
    objectives = list(RevisionObjective.objects.filter(organisation=org))
    for fr in rounds:
        _answers(t, fr, criteria[fr.document_id], frameworks, objectives)


def _answers(
    t: Tenant,
    fr: FeedbackRound,
    criteria: list[Criterion],
    frameworks: list[Framework],
    objectives: list[RevisionObjective],
) -> None:
    org, rng = t.organisation, t.rng
    is_open = fr.closes_at > t.today
    span = int((min(fr.closes_at, t.today) - fr.opens_at).total_seconds()) - 3600
    others = [g for g in t.groups if g.pk != fr.group_id]
    answers = []
    for criterion in criteria:
        topic = criterion.title[0].lower() + criterion.title[1:]
        for person in t.seated[fr.group_id]:
            draft = is_open and rng.random() < 0.2
            answer = Answer(
                organisation_id=org.pk,
                round_id=fr.pk,
                criterion_id=criterion.pk,
                author_id=person.pk,
                relevance=rng.choice(RATINGS),
                clarity=rng.choice(RATINGS),
                feasibility=rng.choice(RATINGS),
                version=rng.choice((1, 1, 2, 3)),
                submitted_at=(
                    None if draft else fr.opens_at + datetime.timedelta(seconds=rng.randrange(span))
                ),
            )
            if rng.random() < 0.6:
                answer.comment = rng.choice(COMMENTS).format(topic=topic, Topic=criterion.title)
                answer.comment_type = rng.choice(Answer.CommentType.values)
                if rng.random() < 0.3:
                    answer.proposed_change = rng.choice(PROPOSED)
                if rng.random() < 0.1:
                    answer.referred_to_id = rng.choice(others).pk
            answers.append(answer)
    Answer.objects.bulk_create(answers, batch_size=BATCH)
    # The audit trail the answers' saves would have written: the largest list in the admin.
    people = {person.pk: person for person in t.seated[fr.group_id]}
    references = {criterion.pk: criterion.reference for criterion in criteria}
    AuditEntry.objects.bulk_create(
        (
            AuditEntry(
                organisation_id=org.pk,
                created_at=answer.submitted_at or fr.opens_at + DAY,
                actor_id=answer.author_id,
                action="answer.save",
                target_type="feedback.answer",
                target_id=str(answer.pk),
                target_repr=f"{people[answer.author_id]} on {references[answer.criterion_id]}",
                data={
                    "version": answer.version,
                    "fields": ["relevance", "clarity", "feasibility"],
                    "submitted": answer.submitted_at is not None,
                },
            )
            for answer in answers
        ),
        batch_size=BATCH,
    )
    # auto_now took the loading time: saved when submitted (drafts: a day after opening).
    saved = Coalesce(F("submitted_at"), Value(fr.opens_at + DAY))
    Answer.objects.filter(round=fr).update(created_at=saved, updated_at=saved)

    framework_rows, objective_rows, dispositions = [], [], []
    published_at = fr.closes_at + 14 * DAY
    for answer in answers:
        framework_rows += [
            Answer.frameworks.through(answer_id=answer.pk, framework_id=f.pk)
            for f in rng.sample(frameworks, rng.choice((0, 0, 0, 1)))
        ]
        objective_rows += [
            Answer.objectives.through(answer_id=answer.pk, revisionobjective_id=o.pk)
            for o in rng.sample(objectives, rng.choice((0, 0, 1)))
        ]
        if is_open or not answer.comment or rng.random() < 0.2:
            continue
        status = Disposition.Status.REFERRED if answer.referred_to_id else rng.choice(STATUSES)
        published = rng.random() < 0.6
        dispositions.append(
            Disposition(
                organisation_id=org.pk,
                answer_id=answer.pk,
                status=status,
                response=RESPONSES[status],
                decided_by_id=t.staff.pk,
                decided_at=fr.closes_at + rng.choice((2, 4, 7)) * DAY,
                published_at=published_at if published else None,
            )
        )
    Answer.frameworks.through.objects.bulk_create(framework_rows, batch_size=BATCH)
    Answer.objectives.through.objects.bulk_create(objective_rows, batch_size=BATCH)
    Disposition.objects.bulk_create(dispositions, batch_size=BATCH)
