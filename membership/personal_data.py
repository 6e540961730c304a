"""The one declaration of personal data: what the export shows and what erasure removes.

Every text field of a model that is linked to a person is declared here, one of three ways:

- ``fields``: what the person wrote or what was written about them on their own rows (a
  statement, a comment, a seat's end note). The export shows it; erasure blanks it, or
  deletes the rows when ``delete_rows`` is set (the account's e-mail addresses).
- ``mentions``: the organisation's text that may name people (staff notes, the audit log,
  the admin's history). The export shows the texts that name the person; erasure replaces
  their name and e-mail address there with "Erased person".
- ``not_personal``: text that holds no person's words (codes, titles, hashes), with the model.

Audit entries carry free text in their ``data``; each action declares which of its keys are
free text (``audit_data_register``). Erasure blanks those keys in the entries about the
person's rows and in the entries the person wrote, and the export shows them.

``privacy.person_data_export`` and ``privacy.person_erase`` iterate these declarations, so
they cannot disagree; ``tests/membership/test_personal_data.py`` walks every model linked to a
person and every ``audit_record`` call, and fails when a text field or a data key is declared
neither way.

Imports run one way, so a later app (meetings, feedback) declares its own models from its
``AppConfig.ready()``::

    from membership.personal_data import audit_data_register, personal_data_register

    personal_data_register(Apology, person="participant", fields=["reason"])
    audit_data_register("apology.send", text=["reason"], not_personal=["meeting"])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from allauth.account.models import EmailAddress
from django.contrib.admin.models import LogEntry
from django.db import models
from guardian.models import UserObjectPermission

from asi_wg.models import AuditEntry, User
from groups.models import ExtensionAnswer, PhaseExtension
from membership.models import (
    AntitrustPolicy,
    Application,
    Offer,
    ParticipantProfile,
    Seat,
    SentNotification,
)

ERASED_LABEL = "Erased person"


def erased_email(user: User) -> str:
    return f"erased-{user.pk}@invalid.example"


@dataclass(frozen=True)
class PersonalData:
    """The declaration for one model."""

    model: type[models.Model]
    # Lookup from a row to the account it belongs to ("holder", "application__applicant"),
    # "pk" for the account itself, None for rows that belong to no one person.
    person: str | None
    fields: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    not_personal: tuple[str, ...] = ()
    delete_rows: bool = False
    # What a field becomes on erasure when not "" (the account's e-mail address is unique).
    erased_values: dict[str, Callable[[User], str]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def rows_of(self, user: User) -> models.QuerySet[models.Model]:
        """The person's own rows, across every organisation (base manager: no scope)."""
        assert self.person is not None
        return self.model._base_manager.filter(**{self.person: user.pk})


_REGISTER: dict[str, PersonalData] = {}
# action -> (free-text keys, other keys)
_AUDIT_DATA: dict[str, tuple[frozenset[str], frozenset[str]]] = {}


def personal_data_register(
    model: type[models.Model],
    *,
    person: str | None,
    fields: Iterable[str] = (),
    mentions: Iterable[str] = (),
    not_personal: Iterable[str] = (),
    delete_rows: bool = False,
    erased_values: dict[str, Callable[[User], str]] | None = None,
) -> None:
    """Declare a model's text fields (see the module docstring). Call it once per model."""
    declaration = PersonalData(
        model=model,
        person=person,
        fields=tuple(fields),
        mentions=tuple(mentions),
        not_personal=tuple(not_personal),
        delete_rows=delete_rows,
        erased_values=erased_values or {},
    )
    if declaration.fields and person is None:
        raise ValueError(f"{declaration.label}: own fields need the lookup to their person.")
    _REGISTER[declaration.label] = declaration


def audit_data_register(
    action: str, *, text: Iterable[str] = (), not_personal: Iterable[str] = ()
) -> None:
    """Declare the keys of an audit action's data: which are free text, which are not."""
    _AUDIT_DATA[action] = (frozenset(text), frozenset(not_personal))


def declarations() -> Iterator[PersonalData]:
    yield from _REGISTER.values()


def owned_declarations() -> Iterator[PersonalData]:
    """Declarations of models whose rows belong to one person."""
    return (d for d in _REGISTER.values() if d.person is not None)


def declaration_for(model: type[models.Model]) -> PersonalData | None:
    return _REGISTER.get(model._meta.label_lower)


def personal_fields() -> set[tuple[str, str]]:
    """Every declared (model, field) the export shows and erasure removes."""
    return {(d.label, name) for d in _REGISTER.values() for name in d.fields}


def audit_text_keys(action: str) -> frozenset[str]:
    return _AUDIT_DATA.get(action, (frozenset(), frozenset()))[0]


def audit_declared_keys(action: str) -> frozenset[str]:
    text, other = _AUDIT_DATA.get(action, (frozenset(), frozenset()))
    return text | other


# --- The platform's own declarations ----------------------------------------------------------

personal_data_register(
    User,
    person="pk",
    fields=["email", "full_name", "time_zone"],
    not_personal=["password"],  # a hash; erasure makes it unusable
    erased_values={"email": erased_email, "time_zone": lambda user: "UTC"},
)
personal_data_register(EmailAddress, person="user", fields=["email"], delete_rows=True)
personal_data_register(
    ParticipantProfile,
    person="user",
    fields=["expert_organisation", "job_title", "languages", "interpretation_needs", "expertise"],
    mentions=["expertise"],
)
# Free text on one person's row may also name another person: both declarations then.
personal_data_register(
    Application, person="applicant", fields=["statement"], mentions=["statement"]
)
personal_data_register(
    Seat,
    person="holder",
    fields=["override_reason", "end_note"],
    mentions=["override_reason", "end_note"],
)
personal_data_register(Offer, person="application__applicant")  # audit entries target offers
personal_data_register(
    ExtensionAnswer, person="participant", fields=["comment"], mentions=["comment"]
)
personal_data_register(
    PhaseExtension,
    person=None,
    mentions=["need", "decision_note"],
    not_personal=["proposed_name"],
)
personal_data_register(AntitrustPolicy, person=None, not_personal=["title", "body"])
personal_data_register(SentNotification, person=None, not_personal=["key"])  # kind and ids
personal_data_register(
    AuditEntry,
    person=None,
    mentions=["target_repr", "data"],
    not_personal=["action", "target_type", "target_id"],
)
personal_data_register(
    LogEntry, person=None, mentions=["object_repr", "change_message"], not_personal=["object_id"]
)
# Guardian's generic object permissions name an object by its id only.
personal_data_register(UserObjectPermission, person=None, not_personal=["object_pk"])

audit_data_register("platform.add", not_personal=["changes"])
audit_data_register("platform.change", not_personal=["changes"])
audit_data_register("admin.add", not_personal=["changes"])  # field names; inline rows are
audit_data_register("admin.change", not_personal=["changes"])  # named, hence ``mentions``
audit_data_register("import", not_personal=["model", "totals"])
audit_data_register("role.grant", not_personal=["role", "scope", "group"])
audit_data_register("role.revoke", not_personal=["role", "scope", "group"])
audit_data_register("phase.status", not_personal=["from", "to", "on"])
audit_data_register("phase_extension.propose", not_personal=["from_phase", "proposed"])
audit_data_register("phase_extension.answer", not_personal=["answer"])
audit_data_register("phase_extension.answer_change", not_personal=["answer"])
audit_data_register("phase_extension.decide", text=["note"], not_personal=["status", "tally"])
audit_data_register("person.update", not_personal=["fields"])
audit_data_register(
    "person.erase", not_personal=["requested_in", "seats_ended", "applications_withdrawn"]
)
audit_data_register("profile.create", not_personal=["fields"])
audit_data_register("profile.update", not_personal=["fields"])
audit_data_register("profile.consent", not_personal=["name_consent"])
audit_data_register("antitrust.publish", not_personal=["version"])
audit_data_register("antitrust.acknowledge", not_personal=["version"])
audit_data_register("application.submit", not_personal=["focus_areas"])
audit_data_register("application.decline", text=["reason"])
audit_data_register("waitlist.reorder", text=["reason"], not_personal=["from", "to"])
audit_data_register(
    "seat.take", text=["override_reason"], not_personal=["application", "overridden"]
)
audit_data_register("seat.end", text=["note"], not_personal=["reason"])  # reason: a code
audit_data_register("group.seat_cap", not_personal=["from", "to"])
audit_data_register("offer.make", not_personal=["application", "expires_at"])
audit_data_register("waitlist.skip", text=["reason"])  # the rule's message about the person
audit_data_register("offer.withdraw_ineligible", text=["reason"])
audit_data_register("offer.accept", not_personal=["seat"])
