"""Read side of the survey: response rates and the survey evidence per municipality and mechanism.

Each function runs a fixed number of GROUP BY queries whatever the number of schools or municipalities.

The publication rule, in one place (every page, export, report and API answer with survey figures reads
them here): figures are computed from published responses only, and a figure about a question moves only in
steps of at least PUBLICATION_STEP new answers. Responses are published in steps of at least PUBLICATION_STEP
per municipality and role (services.responses_release); on top of that, for each question the steps are
taken up to the last one at which at least PUBLICATION_STEP new answers to that question had gathered since
the previous boundary. So no two moments, and no two breakdowns, differ by fewer than PUBLICATION_STEP
people's answers, and no figure ever shows a group of fewer than MIN_GROUP."""

from dataclasses import dataclass, field

from django.db.models import Count, Q, Sum

from municipalities.models import Municipality, School
from surveys.models import MIN_GROUP, PUBLICATION_STEP, Invitation, Question, Respondent, Response, ResponseAnswer

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
        .annotate(invited=Count("pk"), responded=Count("pk", filter=Q(completed=True)))
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


def school_rows(campaign, municipality, *, with_tokens=False):
    """Each school of a municipality with its three invitations (answered, opened or not; never when). The
    tokens are loaded only for a viewer who may hold the links (Access.may_hold_survey_links)."""
    fields = ["pk", "school_id", "role", "completed", "opened", "emailed_at", "reminded_at", "reissued_at"]
    invitations = {}
    for inv in Invitation.objects.filter(campaign=campaign, school__municipality=municipality).only(
        *fields, *(["token"] if with_tokens else [])
    ):
        invitations.setdefault(inv.school_id, {})[inv.role] = inv
    rows = []
    for school in municipality.schools.filter(is_active=True).order_by("short_name"):
        by_role = invitations.get(school.pk, {})
        school.invitations = [(role, label, by_role.get(role)) for role, label in Respondent.choices]
        school.responded = sum(1 for inv in by_role.values() if inv.completed)
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
    responses: dict  # role → published responses
    mechanisms: list  # [MechanismEvidence]
    waiting: int = 0  # responses not yet published (fewer than PUBLICATION_STEP of their group wait)

    @property
    def response_count(self):
        return sum(self.responses.values())

    def for_mechanism(self, code):
        return next((m for m in self.mechanisms if m.mechanism.code == code), None)


def published_until(counts):
    """The last publication step whose figures may be shown, from {step: answers in that step}: steps are
    taken in order and a boundary is set each time at least PUBLICATION_STEP answers have gathered since the
    previous one. None when no boundary is reached yet."""
    boundary, gathered = None, 0
    for step in sorted(counts):
        gathered += counts[step]
        if gathered >= PUBLICATION_STEP:
            boundary, gathered = step, 0
    return boundary


@dataclass
class _Cell:
    """One question's published answers in one municipality: a dict per step of what each figure needs."""

    answered: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)  # step → {value: count}
    sums: dict = field(default_factory=dict)  # step → (sum of numbers, count of numbers)
    positive_multiple: dict = field(default_factory=dict)
    texts: dict = field(default_factory=dict)

    def until(self):
        return published_until(self.answered)

    def total(self, per_step, boundary):
        return sum(n for step, n in per_step.items() if step <= boundary)


def _cells(campaign, ids, questions, with_texts):
    """{(municipality id, question id): _Cell} over published responses, in five GROUP BY queries."""
    answers = ResponseAnswer.objects.filter(
        response__campaign=campaign, response__municipality_id__in=ids, response__release__isnull=False
    )
    group = ("response__municipality_id", "question_id", "response__release")
    cells = {}

    def cell(row):
        return cells.setdefault((row["response__municipality_id"], row["question_id"]), _Cell())

    for r in answers.values(*group).annotate(n=Count("response_id", distinct=True)):
        cell(r).answered[r["response__release"]] = r["n"]
    for r in answers.exclude(value="").values(*group, "value").annotate(n=Count("pk")):
        cell(r).values.setdefault(r["response__release"], {})[r["value"]] = r["n"]
    for r in answers.filter(number__isnull=False).values(*group).annotate(total=Sum("number"), n=Count("pk")):
        cell(r).sums[r["response__release"]] = (r["total"], r["n"])
    # A multiple-choice response counts once however many positive options it ticked.
    positive_multiple = Q(pk__in=[])
    for q in questions:
        if q.kind == "multiple" and q.positive_values:
            positive_multiple |= Q(question_id=q.pk, value__in=q.positive_values)
    for r in answers.filter(positive_multiple).values(*group).annotate(n=Count("response_id", distinct=True)):
        cell(r).positive_multiple[r["response__release"]] = r["n"]
    if with_texts:
        for mid, qid, step, text in answers.exclude(text="").values_list(*group, "text"):
            cells.setdefault((mid, qid), _Cell()).texts.setdefault(step, []).append(text)
    return cells


def _question_stat(q, cell):
    stat = QuestionStat(q)
    boundary = cell.until() if cell else None
    if boundary is None:
        return stat
    stat.answered = cell.total(cell.answered, boundary)
    counts = {}
    for step, by_value in cell.values.items():
        if step <= boundary:
            for value, n in by_value.items():
                counts[value] = counts.get(value, 0) + n
    if q.kind != "number":
        stat.distribution = [
            (label, counts.get(value, 0), counts.get(value, 0) / stat.answered)
            for value, label in q.value_labels.items()
        ]
    if q.kind == "multiple":
        stat.positive = cell.total(cell.positive_multiple, boundary)
    else:
        stat.positive = sum(n for v, n in counts.items() if v in q.positive_values)
    sums = [pair for step, pair in cell.sums.items() if step <= boundary]
    if sums:
        stat.mean = sum(t for t, _n in sums) / sum(n for _t, n in sums)
    # Sorted, never in the order given and never with a date: the order of submission says nothing then.
    stat.texts = sorted(text for step, texts in cell.texts.items() if step <= boundary for text in texts)
    return stat


def survey_evidence(campaign, municipalities, *, with_texts=False):
    """{municipality_id: MunicipalityEvidence} for the given municipalities under the publication rule (see
    the module's docstring), in seven queries (eight with the texts)."""
    municipalities = list(municipalities)
    ids = [m.pk for m in municipalities]
    questions = list(
        Question.objects.filter(questionnaire__methodology_id=campaign.methodology_id, mechanism__isnull=False)
        .select_related("mechanism", "questionnaire")
        .order_by("mechanism__order", "questionnaire__role", "order")
    )
    role_order = {r: i for i, r in enumerate(ROLES)}
    questions.sort(key=lambda q: (q.mechanism.order, role_order[q.questionnaire.role], q.order))
    responses, waiting = {}, {}
    for row in (
        Response.objects.filter(campaign=campaign, municipality_id__in=ids)
        .values("municipality_id", "role")
        .annotate(published=Count("pk", filter=Q(release__isnull=False)), waiting=Count("pk", filter=Q(release=None)))
    ):
        if row["published"]:
            responses.setdefault(row["municipality_id"], {})[row["role"]] = row["published"]
        waiting[row["municipality_id"]] = waiting.get(row["municipality_id"], 0) + row["waiting"]
    cells = _cells(campaign, ids, questions, with_texts)
    result = {}
    for m in municipalities:
        mechanisms = {}
        for q in questions:
            stat = _question_stat(q, cells.get((m.pk, q.pk)))
            ev = mechanisms.setdefault(q.mechanism_id, MechanismEvidence(q.mechanism))
            ev.questions.append(stat)
            if stat.shown and q.counts_positive:
                positive, total = ev.by_role.get(q.questionnaire.role, (0, 0))
                ev.by_role[q.questionnaire.role] = (positive + stat.positive, total + stat.answered)
        result[m.pk] = MunicipalityEvidence(
            m, responses.get(m.pk, {}), list(mechanisms.values()), waiting=waiting.get(m.pk, 0)
        )
    return result


def evidence_by_mechanism(submission):
    """The survey evidence of a submission's municipality keyed by mechanism code, for the scoring pages."""
    evidence = survey_evidence(submission.campaign, [submission.municipality])[submission.municipality_id]
    return {m.mechanism.code: m for m in evidence.mechanisms}
