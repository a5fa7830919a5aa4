"""Read side of the survey: response rates and the survey evidence per municipality and mechanism.

Each function runs a fixed number of GROUP BY queries whatever the number of schools or municipalities.
No figure about answers is ever given for a group of fewer than MIN_GROUP responses."""

from dataclasses import dataclass, field

from django.db.models import Avg, Count, Q

from municipalities.models import Municipality, School
from surveys.models import MIN_GROUP, Invitation, Question, Respondent, Response, ResponseAnswer

ROLES = list(Respondent.values)


def _rate(responded, invited):
    return round(responded / invited, 4) if invited else 0.0


def _counts(invited=0, responded=0):
    return {"invited": invited, "responded": responded, "rate": _rate(responded, invited)}


def _add(into, invited, responded):
    into["invited"] += invited
    into["responded"] += responded
    into["rate"] = _rate(into["responded"], into["invited"])


def response_rates(campaign, municipalities):
    """Nested rates: regions → municipalities, each with schools, invited, responded, rate and the same
    by respondent role. `municipalities` is the viewer's scope (a queryset)."""
    participants = list(
        Municipality.objects.filter(pk__in=municipalities.values("pk"), participations__campaign=campaign)
        .select_related("region")
        .in_display_order()
    )
    ids = [m.pk for m in participants]
    schools = dict(
        School.objects.filter(municipality_id__in=ids, is_active=True)
        .values_list("municipality_id")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for row in (
        Invitation.objects.filter(campaign=campaign, school__municipality_id__in=ids)
        .values("school__municipality_id", "role")
        .annotate(invited=Count("pk"), responded=Count("pk", filter=Q(completed_at__isnull=False)))
    ):
        counts[(row["school__municipality_id"], row["role"])] = (row["invited"], row["responded"])
    regions = {}
    for m in participants:
        region = regions.setdefault(
            m.region_id,
            {
                "code": m.region.code,
                "name": m.region.name,
                "schools": 0,
                **_counts(),
                "by_role": {r: _counts() for r in ROLES},
                "municipalities": [],
            },
        )
        row = {
            "code": m.code,
            "name": m.name,
            "schools": schools.get(m.pk, 0),
            **_counts(),
            "by_role": {r: _counts() for r in ROLES},
        }
        for role in ROLES:
            invited, responded = counts.get((m.pk, role), (0, 0))
            _add(row["by_role"][role], invited, responded)
            _add(row, invited, responded)
            _add(region["by_role"][role], invited, responded)
            _add(region, invited, responded)
        region["schools"] += row["schools"]
        region["municipalities"].append(row)
    return list(regions.values())


def totals(regions):
    """The sum over regions, for a headline figure."""
    total = {"schools": 0, **_counts(), "by_role": {r: _counts() for r in ROLES}}
    for region in regions:
        total["schools"] += region["schools"]
        _add(total, region["invited"], region["responded"])
        for role in ROLES:
            _add(total["by_role"][role], region["by_role"][role]["invited"], region["by_role"][role]["responded"])
    return total


def school_rows(campaign, municipality):
    """Each school of a municipality with its three invitations (completed or not)."""
    invitations = {}
    for inv in Invitation.objects.filter(campaign=campaign, school__municipality=municipality).only(
        "pk", "school_id", "role", "token", "completed_at", "opened_at", "emailed_at", "reminded_at"
    ):
        invitations.setdefault(inv.school_id, {})[inv.role] = inv
    rows = []
    for school in municipality.schools.filter(is_active=True).order_by("short_name"):
        by_role = invitations.get(school.pk, {})
        school.invitations = [(role, label, by_role.get(role)) for role, label in Respondent.choices]
        school.responded = sum(1 for inv in by_role.values() if inv.completed_at)
        school.invited = len(by_role)
        rows.append(school)
    return rows


# --- survey evidence -------------------------------------------------------------------------------------


@dataclass
class QuestionStat:
    question: object
    answered: int = 0
    distribution: list = field(default_factory=list)  # [(label, count, share)]
    positive: int = 0
    mean: float | None = None
    texts: list = field(default_factory=list)

    @property
    def shown(self):
        return self.answered >= MIN_GROUP

    @property
    def positive_share(self):
        if not self.shown or not self.question.counts_positive:
            return None
        return self.positive / self.answered


@dataclass
class MechanismEvidence:
    mechanism: object
    questions: list = field(default_factory=list)
    by_role: dict = field(default_factory=dict)  # role → (positive, answered) over shown questions

    @property
    def positive(self):
        return sum(p for p, _ in self.by_role.values())

    @property
    def answered(self):
        return sum(a for _, a in self.by_role.values())

    @property
    def positive_share(self):
        return self.positive / self.answered if self.answered else None

    def role_shares(self):
        return [
            (label, self.by_role[role][0] / self.by_role[role][1])
            for role, label in Respondent.choices
            if role in self.by_role and self.by_role[role][1]
        ]


@dataclass
class MunicipalityEvidence:
    municipality: object
    responses: dict  # role → count
    mechanisms: list  # [MechanismEvidence]

    @property
    def response_count(self):
        return sum(self.responses.values())

    def for_mechanism(self, code):
        return next((m for m in self.mechanisms if m.mechanism.code == code), None)


def survey_evidence(campaign, municipalities, *, with_texts=False):
    """{municipality_id: MunicipalityEvidence} for the given municipalities, in six queries (seven with the texts)."""
    municipalities = list(municipalities)
    ids = [m.pk for m in municipalities]
    questions = list(
        Question.objects.filter(questionnaire__methodology_id=campaign.methodology_id, mechanism__isnull=False)
        .select_related("mechanism", "questionnaire")
        .order_by("mechanism__order", "questionnaire__role", "order")
    )
    role_order = {r: i for i, r in enumerate(ROLES)}
    questions.sort(key=lambda q: (q.mechanism.order, role_order[q.questionnaire.role], q.order))
    answers = ResponseAnswer.objects.filter(response__campaign=campaign, response__municipality_id__in=ids)
    responses = {}
    for row in (
        Response.objects.filter(campaign=campaign, municipality_id__in=ids)
        .values("municipality_id", "role")
        .annotate(n=Count("pk"))
    ):
        responses.setdefault(row["municipality_id"], {})[row["role"]] = row["n"]
    answered = {
        (r["response__municipality_id"], r["question_id"]): r["n"]
        for r in answers.values("response__municipality_id", "question_id").annotate(
            n=Count("response_id", distinct=True)
        )
    }
    values = {}
    for r in (
        answers.exclude(value="").values("response__municipality_id", "question_id", "value").annotate(n=Count("pk"))
    ):
        values.setdefault((r["response__municipality_id"], r["question_id"]), {})[r["value"]] = r["n"]
    means = {
        (r["response__municipality_id"], r["question_id"]): r["mean"]
        for r in answers.filter(number__isnull=False)
        .values("response__municipality_id", "question_id")
        .annotate(mean=Avg("number"))
    }
    # A multiple-choice response counts once however many positive options it ticked.
    positive_multiple = Q(pk__in=[])
    for q in questions:
        if q.kind == "multiple" and q.positive_values:
            positive_multiple |= Q(question_id=q.pk, value__in=q.positive_values)
    multiple_positive = {
        (r["response__municipality_id"], r["question_id"]): r["n"]
        for r in answers.filter(positive_multiple)
        .values("response__municipality_id", "question_id")
        .annotate(n=Count("response_id", distinct=True))
    }
    texts = {}
    if with_texts:
        # Sorted, not in the order given: the order of submission says nothing then.
        for mid, qid, text in answers.exclude(text="").values_list("response__municipality_id", "question_id", "text"):
            texts.setdefault((mid, qid), []).append(text)
    result = {}
    for m in municipalities:
        mechanisms = {}
        for q in questions:
            key = (m.pk, q.pk)
            stat = QuestionStat(q, answered=answered.get(key, 0))
            if stat.shown:
                counts = values.get(key, {})
                labels = q.value_labels
                if q.kind != "number":
                    stat.distribution = [
                        (label, counts.get(value, 0), counts.get(value, 0) / stat.answered)
                        for value, label in labels.items()
                    ]
                if q.kind == "multiple":
                    stat.positive = multiple_positive.get(key, 0)
                else:
                    stat.positive = sum(n for v, n in counts.items() if v in q.positive_values)
                stat.mean = means.get(key)
                stat.texts = sorted(texts.get(key, []))
            ev = mechanisms.setdefault(q.mechanism_id, MechanismEvidence(q.mechanism))
            ev.questions.append(stat)
            if stat.shown and q.counts_positive:
                positive, total = ev.by_role.get(q.questionnaire.role, (0, 0))
                ev.by_role[q.questionnaire.role] = (positive + stat.positive, total + stat.answered)
        result[m.pk] = MunicipalityEvidence(m, responses.get(m.pk, {}), list(mechanisms.values()))
    return result


def evidence_by_mechanism(submission):
    """The survey evidence of a submission's municipality keyed by mechanism code, for the scoring pages."""
    evidence = survey_evidence(submission.campaign, [submission.municipality])[submission.municipality_id]
    return {m.mechanism.code: m for m in evidence.mechanisms}
