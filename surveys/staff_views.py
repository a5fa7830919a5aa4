"""The survey for the people who run it: response rates, invitations and their links, reminders, the
questionnaires, and the survey evidence per municipality. Scoped like every other page: another region's
or municipality's page is a 404."""

import io

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST, require_safe

from assessment.campaign_views import campaign_for
from assessment.region_views import region_for
from assessment.scope import submissions_for
from municipalities.models import LISTED_MUNICIPALITIES, School
from municipalities.tabular import Column, Sheet, csv_response, xlsx_response
from surveys import services, stats
from surveys.answers import pages
from surveys.models import MIN_GROUP, PUBLICATION_STEP, Invitation, Questionnaire, Respondent

FORMATS = ("xlsx", "csv")


def _municipality(request, slug, code):
    access, campaign = campaign_for(request, slug)
    municipality = get_object_or_404(
        access.municipalities().filter(participations__campaign=campaign).select_related("region"), code=code
    )
    return access, campaign, municipality


@login_required
@require_safe
def survey_overview(request, slug):
    access, campaign = campaign_for(request, slug)
    regions = stats.response_rates(campaign, access.municipalities())
    questionnaires = Questionnaire.objects.filter(methodology_id=campaign.methodology_id).order_by("role")
    return render(
        request,
        "surveys/overview.html",
        {
            "campaign": campaign,
            "regions": regions,
            "by_municipality": sum(len(r["municipalities"]) for r in regions) <= LISTED_MUNICIPALITIES,
            "total": stats.totals(regions),
            "state": services.survey_state(campaign),
            "period": services.survey_period(campaign),
            "questionnaires": questionnaires,
            "min_group": MIN_GROUP,
            "step": PUBLICATION_STEP,
        },
    )


@login_required
@require_safe
def survey_region(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    regions = stats.response_rates(campaign, region.municipalities.all())
    data = regions[0] if regions else None
    pending_schools = (
        Invitation.objects.pending()
        .filter(campaign=campaign, school__municipality__region=region)
        .values("school_id")
        .distinct()
        .count()
    )
    no_email = (
        School.objects.filter(
            municipality__region=region, is_active=True, email="", survey_invitations__campaign=campaign
        )
        .distinct()
        .count()
    )
    return render(
        request,
        "surveys/region.html",
        {
            "campaign": campaign,
            "region": region,
            "data": data,
            "pending_schools": pending_schools,
            "no_email": no_email,
            "can_manage": access.can_manage_region(region.pk),
            "state": services.survey_state(campaign),
            "period": services.survey_period(campaign),
        },
    )


@login_required
@require_safe
def survey_municipality(request, slug, code):
    access, campaign, municipality = _municipality(request, slug, code)
    holds_links = access.may_hold_survey_links(municipality)
    rows = stats.school_rows(campaign, municipality, with_tokens=holds_links)
    rates = stats.response_rates(campaign, access.municipalities().filter(pk=municipality.pk))
    return render(
        request,
        "surveys/municipality.html",
        {
            "campaign": campaign,
            "municipality": municipality,
            "rows": rows,
            "rates": rates[0]["municipalities"][0] if rates else None,
            "can_distribute": holds_links,
            "state": services.survey_state(campaign),
            "period": services.survey_period(campaign),
            "roles": Respondent.choices,
            "site_url": settings.SITE_URL,
            "step": PUBLICATION_STEP,
        },
    )


def _sent_messages(request, outcome, *, nothing):
    if outcome.sent:
        messages.success(
            request,
            ngettext("The links are sent to %(n)s school.", "The links are sent to %(n)s schools.", outcome.sent)
            % {"n": outcome.sent},
        )
    if outcome.today_already:
        messages.info(
            request,
            ngettext(
                "%(n)s school was already sent its links today: links go to a school once a day.",
                "%(n)s schools were already sent their links today: links go to a school once a day.",
                outcome.today_already,
            )
            % {"n": outcome.today_already},
        )
    if outcome.without_email:
        messages.warning(
            request,
            _("Schools without an e-mail address: %(n)s. Print their sheets and hand them to the schools.")
            % {"n": outcome.without_email},
        )
    if not (outcome.sent or outcome.today_already or outcome.without_email):
        messages.info(request, nothing)


def _remind(request, campaign, municipalities):
    if services.survey_state(campaign) != "open":
        messages.error(request, _("The survey is not open: reminders are sent only while it runs."))
        return
    n = services.reminders_send(campaign=campaign, municipalities=municipalities)
    if n:
        messages.success(
            request,
            ngettext("A reminder is sent to %(n)s school.", "Reminders are sent to %(n)s schools.", n) % {"n": n},
        )
    else:
        messages.info(request, _("Nobody to remind: every school has answered, has no address or was reminded today."))


def _act(request, campaign, municipalities, back):
    action = request.POST.get("action")
    if action == "invite":
        n = services.invitations_create(campaign=campaign, municipalities=municipalities)
        if n:
            messages.success(
                request, ngettext("%(n)s survey link is prepared.", "%(n)s survey links are prepared.", n) % {"n": n}
            )
        else:
            messages.info(request, _("Every school already has its links."))
    elif action == "send":
        outcome = services.links_send(campaign=campaign, municipalities=municipalities)
        _sent_messages(request, outcome, nothing=_("Every school has answered: nothing to send."))
    elif action == "reissue":
        school = School.objects.filter(municipality__in=municipalities, pk=_int(request.POST.get("school"))).first()
        if school is None:
            messages.error(request, _("Choose a school of this page."))
        else:
            outcome = services.links_reissue(campaign=campaign, schools=[school])
            _sent_messages(request, outcome, nothing=_("Every link of this school is answered: nothing to replace."))
    elif action == "reissue_all":
        schools = School.objects.filter(municipality__in=municipalities, is_active=True)
        outcome = services.links_reissue(campaign=campaign, schools=schools)
        _sent_messages(request, outcome, nothing=_("Every link is answered: nothing to replace."))
    elif action == "remind":
        _remind(request, campaign, municipalities)
    else:
        messages.error(request, _("Unknown action."))
    return redirect(back)


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@require_POST
def survey_region_act(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    access.require(access.can_manage_region(region.pk))
    return _act(
        request,
        campaign,
        access.survey_link_municipalities(region.municipalities.filter(participations__campaign=campaign)),
        request.path.rsplit("act/", 1)[0],
    )


@login_required
@require_POST
def survey_municipality_act(request, slug, code):
    access, campaign, municipality = _municipality(request, slug, code)
    access.require(access.may_hold_survey_links(municipality))
    return _act(request, campaign, [municipality], request.path.rsplit("act/", 1)[0])


def _link_rows(campaign, municipalities):
    invitations = (
        Invitation.objects.filter(campaign=campaign, school__municipality__in=municipalities)
        .select_related("school__municipality")
        .order_by("school__municipality__name", "school__short_name", "role")
    )
    return [
        [
            inv.school.municipality.name,
            inv.school.name,
            inv.school.email,
            inv.get_role_display(),
            services.survey_url(inv.token),
            _("answered") if inv.completed else _("not answered"),
        ]
        for inv in invitations
    ]


LINK_COLUMNS = [
    Column(gettext_lazy("Municipality"), 24),
    Column(gettext_lazy("School"), 50),
    Column(gettext_lazy("School e-mail"), 26),
    Column(gettext_lazy("Respondent"), 22),
    Column(gettext_lazy("Link"), 70),
    Column(gettext_lazy("Status"), 14),
]


def _links_response(campaign, municipalities, fmt, name):
    if fmt not in FORMATS:
        raise Http404
    columns = [Column(str(c.header), c.width) for c in LINK_COLUMNS]
    rows = _link_rows(campaign, municipalities)
    filename = f"muko-{campaign.slug}-{name}-survey-links.{fmt}"
    if fmt == "csv":
        return csv_response(columns, rows, filename)
    return xlsx_response([Sheet(_("Survey links"), columns, rows)], filename)


@login_required
@require_safe
def survey_region_links(request, slug, code, fmt):
    access, campaign, region = region_for(request, slug, code)
    access.require(access.can_manage_region(region.pk))
    return _links_response(campaign, access.survey_link_municipalities(region.municipalities.all()), fmt, region.code)


@login_required
@require_safe
def survey_municipality_links(request, slug, code, fmt):
    access, campaign, municipality = _municipality(request, slug, code)
    access.require(access.may_hold_survey_links(municipality))
    return _links_response(campaign, [municipality], fmt, municipality.code)


def _qr_svg(url):
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=3, border=2, xmldecl=False, svgns=True, omitsize=False)
    return out.getvalue().decode()


@login_required
@require_safe
def survey_school_sheet(request, slug, pk):
    """A printable page for one school: its three links, each with a QR code for a phone."""
    access, campaign = campaign_for(request, slug)
    school = get_object_or_404(access.schools().select_related("municipality__region"), pk=pk)
    access.require(access.may_hold_survey_links(school.municipality))
    invitations = {inv.role: inv for inv in Invitation.objects.filter(campaign=campaign, school=school)}
    if not invitations:
        raise Http404
    items = [
        {
            "label": label,
            "invitation": invitations.get(role),
            "url": services.survey_url(invitations[role].token) if role in invitations else "",
            "qr": _qr_svg(services.survey_url(invitations[role].token)) if role in invitations else "",
        }
        for role, label in Respondent.choices
    ]
    return render(
        request,
        "surveys/school_sheet.html",
        {"campaign": campaign, "school": school, "items": items, "period": services.survey_period(campaign)},
    )


@login_required
@require_safe
def survey_questionnaire(request, slug, role):
    access, campaign = campaign_for(request, slug)
    if role not in Respondent.values:
        raise Http404
    questionnaire = get_object_or_404(Questionnaire, methodology_id=campaign.methodology_id, role=role)
    questions = services.questions_of(campaign, role)
    return render(
        request,
        "surveys/questionnaire.html",
        {
            "campaign": campaign,
            "questionnaire": questionnaire,
            "pages": pages(questions),
            "count": len(questions),
            "locked": questionnaire.is_locked,
            "can_edit": access.is_operator and not questionnaire.is_locked,
            "questionnaires": Questionnaire.objects.filter(methodology_id=campaign.methodology_id).order_by("role"),
        },
    )


def _evidence_municipality(request, slug, code):
    access, campaign = campaign_for(request, slug)
    submission = get_object_or_404(
        submissions_for(access).filter(campaign=campaign).select_related("municipality__region"),
        municipality__code=code,
    )
    return access, campaign, submission.municipality


@login_required
@require_safe
def survey_evidence(request, slug, code):
    access, campaign, municipality = _evidence_municipality(request, slug, code)
    evidence = stats.survey_evidence(campaign, [municipality], with_texts=True)[municipality.pk]
    return render(
        request,
        "surveys/evidence.html",
        {
            "campaign": campaign,
            "municipality": municipality,
            "evidence": evidence,
            "min_group": MIN_GROUP,
            "step": PUBLICATION_STEP,
        },
    )


EVIDENCE_SUMMARY = [
    Column(gettext_lazy("Municipality"), 26),
    Column(gettext_lazy("Mechanism"), 10),
    Column(gettext_lazy("Mechanism title"), 50),
    Column(gettext_lazy("Answers counted"), 12, "0"),
    Column(gettext_lazy("Share of positive answers"), 14, "0.0%"),
]
EVIDENCE_QUESTIONS = [
    Column(gettext_lazy("Municipality"), 26),
    Column(gettext_lazy("Mechanism"), 10),
    Column(gettext_lazy("Respondent"), 18),
    Column(gettext_lazy("Question code"), 10),
    Column(gettext_lazy("Question"), 60),
    Column(gettext_lazy("Responses"), 11, "0"),
    Column(gettext_lazy("Share of positive answers"), 14, "0.0%"),
    Column(gettext_lazy("Mean"), 10, "0.0"),
    Column(gettext_lazy("Distribution"), 70),
]


def _evidence_sheets(evidence_by_municipality):
    summary, questions = [], []
    for ev in evidence_by_municipality:
        name = ev.municipality.name
        for m in ev.mechanisms:
            summary.append([name, m.mechanism.code, m.mechanism.title, m.answered, m.positive_share])
            for qs in m.questions:
                q = qs.question
                if not qs.shown:
                    distribution = _("fewer than %(n)s responses: not shown") % {"n": MIN_GROUP}
                else:
                    distribution = "; ".join(f"{label}: {n}" for label, n, _share in qs.distribution)
                questions.append(
                    [
                        name,
                        m.mechanism.code,
                        q.questionnaire.get_role_display(),
                        q.code,
                        q.text,
                        qs.answered if qs.shown else None,
                        qs.positive_share,
                        qs.mean if qs.shown else None,
                        distribution,
                    ]
                )
    as_text = lambda columns: [Column(str(c.header), c.width, c.number_format) for c in columns]  # noqa: E731
    return [
        Sheet(_("By mechanism"), as_text(EVIDENCE_SUMMARY), summary),
        Sheet(_("By question"), as_text(EVIDENCE_QUESTIONS), questions),
    ]


@login_required
@require_safe
def survey_evidence_export(request, slug, code):
    access, campaign, municipality = _evidence_municipality(request, slug, code)
    evidence = stats.survey_evidence(campaign, [municipality])[municipality.pk]
    return xlsx_response(_evidence_sheets([evidence]), f"muko-{campaign.slug}-{municipality.code}-survey.xlsx")


@login_required
@require_safe
def survey_region_evidence_export(request, slug, code):
    access, campaign, region = region_for(request, slug, code)
    municipalities = list(region.municipalities.filter(participations__campaign=campaign).in_display_order())
    evidence = stats.survey_evidence(campaign, municipalities)
    return xlsx_response(
        _evidence_sheets([evidence[m.pk] for m in municipalities]), f"muko-{campaign.slug}-{region.code}-survey.xlsx"
    )
