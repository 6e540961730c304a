"""factory_boy factories. Tenant-owned rows are created inside the organisation's scope."""

from __future__ import annotations

import datetime
from typing import TypeVar

import factory
from allauth.account.models import EmailAddress

from asi_wg.models import Organisation, User
from feedback.models import Criterion, DraftDocument, Framework
from groups.models import FocusArea, GroupLinkage, Phase, RevisionObjective, Standard, WorkingGroup
from meetings.models import Material, Meeting
from membership.models import (
    AntitrustPolicy,
    Application,
    Member,
    MembershipClass,
    ParticipantProfile,
    ValueChainSegment,
)

T = TypeVar("T")

PASSWORD = "correct-horse-battery-staple"


class TenantFactory(factory.django.DjangoModelFactory[T]):
    """Creates through the base manager, so test setup needs no active scope."""

    class Meta:
        abstract = True

    @classmethod
    def _get_manager(cls, model_class):  # type: ignore[no-untyped-def]
        return model_class._base_manager


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    full_name = factory.Faker("name")
    time_zone = "Europe/London"
    password = factory.django.Password(PASSWORD)

    @factory.post_generation
    def verified_email(obj, create, extracted, **kwargs):
        if create:
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)


class OrganisationFactory(factory.django.DjangoModelFactory[Organisation]):
    class Meta:
        model = Organisation
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Standards Body {n}")
    slug = factory.Sequence(lambda n: f"body{n}")
    time_zone = "Europe/London"


class StandardFactory(TenantFactory[Standard]):
    class Meta:
        model = Standard

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Standard {n}")
    version = "V1"


class RevisionObjectiveFactory(TenantFactory[RevisionObjective]):
    class Meta:
        model = RevisionObjective

    organisation = factory.SubFactory(OrganisationFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Objective {n}")


class WorkingGroupFactory(TenantFactory[WorkingGroup]):
    class Meta:
        model = WorkingGroup

    organisation = factory.SubFactory(OrganisationFactory)
    number = factory.Sequence(lambda n: n + 1)
    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")
    theme = "Theme"
    summary = "What the group is for."
    scope = "The scope of the group."


class FocusAreaFactory(TenantFactory[FocusArea]):
    class Meta:
        model = FocusArea

    group = factory.SubFactory(WorkingGroupFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Focus area {n}")


class GroupLinkageFactory(TenantFactory[GroupLinkage]):
    class Meta:
        model = GroupLinkage

    from_group = factory.SubFactory(WorkingGroupFactory)
    to_group = factory.SubFactory(
        WorkingGroupFactory, organisation=factory.SelfAttribute("..from_group.organisation")
    )
    note = "Shared themes."


class PhaseFactory(TenantFactory[Phase]):
    class Meta:
        model = Phase

    group = factory.SubFactory(WorkingGroupFactory)
    number = 1
    name = "Phase 1"
    starts_on = datetime.date(2025, 4, 1)
    ends_on = datetime.date(2025, 12, 31)
    meetings_min = 6
    meetings_max = 8


class MembershipClassFactory(TenantFactory[MembershipClass]):
    class Meta:
        model = MembershipClass
        django_get_or_create = ("organisation", "name")

    organisation = factory.SubFactory(OrganisationFactory)
    name = "Production and Transformation"


class ValueChainSegmentFactory(TenantFactory[ValueChainSegment]):
    class Meta:
        model = ValueChainSegment
        django_get_or_create = ("organisation", "name")

    organisation = factory.SubFactory(OrganisationFactory)
    name = "Recycling"


class MemberFactory(TenantFactory[Member]):
    class Meta:
        model = Member
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Member Company {n}")
    membership_class = factory.SubFactory(
        MembershipClassFactory, organisation=factory.SelfAttribute("..organisation")
    )
    country = "DE"
    size_band = Member.SizeBand.LARGE
    perspective = Member.Perspective.INDUSTRY
    is_current = True


class ParticipantProfileFactory(TenantFactory[ParticipantProfile]):
    """A Member representative by default; pass affiliation=IPAF or EXPERT for the others."""

    class Meta:
        model = ParticipantProfile

    organisation = factory.SubFactory(OrganisationFactory)
    user = factory.SubFactory(UserFactory)
    affiliation = ParticipantProfile.Affiliation.MEMBER
    member = factory.Maybe(
        factory.LazyAttribute(lambda o: o.affiliation == ParticipantProfile.Affiliation.MEMBER),
        yes_declaration=factory.SubFactory(
            MemberFactory, organisation=factory.SelfAttribute("..organisation")
        ),
        no_declaration=None,
    )
    country = "DE"
    expertise = "Recycling and scrap sorting."


class ApplicationFactory(TenantFactory[Application]):
    """An application; its profile is created in the group's organisation unless given."""

    class Meta:
        model = Application

    group = factory.SubFactory(WorkingGroupFactory)
    profile = factory.SubFactory(
        ParticipantProfileFactory, organisation=factory.SelfAttribute("..group.organisation")
    )
    applicant = factory.SelfAttribute("profile.user")
    statement = "I work on scrap sorting at our plant."
    status = Application.Status.SUBMITTED


class AntitrustPolicyFactory(TenantFactory[AntitrustPolicy]):
    class Meta:
        model = AntitrustPolicy

    organisation = factory.SubFactory(OrganisationFactory)
    version = factory.Sequence(lambda n: n + 1)
    title = "Antitrust Compliance Policy"
    body = "Participants do not discuss prices, markets or customers."


class MeetingFactory(TenantFactory[Meeting]):
    """A scheduled meeting (written directly: tests of the services call them themselves)."""

    class Meta:
        model = Meeting

    group = factory.SubFactory(WorkingGroupFactory)
    organisation = factory.SelfAttribute("group.organisation")
    phase = factory.SubFactory(PhaseFactory, group=factory.SelfAttribute("..group"))
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Meeting {n}")
    starts_at = factory.LazyFunction(
        lambda: (
            datetime.datetime.now(datetime.UTC).replace(microsecond=0) + datetime.timedelta(days=10)
        )
    )
    time_zone = "Europe/London"
    join_url = "https://video.example/j/123456"


class LinkMaterialFactory(TenantFactory[Material]):
    class Meta:
        model = Material

    meeting = factory.SubFactory(MeetingFactory)
    organisation = factory.SelfAttribute("meeting.organisation")
    title = factory.Sequence(lambda n: f"Reading {n}")
    url = "https://docs.example/draft.pdf"
    publish_at = factory.LazyFunction(
        lambda: datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)
    )


# --- Feedback ---------------------------------------------------------------------------------


class FrameworkFactory(TenantFactory[Framework]):
    class Meta:
        model = Framework

    organisation = factory.SubFactory(OrganisationFactory)
    name = factory.Sequence(lambda n: f"Framework {n}")


class DraftDocumentFactory(TenantFactory[DraftDocument]):
    class Meta:
        model = DraftDocument

    organisation = factory.SubFactory(OrganisationFactory)
    standard = factory.SubFactory(
        StandardFactory, organisation=factory.SelfAttribute("..organisation")
    )
    version_label = factory.Sequence(lambda n: f"Performance Standard V4, consultation draft {n}")
    status = "consultation"


class CriterionFactory(TenantFactory[Criterion]):
    class Meta:
        model = Criterion

    document = factory.SubFactory(DraftDocumentFactory)
    organisation = factory.SelfAttribute("document.organisation")
    reference = factory.Sequence(lambda n: f"9.{n + 1}")
    title = factory.Sequence(lambda n: f"Criterion {n}")
    text = "The Entity shall implement a management system."
