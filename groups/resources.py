"""django-import-export resources for the group models, bound to one organisation.

The admin passes ``organisation=request.organisation``; new rows are created in it, foreign keys
are looked up through scoped managers (so another tenant's slug is "does not exist"), and every
instance is validated with ``full_clean`` before anything is written.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from import_export import fields, resources, widgets

from asi_wg.audit import audit_record
from asi_wg.caching import public_version_bump
from asi_wg.models import Organisation
from groups.models import FocusArea, GroupLinkage, Phase, Standard, WorkingGroup


class TenantResource(resources.ModelResource):
    def __init__(self, organisation: Organisation | None = None, user: Any = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.organisation = organisation
        self.user = user

    def init_instance(self, row: Any = None) -> Any:
        instance = super().init_instance(row)
        if hasattr(instance, "organisation_id") and self.organisation is not None:
            instance.organisation = self.organisation
        return instance

    def after_import(self, dataset: Any, result: Any, **kwargs: Any) -> None:
        super().after_import(dataset, result, **kwargs)
        if kwargs.get("dry_run") or result.has_errors() or result.has_validation_errors():
            return
        if self.organisation is None:
            return
        # Imports write in bulk, without the signals that keep the public pages fresh.
        public_version_bump(self.organisation.pk)
        totals = {key: value for key, value in result.totals.items() if value}
        audit_record(
            organisation=self.organisation,
            actor=self.user if getattr(self.user, "pk", None) else None,
            action="import",
            data={"model": self._meta.model._meta.label_lower, "totals": totals},
        )


class GroupSlugWidget(widgets.ForeignKeyWidget):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(WorkingGroup, field="slug", **kwargs)


class StandardResource(TenantResource):
    class Meta:
        model = Standard
        fields = ("name", "version", "description", "position")
        import_id_fields = ("name", "version")
        clean_model_instances = True
        skip_unchanged = True


class WorkingGroupResource(TenantResource):
    parent = fields.Field(attribute="parent", column_name="parent", widget=GroupSlugWidget())
    # An import sets the cap of a new group (it has no seats yet), like the admin's add form,
    # but never changes an existing group's: that is the selection workbench's service, which
    # refuses a cap below the seats held and offers the seats a rise frees. A file that asks for
    # another cap is refused row by row rather than half-applied.
    seat_cap = fields.Field(
        attribute="seat_cap", column_name="seat_cap", widget=widgets.IntegerWidget(), readonly=True
    )

    def import_instance(self, instance: Any, row: Any, **kwargs: Any) -> None:
        super().import_instance(instance, row, **kwargs)
        wanted = row.get("seat_cap")
        if wanted in (None, ""):
            return
        try:
            cap = int(float(str(wanted).strip()))
        except ValueError as error:
            raise ValidationError({"seat_cap": _("Enter a whole number of seats.")}) from error
        if instance.pk is None:
            instance.seat_cap = cap  # checked against its bounds by full_clean
        elif cap != instance.seat_cap:
            raise ValidationError(
                {
                    "seat_cap": _(
                        "An import does not change the seat cap of a group (%(wanted)d asked, "
                        "%(cap)d now): change it on the selection workbench, which checks it "
                        "against the seats held and offers any new seats to the waiting list."
                    )
                    % {"wanted": cap, "cap": instance.seat_cap}
                }
            )

    class Meta:
        model = WorkingGroup
        fields = ("number", "name", "slug", "theme", "summary", "scope", "seat_cap", "parent")
        import_id_fields = ("slug",)
        clean_model_instances = True
        skip_unchanged = True


class FocusAreaResource(TenantResource):
    group = fields.Field(attribute="group", column_name="group", widget=GroupSlugWidget())

    class Meta:
        model = FocusArea
        # Never the id: ids are global, and a row is matched within the tenant by group and title.
        fields = ("group", "position", "title", "description")
        import_id_fields = ("group", "title")
        clean_model_instances = True
        skip_unchanged = True


class PhaseResource(TenantResource):
    group = fields.Field(attribute="group", column_name="group", widget=GroupSlugWidget())

    class Meta:
        model = Phase
        fields = ("group", "number", "name", "starts_on", "ends_on", "meetings_min", "meetings_max")
        import_id_fields = ("group", "number")
        clean_model_instances = True
        skip_unchanged = True


class GroupLinkageResource(TenantResource):
    from_group = fields.Field(
        attribute="from_group", column_name="from_group", widget=GroupSlugWidget()
    )
    to_group = fields.Field(attribute="to_group", column_name="to_group", widget=GroupSlugWidget())

    class Meta:
        model = GroupLinkage
        fields = ("from_group", "to_group", "note")
        import_id_fields = ("from_group", "to_group")
        clean_model_instances = True
        skip_unchanged = True
