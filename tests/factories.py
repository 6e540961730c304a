"""factory_boy factories. Tenant-owned rows are created inside the organisation's scope."""

from __future__ import annotations

import datetime
from typing import TypeVar

import factory
from allauth.account.models import EmailAddress

from groups.models import (
    FocusArea,
    GroupLinkage,
    Organisation,
    Phase,
    RevisionObjective,
    Standard,
    WorkingGroup,
)
from membership.models import User

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
