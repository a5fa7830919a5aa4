"""Answering a survey at /s/<token>/: no login, one page per mechanism, saved as you go, submitted once.

An unknown token, a used one and one whose survey has ended all get the same neutral page, so the page
never tells a guesser which tokens exist. The answers saved on the way belong to the browser that gave them
(a secret in a cookie limited to the link's path): another holder of the link sees that the questionnaire was
started elsewhere and may only start again, never read them."""

import re

from django.conf import settings
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from config.client_ip import client_ip
from surveys import answers as A
from surveys.models import Invitation, Respondent
from surveys.services import (
    AlreadySubmitted,
    DraftElsewhere,
    SurveyError,
    draft_answers,
    draft_discard,
    draft_save,
    invitation_by_token,
    links_request,
    questions_of,
    response_submit,
    survey_period,
    survey_state,
)

DRAFT_COOKIE = "survey_draft"
DRAFT_COOKIE_AGE = 60 * 60 * 24 * 120
# A lost-link request e-mails a school at most once a day (services.links_request); this bounds how many
# addresses one client may try, so that the form cannot be used to probe or to flood schools.
LOST_LINK_PER_HOUR = 10

TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def _invitation(token):
    if not TOKEN_RE.match(token):
        return None
    return invitation_by_token(token)


def _unavailable(request, status=404):
    return render(request, "surveys/unavailable.html", status=status)


def _secret(request):
    return request.COOKIES.get(DRAFT_COOKIE, "")[:64]


def _keep_secret(request, response, secret):
    """The browser's secret of its draft, in a cookie sent only to this link's pages."""
    if secret and secret != _secret(request):
        response.set_cookie(
            DRAFT_COOKIE,
            secret,
            max_age=DRAFT_COOKIE_AGE,
            path=reverse("survey", args=[request.resolver_match.kwargs["token"]]),
            secure=settings.SESSION_COOKIE_SECURE,
            httponly=True,
            samesite="Lax",
        )
    return response


class Survey:
    """What a request about one invitation needs: questions, pages, the answers this browser saved."""

    def __init__(self, invitation, secret):
        self.invitation = invitation
        self.campaign = invitation.campaign
        self.secret = secret
        self.questions = questions_of(self.campaign, invitation.role, getattr(invitation, "questionnaire_key", None))
        self.pages = A.pages(self.questions)
        self.answers, self.draft, self.elsewhere = draft_answers(invitation, self.questions, secret)
        self.by_id = {q.pk: q for q in self.questions}

    @property
    def review_number(self):
        return len(self.pages) + 1

    def page_questions(self, number):
        return self.pages[number - 1].questions if 1 <= number <= len(self.pages) else []

    def clamp(self, number):
        return max(0, min(number, self.review_number))


def _page_number(value, default=0):
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _fields(survey, questions, answers, errors, raw=None):
    """The questions of a page ready for the template: value shown, error, dependency hint.

    A question that depends on an answer given on an earlier page is decided here: shown or left out.
    One that depends on a question of the same page is rendered with a hint, and survey.js shows or
    hides it as the answer changes (without JavaScript the hint says when to answer it)."""
    on_page = {q.pk for q in questions}
    fields = []
    for q in questions:
        parent = survey.by_id.get(q.depends_on_id)
        same_page = parent is not None and parent.pk in on_page
        if parent is not None and not same_page and not A.is_shown(q, answers, survey.by_id):
            continue
        if raw is not None:
            sent = raw.getlist(f"q-{q.code}")
            value = sent if q.kind == A.MULTIPLE else (sent[0] if sent else "")
        else:
            value = answers.get(q.code, [] if q.kind == A.MULTIPLE else "")
        fields.append(
            {
                "q": q,
                "value": value,
                "values": value if isinstance(value, list) else [],
                "str_value": "" if value is None or isinstance(value, list) else str(value),
                "error": errors.get(q.code),
                "parent": parent if same_page else None,
                "parent_labels": [parent.value_labels.get(v, v) for v in q.depends_values] if same_page else [],
            }
        )
    return fields


def _answer_text(q, value):
    if isinstance(value, list):
        return "; ".join(q.value_labels.get(v, v) for v in value)
    if q.kind == A.NUMBER:
        return f"{value} {q.unit}".strip()
    return q.value_labels.get(str(value), str(value))


def _review(survey):
    """Each section with its shown questions and the answers given, for the check before submitting."""
    sections = []
    for page in survey.pages:
        rows = [
            (q, _answer_text(q, survey.answers[q.code]) if q.code in survey.answers else None)
            for q in page.questions
            if A.is_shown(q, survey.answers, survey.by_id)
        ]
        sections.append((page, rows))
    return sections


def _render(request, survey, number, *, errors=None, raw=None, missing=(), message="", status=200):
    answered, total = A.progress(survey.questions, survey.answers)
    context = {
        "invitation": survey.invitation,
        "campaign": survey.campaign,
        "questionnaire": survey.questions[0].questionnaire if survey.questions else None,
        "pages": survey.pages,
        "number": number,
        "review_number": survey.review_number,
        "answered": answered,
        "total": total,
        "question_count": len(survey.questions),
        "percent": round(100 * answered / total) if total else 0,
        "period": survey_period(survey.campaign),
        "message": message,
        "missing": [(q, next(p.number for p in survey.pages if q in p.questions)) for q in missing],
        "elsewhere": survey.elsewhere,
    }
    if survey.elsewhere:
        number = 0
    if 1 <= number <= len(survey.pages):
        page = survey.pages[number - 1]
        context.update(page=page, fields=_fields(survey, page.questions, survey.answers, errors or {}, raw))
        template = "surveys/page.html"
    elif number == survey.review_number:
        if not missing:
            context["missing"] = [
                (q, next(p.number for p in survey.pages if q in p.questions))
                for q in A.missing(survey.questions, survey.answers)
            ]
        context["sections"] = _review(survey)
        template = "surveys/review.html"
    else:
        template = "surveys/intro.html"
    return render(request, template, context, status=status)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request, token):
    invitation = _invitation(token)
    if invitation is None:
        return _unavailable(request)
    if invitation.completed:
        # A second submit of a used link: the same page, with the status that says "conflict".
        return _unavailable(request, status=409 if request.method == "POST" else 404)
    state = survey_state(invitation.campaign)
    if state == "closed":
        return _unavailable(request)
    if state == "not_started":
        return render(
            request,
            "surveys/not_started.html",
            {"period": survey_period(invitation.campaign), "campaign": invitation.campaign},
        )
    survey = Survey(invitation, _secret(request))
    if not survey.questions:
        return _unavailable(request)
    if request.method != "POST":
        if not invitation.opened:
            Invitation.objects.filter(pk=invitation.pk, opened=False).update(opened=True)
        default = survey.draft.page if survey.draft else 0
        return _render(request, survey, survey.clamp(_page_number(request.GET.get("p"), default)))
    return _answer(request, survey)


def _answer(request, survey):
    """A page sent: restart, save and move, or submit."""
    invitation = survey.invitation
    number = survey.clamp(_page_number(request.POST.get("page")))
    action = request.POST.get("action", "next")
    if action == "restart":
        draft_discard(invitation=invitation)
        return redirect(f"{request.path}?p=1")
    if survey.elsewhere:
        return _render(request, survey, 0, status=409)
    page_questions = survey.page_questions(number)
    if action == "submit":
        return _submit(request, survey, number, page_questions)
    target = survey.clamp({"prev": number - 1, "save": number}.get(action, number + 1))
    try:
        _answers, secret = draft_save(
            invitation=invitation,
            questions=survey.questions,
            submitted=request.POST,
            page_questions=page_questions,
            page=target,
            secret=survey.secret,
        )
    except DraftElsewhere:
        survey.elsewhere = True
        return _render(request, survey, 0, status=409)
    except SurveyError as exc:
        return _render(request, survey, number, errors=exc.errors, raw=request.POST, message=str(exc), status=400)
    return _keep_secret(request, redirect(f"{request.path}?p={target}"), secret)


def _submit(request, survey, number, page_questions):
    invitation = survey.invitation
    try:
        response_submit(
            invitation=invitation,
            questions=survey.questions,
            submitted=request.POST,
            page_questions=page_questions,
            current=survey.answers,
        )
    except AlreadySubmitted:
        return _unavailable(request, status=409)
    except SurveyError as exc:
        if exc.errors:
            return _render(request, survey, number, errors=exc.errors, raw=request.POST, message=str(exc), status=400)
        try:
            survey.answers, secret = draft_save(
                invitation=invitation,
                questions=survey.questions,
                submitted=request.POST,
                page_questions=page_questions,
                page=survey.review_number,
                secret=survey.secret,
            )
        except DraftElsewhere:
            survey.elsewhere = True
            return _render(request, survey, 0, status=409)
        page = _render(request, survey, survey.review_number, missing=exc.missing, message=str(exc), status=400)
        return _keep_secret(request, page, secret)
    return redirect("survey_done")


@require_POST
def survey_autosave(request, token):
    """The page's answers saved as the respondent goes (fetch from survey.js); the same rules as a page."""
    invitation = _invitation(token)
    if invitation is None or invitation.completed or survey_state(invitation.campaign) != "open":
        return JsonResponse({"error": _("This link is not valid.")}, status=404)
    survey = Survey(invitation, _secret(request))
    number = survey.clamp(_page_number(request.POST.get("page")))
    try:
        answers, secret = draft_save(
            invitation=invitation,
            questions=survey.questions,
            submitted=request.POST,
            page_questions=survey.page_questions(number),
            page=number,
            secret=survey.secret,
        )
    except DraftElsewhere as exc:
        return JsonResponse({"error": str(exc), "elsewhere": True}, status=409)
    except SurveyError as exc:
        return JsonResponse({"error": str(exc), "errors": exc.errors}, status=400)
    answered, total = A.progress(survey.questions, answers)
    return _keep_secret(request, JsonResponse({"saved": True, "answered": answered, "total": total}), secret)


@require_safe
def survey_done(request):
    return render(request, "surveys/done.html")


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def survey_lost_link(request):
    """A school that lost a link asks for a new one: it goes to the school's own address, the old one stops
    working. The answer is the same whatever the address, so the form tells nobody which addresses exist."""
    roles = Respondent.choices
    if request.method != "POST":
        return render(request, "surveys/lost_link.html", {"roles": roles})
    email, role = request.POST.get("email", "").strip()[:254], request.POST.get("role", "")
    if "@" not in email or role not in Respondent.values:
        message = _("Enter the school's e-mail address and choose whose link was lost.")
        return render(request, "surveys/lost_link.html", {"roles": roles, "error": message, "email": email}, status=400)
    key = f"survey-lost-link:{client_ip(request)}"
    cache.add(key, 0, 60 * 60)
    if cache.incr(key) <= LOST_LINK_PER_HOUR:
        links_request(email=email, role=role)
    return render(request, "surveys/lost_link_sent.html", {"email": email})
