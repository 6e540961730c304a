"""The secretariat's feedback screens: every round with its counts and its open, close and
extend actions, and each round's triage (comments by criterion, filters, dispositions one by
one or in bulk, publication of the round's dispositions).

Secretariat only (``membership.staff_views.secretariat_required``): anyone else signed in gets
404, a visitor is sent to sign in. Thin: each view finds the tenant's round, calls one service
or selector, and turns a refusal into a message; a POST naming another tenant's round or a
comment outside the round's triage is refused and changes nothing.
"""

from __future__ import annotations

import zoneinfo
from typing import Any, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from asi_wg.choices import form_choices
from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from asi_wg.parsing import is_id
from feedback import iso, selectors, services, summaries, synopsis, triage_fragments
from feedback.models import DraftDocument, FeedbackRound
from feedback.staff_forms import DispositionForm, ExtendForm, SynopsisForm, TriageFilterForm
from groups.models import RevisionObjective, WorkingGroup
from meetings import markdown
from membership.staff_views import secretariat_required

# Comments per page of the triage: enough to work through a criterion, small enough that the
# page (a form per comment) stays quick to load and to read with a screen reader. At 50 the
# page cost a sixteenth of /healthz's throughput in the benchmark; rendering is per comment.
PAGE_SIZE = 25
NOTHING_SAVED = _("Nothing was saved.")


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _round(request: HttpRequest, pk: int) -> FeedbackRound:
    organisation = _organisation(request)
    feedback_round = selectors.tenant_round(organisation=organisation, pk=pk)
    if feedback_round is None:
        raise Http404(_("There is no such feedback round."))
    return feedback_round


def _url(request: HttpRequest, name: str, **kwargs: Any) -> str:
    return reverse(
        f"feedback_staff:{name}",
        kwargs={"organisation_slug": _organisation(request).slug, **kwargs},
    )


def _zone(request: HttpRequest) -> str:
    return _user(request).time_zone or "UTC"


# --- Rounds -----------------------------------------------------------------------------------


@require_GET
@secretariat_required
@page_cached
def rounds(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feedback/staff/rounds.html",
        {
            "overview": selectors.rounds_overview(organisation=_organisation(request)),
            "zone": _zone(request),
        },
    )


ROUND_ACTIONS = {
    "open": services.round_open,
    "close": services.round_close,
}


@require_http_methods(["GET", "POST"])
@secretariat_required
def round_change(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Confirm, then open a scheduled round now or close an open one now."""
    if action not in ROUND_ACTIONS:
        raise Http404(_("There is no such action."))
    feedback_round = _round(request, pk)
    if request.method == "POST":
        try:
            ROUND_ACTIONS[action](round=feedback_round, acting_user=_user(request))
        except DomainError as error:
            messages.error(request, f"{error} " + _("Nothing was changed."))
        else:
            messages.success(
                request,
                (
                    _("“%(title)s” is open: the group's participants can answer.")
                    if action == "open"
                    else _("“%(title)s” is closed: answers no longer change.")
                )
                % {"title": feedback_round.title},
            )
        return redirect(_url(request, "rounds") + f"#round-{feedback_round.pk}")
    return render(
        request,
        "feedback/staff/round_confirm.html",
        {
            "round": feedback_round,
            "action": action,
            "state": feedback_round.state(),
            "zone": _zone(request),
        },
    )


@require_http_methods(["GET", "POST"])
@secretariat_required
def round_extend(request: HttpRequest, pk: int) -> HttpResponse:
    """Move the closing time to a date and time the staff member chooses (in their zone)."""
    feedback_round = _round(request, pk)
    zone = _zone(request)
    status = 200
    if request.method == "POST":
        form = ExtendForm(request.POST, zone=zone)
        if form.is_valid():
            try:
                services.round_extend(
                    round=feedback_round,
                    closes_at=form.cleaned_data["closes_at"],
                    acting_user=_user(request),
                )
            except DomainError as error:
                form.add_error("closes_at", f"{error} {NOTHING_SAVED}")
            else:
                messages.success(
                    request,
                    _("“%(title)s” now closes on %(when)s (%(zone)s time).")
                    % {
                        "title": feedback_round.title,
                        "when": timezone.localtime(
                            form.cleaned_data["closes_at"], zoneinfo.ZoneInfo(zone)
                        ).strftime("%d %B %Y, %H:%M"),
                        "zone": zone,
                    },
                )
                return redirect(_url(request, "rounds") + f"#round-{feedback_round.pk}")
        status = 400
    else:
        form = ExtendForm(
            zone=zone,
            # Naive, in the staff member's zone: the widget would show an aware time in UTC.
            initial={
                "closes_at": timezone.localtime(
                    feedback_round.closes_at, zoneinfo.ZoneInfo(zone)
                ).replace(tzinfo=None)
            },
        )
    return render(
        request,
        "feedback/staff/round_extend.html",
        {
            "round": feedback_round,
            "form": form,
            "state": feedback_round.state(),
            "zone": zone,
        },
        status=status,
    )


# --- Triage -----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@secretariat_required
@page_cached
def triage(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's comments by criterion with the filters of the query string; a POST sets one
    disposition on the ticked comments (one, or several in bulk) and comes back to the same
    filtered page."""
    feedback_round = _round(request, pk)
    if request.method == "POST":
        return _dispositions_post(request, feedback_round)
    return _render_triage(request, feedback_round)


def _render_triage(
    request: HttpRequest,
    feedback_round: FeedbackRound,
    *,
    posted: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    organisation = _organisation(request)
    filter_form = TriageFilterForm(
        request.GET,
        groups=list(WorkingGroup.objects.filter(organisation=organisation).order_by("number")),
        objectives=list(
            RevisionObjective.objects.filter(organisation=organisation).order_by("number")
        ),
    )
    filters = filter_form.filters()
    answers = filters.apply(selectors.triage_answers(feedback_round), feedback_round)
    paginator = Paginator(selectors.triage_page_answers(answers), PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    # Labels made text once: the list is shown in every comment's form.
    statuses = form_choices(DispositionForm, "status")
    zone = _zone(request)
    form_action = request.get_full_path()
    sections = _rows(
        selectors.triage_items(list(page.object_list), feedback_round), posted or {}, statuses
    )
    triage_fragments.render_comments(
        request, organisation.pk, sections, form_action=form_action, zone=zone
    )
    return render(
        request,
        "feedback/staff/triage.html",
        {
            "round": feedback_round,
            "state": feedback_round.state(),
            "filter_form": filter_form,
            "sections": sections,
            "page": page,
            "query": query.urlencode(),
            "to_publish": selectors.unpublished_dispositions(feedback_round),
            "statuses": statuses,
            "posted": posted or {},
            "form_action": form_action,
            "zone": zone,
        },
        status=status,
    )


def _rows(
    sections: list[selectors.TriageSection],
    posted: dict[str, Any],
    statuses: list[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Each comment with the values its disposition form shows: what was just sent if that
    was refused (so nothing typed is lost), the saved disposition otherwise. The form's status
    options are made once per status chosen, not once per comment."""
    ids = posted.get("ids", set())
    options: dict[str, SafeString] = {}

    def options_for(chosen: str) -> SafeString:
        if chosen not in options:
            options[chosen] = format_html_join(
                "",
                '<option value="{}"{}>{}</option>',
                (
                    (value, " selected" if value == chosen else "", label)
                    for value, label in statuses
                ),
            )
        return options[chosen]

    result = []
    for section in sections:
        rows = []
        for item in section.items:
            disposition = item.disposition
            status, response = (
                (disposition.status, disposition.response) if disposition else ("", "")
            )
            key = str(item.answer.pk)
            if posted and not posted["bulk"] and key in ids:
                status, response = posted["status"], posted["response"]
            rows.append(
                {
                    "item": item,
                    "key": key,  # the answer's id as text, read a dozen times by its markup
                    "status": status,
                    "options": options_for(status),
                    "response": response,
                    "seen": services.disposition_seen(disposition),
                    "ticked": bool(posted.get("bulk")) and key in ids,
                }
            )
        result.append({"criterion": section.criterion, "rows": rows})
    return result


def _dispositions_post(request: HttpRequest, feedback_round: FeedbackRound) -> HttpResponse:
    bulk = request.POST.get("bulk") == "1"
    raw = request.POST.getlist("answers")
    form = DispositionForm(request.POST)
    posted: dict[str, Any] = {
        "bulk": bulk,
        "ids": {value for value in raw if is_id(value)},
        "status": request.POST.get("status", ""),
        "response": request.POST.get("response", ""),
    }
    error = None
    answers: list[Any] = []
    if not raw:
        error = _("Tick at least one comment.")
    elif not all(is_id(value) for value in raw):
        error = _("Some of the chosen comments are not in this round's triage.")
    elif not form.is_valid():
        error = " ".join(str(e) for errors in form.errors.values() for e in errors)
    else:
        ids = {int(value) for value in raw}
        answers = list(selectors.triage_answers(feedback_round).filter(pk__in=ids))
        if len(answers) != len(ids):
            error = _("Some of the chosen comments are not in this round's triage.")
    if error is None:
        try:
            services.disposition_set(
                answers=answers,
                status=form.cleaned_data["status"],
                response=form.cleaned_data["response"],
                acting_user=_user(request),
                # What the page showed of each comment's disposition: a decision saved by
                # someone else since is not silently replaced.
                seen={
                    answer.pk: request.POST[f"seen-{answer.pk}"]
                    for answer in answers
                    if f"seen-{answer.pk}" in request.POST
                },
            )
        except DomainError as refused:
            error = str(refused)
    if error is not None:
        if NOTHING_SAVED not in error:
            error = f"{error} {NOTHING_SAVED}"
        messages.error(request, error)
        return _render_triage(request, feedback_round, posted=posted, status=400)
    if bulk:
        messages.success(
            request,
            _("The disposition is saved for %(n)d comments. It stays private until published.")
            % {"n": len(answers)},
        )
        return redirect(request.get_full_path())
    messages.success(request, _("The disposition is saved. It stays private until published."))
    return redirect(request.get_full_path() + f"#answer-{answers[0].pk}")


@require_http_methods(["GET", "POST"])
@secretariat_required
def publish(request: HttpRequest, pk: int) -> HttpResponse:
    """Confirm, then publish every unpublished disposition of a closed round in one batch."""
    feedback_round = _round(request, pk)
    if request.method == "POST":
        try:
            count = services.dispositions_publish(round=feedback_round, acting_user=_user(request))
        except DomainError as error:
            messages.error(request, f"{error} " + _("Nothing was published."))
        else:
            messages.success(
                request,
                _(
                    "%(n)d dispositions are published: each commenter now sees the response "
                    "beside their comment and is e-mailed that responses are there."
                )
                % {"n": count},
            )
        return redirect(_url(request, "triage", pk=feedback_round.pk))
    return render(
        request,
        "feedback/staff/publish_confirm.html",
        {
            "round": feedback_round,
            "state": feedback_round.state(),
            "to_publish": selectors.unpublished_dispositions(feedback_round),
        },
    )


# --- The ISO commenting table -----------------------------------------------------------------


@require_GET
@secretariat_required
def iso_round(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """The round's comments in the ISO/IEC commenting template's columns, XLSX or CSV."""
    if file_format not in iso.FORMATS:
        raise Http404(_("There is no such file format."))
    return iso.iso_response(summaries.summary_for_round(_round(request, pk)), file_format)


@require_GET
@secretariat_required
def iso_document(request: HttpRequest, pk: int, file_format: str) -> HttpResponse:
    """Every comment on a draft document (all its rounds) in the ISO template's columns."""
    if file_format not in iso.FORMATS:
        raise Http404(_("There is no such file format."))
    document = DraftDocument.objects.filter(organisation=_organisation(request), pk=pk).first()
    if document is None:
        raise Http404(_("There is no such draft document."))
    return iso.iso_response(summaries.summary_for_document(document), file_format)


# --- The public synopsis ----------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@secretariat_required
def synopsis_review(request: HttpRequest, pk: int) -> HttpResponse:
    """The round's synopsis as it would be published now (a preview of exactly the public
    page), its introduction to edit, and its published versions; a POST saves the
    introduction or publishes the next version."""
    feedback_round = _round(request, pk)
    draft = feedback_round.synopses.filter(published_at__isnull=True).first()
    versions = synopsis.synopsis_versions(feedback_round)
    status = 200
    if request.method == "POST":
        form = SynopsisForm(request.POST)
        if form.is_valid():
            intro, action = form.cleaned_data["intro"], form.cleaned_data["action"]
            try:
                if action == "publish":
                    published = services.synopsis_publish(
                        round=feedback_round, acting_user=_user(request), intro=intro
                    )
                else:
                    services.synopsis_intro_save(
                        round=feedback_round, intro=intro, acting_user=_user(request)
                    )
            except (DomainError, ValidationError) as error:
                message = " ".join(getattr(error, "messages", [str(error)]))
                form.add_error(None, f"{message} {NOTHING_SAVED}")
            else:
                if action == "publish":
                    messages.success(
                        request,
                        _("Version %(n)d of the synopsis is public.") % {"n": published.version},
                    )
                else:
                    messages.success(
                        request, _("The introduction is saved. Nothing is public until published.")
                    )
                return redirect(_url(request, "synopsis", pk=feedback_round.pk))
        status = 400
        intro_shown = request.POST.get("intro", "")
    else:
        intro_shown = draft.intro if draft else (versions[0].intro if versions else "")
        form = SynopsisForm(initial={"intro": intro_shown})
    return render(
        request,
        "feedback/staff/synopsis.html",
        {
            "round": feedback_round,
            "state": feedback_round.state(),
            "form": form,
            "intro_html": markdown.render(intro_shown),
            "content": synopsis.synopsis_content(feedback_round),
            "versions": versions,
            "zone": _zone(request),
        },
        status=status,
    )
