"""Demo data: the two regions and 18 municipalities of the 2020 pilot, their schools, the demo accounts and
the two demo campaigns. Every step creates only what is missing, so loading twice changes nothing."""

import json
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from municipalities.models import Appointment, Municipality, Region, Role, School

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
PASSWORD = "demo12345"

EXPERTS = [
    # username, first name, last name, home region code (None: a federal expert with no home region)
    ("expert-1", "Ольга Викторовна", "Сергеева", "43"),
    ("expert-2", "Баир Николаевич", "Очиров", "08"),
    ("expert-3", "Марина Андреевна", "Лебедева", None),
]


def territory_data():
    return json.loads((FIXTURES / "demo_territory.json").read_text(encoding="utf-8"))


def demo_accounts():
    """The demo accounts for the login page, in the order a newcomer looks for them."""
    appointments = (
        Appointment.objects.active()
        .filter(user__username__in=_demo_usernames(), user__is_active=True)
        .select_related("user", "region", "municipality__region")
        .order_by("region__code", "municipality__name", "user__username")
    )
    accounts = {"leading": [], "municipal": {}, "password": PASSWORD}
    lead_order = [Role.OPERATOR, Role.MINISTRY, Role.COORDINATOR, Role.EXPERT]
    for appointment in appointments:
        if appointment.municipality_id:
            row = accounts["municipal"].setdefault(appointment.municipality, {})
            row[appointment.role] = appointment.user.username
        else:
            accounts["leading"].append(appointment)
    accounts["leading"].sort(key=lambda a: (lead_order.index(a.role), a.user.username))
    accounts["municipal"] = sorted(
        accounts["municipal"].items(), key=lambda item: (item[0].region.code != "43", item[0].name)
    )
    return accounts


def _demo_usernames():
    codes = [m["code"] for m in territory_data()["municipalities"]]
    return (
        ["operator", "ministry", "coordinator-43", "coordinator-08"]
        + [e[0] for e in EXPERTS]
        + [f"organizer-{code}" for code in codes]
        + [f"deputy-{code}" for code in codes]
    )


class Loader:
    def __init__(self, out=None):
        self.out = out
        self.created = {}
        self.password = None

    def note(self, what, n=1):
        if n:
            self.created[what] = self.created.get(what, 0) + n

    def user(self, username, first_name, last_name, email="", **flags):
        User = get_user_model()
        user = User.objects.filter(username=username).first()
        if user:
            return user
        if self.password is None:
            self.password = make_password(PASSWORD)  # hashing is slow: once for every demo account
        user = User.objects.create(
            username=username,
            first_name=first_name,
            last_name=last_name,
            email=email or f"{username}@demo.muko.local",
            password=self.password,
            **flags,
        )
        self.note("users")
        return user

    def appoint(self, user, role, region=None, municipality=None, position=""):
        _, created = Appointment.objects.get_or_create(
            user=user,
            role=role,
            region=region if role not in (Role.ORGANIZER, Role.DEPUTY_ORGANIZER) else municipality.region,
            municipality=municipality,
            defaults={"position": position},
        )
        self.note("appointments", created)

    @transaction.atomic
    def territory(self):
        data = territory_data()
        regions = {}
        for r in data["regions"]:
            region, created = Region.objects.get_or_create(
                code=r["code"],
                defaults={"name": r["name"], "quality_center": r.get("center", "")},
            )
            self.note("regions", created)
            regions[region.code] = region
        existing_schools = set(School.objects.values_list("municipality__code", "name"))
        new_schools = []
        for m in data["municipalities"]:
            municipality, created = Municipality.objects.get_or_create(
                code=m["code"],
                defaults={
                    "region": regions[m["region"]],
                    "name": m["name"],
                    "kind": m["kind"],
                    "authority_name": m.get("authority_name", ""),
                    "website": m.get("website", ""),
                    "email": m.get("email", ""),
                    "phone": m.get("phone", ""),
                },
            )
            self.note("municipalities", created)
            new_schools += [
                School(
                    municipality=municipality,
                    name=s["name"],
                    short_name=s["short_name"],
                    email=s.get("email", ""),
                )
                for s in m["schools"]
                if (municipality.code, s["name"]) not in existing_schools
            ]
        School.objects.bulk_create(new_schools)
        self.note("schools", len(new_schools))
        return data, regions

    @transaction.atomic
    def people(self, data, regions):
        operator = self.user("operator", "Анна Сергеевна", "Громова", is_staff=True, is_superuser=True)
        self.appoint(operator, Role.OPERATOR, position="Оператор платформы, ФИОКО")
        ministry = self.user("ministry", "Дмитрий Олегович", "Фёдоров")
        self.appoint(
            ministry,
            Role.MINISTRY,
            position="Консультант департамента, Минпросвещения России",
        )
        for r in data["regions"]:
            person = r["coordinator"]
            user = self.user(f"coordinator-{r['code']}", person["first_name"], person["last_name"])
            self.appoint(
                user,
                Role.COORDINATOR,
                region=regions[r["code"]],
                position=person.get("position", ""),
            )
        for username, first, last, home in EXPERTS:
            user = self.user(username, first, last)
            self.appoint(user, Role.EXPERT, region=regions.get(home), position="Эксперт ФИОКО")
        municipalities = {m.code: m for m in Municipality.objects.all()}
        for m in data["municipalities"]:
            municipality = municipalities[m["code"]]
            for prefix, key, role in (
                ("organizer", "organizer", Role.ORGANIZER),
                ("deputy", "deputy", Role.DEPUTY_ORGANIZER),
            ):
                person = m.get(key)
                if not person:
                    continue
                user = self.user(
                    f"{prefix}-{m['code']}",
                    person["first_name"],
                    person["last_name"],
                    person.get("email", ""),
                )
                self.appoint(
                    user,
                    role,
                    municipality=municipality,
                    position=person.get("position", ""),
                )

    def methodology(self):
        from assessment.services import methodology_import_file

        methodology, created = methodology_import_file(path=FIXTURES / "methodology_2020.json")
        self.note("methodologies", created)
        return methodology

    @transaction.atomic
    def campaigns(self, methodology, today):
        from assessment.models import Campaign, CampaignStage, Participation, Stage

        plans = {
            "2020-approbation": (
                "Апробация оценки муниципальных механизмов управления качеством образования, 2020",
                2020,
                {
                    Stage.RESOURCES: (date(2020, 6, 17), date(2020, 6, 30)),
                    Stage.CONSULTATION: (date(2020, 6, 22), date(2020, 7, 10)),
                    Stage.DATA_COLLECTION: (date(2020, 7, 1), date(2020, 7, 31)),
                    Stage.SURVEYS: (date(2020, 7, 6), date(2020, 8, 7)),
                    Stage.PRESCORING: (date(2020, 8, 3), date(2020, 8, 14)),
                    Stage.EXPERT_REVIEW: (date(2020, 8, 17), date(2020, 9, 7)),
                    Stage.APPEALS: (date(2020, 9, 8), date(2020, 9, 18)),
                    Stage.RESULTS: (date(2020, 9, 25), date(2020, 12, 31)),
                },
            ),
            # The current campaign is planned around the day the demo is loaded, so that data collection
            # is always open for a newcomer, and (unlike 2020) far from the summer holidays.
            "2026": (
                "Оценка муниципальных механизмов управления качеством образования, 2026",
                2026,
                {
                    Stage.RESOURCES: (
                        today - timedelta(days=35),
                        today - timedelta(days=22),
                    ),
                    Stage.CONSULTATION: (
                        today - timedelta(days=28),
                        today - timedelta(days=8),
                    ),
                    Stage.DATA_COLLECTION: (
                        today - timedelta(days=14),
                        today + timedelta(days=21),
                    ),
                    Stage.SURVEYS: (
                        today - timedelta(days=7),
                        today + timedelta(days=28),
                    ),
                    Stage.PRESCORING: (
                        today + timedelta(days=22),
                        today + timedelta(days=35),
                    ),
                    Stage.EXPERT_REVIEW: (
                        today + timedelta(days=36),
                        today + timedelta(days=56),
                    ),
                    Stage.APPEALS: (
                        today + timedelta(days=57),
                        today + timedelta(days=67),
                    ),
                    Stage.RESULTS: (
                        today + timedelta(days=70),
                        today + timedelta(days=400),
                    ),
                },
            ),
        }
        municipalities = list(Municipality.objects.all())
        for slug, (title, year, stages) in plans.items():
            campaign, created = Campaign.objects.get_or_create(
                slug=slug,
                defaults={"title": title, "year": year, "methodology": methodology},
            )
            self.note("campaigns", created)
            if not created:
                continue
            CampaignStage.objects.bulk_create(
                CampaignStage(campaign=campaign, stage=stage, starts_on=start, ends_on=end)
                for stage, (start, end) in stages.items()
            )
            Participation.objects.bulk_create(Participation(campaign=campaign, municipality=m) for m in municipalities)

    def run(self):
        data, regions = self.territory()
        self.people(data, regions)
        methodology = self.methodology()
        from surveys.demo import demo_surveys, questionnaires_load

        questionnaires_load(methodology)
        self.campaigns(methodology, timezone.localdate())
        with transaction.atomic():
            demo_collection(None)
            demo_states_2026()
            demo_results_2020()
            demo_surveys(TOTALS_2020)
            self.note("notifications", demo_notifications())
        return self.created


# The 2026 campaign at mid-collection: how far each municipality has got (share of criteria complete).
FILL_2026 = {
    "kumeny": 1.0,  # already submitted
    "yashkul": 1.0,  # pre-scored, waiting for experts
    "yashalta": 1.0,  # in expert review
    "lagan": 1.0,  # returned for corrections
    "kirov": 0.7,
    "elista": 0.45,
    "slobodskoy": 0.35,
    "yaransk": 0.25,
    "iki-burul": 0.15,
    "sovetsk": 0.1,
    "podosinovets": 0.05,
}

DESCRIPTIONS = {
    1: "Цели по направлению «{m}» закреплены в приказе управления образования от 26.08.2026 № {n} "
    "«Об утверждении муниципальной модели управления качеством образования» (раздел {code}); цели "
    "согласованы с региональной программой и доведены до руководителей школ.",
    2: "Утверждён перечень показателей по направлению «{m}»: {k} показателей с формулами расчёта, источниками "
    "данных и целевыми значениями на 2026/2027 учебный год.",
    3: "Сбор данных ведётся через региональную информационную систему и формы отчётности школ; порядок и "
    "сроки сбора закреплены в положении о муниципальной системе оценки качества образования.",
    4: "Мониторинг показателей проводится два раза в год (январь, июнь); результаты за 2024/2025 и "
    "2025/2026 учебные годы опубликованы на сайте управления образования.",
    5: "Подготовлена аналитическая справка по результатам мониторинга с анализом динамики по школам и "
    "выявлением причин отклонений; справка рассмотрена на совещании руководителей.",
    6: "По итогам анализа школам направлены адресные рекомендации (письмо управления образования от "
    "15.09.2026 № {n}-01); рекомендации адресованы руководителям и методическим объединениям.",
    7: "Утверждён план мероприятий (дорожная карта) на 2026/2027 учебный год с ответственными и сроками; "
    "мероприятия включены в план работы муниципальной методической службы.",
    8: "Приняты управленческие решения по итогам анализа: приказ от 30.09.2026 № {n} о мерах по "
    "направлению «{m}», решения коллегии управления образования от 02.10.2026.",
    9: "Эффективность принятых мер оценивается сравнением показателей до и после реализации плана; "
    "отчёт за 2025/2026 учебный год размещён на сайте.",
}


def demo_answers(campaign, municipality, share, criteria):
    """Answers for the first `share` of the criteria, in the methodology's order, with links to the
    authority's website."""
    from assessment.models import Answer, EvidenceLink, MechanismAnalysis, Submission

    submission = Submission.objects.get(campaign=campaign, municipality=municipality)
    if submission.answers.exists():
        return submission
    count = round(len(criteria) * share)
    website = (municipality.website or "https://example.ru").rstrip("/")
    now = timezone.now()
    answers = [
        Answer(
            submission=submission,
            criterion=c,
            description=DESCRIPTIONS[c.component.order].format(
                m=c.mechanism.short_title, code=c.code, n=200 + i, k=8 + i % 7
            ),
            is_complete=True,
            updated_at=now,
            version=1,
        )
        for i, c in enumerate(criteria[:count])
    ]
    Answer.objects.bulk_create(answers)
    EvidenceLink.objects.bulk_create(
        EvidenceLink(answer=a, url=f"{website}/documents/muko-2026/{a.criterion.code}.pdf", position=0) for a in answers
    )
    mechanisms = {c.mechanism for c in criteria[:count]}
    done_mechanisms = [m for m in mechanisms if sum(1 for c in criteria[:count] if c.mechanism_id == m.pk) == 9]
    MechanismAnalysis.objects.bulk_create(
        MechanismAnalysis(
            submission=submission,
            mechanism=m,
            conclusions=f"Механизм «{m.short_title}» выстроен по полному управленческому циклу; показатели "
            "отслеживаются ежегодно, выводы используются при планировании.",
            problems="Не во всех школах результаты мониторинга используются для корректировки планов; "
            "часть данных собирается вручную.",
            measures="Перевести сбор данных в региональную информационную систему; провести семинар для "
            "заместителей директоров по использованию результатов анализа.",
            updated_at=now,
            version=1,
        )
        for m in done_mechanisms
    )
    Submission.objects.filter(pk=submission.pk).update(last_activity_at=now)
    return submission


def demo_collection(loader_user):
    from assessment.models import Campaign, Criterion, StatusChange, Submission
    from assessment.services import submissions_ensure

    campaign = Campaign.objects.filter(slug="2026").first()
    if campaign is None:
        return
    submissions_ensure(campaign=campaign)
    criteria = list(
        Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)
        .select_related("mechanism", "component")
        .order_by("mechanism__order", "component__order")
    )
    municipalities = {m.code: m for m in Municipality.objects.filter(code__in=FILL_2026)}
    for code, share in FILL_2026.items():
        submission = demo_answers(campaign, municipalities[code], share, criteria)
        if code == "kumeny" and submission.status == Submission.Status.DRAFT:
            from assessment.collection import snapshot

            organizer = get_user_model().objects.get(username=f"organizer-{code}")
            now = timezone.now()
            Submission.objects.filter(pk=submission.pk).update(status=Submission.Status.SUBMITTED, submitted_at=now)
            StatusChange.objects.create(
                submission=submission, old="draft", new="submitted", by=organizer, at=now, snapshot=snapshot(submission)
            )


# The 2020 pilot's totals: Kalmykia exactly as its report gives them; Kirov as its levels (Куменский,
# Подосиновский and the city of Kirov «частично сформирована», the nine others lower).
TOTALS_2020 = {
    "elista": 249,
    "iki-burul": 136,
    "lagan": 12,
    "yashalta": 8,
    "sarpa": 0,
    "yashkul": 0,
    "kirov": 281,
    "kumeny": 236,
    "podosinovets": 228,
    "slobodskoy": 187,
    "sovetsk": 152,
    "verkhnekamsky": 143,
    "yaransk": 129,
    "malmyzh": 117,
    "belaya-kholunitsa": 98,
    "orlov": 84,
    "kilmez": 61,
    "murashi": 45,
}


PRESCORE_EXTRA_2020 = {"elista": 13, "iki-burul": 5, "lagan": 3, "kirov": 9, "slobodskoy": 6, "orlov": 4}
EXPERT_REASON = "Подтверждающий документ на сайте МОУО не найден; балл снижен по результатам перепроверки."


def demo_results_2020():
    """The finished 2020 campaign: every submission finalized with pre-scores and final scores that add
    up to the seed totals, and its results and ranks computed."""
    from datetime import datetime, time

    from assessment import review, scoring
    from assessment.models import Campaign, Criterion, ReviewAssignment, Score, StatusChange, Submission
    from assessment.services import submissions_ensure

    campaign = Campaign.objects.filter(slug="2020-approbation").first()
    if campaign is None or campaign.submissions.filter(status=Submission.Status.FINALIZED).exists():
        return
    submissions_ensure(campaign=campaign)
    User = get_user_model()
    operator = User.objects.get(username="operator")
    coordinators = {
        a.region_id: a.user
        for a in Appointment.objects.filter(role=Role.COORDINATOR, user__username__startswith="coordinator-")
    }
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)}
    specs = review.specs_for(campaign.methodology_id)
    tz = timezone.get_current_timezone()
    moments = {
        "submitted": datetime.combine(date(2020, 7, 30), time(15), tz),
        "prescored": datetime.combine(date(2020, 8, 13), time(12), tz),
        "in_review": datetime.combine(date(2020, 8, 17), time(9), tz),
        "finalized": datetime.combine(date(2020, 9, 7), time(18), tz),
    }
    scores, changes, assignments = [], [], []
    # Kirov is reviewed by the expert from Kalmykia and the other way round: never one's own region.
    reviewers = {"43": User.objects.get(username="expert-2"), "08": User.objects.get(username="expert-1")}
    for submission in campaign.submissions.select_related("municipality__region"):
        code = submission.municipality.code
        points = scoring.distribute(TOTALS_2020.get(code, 0), specs)
        # The coordinators were more generous than the experts in a few municipalities (as in Kalmykia's
        # re-check): their pre-scores are higher there, and each change of the expert carries a reason.
        generous = scoring.distribute(min(555, TOTALS_2020.get(code, 0) + PRESCORE_EXTRA_2020.get(code, 0)), specs)
        coordinator = coordinators.get(submission.municipality.region_id, operator)
        expert = reviewers[submission.municipality.region.code]
        assignments.append(
            ReviewAssignment(
                submission=submission,
                expert=expert,
                assigned_by=operator,
                assigned_at=moments["in_review"],
                due_on=date(2020, 9, 7),
                completed_at=moments["finalized"],
            )
        )
        for spec in specs:
            changed = generous[spec.code] != points[spec.code]
            scores.append(
                Score(
                    submission=submission,
                    criterion=criteria[spec.code],
                    round=Score.Round.PRESCORE,
                    points=generous[spec.code],
                    by=coordinator,
                    at=moments["prescored"],
                )
            )
            scores.append(
                Score(
                    submission=submission,
                    criterion=criteria[spec.code],
                    round=Score.Round.EXPERT,
                    points=points[spec.code],
                    by=expert,
                    at=moments["in_review"],
                    comment=EXPERT_REASON if changed else "",
                )
            )
        organizer = User.objects.filter(username=f"organizer-{code}").first() or operator
        previous = "draft"
        for status, who in (
            ("submitted", organizer),
            ("prescored", coordinator),
            ("in_review", operator),
            ("finalized", operator),
        ):
            changes.append(StatusChange(submission=submission, old=previous, new=status, by=who, at=moments[status]))
            previous = status
    Score.objects.bulk_create(scores, batch_size=2000)
    ReviewAssignment.objects.bulk_create(assignments)
    prescores = {
        (s.submission_id, s.criterion_id): s
        for s in Score.objects.filter(submission__campaign=campaign, round=Score.Round.PRESCORE)
    }
    experts = list(Score.objects.filter(submission__campaign=campaign, round=Score.Round.EXPERT))
    for s in experts:
        s.previous = prescores[(s.submission_id, s.criterion_id)]
    Score.objects.bulk_update(experts, ["previous"], batch_size=2000)
    Score.objects.bulk_create(
        (
            Score(
                submission_id=s.submission_id,
                criterion_id=s.criterion_id,
                round=Score.Round.FINAL,
                points=s.points,
                comment=s.comment,
                by=operator,
                at=moments["finalized"],
                previous=s,
            )
            for s in experts
        ),
        batch_size=2000,
    )
    StatusChange.objects.bulk_create(changes)
    campaign.submissions.update(
        status=Submission.Status.FINALIZED, submitted_at=moments["submitted"], last_activity_at=moments["finalized"]
    )
    review.results_compute(campaign=campaign)


def demo_states_2026():
    """Give every role something to do in 2026: a submission pre-scored and waiting for experts (Яшкульский),
    one in expert review with expert-1 (Яшалтинский), one returned for corrections (Лаганский)."""
    from assessment import review, scoring
    from assessment.collection import snapshot
    from assessment.models import Campaign, Criterion, ReviewAssignment, Score, StatusChange, Submission

    campaign = Campaign.objects.filter(slug="2026").first()
    if campaign is None or campaign.submissions.exclude(status__in=["draft", "submitted"]).exists():
        return
    User = get_user_model()
    operator = User.objects.get(username="operator")
    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology_id)}
    specs = review.specs_for(campaign.methodology_id)
    now = timezone.now()
    plan = {"yashkul": ("prescored", 190), "yashalta": ("in_review", 240), "lagan": ("returned", None)}
    for code, (status, total) in plan.items():
        submission = Submission.objects.select_related("municipality__region").get(
            campaign=campaign, municipality__code=code
        )
        organizer = User.objects.get(username=f"organizer-{code}")
        coordinator = User.objects.get(username=f"coordinator-{submission.municipality.region.code}")
        changes = [
            StatusChange(
                submission=submission, old="draft", new="submitted", by=organizer, at=now, snapshot=snapshot(submission)
            )
        ]
        if status == "returned":
            changes.append(
                StatusChange(
                    submission=submission,
                    old="submitted",
                    new="returned",
                    by=coordinator,
                    at=now,
                    criteria=["1.2.2", "2.2.4"],
                    reason="Критерии отбора ШНОР приведены без пороговых значений; мониторинг эффективности руководителей "
                    "за 2025 год не опубликован на сайте.",
                )
            )
        else:
            points = scoring.distribute(total, specs)
            Score.objects.bulk_create(
                Score(
                    submission=submission,
                    criterion=criteria[s.code],
                    round=Score.Round.PRESCORE,
                    points=points[s.code],
                    by=coordinator,
                    at=now,
                )
                for s in specs
            )
            changes.append(
                StatusChange(submission=submission, old="submitted", new="prescored", by=coordinator, at=now)
            )
        if status == "in_review":
            changes.append(StatusChange(submission=submission, old="prescored", new="in_review", by=operator, at=now))
            ReviewAssignment.objects.create(
                submission=submission,
                expert=User.objects.get(username="expert-1"),
                assigned_by=operator,
                due_on=timezone.localdate() + timedelta(days=50),
            )
        StatusChange.objects.bulk_create(changes)
        Submission.objects.filter(pk=submission.pk).update(status=status, submitted_at=now, last_activity_at=now)


def demo_notifications():
    """What the bell shows the demo accounts after the 2026 states above (once; e-mails are not sent)."""
    from django.urls import reverse

    from assessment.models import Campaign
    from municipalities.models import Notification

    campaign = Campaign.objects.filter(slug="2026").first()
    if campaign is None or Notification.objects.filter(user__username__in=_demo_usernames()).exists():
        return 0
    users = {u.username: u for u in get_user_model().objects.filter(username__in=_demo_usernames())}
    now = timezone.now()
    K = Notification.Kind

    def form(code):
        return reverse("submission_detail", args=[campaign.slug, code])

    plan = [
        (
            "organizer-lagan",
            K.RETURNED,
            "Ваши формы возвращены на доработку",
            f"Формы муниципалитета Лаганский район в кампании «{campaign.title}» возвращены на доработку:\n\n"
            "Критерии для исправления: 1.1.3, 2.2.4.\n\nНет ссылок на приказы на сайте управления образования.",
            form("lagan"),
            3,
        ),
        (
            "organizer-kirov",
            K.DEADLINE,
            f"Напоминание: формы кампании «{campaign.title}»",
            "город Киров: заполнено критериев — 57 из 81.",
            form("kirov"),
            1,
        ),
        (
            "organizer-kirov",
            K.APPOINTMENT,
            "Вы назначены: муниципальный организатор",
            "Вы назначены муниципальным организатором (город Киров) на платформе оценки муниципальных "
            "механизмов управления качеством образования.",
            reverse("home"),
            40,
        ),
        (
            "coordinator-43",
            K.SUBMITTED,
            "Куменский район отправил(а) формы",
            f"Куменский район отправил(а) формы первичных данных в кампании «{campaign.title}».",
            form("kumeny"),
            2,
        ),
        (
            "expert-1",
            K.ASSIGNMENT,
            "Материалы для экспертизы: Яшалтинский район",
            f"Вам назначена экспертиза материалов муниципалитета Яшалтинский район в кампании «{campaign.title}».",
            reverse("expert_queue"),
            4,
        ),
        (
            "operator",
            K.REVIEW,
            "Предварительная оценка завершена: Яшкульский район",
            "Координатор завершил предварительную оценку: Яшкульский район; назначьте экспертов.",
            reverse("campaign_experts", args=[campaign.slug]),
            1,
        ),
    ]
    rows = [
        Notification(
            user=users[username],
            kind=kind,
            title=title,
            body=body,
            path=path,
            created_at=now - timedelta(hours=hours),
            emailed_at=now - timedelta(hours=hours),
            read_at=now - timedelta(hours=hours - 1) if hours > 24 else None,
        )
        for username, kind, title, body, path, hours in plan
        if username in users
    ]
    Notification.objects.bulk_create(rows)
    return len(rows)
