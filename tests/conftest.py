"""Named fixtures for the roles: two regions with two municipalities each, so every test can ask "own" and
"other" of any object."""

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from municipalities.models import Role
from tests.factories import AppointmentFactory, MunicipalityFactory, RegionFactory, SchoolFactory, UserFactory


@dataclass
class World:
    region: object
    other_region: object
    municipality: object
    sibling: object  # same region, another municipality
    other_municipality: object  # another region
    school: object
    other_school: object
    users: dict


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's language: a request in English (the language switcher) leaves English
    active in the thread, and services called directly afterwards would write English e-mails."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


ROLES = ["anonymous", "operator", "ministry", "coordinator", "organizer", "deputy", "expert", "nobody"]


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The 2020 methodology and its questionnaires are loaded once per test database: every test that
    asks for them gets the same rows (their imports are idempotent), and most tests do."""
    from django.conf import settings

    from assessment.services import methodology_import_file
    from surveys.services import questionnaires_import_file

    with django_db_blocker.unblock():
        methodology, _ = methodology_import_file(path=settings.BASE_DIR / "fixtures" / "methodology_2020.json")
        questionnaires_import_file(
            path=settings.BASE_DIR / "fixtures" / "questionnaires_2020.json", methodology=methodology
        )


@pytest.fixture
def world(db):
    region = RegionFactory(code="43", name="Кировская область")
    other_region = RegionFactory(code="08", name="Республика Калмыкия")
    municipality = MunicipalityFactory(region=region, code="kirov", name="город Киров")
    sibling = MunicipalityFactory(region=region, code="kumeny", name="Куменский район")
    other_municipality = MunicipalityFactory(region=other_region, code="elista", name="город Элиста")
    school = SchoolFactory(municipality=municipality)
    other_school = SchoolFactory(municipality=other_municipality)
    users = {"anonymous": None}
    users["operator"] = AppointmentFactory(user=UserFactory(username="t-operator"), role=Role.OPERATOR).user
    users["ministry"] = AppointmentFactory(user=UserFactory(username="t-ministry"), role=Role.MINISTRY).user
    users["coordinator"] = AppointmentFactory(
        user=UserFactory(username="t-coordinator"), role=Role.COORDINATOR, region=region
    ).user
    users["organizer"] = AppointmentFactory(
        user=UserFactory(username="t-organizer"), role=Role.ORGANIZER, municipality=municipality
    ).user
    users["deputy"] = AppointmentFactory(
        user=UserFactory(username="t-deputy"), role=Role.DEPUTY_ORGANIZER, municipality=municipality
    ).user
    users["expert"] = AppointmentFactory(user=UserFactory(username="t-expert"), role=Role.EXPERT, region=region).user
    users["nobody"] = UserFactory(username="t-nobody")
    return World(region, other_region, municipality, sibling, other_municipality, school, other_school, users)


@pytest.fixture
def methodology(db):
    from django.conf import settings

    from assessment.services import methodology_import_file

    methodology, _ = methodology_import_file(path=settings.BASE_DIR / "fixtures" / "methodology_2020.json")
    return methodology


@pytest.fixture
def as_role(client):
    """Log the client in as a role of the world (force_login: django-axes wants a request on authenticate)."""

    def login(world, role):
        client.logout()
        user = world.users[role]
        if user is not None:
            client.force_login(user)
        return client

    return login


@pytest.fixture
def campaign(world, methodology):
    """A campaign in data collection with the world's three municipalities, each with a submission, a
    material with a file, and one attachment on the own and the other submission."""
    from datetime import timedelta

    from django.core.files.base import ContentFile
    from django.utils import timezone

    from assessment.models import Answer, Attachment, Campaign, Material, Stage
    from assessment.services import campaign_save

    today = timezone.localdate()
    stages = {stage: (today - timedelta(days=30), today + timedelta(days=30)) for stage in Stage}
    campaign = campaign_save(
        campaign=Campaign(slug="test-2026", title="Тестовая кампания", year=2026, methodology=methodology),
        stages=stages,
        municipalities=[world.municipality, world.sibling, world.other_municipality],
        by=world.users["operator"],
    )
    material = Material(campaign=campaign, title="Инструкция", kind=Material.Kind.DOCUMENT)
    material.file.save("instruction.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    criterion = methodology.mechanisms.get(code="1.1").criteria.get(component__order=1)
    for municipality in (world.municipality, world.other_municipality):
        submission = campaign.submissions.get(municipality=municipality)
        answer = Answer.objects.create(submission=submission, criterion=criterion)
        attachment = Attachment(
            answer=answer,
            original_name="приказ.pdf",
            size=13,
            content_type="application/pdf",
            sha256="0" * 64,
            uploaded_by=world.users["operator"],
        )
        attachment.file.save("order.pdf", ContentFile(b"%PDF-1.4 test"), save=True)
    campaign.material = material
    return campaign


@pytest.fixture
def questionnaires(methodology):
    """The three questionnaires of the 2020 methodology (fixtures/questionnaires_2020.json)."""
    from django.conf import settings

    from surveys.services import questionnaires_import_file

    questionnaires_import_file(
        path=settings.BASE_DIR / "fixtures" / "questionnaires_2020.json", methodology=methodology
    )
    return {q.role: q for q in methodology.questionnaires.all()}


@pytest.fixture
def survey_campaign(campaign, questionnaires):
    """The test campaign (survey stage open) with an invitation for each role of each school."""
    from surveys.services import invitations_create

    invitations_create(campaign=campaign)
    return campaign


FINAL_TOTALS = {"kirov": 281, "kumeny": 136, "elista": 136}


@pytest.fixture
def finalized(campaign, world):
    """The test campaign with every submission finalized: final scores adding up to FINAL_TOTALS (kumeny and
    elista tie), results and ranks computed. The results stage is running, so they are published."""
    from assessment import scoring
    from assessment.models import Criterion, Score, Submission
    from assessment.results import results_compute, specs_for

    criteria = {c.code: c for c in Criterion.objects.filter(mechanism__methodology=campaign.methodology)}
    specs = specs_for(campaign.methodology_id)
    scores = []
    for submission in campaign.submissions.select_related("municipality"):
        points = scoring.distribute(FINAL_TOTALS[submission.municipality.code], specs)
        scores += [
            Score(
                submission=submission,
                criterion=criteria[code],
                round=Score.Round.FINAL,
                points=p,
                by=world.users["operator"],
            )
            for code, p in points.items()
        ]
    Score.objects.bulk_create(scores)
    campaign.submissions.update(status=Submission.Status.FINALIZED)
    results_compute(campaign=campaign)
    return campaign


# --- browser tests: one Chromium for the whole session, shared by every browser test module ---------------

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("Chromium is not installed: .ci/run installs Debian's chromium package")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-quic",
                "--no-first-run",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    """A desktop page in Russian; console errors are collected for the test to assert none."""
    context = browser.new_context(locale="ru-RU", viewport={"width": 1360, "height": 900})
    page = context.new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    yield page
    context.close()


@pytest.fixture
def demo(transactional_db):
    from django.core.management import call_command

    call_command("load_demo", verbosity=0)
