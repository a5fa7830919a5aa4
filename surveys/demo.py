"""Demo surveys. 2020: every school of the pilot invited, and in the Kirov region 380 responses from its
167 schools, as the seed reports; the answers lean positive where the municipality scored well.
2026: invitations ready to answer, a first few responses in. Creates only what is missing."""

import random

from django.conf import settings
from django.db import transaction

from assessment.models import Campaign
from surveys import answers as A
from surveys.models import Invitation, Questionnaire, Respondent, Response, ResponseAnswer
from surveys.services import (
    answer_rows,
    invitations_create,
    questionnaires_import_file,
    questions_of,
    responses_release,
)

# Kirov region 2020: 380 respondents in 167 schools (seed 001). Kalmykia's count is not in its seed.
RESPONSES_2020 = {
    "43": {"director": 160, "deputy": 118, "teacher": 102},
    "08": {"director": 58, "deputy": 44, "teacher": 37},
}
# 2026, a week into the survey: the first answers of a few municipalities.
RESPONSES_2026 = {"kirov": 0.35, "kumeny": 0.6, "elista": 0.3, "yashkul": 0.2, "slobodskoy": 0.15}

SUGGESTIONS = [
    "Нужны адресные рекомендации по итогам ВПР по каждой школе, а не общий отчёт по району.",
    "Проводить муниципальные семинары не в конце учебного года, а в начале, когда планируется работа.",
    "Публиковать на сайте управления образования результаты мониторинга и принятые решения.",
    "Больше практической методической помощи молодым педагогам, закрепить наставников.",
    "Снизить число отчётов, которые школы заполняют вручную; собирать данные один раз.",
    "Организовать обмен опытом между школами с высокими и низкими результатами.",
    "Сообщать школам, какие меры приняты по итогам анализа, и через год оценивать их эффект.",
]


def questionnaires_load(methodology):
    path = settings.BASE_DIR / "fixtures" / "questionnaires_2020.json"
    if not Questionnaire.objects.filter(methodology=methodology).exists():
        questionnaires_import_file(path=path, methodology=methodology)


def _strength(code, totals):
    """How well the municipality's mechanisms work, as the chance of a positive answer."""
    return 0.2 + 0.6 * min(totals.get(code, 100), 300) / 300


def _answer_set(questions, rng, p_positive):
    by_id = {q.pk: q for q in questions}
    answers = {}
    for q in questions:
        if not A.is_shown(q, answers, by_id):
            continue
        if not q.required and rng.random() > (0.25 if q.kind == A.TEXT else 0.7):
            continue
        positive = rng.random() < p_positive
        if q.kind == A.TEXT:
            answers[q.code] = rng.choice(SUGGESTIONS)
        elif q.kind == A.NUMBER:
            low = q.min_value or 0
            high = min(q.max_value if q.max_value is not None else 50, low + 40)
            answers[q.code] = rng.randint(low, high)
        elif q.kind == A.MULTIPLE:
            good = [c["value"] for c in q.choices if c.get("positive")]
            other = [c["value"] for c in q.choices if not c.get("positive") and not c.get("exclusive")]
            exclusive = [c["value"] for c in q.choices if c.get("exclusive")]
            if positive and good:
                chosen = set(rng.sample(good, rng.randint(1, len(good))))
            elif exclusive and rng.random() < 0.5:
                chosen = {exclusive[0]}
            else:
                chosen = set(rng.sample(other or good, 1))
            answers[q.code] = [c["value"] for c in q.choices if c["value"] in chosen]
        else:
            values = A.allowed_values(q)
            good = [v for v in values if v in q.positive_values] or values
            bad = [v for v in values if v not in q.positive_values] or values
            answers[q.code] = rng.choice(good if positive else bad)
    return answers


def _rows(response, questions, answers):
    return (
        ResponseAnswer(response=response, question_id=qid, value=value, number=number, text=text)
        for qid, value, number, text in answer_rows(questions, answers)
    )


def _respond(campaign, invitations, rng, totals):
    """Submit answers for these invitations in bulk, the way response_submit stores them, then publish
    every group that has enough of them, as the submissions would have."""
    questions = {role: questions_of(campaign, role) for role in Respondent.values}
    questionnaire_ids = {role: qs[0].questionnaire_id for role, qs in questions.items() if qs}
    responses, rows, completed = [], [], []
    for inv in invitations:
        school = inv.school
        response = Response(
            campaign=campaign,
            questionnaire_id=questionnaire_ids[inv.role],
            municipality_id=school.municipality_id,
            role=inv.role,
        )
        responses.append(response)
        answers = _answer_set(questions[inv.role], rng, _strength(school.municipality.code, totals))
        rows.extend(_rows(response, questions[inv.role], answers))
        inv.completed = inv.opened = True
        completed.append(inv)
    Response.objects.bulk_create(responses, batch_size=1000)
    ResponseAnswer.objects.bulk_create(rows, batch_size=5000)
    Invitation.objects.bulk_update(completed, ["completed", "opened"], batch_size=1000)
    for municipality_id, role in sorted({(r.municipality_id, r.role) for r in responses}):
        responses_release(campaign_id=campaign.pk, municipality_id=municipality_id, role=role)


@transaction.atomic
def demo_surveys(totals):
    rng = random.Random(2020)
    campaign = Campaign.objects.filter(slug="2020-approbation").first()
    if campaign and not Invitation.objects.filter(campaign=campaign).exists():
        invitations_create(campaign=campaign)
        invitations = list(
            Invitation.objects.filter(campaign=campaign)
            .select_related("school__municipality__region")
            .order_by("school__municipality__region__code", "school_id", "role")
        )
        chosen = []
        for region_code, per_role in RESPONSES_2020.items():
            for role, n in per_role.items():
                pool = [i for i in invitations if i.role == role and i.school.municipality.region.code == region_code]
                # Every municipality keeps at least its largest schools' directors: sample, then sort.
                chosen.extend(rng.sample(pool, min(n, len(pool))))
        _respond(campaign, chosen, rng, totals)
    campaign = Campaign.objects.filter(slug="2026").first()
    if campaign and not Invitation.objects.filter(campaign=campaign).exists():
        invitations_create(campaign=campaign)
        chosen = []
        for inv in Invitation.objects.filter(campaign=campaign).select_related("school__municipality").order_by("pk"):
            share = RESPONSES_2026.get(inv.school.municipality.code, 0)
            if rng.random() < share:
                chosen.append(inv)
        _respond(campaign, chosen, rng, totals)
