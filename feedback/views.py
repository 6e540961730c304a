"""The participant's feedback pages: their rounds, a round's overview, the answer form for one
criterion, and the form's autosave.

Thin: each view finds the round through ``participant_selectors`` (a round the person may not
see is a 404, whoever they are), parses the form and calls ``services.answer_save``; its
refusals become a message on the page and write nothing. The autosave, the request sent most
often, reads the round without the person's access and leaves that check to the service; a
refusal asks ``round_for_participant`` before it answers, so it says what the form page says.

Nothing typed is lost:

- without JavaScript the form is a normal post with the answer's version in a hidden field; a
  stale version re-renders the page with both versions side by side and the new version, so
  that saving again is a deliberate choice;
- with JavaScript the autosave posts the same form as a draft a second or two after typing
  stops and answers with a small fragment (the saved state and the new version);
- a signed-out post keeps what was typed: the autosave answers 401 with a fragment (the page's
  script keeps the text in the browser and saves it once the person signs in again), and a
  normal post keeps the typed answer in the (anonymous) session, which signing in carries over,
  and sends the person to sign in and back to the form, where it is restored unsaved.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, cast
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from asi_wg.errors import DomainError
from asi_wg.models import Organisation, User
from asi_wg.pagecache import page_cached
from asi_wg.urls_helpers import root_reverse
from feedback import participant_selectors as selectors
from feedback import services
from feedback.forms import AnswerForm, SavingAnswerForm, answer_content_cheap
from feedback.models import Answer, Criterion, Disposition, FeedbackRound

PENDING_KEY = "feedback-pending:{round}:{criterion}"


def _organisation(request: HttpRequest) -> Organisation:
    return cast(Organisation, request.organisation)  # type: ignore[attr-defined]


def _user(request: HttpRequest) -> User:
    return cast(User, request.user)


def _round_or_404(request: HttpRequest, pk: int) -> selectors.RoundAccess:
    access = selectors.round_for_participant(
        organisation=_organisation(request), user=request.user, pk=pk
    )
    if access is None:
        raise Http404(_("There is no such feedback round, or it is not one of your groups'."))
    return access


def _url(name: str, organisation: Organisation, **kwargs: Any) -> str:
    return root_reverse(
        f"feedback:{name}", kwargs={"organisation_slug": organisation.slug, **kwargs}
    )


def _zone(user: User) -> str:
    return user.time_zone or "UTC"


def _clock(moment: Any, user: User) -> str:
    """A time of day in the person's zone, for "Saved 14:02 (Europe/Zurich time)"."""
    zone = _zone(user)
    return _("%(time)s (%(zone)s time)") % {
        "time": timezone.localtime(moment, ZoneInfo(zone)).strftime("%H:%M"),
        "zone": zone,
    }


@dataclass(frozen=True)
class Editing:
    """Whether the person may change their answers in this round now, and if not, why."""

    allowed: bool
    reason: str = ""

    @classmethod
    def of(cls, access: selectors.RoundAccess, request: HttpRequest) -> Editing:
        feedback_round = access.round
        state = feedback_round.state()
        if state == FeedbackRound.State.CLOSED:
            return cls(False, "closed")
        if state == FeedbackRound.State.SCHEDULED:
            return cls(False, "scheduled")
        if not access.seated:
            return cls(False, "unseated")
        if not access.acknowledged:
            return cls(False, "antitrust")
        return cls(True)


# --- The person's rounds and a round's overview -------------------------------------------------


@login_required
@require_GET
@page_cached
def round_list(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "feedback/list.html",
        {
            "rounds": selectors.rounds_for_participant(
                organisation=_organisation(request), user=request.user
            ),
            "zone": _zone(_user(request)),
        },
    )


@login_required
@require_GET
@page_cached
def round_overview(request: HttpRequest, pk: int) -> HttpResponse:
    access = _round_or_404(request, pk)
    criteria = selectors.criteria_outline(access.round)
    states = selectors.answer_states(feedback_round=access.round, user=request.user)
    rows = [(criterion, states.get(criterion.pk)) for criterion in criteria]
    return render(
        request,
        "feedback/round.html",
        {
            "feedback_round": access.round,
            "access": access,
            "editing": Editing.of(access, request),
            "rows": rows,
            "progress": selectors.progress_of(len(criteria), states),
            "zone": _zone(_user(request)),
        },
    )


# --- One criterion ------------------------------------------------------------------------------


@dataclass
class AnswerPage:
    access: selectors.RoundAccess
    criterion: Criterion
    criteria: list[Criterion]
    states: dict[int, selectors.AnswerState]
    answer: Answer | None

    @property
    def round(self) -> FeedbackRound:
        return self.access.round


def _answer_page(request: HttpRequest, pk: int, criterion_pk: int) -> AnswerPage:
    access = _round_or_404(request, pk)
    criteria = selectors.criteria_outline(access.round)
    if not any(c.pk == criterion_pk for c in criteria):
        raise Http404(_("This criterion is not part of this feedback round."))
    criterion = access.round.criteria.get(pk=criterion_pk)
    return AnswerPage(
        access=access,
        criterion=criterion,
        criteria=criteria,
        states=selectors.answer_states(feedback_round=access.round, user=request.user),
        answer=selectors.my_answer(
            feedback_round=access.round, criterion=criterion, user=request.user
        ),
    )


def _neighbours(page: AnswerPage) -> tuple[Criterion | None, Criterion | None, int]:
    index = next(i for i, c in enumerate(page.criteria) if c.pk == page.criterion.pk)
    previous = page.criteria[index - 1] if index else None
    following = page.criteria[index + 1] if index + 1 < len(page.criteria) else None
    return previous, following, index + 1


def _published(answer: Answer | None) -> Disposition | None:
    if answer is None:
        return None
    disposition = getattr(answer, "disposition", None)
    if disposition is None or disposition.published_at is None:
        return None
    return cast(Disposition, disposition)


def _render_answer(
    request: HttpRequest,
    page: AnswerPage,
    form: AnswerForm,
    editing: Editing,
    *,
    status: int = 200,
    error: str = "",
    conflict: services.AnswerConflict | None = None,
    restored: bool = False,
) -> HttpResponse:
    organisation = _organisation(request)
    user = _user(request)
    previous, following, position = _neighbours(page)
    saved_rows = form.describe(answer_content_cheap(page.answer)) if page.answer is not None else []
    context = {
        "feedback_round": page.round,
        "access": page.access,
        "criterion": page.criterion,
        "previous": previous,
        "next": following,
        "position": position,
        "progress": selectors.progress_of(len(page.criteria), page.states),
        "answer": page.answer,
        "saved_rows": saved_rows,
        "disposition": _published(page.answer),
        "form": form,
        "editing": editing,
        "error": error,
        "conflict": conflict,
        "conflict_rows": form.describe(conflict.current_content) if conflict else [],
        "typed_rows": form.describe(form.typed_content()) if conflict else [],
        "restored": restored,
        "zone": _zone(user),
        "storage_key": json.dumps(
            [organisation.slug, page.round.pk, page.criterion.pk, user.pk], separators=(",", ":")
        ),
        "login_url": _login_url(
            _url("answer", organisation, pk=page.round.pk, criterion_pk=page.criterion.pk)
        ),
    }
    return render(request, "feedback/answer.html", context, status=status)


def _login_url(next_url: str) -> str:
    query = QueryDict(mutable=True)
    query["next"] = next_url
    return f"{root_reverse('account_login')}?{query.urlencode()}"


@never_cache
@require_http_methods(["GET", "POST"])
@page_cached
def answer(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return _signed_out_post(request, pk, criterion_pk)
    page = _answer_page(request, pk, criterion_pk)
    editing = Editing.of(page.access, request)
    if request.method == "GET":
        # What was typed while signed out stays kept until the form can take it: a person who
        # must first acknowledge a new antitrust policy finds it after doing so.
        pending = _pop_pending(request, page) if editing.allowed else None
        if pending is not None:
            form = AnswerForm(pending, round=page.round)
            return _render_answer(request, page, form, editing, restored=True)
        form = AnswerForm(initial=AnswerForm.initial_from(page.answer), round=page.round)
        return _render_answer(request, page, form, editing)

    form = AnswerForm(request.POST, round=page.round)
    if not editing.allowed:
        return _render_answer(
            request, page, form, editing, status=403, error=_refusal(editing, page.round)
        )
    if not form.is_valid():
        return _render_answer(
            request, page, form, editing, status=400, error=_("Nothing was saved: see below.")
        )
    submit = "submit" in request.POST
    try:
        saved = services.answer_save(
            round=page.round,
            criterion=page.criterion,
            user=_user(request),
            data=form.data_for_service(),
            expected_version=form.cleaned_data["version"],
            submit=submit,
        )
    except services.AnswerConflict as conflict:
        return _render_conflict(request, page, editing, conflict)
    except DomainError as refusal:
        return _render_answer(request, page, form, editing, status=400, error=str(refusal))
    organisation = _organisation(request)
    when = _clock(saved.updated_at, _user(request))
    if submit:
        messages.success(
            request,
            _(
                "Your answer on %(ref)s is submitted (%(when)s). You can change it until the "
                "round closes."
            )
            % {"ref": page.criterion.reference, "when": when},
        )
        _previous, following, _position = _neighbours(page)
        if following is not None:
            return redirect(
                _url("answer", organisation, pk=page.round.pk, criterion_pk=following.pk)
            )
        return redirect(_url("round", organisation, pk=page.round.pk))
    messages.success(
        request,
        _("Draft saved %(when)s. It stays a draft until you submit it.") % {"when": when},
    )
    return redirect(_url("answer", organisation, pk=page.round.pk, criterion_pk=page.criterion.pk))


def _render_conflict(
    request: HttpRequest, page: AnswerPage, editing: Editing, conflict: services.AnswerConflict
) -> HttpResponse:
    # The person's text stays as typed; the version becomes the saved one, so that saving
    # again is a deliberate choice to replace it.
    data = request.POST.copy()
    data["version"] = str(conflict.current_version)
    form = AnswerForm(data, round=page.round)
    form.is_valid()
    return _render_answer(
        request, page, form, editing, status=409, error=str(conflict), conflict=conflict
    )


def _refusal(editing: Editing, feedback_round: FeedbackRound) -> str:
    return {
        "closed": _(
            "This feedback round is closed: answers can no longer change. Nothing was saved."
        ),
        "scheduled": _("This feedback round has not opened yet. Nothing was saved."),
        "unseated": _(
            "You no longer hold a seat in %(group)s, so your answers no longer "
            "change. Nothing was saved."
        )
        % {"group": feedback_round.group.name},
        "antitrust": _("Acknowledge the antitrust policy before taking part. Nothing was saved."),
    }.get(editing.reason, _("Nothing was saved."))


# --- Signed out ---------------------------------------------------------------------------------


def _signed_out_post(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    """A signed-out person: GET goes to sign in; a POST keeps what they typed in their
    (anonymous) session, which signing in keeps, and the form restores it afterwards."""
    if request.method == "POST":
        kept = {
            name: request.POST.getlist(name)
            for name in request.POST
            if name in AnswerForm.base_fields
        }
        request.session[PENDING_KEY.format(round=pk, criterion=criterion_pk)] = kept
        messages.warning(
            request,
            _(
                "You were signed out, so your answer is not saved yet. Sign in again: what you "
                "typed is kept and shown again on the form."
            ),
        )
    return redirect_to_login(request.get_full_path())


def _pop_pending(request: HttpRequest, page: AnswerPage) -> QueryDict | None:
    kept = request.session.pop(
        PENDING_KEY.format(round=page.round.pk, criterion=page.criterion.pk), None
    )
    if not isinstance(kept, dict):
        return None
    data = QueryDict(mutable=True)
    for name, values in kept.items():
        if isinstance(values, list):
            data.setlist(str(name), [str(value) for value in values])
    return data


# --- Autosave -----------------------------------------------------------------------------------


def _fragment(
    request: HttpRequest, state: str, message: str, *, status: int, **extra: Any
) -> HttpResponse:
    # Rendered without the request: a fragment needs none of the pages' context processors.
    html = render_to_string(
        "feedback/includes/save_state.html", {"state": state, "message": message, **extra}
    )
    return HttpResponse(html, status=status)


def _autosave_refused(
    request: HttpRequest, pk: int, otherwise: HttpResponse | None = None
) -> HttpResponse:
    """Why the person may not save here: a 404 for a round they may not see, the reason for one
    they may not change now; ``otherwise`` (or a 400) when they may after all (a round opened or
    a seat given meanwhile)."""
    access = _round_or_404(request, pk)
    editing = Editing.of(access, request)
    if not editing.allowed:
        return _fragment(request, "error", _refusal(editing, access.round), status=400)
    return otherwise or _fragment(request, "error", _("Nothing was saved."), status=400)


class _NotValid(Exception):
    """The autosave's form did not validate (its errors are the form's)."""


@never_cache
@require_POST
def autosave(request: HttpRequest, pk: int, criterion_pk: int) -> HttpResponse:
    """Save the form as a draft and answer with the saved state (a fragment for htmx).

    Written for the common case, a participant typing: the round and the criterion are read
    once, by ``services.answer_save_by_ids`` with its lock and its check of who may answer, and
    the form is built from that round inside it. Anything refused (including a form that does
    not validate) asks ``_autosave_refused`` first, so that a person who may not see the round
    gets a 404 and learns nothing more."""
    if not request.user.is_authenticated:
        organisation = _organisation(request)
        return _fragment(
            request,
            "signed-out",
            "",
            status=401,
            login_url=_login_url(_url("round", organisation, pk=pk)),
        )
    made: list[AnswerForm] = []

    def clean(feedback_round: FeedbackRound) -> tuple[dict[str, Any], int]:
        form = SavingAnswerForm(request.POST, round=feedback_round)
        made.append(form)
        if not form.is_valid():
            raise _NotValid()
        return form.data_for_service(), form.cleaned_data["version"]

    try:
        saved = services.answer_save_by_ids(
            organisation=_organisation(request),
            round_id=pk,
            criterion_id=criterion_pk,
            user=_user(request),
            clean=clean,
        )
    except services.NoSuchCriterion:
        _round_or_404(request, pk)  # a round they may not see: that 404 first, saying only that
        raise Http404(_("This criterion is not part of this feedback round.")) from None
    except _NotValid:
        form = made[0]
        problems = "; ".join(
            f"{form.fields[name].label if name in form.fields else name}: "
            + " ".join(str(error) for error in errors)
            for name, errors in form.errors.items()
        )
        return _autosave_refused(
            request,
            pk,
            _fragment(
                request,
                "error",
                _("Nothing was saved. %(problems)s") % {"problems": problems},
                status=400,
            ),
        )
    except services.AnswerConflict as conflict:
        return _fragment(
            request,
            "conflict",
            _("Not saved: this answer was changed in another tab or window."),
            status=409,
            conflict=conflict,
            conflict_rows=made[0].describe(conflict.current_content),
            typed_rows=made[0].describe(made[0].typed_content()),
        )
    except (services.NotInTheRound, services.RoundNotOpen) as refusal:
        return _autosave_refused(request, pk, _fragment(request, "error", str(refusal), status=400))
    except DomainError as refusal:
        return _fragment(request, "error", str(refusal), status=400)
    return _fragment(
        request,
        "saved",
        _("Saved %(when)s") % {"when": _clock(saved.updated_at, _user(request))},
        status=200,
        version=saved.version,
        submitted=saved.submitted_at is not None,
    )
