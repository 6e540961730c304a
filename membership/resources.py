"""Import and export of Members (django-import-export), bound to one organisation.

The secretariat keeps its Member list in a spreadsheet; this resource reads it as CSV or XLSX
and writes it back in the same columns:

    name, membership_class, segments, country, size_band, perspective, is_current, joined_on,
    name_in_publications

(``region`` is exported too; it is derived from the country and ignored on import.)

What a bad file gets, before anything is written:

- wrong columns: one error naming the missing and the unrecognised columns, and no row is read;
- a bad cell: an error on its row and column (unknown country, class, segment, size or
  perspective; a name that appears twice in the file; a cell that starts like a formula);
- any error at all: nothing is written. The admin runs the file twice, as a dry run for the
  preview and again on confirmation, each time in one transaction that is rolled back on any
  error (``IMPORT_EXPORT_USE_TRANSACTIONS`` and ``rollback_on_validation_errors``).

A 5,000-row file runs in one request (a few seconds per step): the tenant's classes, segments
and existing Members (with their segments) are read once per import into dictionaries,
``full_clean`` is left no per-row query to make, and the rows are written with ``use_bulk``:
validated one by one, then inserted or updated a thousand at a time, with the segments of new
Members in one insert at the end. Bulk writes skip ``Member.save()``, so the resource sets the
region itself (``before_save_instance``). A write the database refuses (a name taken by another
request since the checks) cannot be pinned to a row; it fails the whole import as a file error.
"""

from __future__ import annotations

import datetime
import functools
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_countries import countries
from import_export import fields, widgets
from import_export.instance_loaders import BaseInstanceLoader
from tablib import Dataset

from asi_wg.models import Organisation
from groups.resources import TenantResource
from membership.models import Member, MembershipClass, ValueChainSegment
from membership.regions import region_for

SEGMENT_SEPARATOR = ";"
REQUIRED_COLUMNS = ("name", "membership_class", "country", "size_band", "perspective")
OPTIONAL_COLUMNS = ("segments", "is_current", "joined_on", "name_in_publications")
IGNORED_COLUMNS = ("region",)  # exported for reading; derived from the country on import
KNOWN_COLUMNS = (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS, *IGNORED_COLUMNS)


class ImportFileError(Exception):
    """The file as a whole cannot be imported; ``str(error)`` is shown to the secretariat."""


# --- Cells ------------------------------------------------------------------------------------


def formula_problem(value: Any) -> str | None:
    """Why a cell is refused as a spreadsheet formula, or None.

    A cell starting with = + or @ is what spreadsheets run as a formula (CSV injection:
    =HYPERLINK(...) and friends). A '-' only counts when a non-digit follows it, so that a
    negative number is still a number.
    """
    if not isinstance(value, str):
        return None
    text = value.strip()
    if not text:
        return None
    first = text[0]
    if first in "=+@" or (first == "-" and len(text) > 1 and not text[1].isdigit()):
        return _("Formulas are not allowed (cell starts with '%(char)s')") % {"char": first}
    return None


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def name_key(value: Any) -> str:
    """How two Member names are compared: as the database's ``Lower(name)`` unique constraint."""
    return "" if value is None else str(value).strip().lower()


@functools.cache
def country_codes_by_name() -> dict[str, str]:
    """Every accepted spelling of a country, lower-cased, to its ISO 3166-1 alpha-2 code.

    Alpha-2 and alpha-3 codes, and the English names django-countries knows (official, common
    and former names), read once per process.
    """
    lookup: dict[str, str] = {}
    with translation.override("en"):
        for code, name in countries.countries.items():
            names: Iterable[Any]
            if isinstance(name, dict):
                names = name.get("names") or [name.get("name", "")]
            else:
                names = [name]
            for spelling in [*names, *countries.shadowed_names.get(code, [])]:
                lookup.setdefault(str(spelling).strip().lower(), code)
            alpha3 = countries.alpha3(code)
            if alpha3:
                lookup.setdefault(alpha3.lower(), code)
        for code in countries.countries:
            lookup[code.lower()] = code  # a code always wins over a name that spells the same
    # Spellings people write that are neither ISO names nor codes.
    for spelling, code in (("uk", "GB"), ("great britain", "GB"), ("united states", "US")):
        lookup.setdefault(spelling, code)
    return lookup


def country_code(text: str) -> str | None:
    key = " ".join(text.split()).lower()
    lookup = country_codes_by_name()
    return lookup.get(key) or lookup.get(key.removeprefix("the "))


# --- Widgets ----------------------------------------------------------------------------------


class NameWidget(widgets.CharWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        return str(super().clean(value, row, **kwargs) or "").strip()


class TenantNameWidget(widgets.Widget):
    """A cell naming one of the tenant's own rows (loaded once per import by the resource)."""

    def __init__(self) -> None:
        super().__init__()
        self.by_name: dict[str, models.Model] = {}
        self.names: list[str] = []

    def load(self, objects: Iterable[Any]) -> None:
        self.by_name, self.names = {}, []
        for obj in objects:
            self.by_name.setdefault(obj.name.strip().lower(), obj)
            self.names.append(obj.name)

    def allowed(self) -> str:
        if not self.names:
            return _("This organisation has none set up yet: add them in the admin first.")
        return _("This organisation's list: %(names)s.") % {"names": ", ".join(self.names)}

    def find(self, text: str) -> models.Model | None:
        return self.by_name.get(text.strip().lower())


class MembershipClassWidget(TenantNameWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> models.Model:
        if is_blank(value):
            raise ValueError(_("A membership class is required. %s") % self.allowed())
        found = self.find(str(value))
        if found is None:
            raise ValueError(
                _("Unknown membership class '%(value)s'. %(allowed)s")
                % {"value": str(value).strip(), "allowed": self.allowed()}
            )
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value.name)


class SegmentsWidget(TenantNameWidget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> list[models.Model]:
        if is_blank(value):
            return []
        found: list[models.Model] = []
        unknown: list[str] = []
        for part in str(value).split(SEGMENT_SEPARATOR):
            text = part.strip()
            if not text:
                continue
            segment = self.find(text)
            if segment is None:
                unknown.append(f"'{text}'")
            elif segment not in found:
                found.append(segment)
        if unknown:
            raise ValueError(
                _("Unknown value-chain segment %(names)s. Separate segments with ';'. %(allowed)s")
                % {"names": ", ".join(unknown), "allowed": self.allowed()}
            )
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return f"{SEGMENT_SEPARATOR} ".join(segment.name for segment in value or [])


class CountryWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if is_blank(value):
            raise ValueError(
                _("A country is required: an ISO 3166 code such as DE, or its English name.")
            )
        text = str(value).strip()
        code = country_code(text)
        if code is None:
            raise ValueError(
                _(
                    "Unknown country '%(value)s'. Use an ISO 3166 code such as DE, "
                    "or the English name."
                )
                % {"value": text}
            )
        return code

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return str(value.code if hasattr(value, "code") else value or "")


class ChoiceWidget(widgets.Widget):
    """A cell holding one of a model field's choices: its value or its label, in any case."""

    def __init__(self, choices: type[models.TextChoices], noun: str) -> None:
        super().__init__()
        self.choices = choices
        self.noun = noun
        self._lookup: dict[str, str] | None = None

    def lookup(self) -> dict[str, str]:
        if self._lookup is None:
            lookup: dict[str, str] = {}
            labels: list[tuple[str, str]] = []
            for language in ("en", translation.get_language() or "en"):
                with translation.override(language):
                    labels += [(value, str(label)) for value, label in self.choices.choices]
            for value, label in labels:
                lookup.setdefault(label.lower(), value)
                # "Small" for "Small (fewer than 50 staff)"
                lookup.setdefault(label.split(" (")[0].strip().lower(), value)
            for value in self.choices.values:
                lookup[value.lower()] = value
            self._lookup = lookup
        return self._lookup

    def allowed(self) -> str:
        return _("Allowed values: %(values)s (their labels in the admin work too).") % {
            "values": ", ".join(self.choices.values)
        }

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> str:
        if is_blank(value):
            raise ValueError(
                _("A %(noun)s is required. %(allowed)s")
                % {"noun": self.noun, "allowed": self.allowed()}
            )
        text = str(value).strip()
        found = self.lookup().get(text.lower())
        if found is None:
            raise ValueError(
                _("Unknown %(noun)s '%(value)s'. %(allowed)s")
                % {"noun": self.noun, "value": text, "allowed": self.allowed()}
            )
        return found

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return "" if value is None else str(value)


class YesNoWidget(widgets.Widget):
    TRUE = frozenset({"yes", "true", "1", "y"})
    FALSE = frozenset({"no", "false", "0", "n"})

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> bool | None:
        if is_blank(value):
            return None  # keep what the Member has (a new Member is current)
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float) and value in (0, 1):
            return bool(value)
        text = str(value).strip().lower()
        if text in self.TRUE:
            return True
        if text in self.FALSE:
            return False
        raise ValueError(
            _("Write yes or no (true/false and 1/0 work too), not '%(value)s'.")
            % {"value": str(value).strip()}
        )

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        if value is None:
            return ""
        return "yes" if value else "no"


class IsoDateWidget(widgets.Widget):
    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> datetime.date | None:
        if is_blank(value):
            return None
        if isinstance(value, datetime.datetime):  # XLSX date cells
            return value.date()
        if isinstance(value, datetime.date):
            return value
        text = str(value).strip()
        try:
            if len(text) != 10:
                raise ValueError(text)
            return datetime.date.fromisoformat(text)
        except ValueError:
            raise ValueError(
                _("Write the date as YYYY-MM-DD, such as 2024-03-31, not '%(value)s'.")
                % {"value": text}
            ) from None

    def render(self, value: Any, obj: Any = None, **kwargs: Any) -> str:
        return value.isoformat() if value else ""


# --- Fields -----------------------------------------------------------------------------------


class SegmentsField(fields.Field):
    """The Member's segments: those read from the file while importing, else those saved."""

    def get_value(self, instance: Any) -> list[ValueChainSegment]:
        pending = getattr(instance, "_segment_list", None)
        if pending is not None:
            return list(pending)
        if instance.pk is None:
            return []
        return list(instance.segments.all())


class MemberInstanceLoader(BaseInstanceLoader):
    """Finds an existing Member by name, case-insensitively, among those loaded once."""

    def get_instance(self, row: Any) -> Member | None:
        return self.resource.existing_member(row)


# --- The resource -----------------------------------------------------------------------------


class MemberResource(TenantResource):
    name = fields.Field(attribute="name", column_name="name", widget=NameWidget())
    membership_class = fields.Field(
        attribute="membership_class",
        column_name="membership_class",
        widget=MembershipClassWidget(),
    )
    segments = SegmentsField(attribute="segments", column_name="segments", widget=SegmentsWidget())
    country = fields.Field(attribute="country", column_name="country", widget=CountryWidget())
    size_band = fields.Field(
        attribute="size_band",
        column_name="size_band",
        widget=ChoiceWidget(Member.SizeBand, "company size"),
    )
    perspective = fields.Field(
        attribute="perspective",
        column_name="perspective",
        widget=ChoiceWidget(Member.Perspective, "perspective"),
    )
    is_current = fields.Field(
        attribute="is_current",
        column_name="is_current",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    joined_on = fields.Field(attribute="joined_on", column_name="joined_on", widget=IsoDateWidget())
    # Whether public documents may name the Member (yes/no; empty keeps what it has, and a new
    # Member is not named).
    name_in_publications = fields.Field(
        attribute="name_in_publications",
        column_name="name_in_publications",
        widget=YesNoWidget(),
        saves_null_values=False,
    )
    region = fields.Field(attribute="region", column_name="region", readonly=True)

    # Values the import itself resolved (the tenant's own rows; a code from the country list),
    # left out of full_clean: their checks cost a query, or a walk over 250 countries, per row.
    trusted_fields = ("organisation", "membership_class", "country")
    # What bulk_update writes (bulk writes skip Member.save() and auto_now).
    bulk_update_fields = (
        "name",
        "membership_class",
        "country",
        "region",
        "size_band",
        "perspective",
        "is_current",
        "joined_on",
        "name_in_publications",
        "updated_at",
    )

    class Meta:
        model = Member
        fields = (
            "name",
            "membership_class",
            "segments",
            "country",
            "size_band",
            "perspective",
            "is_current",
            "joined_on",
            "name_in_publications",
            "region",
        )
        import_id_fields = ("name",)
        instance_loader_class = MemberInstanceLoader
        clean_model_instances = True
        skip_unchanged = True
        chunk_size = 500
        # Rows are validated one by one, then written 1,000 at a time without a savepoint
        # each; any error still rolls back the whole import (see the module docstring).
        use_bulk = True
        batch_size = 1000

    def __init__(self, organisation: Organisation | None = None, user: Any = None, **kwargs: Any):
        super().__init__(organisation=organisation, user=user, **kwargs)
        self._existing: dict[str, Member] = {}
        self._duplicates: dict[str, list[int]] = {}
        self._to_link: list[Member] = []

    # -- the file as a whole

    def import_data(self, dataset: Dataset, *args: Any, **kwargs: Any) -> Any:
        problem = self.check_columns(dataset)
        if problem is not None:
            result = self.get_result_class()()
            result.total_rows = len(dataset)
            result.append_base_error(self.get_error_result_class()(ImportFileError(problem)))
            return result
        return super().import_data(dataset, *args, **kwargs)

    def check_columns(self, dataset: Dataset) -> str | None:
        """Normalise the headers (case, spaces) in place; say what is wrong with them, if any.

        Also drops trailing empty rows and unnamed empty columns, which spreadsheets leave
        behind, so that they are not reported as rows or columns with errors.
        """
        headers = [
            str(header or "").strip().lower().replace(" ", "_").replace("-", "_")
            for header in dataset.headers or []
        ]
        if not headers:
            return _("The file has no header row.")
        unnamed_with_data = [
            index + 1
            for index, header in enumerate(headers)
            if not header and any(not is_blank(row[index]) for row in dataset)
        ]
        dataset.headers = headers
        while "" in (dataset.headers or []) and not unnamed_with_data:
            del dataset[""]
        while len(dataset) and all(is_blank(cell) for cell in dataset[-1]):
            dataset.rpop()
        headers = list(dataset.headers or [])

        problems: list[str] = []
        missing = [column for column in REQUIRED_COLUMNS if column not in headers]
        named = [column for column in dict.fromkeys(headers) if column]
        unknown = [column for column in named if column not in KNOWN_COLUMNS]
        repeated = [column for column in named if headers.count(column) > 1]
        if missing:
            problems.append(_("Missing columns: %s.") % ", ".join(missing))
        if unknown:
            problems.append(_("Columns not recognised: %s.") % ", ".join(unknown))
        if repeated:
            problems.append(_("Columns that appear more than once: %s.") % ", ".join(repeated))
        if unnamed_with_data:
            problems.append(
                _("Column %s has values but no header.")
                % ", ".join(str(number) for number in unnamed_with_data)
            )
        if not problems:
            return None
        if len(headers) == 1 and SEGMENT_SEPARATOR in headers[0]:
            problems.append(
                _(
                    "The columns seem to be separated by ';': save the file as "
                    "CSV UTF-8 (comma-separated)."
                )
            )
        problems.append(
            _(
                "The file needs the columns %(required)s, and may have %(optional)s (and "
                "region, which is ignored)."
            )
            % {"required": ", ".join(REQUIRED_COLUMNS), "optional": ", ".join(OPTIONAL_COLUMNS)}
        )
        return _("The columns of this file are not the expected ones. ") + " ".join(problems)

    def _tenant(self) -> Organisation:
        if self.organisation is None:
            raise ImportFileError(_("Members are only imported into an organisation."))
        return self.organisation

    def before_import(self, dataset: Dataset, **kwargs: Any) -> None:
        super().before_import(dataset, **kwargs)
        organisation = self._tenant()
        # Scoped managers: these raise unless the organisation's scope is active, and the
        # explicit filter keeps another tenant's rows out even if it were not.
        classes = list(MembershipClass.objects.filter(organisation=organisation))
        segments = {s.pk: s for s in ValueChainSegment.objects.filter(organisation=organisation)}
        self.fields["membership_class"].widget.load(classes)
        self.fields["segments"].widget.load(segments.values())

        members = Member.objects.filter(organisation=organisation).select_related(
            "membership_class"
        )
        self._existing = {name_key(member.name): member for member in members}
        by_pk = {member.pk: member for member in self._existing.values()}
        for member in by_pk.values():
            member._segment_list = []  # type: ignore[attr-defined]
        through = Member.segments.through
        member_column = f"{Member.segments.field.m2m_field_name()}_id"
        segment_column = f"{Member.segments.field.m2m_reverse_field_name()}_id"
        links = through.objects.filter(**{f"{member_column[:-3]}__organisation": organisation})
        for member_id, segment_id in links.values_list(member_column, segment_column):
            if member_id in by_pk and segment_id in segments:
                by_pk[member_id]._segment_list.append(segments[segment_id])  # type: ignore[attr-defined]
        for member in by_pk.values():
            member._saved_segment_pks = _pks(member._segment_list)  # type: ignore[attr-defined]

        rows_by_name: defaultdict[str, list[int]] = defaultdict(list)
        name_index = dataset.headers.index("name")
        for number, row in enumerate(dataset, 1):
            key = name_key(row[name_index])
            if key:
                rows_by_name[key].append(number)
        self._duplicates = {key: rows for key, rows in rows_by_name.items() if len(rows) > 1}
        self._to_link = []

    def init_instance(self, row: Any = None) -> Member:
        # The id, not the object: each row's instance is deep-copied for the preview's diff.
        return Member(organisation_id=self._tenant().pk)

    def after_init_instance(self, instance: Member, new: bool, row: Any, **kwargs: Any) -> None:
        super().after_init_instance(instance, new, row, **kwargs)
        instance._import_is_new = new  # type: ignore[attr-defined]

    def existing_member(self, row: Any) -> Member | None:
        return self._existing.get(name_key(row.get("name")))

    def after_import(self, dataset: Dataset, result: Any, **kwargs: Any) -> None:
        if not (result.has_errors() or result.has_validation_errors()):
            self._link_new_members()
        self._to_link = []
        super().after_import(dataset, result, **kwargs)

    def _link_new_members(self) -> None:
        """The segments of the new Members, in one insert: they have ids only now."""
        through = Member.segments.through
        member_field = Member.segments.field.m2m_field_name()
        segment_field = Member.segments.field.m2m_reverse_field_name()
        links = [
            through(**{f"{member_field}_id": member.pk, f"{segment_field}_id": segment.pk})
            for member in self._to_link
            if member.pk is not None
            for segment in member._segment_list  # type: ignore[attr-defined]
        ]
        through.objects.bulk_create(links, batch_size=self._meta.batch_size)

    # -- one row

    def import_instance(self, instance: Member, row: Any, **kwargs: Any) -> None:
        errors: dict[str, ValidationError] = {}
        for field in self.get_import_fields():
            if field.readonly or field.column_name not in row:
                continue
            problem = formula_problem(row[field.column_name])
            if problem is not None:
                errors[field.attribute] = ValidationError(problem, code="formula")
                continue
            try:
                if isinstance(field, SegmentsField):
                    instance._segment_list = field.clean(row)  # type: ignore[attr-defined]
                else:
                    self.import_field(field, instance, row, **kwargs)
            except ValueError as error:
                errors[field.attribute] = ValidationError(str(error), code="invalid")
        duplicate = self._duplicate_problem(row, kwargs.get("row_number"))
        if duplicate is not None and "name" not in errors:
            errors["name"] = ValidationError(duplicate, code="duplicate")
        if errors:
            raise ValidationError(errors)

    def _duplicate_problem(self, row: Any, number: int | None) -> str | None:
        rows = self._duplicates.get(name_key(row.get("name")))
        if not rows or number is None or number == rows[0]:
            return None  # the first row with a name is imported; the later ones are the errors
        times = _("twice") if len(rows) == 2 else _("%d times") % len(rows)
        listed = ", ".join(str(n) for n in rows[:-1]) + _(" and ") + str(rows[-1])
        return _("'%(name)s' appears %(times)s in this file: rows %(rows)s.") % {
            "name": str(row.get("name")).strip(),
            "times": times,
            "rows": listed,
        }

    def validate_instance(
        self,
        instance: Member,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        # The trusted fields were resolved by the import itself, so their checks are skipped.
        # So are the constraints, whose one (a unique name per tenant, in any case) the import
        # checks itself: an existing name is an update (the loader), a name twice in the file is
        # an error (_duplicate_problem). The database enforces every constraint on writing, and
        # a violation there fails the whole import.
        errors = dict(import_validation_errors or {})
        try:
            instance.full_clean(
                exclude=[*errors, *self.trusted_fields],
                validate_unique=validate_unique,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors = error.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def skip_row(
        self,
        instance: Member,
        original: Member | None,
        row: Any,
        import_validation_errors: dict[str, Any] | None = None,
    ) -> bool:
        if import_validation_errors or original is None or original.pk is None:
            return False
        for field in self.get_import_fields():
            if field.readonly or field.column_name not in row:
                continue
            if isinstance(field, SegmentsField):
                if _pks(field.get_value(instance)) != _pks(field.get_value(original)):
                    return False
            elif field.get_value(instance) != field.get_value(original):
                return False
        return True

    def before_save_instance(self, instance: Member, row: Any, **kwargs: Any) -> None:
        super().before_save_instance(instance, row, **kwargs)
        # What Member.save() and auto_now would do, since bulk writes skip both.
        instance.region = region_for(str(instance.country) if instance.country else None)
        if not getattr(instance, "_import_is_new", True):
            instance.updated_at = timezone.now()

    def get_bulk_update_fields(self) -> list[str]:
        return list(self.bulk_update_fields)

    def save_m2m(self, instance: Member, row: Any, **kwargs: Any) -> None:
        if "segments" not in row:
            return
        if kwargs.get("dry_run") and not kwargs.get("using_transactions"):
            return
        if getattr(instance, "_import_is_new", False):
            self._to_link.append(instance)  # linked once it has an id (after_import)
            return
        wanted = instance._segment_list  # type: ignore[attr-defined]
        if _pks(wanted) != getattr(instance, "_saved_segment_pks", set()):
            instance.segments.set(wanted)

    def get_user_visible_fields(self) -> list[fields.Field]:
        return [field for field in super().get_user_visible_fields() if not field.readonly]

    # -- export

    def filter_export(self, queryset: Any, **kwargs: Any) -> Any:
        return queryset.select_related("membership_class").prefetch_related("segments")


def _pks(objects: Sequence[models.Model]) -> set[Any]:
    return {obj.pk for obj in objects}
