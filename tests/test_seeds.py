"""The seeds, exactly (issue 15): the municipalities and the teacher respondent named as seeds 001 and 004 name
them, the stages with the titles of the campaign's documents, the letters and orders a campaign runs under (page,
regional report, API), the materials one click from every form, the summer warning where people look, and the
methodology's calibration note with its 2020 and 2026 editions."""

import io
import json
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import load_workbook

from assessment import holidays
from assessment.forms import CampaignDocumentForm
from assessment.models import Campaign, CampaignDocument, CampaignStage, Material, Methodology, Stage
from assessment.services import campaign_save, methodology_import, methodology_import_file
from municipalities.models import Municipality
from reports import documents
from surveys.models import Respondent

FIXTURES = settings.BASE_DIR / "fixtures"

# Seed 001 (Kirov region) and seed 004 (Kalmykia), word for word ("г.Элиста" written out, as «город Киров»).
SEED_NAMES = {
    "43": {
        "Белохолуницкий район",
        "Верхнекамский муниципальный округ",
        "Кильмезский район",
        "Куменский район",
        "Малмыжский район",
        "Мурашинский муниципальный округ",
        "Орловский район",
        "Подосиновский район",
        "Слободской район",
        "Советский район",
        "Яранский район",
        "город Киров",
    },
    "08": {
        "город Элиста",
        "Лаганский район",
        "Ики-Бурульский район",
        "Сарпинский район",
        "Яшалтинский район",
        "Яшкульский район",
    },
}
STAGE_1_2020 = "Формирование организационных и информационных ресурсов для проведения пилотного обследования"


def territory():
    return json.loads((FIXTURES / "demo_territory.json").read_text(encoding="utf-8"))


# --- 1. names ----------------------------------------------------------------------------------------------------


def test_the_demo_municipalities_are_named_as_the_seeds_name_them():
    names = {}
    for m in territory()["municipalities"]:
        names.setdefault(m["region"], set()).add(m["name"])

    assert names == SEED_NAMES


def test_the_kind_of_each_municipality_matches_the_seed_and_reads_right_in_russian():
    kinds = {m["code"]: m["kind"] for m in territory()["municipalities"]}

    with translation.override("ru"):
        labels = {str(label) for _code, label in Municipality.Kind.choices}
    assert labels == {"городской округ", "муниципальный район", "муниципальный округ"}
    assert kinds["verkhnekamsky"] == kinds["murashi"] == Municipality.Kind.MUNICIPAL_OKRUG
    assert kinds["kirov"] == kinds["elista"] == Municipality.Kind.CITY_DISTRICT
    others = set(kinds) - {"verkhnekamsky", "murashi", "kirov", "elista"}
    assert {kinds[code] for code in others} == {Municipality.Kind.MUNICIPAL_DISTRICT}


def test_the_kind_is_shown_beside_a_name_that_does_not_say_it(campaign, world, as_role):
    Municipality.objects.filter(pk=world.sibling.pk).update(kind=Municipality.Kind.MUNICIPAL_DISTRICT)
    okrug = Municipality.objects.filter(pk=world.municipality.pk)
    okrug.update(name="Верхнекамский муниципальный округ", kind=Municipality.Kind.MUNICIPAL_OKRUG)

    page = as_role(world, "operator").get(reverse("campaign_detail", args=[campaign.slug])).content.decode()

    assert 'municipality-kind">муниципальный район<' in page  # «Куменский район» does not say which kind
    assert 'municipality-kind">муниципальный округ<' not in page  # the name already says it


def test_the_teacher_respondent_is_a_pedagogical_worker_as_both_seeds_say():
    questionnaires = json.loads((FIXTURES / "questionnaires_2020.json").read_text(encoding="utf-8"))
    teacher = next(q for q in questionnaires["questionnaires"] if q["role"] == "teacher")

    with translation.override("ru"):
        label = str(Respondent.TEACHER.label)
        roles = [str(label) for _value, label in Respondent.choices]

    assert label == "педагогический работник"
    assert roles == ["директор", "заместитель директора", "педагогический работник"]
    assert "педагогического работника" in teacher["title"] and "педагогического работника" in teacher["intro"]
    assert "учител" not in teacher["title"] + teacher["intro"]
    assert Respondent.TEACHER.value == "teacher"  # the stored value stays


# --- 1. stage titles ---------------------------------------------------------------------------------------------


@pytest.fixture
def titled(campaign):
    CampaignStage.objects.filter(campaign=campaign, stage=Stage.RESOURCES).update(title=STAGE_1_2020)
    return Campaign.objects.get(pk=campaign.pk)


def test_the_campaigns_own_stage_title_is_shown_wherever_the_stage_is(titled, world, as_role):
    client = as_role(world, "operator")

    pages = {
        name: client.get(url).content.decode()
        for name, url in {
            "campaign": reverse("campaign_detail", args=[titled.slug]),
            "home": reverse("home"),
            "list": reverse("campaign_list"),
            "form": reverse("campaign_edit", args=[titled.slug]),
        }.items()
    }
    stages = client.get(reverse("api-campaigns")).json()["results"][0]["stages"]

    for name, page in pages.items():
        assert STAGE_1_2020 in page, name
    assert f'timeline-label">{Stage.RESOURCES.label}<' not in pages["campaign"]
    assert 'stage-badge">' + STAGE_1_2020 in pages["home"]  # every stage of the test campaign is running
    by_code = {s["code"]: s["title"] for s in stages}
    assert by_code["resources"] == STAGE_1_2020
    assert by_code["consultation"] == str(Stage.CONSULTATION.label)  # no title of its own: the usual name


def test_the_operator_sets_and_clears_the_stage_titles_on_the_campaign_form(campaign, world, as_role):
    client = as_role(world, "operator")
    form = client.get(reverse("campaign_edit", args=[campaign.slug])).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["municipalities"] = [m.pk for m in campaign.municipalities.all()]
    data["resources_title"] = f"  {STAGE_1_2020} "

    client.post(reverse("campaign_edit", args=[campaign.slug]), data)
    titled = CampaignStage.objects.get(campaign=campaign, stage=Stage.RESOURCES)
    data["resources_title"] = ""
    client.post(reverse("campaign_edit", args=[campaign.slug]), data)
    cleared = CampaignStage.objects.get(campaign=campaign, stage=Stage.RESOURCES)

    assert titled.title == STAGE_1_2020
    assert cleared.title == "" and str(cleared.display_title) == str(Stage.RESOURCES.label)


def test_a_stage_title_over_300_characters_is_refused_and_nothing_saved(campaign, world, as_role):
    client = as_role(world, "operator")
    form = client.get(reverse("campaign_edit", args=[campaign.slug])).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["municipalities"] = [m.pk for m in campaign.municipalities.all()]
    data["resources_title"] = "я" * 301
    data["title"] = "Другое название"

    response = client.post(reverse("campaign_edit", args=[campaign.slug]), data)

    assert response.status_code == 200 and "resources_title" in response.context["form"].errors
    assert Campaign.objects.get(pk=campaign.pk).title == "Тестовая кампания"
    assert CampaignStage.objects.get(campaign=campaign, stage=Stage.RESOURCES).title == ""


# --- 2. the basis -------------------------------------------------------------------------------------------------


@pytest.fixture
def basis(campaign, world):
    """The 2020 basis in small: a Rosobrnadzor letter for everyone, the Kalmykia ministry's order for region 08."""
    letter = CampaignDocument.objects.create(
        campaign=campaign, title="Об организации оценки", issuer="Рособрнадзор", number="13-293", date=date(2020, 6, 17)
    )
    order = CampaignDocument.objects.create(
        campaign=campaign,
        title="О проведения оценки муниципальных механизмов",
        issuer="Министерство образования и науки Республики Калмыкия",
        number="584",
        date=date(2020, 6, 16),
        region=world.other_region,
        order=1,
    )
    order.file.save("order-584.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    return letter, order


@pytest.mark.parametrize(
    ("role", "sees_order"),
    [("operator", True), ("ministry", True), ("coordinator", False), ("organizer", False), ("expert", False)],
)
def test_the_campaign_page_shows_its_basis_and_a_regions_order_only_to_that_region_and_national_roles(
    basis, campaign, world, as_role, role, sees_order
):
    page = as_role(world, role).get(reverse("campaign_detail", args=[campaign.slug])).content.decode()

    assert "Об организации оценки" in page and "17.06.2020" in page and "№&nbsp;13-293" in page
    assert ("№&nbsp;584" in page) is sees_order
    assert (reverse("campaign_basis_file", args=[campaign.slug, basis[1].pk]) in page) is sees_order


def test_a_regions_order_file_is_a_404_outside_the_region(basis, campaign, world, as_role):
    url = reverse("campaign_basis_file", args=[campaign.slug, basis[1].pk])

    outside = as_role(world, "organizer").get(url)
    national = as_role(world, "ministry").get(url)

    assert outside.status_code == 404
    assert national.status_code == 200 and b"".join(national.streaming_content) == b"%PDF-1.4 test"


def test_the_regional_report_lists_the_federal_letters_and_the_regions_own_order(basis, finalized, world):
    kalmykia = documents.region_report(finalized, world.other_region)
    kirov = documents.region_report(finalized, world.region)

    html = documents.region_html(kalmykia)
    book = load_workbook(io.BytesIO(documents.xlsx_bytes(documents.region_sheets(kalmykia))))
    rows = list(book.worksheets[5].iter_rows(min_row=2, values_only=True))  # after the five tables

    assert [d.number for d in kalmykia.basis] == ["13-293", "584"]
    assert [d.number for d in kirov.basis] == ["13-293"]
    assert "№ 13-293" in html and "№ 584" in html and "16.06.2020" in html
    assert [(r[2], r[3].date()) for r in rows] == [("13-293", date(2020, 6, 17)), ("584", date(2020, 6, 16))]
    assert "№ 584" not in documents.region_html(kirov)


def test_the_api_gives_each_campaign_its_basis_and_stages(basis, campaign, world, as_role):
    CampaignDocument.objects.create(campaign=campaign, title="Без даты", order=5)

    national = as_role(world, "ministry").get(reverse("api-campaigns")).json()["results"][0]
    organizer = as_role(world, "organizer").get(reverse("api-campaigns")).json()["results"][0]

    assert national["basis"] == [
        {"title": "Об организации оценки", "number": "13-293", "date": "2020-06-17"},
        {"title": "О проведения оценки муниципальных механизмов", "number": "584", "date": "2020-06-16"},
        {"title": "Без даты", "number": "", "date": None},
    ]
    assert [d["number"] for d in organizer["basis"]] == ["13-293", ""]
    periods = campaign.stage_dates
    assert [s["code"] for s in national["stages"]] == [s.value for s in Stage]
    assert national["stages"][0] == {
        "code": "resources",
        "title": str(Stage.RESOURCES.label),
        "starts": periods[Stage.RESOURCES].starts_on.isoformat(),
        "ends": periods[Stage.RESOURCES].ends_on.isoformat(),
    }


def test_the_campaign_list_of_the_api_takes_a_fixed_number_of_queries(
    basis, campaign, world, as_role, methodology, django_assert_max_num_queries
):
    client = as_role(world, "operator")
    with django_assert_max_num_queries(30) as few:
        client.get(reverse("api-campaigns"))
    for n in range(5):
        other = campaign_save(
            campaign=Campaign(slug=f"more-{n}", title=f"Ещё {n}", year=2027, methodology=methodology),
            stages={s: (date(2027, 9, 1), date(2027, 9, 30)) for s in Stage},
            municipalities=[world.municipality],
            by=world.users["operator"],
        )
        CampaignDocument.objects.create(campaign=other, title="Письмо", number=str(n), date=date(2026, 1, 1))

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("api-campaigns"))

    assert len(response.json()["results"]) == 6


def _document(**changes):
    data = {"title": "Приказ министерства образования Кировской области", "issuer": "Министерство образования"}
    data.update({"number": "5-123", "date": "2020-06-18", "url": "", "order": 0, **changes})
    return data


def test_a_coordinator_adds_their_regions_order_and_only_their_region_sees_it(campaign, world, as_role):
    client = as_role(world, "coordinator")

    response = client.post(reverse("campaign_basis", args=[campaign.slug]), _document(region=world.other_region.pk))
    refused = CampaignDocument.objects.count()
    client.post(reverse("campaign_basis", args=[campaign.slug]), _document(region=world.region.pk))

    document = CampaignDocument.objects.get()
    assert response.status_code == 200 and "region" in response.context["form"].errors and refused == 0
    assert document.region == world.region and document.campaign == campaign
    assert "5-123" in as_role(world, "organizer").get(reverse("campaign_detail", args=[campaign.slug])).content.decode()
    expert_page = as_role(world, "expert").get(reverse("campaign_basis", args=[campaign.slug])).content.decode()
    assert "5-123" not in expert_page


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"date": "2099-01-01"}, "date"),  # in the future
        ({"date": "__after_end__"}, "date"),  # after the campaign's end (and in the past)
        ({"number": "1" * 65}, "number"),
        ({"url": "ftp://minobr.kirov.ru/prikaz.pdf"}, "url"),
        ({"url": "javascript:alert(1)"}, "url"),
        ({"url": "http://127.0.0.1/admin/"}, "url"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_basis_input_is_refused_with_a_message_and_nothing_saved(campaign, world, as_role, changes, field):
    if changes.get("date") == "__after_end__":
        ended = timezone.localdate() - timedelta(days=40)
        CampaignStage.objects.filter(campaign=campaign).update(starts_on=ended - timedelta(days=30), ends_on=ended)
        changes = {"date": (ended + timedelta(days=1)).isoformat()}
    client = as_role(world, "operator")

    response = client.post(reverse("campaign_basis", args=[campaign.slug]), _document(**changes))

    assert response.status_code == 200 and not CampaignDocument.objects.exists()
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert 'class="invalid-feedback' in response.content.decode()


def test_the_numbers_limit_is_named_in_the_message(campaign, world, as_role):
    response = as_role(world, "operator").post(
        reverse("campaign_basis", args=[campaign.slug]), _document(number="1" * 65)
    )

    assert "64" in response.context["form"].errors["number"][0]


def test_the_admin_inline_refuses_the_same_input():
    from assessment.admin import CampaignAdmin

    inline = next(i for i in CampaignAdmin.inlines if i.model is CampaignDocument)

    assert issubclass(inline.form, CampaignDocumentForm)


def test_the_admins_form_refuses_a_date_after_the_campaign(campaign):
    CampaignStage.objects.filter(campaign=campaign).update(starts_on=date(2020, 6, 1), ends_on=date(2020, 9, 30))
    form = CampaignDocumentForm(_document(date="2021-01-15"), instance=CampaignDocument(campaign_id=campaign.pk))

    assert not form.is_valid() and list(form.errors) == ["date"]
    assert "30.09.2020" in form.errors["date"][0]


def test_who_may_remove_a_document_of_the_basis(basis, campaign, world, as_role):
    letter, order = basis
    regional = CampaignDocument.objects.create(campaign=campaign, title="Приказ области", region=world.region)

    by_organizer = as_role(world, "organizer").post(reverse("campaign_basis_remove", args=[campaign.slug, letter.pk]))
    coordinator = as_role(world, "coordinator")
    federal = coordinator.post(reverse("campaign_basis_remove", args=[campaign.slug, letter.pk]))
    other_region = coordinator.post(reverse("campaign_basis_remove", args=[campaign.slug, order.pk]))
    own = coordinator.post(reverse("campaign_basis_remove", args=[campaign.slug, regional.pk]))

    assert (by_organizer.status_code, federal.status_code, other_region.status_code) == (403, 403, 404)
    assert own.status_code == 302
    assert set(CampaignDocument.objects.values_list("pk", flat=True)) == {letter.pk, order.pk}


# --- 3. stage 2 reachable ----------------------------------------------------------------------------------------


def test_the_materials_are_one_click_from_the_form_and_every_mechanism_page(campaign, world, as_role):
    client = as_role(world, "organizer")
    materials = reverse("campaign_materials", args=[campaign.slug])

    form = client.get(reverse("submission_detail", args=[campaign.slug, world.municipality.code])).content.decode()
    mechanism = client.get(
        reverse("submission_mechanism", args=[campaign.slug, world.municipality.code, "2.2"])
    ).content.decode()

    for page in (form, mechanism):
        assert f'href="{materials}"' in page and "materials-box" in page


def test_webinars_show_their_date_and_the_faq_opens_question_by_question(campaign, world, as_role):
    Material.objects.create(
        campaign=campaign,
        kind=Material.Kind.WEBINAR,
        title="Вебинар ФИОКО",
        url="https://fioco.ru/w",
        held_on=date(2020, 7, 8),
    )
    faq = Material.objects.create(
        campaign=campaign,
        kind=Material.Kind.FAQ,
        title="Что делать, если на сайте МОУО нет раздела?",
        body="Создайте раздел «Оценка качества образования».",
    )

    page = as_role(world, "organizer").get(reverse("campaign_materials", args=[campaign.slug])).content.decode()

    assert "8 июля 2020" in page and 'datetime="2020-07-08"' in page
    assert (
        f'data-bs-target="#faq-{faq.pk}"' in page and f'id="faq-{faq.pk}" class="accordion-collapse collapse"' in page
    )
    assert "Создайте раздел" in page


def test_a_material_can_be_given_its_date(campaign, world, as_role):
    as_role(world, "operator").post(
        reverse("campaign_materials", args=[campaign.slug]),
        {"kind": "webinar", "title": "Вебинар 2", "url": "https://fioco.ru/w2", "held_on": "2020-07-15", "order": 1},
    )

    assert Material.objects.get(title="Вебинар 2").held_on == date(2020, 7, 15)


# --- 4. the summer -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "summer"),
    [
        (date(2027, 6, 1), date(2027, 6, 30), False),
        (date(2027, 6, 20), date(2027, 7, 1), True),
        (date(2027, 8, 31), date(2027, 9, 20), True),
        (date(2027, 9, 1), date(2028, 6, 30), False),  # a whole school year, no summer in it
        (date(2027, 5, 1), date(2028, 9, 30), True),
        (date(2020, 7, 1), date(2020, 7, 31), True),
    ],
)
def test_the_summer_is_july_and_august_of_any_year(start, end, summer):
    assert holidays.overlaps_summer(start, end) is summer


def _plan(year, collection, surveys):
    """Every stage in September of `year` but data collection and surveys, as given."""
    stages = {s: (date(year, 9, 1), date(year, 9, 30)) for s in Stage}
    stages[Stage.DATA_COLLECTION] = collection
    stages[Stage.SURVEYS] = surveys
    return stages


@pytest.fixture
def summer_campaign(world, methodology):
    year = timezone.localdate().year + 1
    campaign = campaign_save(
        campaign=Campaign(slug="summer", title="Летняя кампания", year=year, methodology=methodology),
        stages=_plan(year, (date(year, 7, 1), date(year, 7, 31)), (date(year, 8, 20), date(year, 9, 10))),
        municipalities=[world.municipality, world.other_municipality],
        by=world.users["operator"],
        titles={Stage.SURVEYS: "Реализация мероприятий по проведению опросов в общеобразовательных организациях"},
    )
    return campaign


def _pages(client, campaign):
    return [client.get(reverse("campaign_detail", args=[campaign.slug])), client.get(reverse("home"))]


def test_a_campaign_collecting_in_the_summer_warns_on_its_page_and_the_operators_and_coordinators_homes(
    summer_campaign, world, as_role
):
    pages = {
        role: [r.content.decode() for r in _pages(as_role(world, role), summer_campaign)]
        for role in ("operator", "coordinator")
    }

    for role, (campaign_page, home) in pages.items():
        for page in (campaign_page, home):
            assert "summer-warning" in page, role
            assert "Реализация мероприятий по проведению опросов" in page  # the affected stages, by their titles
            assert str(Stage.DATA_COLLECTION.label) in page
            assert f'href="{reverse("people")}"' in page  # appoint deputies
            assert reverse("region_progress", args=[summer_campaign.slug, "43"]) in page  # where to extend
    assert reverse("region_progress", args=[summer_campaign.slug, "08"]) in pages["operator"][1]
    assert reverse("region_progress", args=[summer_campaign.slug, "08"]) not in pages["coordinator"][1]


def test_the_organizer_sees_the_warning_on_the_campaign_page_but_not_the_appointing(summer_campaign, world, as_role):
    campaign_page, home = (r.content.decode() for r in _pages(as_role(world, "organizer"), summer_campaign))

    assert "summer-warning" in campaign_page and f'href="{reverse("people")}"' not in campaign_page
    assert "summer-warning" not in home


def test_no_summer_warning_outside_july_and_august_or_once_the_stages_are_over(summer_campaign, world, as_role):
    year = summer_campaign.year
    autumn = _plan(year, (date(year, 9, 1), date(year, 9, 30)), (date(year, 9, 1), date(year, 10, 15)))
    for stage, (start, end) in autumn.items():
        CampaignStage.objects.filter(campaign=summer_campaign, stage=stage).update(starts_on=start, ends_on=end)
    over = campaign_save(
        campaign=Campaign(
            slug="summer-2020", title="Апробация 2020", year=2020, methodology=summer_campaign.methodology
        ),
        stages=_plan(2020, (date(2020, 7, 1), date(2020, 7, 31)), (date(2020, 7, 6), date(2020, 8, 7))),
        municipalities=[world.municipality],
        by=world.users["operator"],
    )

    for role in ("operator", "coordinator"):
        client = as_role(world, role)
        for response in [*_pages(client, summer_campaign), client.get(reverse("campaign_detail", args=[over.slug]))]:
            assert "summer-warning" not in response.content.decode(), role


def test_a_valid_save_of_a_summer_campaign_redirects_with_the_warning(campaign, world, as_role):
    client = as_role(world, "operator")
    form = client.get(reverse("campaign_edit", args=[campaign.slug])).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["municipalities"] = [m.pk for m in campaign.municipalities.all()]
    year = timezone.localdate().year + 1
    data.update(data_collection_start=f"{year}-08-01", data_collection_end=f"{year}-08-31")

    response = client.post(reverse("campaign_edit", args=[campaign.slug]), data)
    shown = client.get(response["Location"]).content.decode()  # the page shows (and so uses up) the messages
    autumn = dict(data, data_collection_start=f"{year}-09-01", data_collection_end=f"{year}-09-30")
    autumn.update(surveys_start=f"{year}-09-01", surveys_end=f"{year}-09-30")
    quiet = client.post(reverse("campaign_edit", args=[campaign.slug]), autumn)

    warnings = [m for m in get_messages(response.wsgi_request) if m.level_tag == "warning"]
    assert response.status_code == 302 and len(warnings) == 1 and str(Stage.DATA_COLLECTION.label) in str(warnings[0])
    assert "July–August" in shown or "июл" in shown
    assert quiet.status_code == 302
    assert not [m for m in get_messages(quiet.wsgi_request) if m.level_tag == "warning"]


def test_an_invalid_summer_form_is_still_warned_about(campaign, world, as_role):
    client = as_role(world, "operator")
    form = client.get(reverse("campaign_edit", args=[campaign.slug])).context["form"]
    data = {name: form[name].value() for name in form.fields if form[name].value() is not None}
    data["municipalities"] = []  # invalid: nobody takes part
    year = timezone.localdate().year + 1
    data.update(surveys_start=f"{year}-07-01", surveys_end=f"{year}-07-20")

    response = client.post(reverse("campaign_edit", args=[campaign.slug]), data)

    assert response.status_code == 200 and "summer-warning" in response.content.decode()
    assert str(Stage.SURVEYS.label) in response.content.decode()


# --- 5. the methodology's editions and the calibration note ------------------------------------------------------


def test_both_editions_import_with_555_points_over_81_criteria_and_their_notes(db):
    first, _ = methodology_import_file(path=FIXTURES / "methodology_2020.json")
    second, created = methodology_import_file(path=FIXTURES / "methodology_2026.json")

    for methodology in (first, second):
        assert methodology.criteria_count == 81 and methodology.criteria_total() == 555 == methodology.max_total
        assert methodology.validation_errors() == []
        assert "калибровка данной платформы" in methodology.calibration_note
        assert "оператор платформы" in methodology.calibration_note  # who may change them
    assert created and second.previous == first and second.version == 2
    assert "не публиковалась" in first.calibration_note


def test_reimporting_keeps_the_points_and_fills_in_a_missing_note_and_previous(db):
    second, _ = methodology_import_file(path=FIXTURES / "methodology_2026.json")
    Methodology.objects.filter(pk=second.pk).update(calibration_note="", previous=None)
    data = json.loads((FIXTURES / "methodology_2026.json").read_text(encoding="utf-8"))
    data["max_total"] = 1  # what a re-import must never write

    again, created = methodology_import(data=data)

    again.refresh_from_db()
    assert not created and again.pk == second.pk and again.max_total == 555
    assert again.calibration_note == data["calibration_note"] and again.previous.code == "2020"


def test_an_edition_whose_previous_is_not_loaded_is_refused(db):
    data = json.loads((FIXTURES / "methodology_2026.json").read_text(encoding="utf-8"))
    data.update(code="2030", previous="2029")

    with pytest.raises(ValueError, match="2029"):
        methodology_import(data=data)

    assert not Methodology.objects.filter(code="2030").exists()


def test_the_methodology_page_says_whose_figures_these_are_and_switches_editions(db, world, as_role):
    methodology_import_file(path=FIXTURES / "methodology_2026.json")
    client = as_role(world, "organizer")

    page_2026 = client.get(reverse("methodology_version", args=["2026"])).content.decode()
    page_2020 = client.get(reverse("methodology_version", args=["2020"])).content.decode()

    for page in (page_2026, page_2020):
        assert "calibration-note" in page and "калибровка данной платформы" in page
        assert page.index("calibration-note") < page.index('id="levels"')  # near the points, before the levels
        assert f'href="{reverse("methodology_version", args=["2020"])}"' in page
        assert f'href="{reverse("methodology_version", args=["2026"])}"' in page
        assert 'aria-current="page"' in page
    assert "2024–2026 гг." in page_2026 and "2019–2020 гг." in page_2020  # each edition's own evidence texts
    assert "не публиковалась" in page_2020


def test_a_new_version_keeps_the_calibration_note(methodology):
    from assessment.services import methodology_new_version

    copy = methodology_new_version(methodology=methodology)

    assert copy.calibration_note == methodology.calibration_note != ""
