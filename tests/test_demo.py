import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from assessment.models import Campaign
from municipalities.models import Appointment, Municipality, Region, School
from surveys.models import Invitation, Response

KIROV = {
    "kirov",
    "belaya-kholunitsa",
    "verkhnekamsky",
    "kilmez",
    "kumeny",
    "malmyzh",
    "murashi",
    "orlov",
    "podosinovets",
    "slobodskoy",
    "sovetsk",
    "yaransk",
}
KALMYKIA = {"elista", "lagan", "iki-burul", "sarpa", "yashalta", "yashkul"}


def snapshot():
    User = get_user_model()
    return {
        "regions": list(Region.objects.values_list("code", "name").order_by("code")),
        "municipalities": list(Municipality.objects.values_list("code", "name", "region__code").order_by("code")),
        "schools": list(School.objects.values_list("pk", "name").order_by("pk")),
        "users": list(User.objects.values_list("pk", "username", "password").order_by("pk")),
        "appointments": list(Appointment.objects.values_list("pk", "user_id", "role").order_by("pk")),
        "campaigns": list(Campaign.objects.values_list("slug", "methodology_id").order_by("slug")),
        "invitations": list(Invitation.objects.values_list("pk", "token", "completed").order_by("pk")),
        "responses": Response.objects.count(),
    }


@pytest.fixture
def demo(db):
    call_command("load_demo", verbosity=0)


def test_demo_territory_matches_the_seeds(demo):
    assert set(Municipality.objects.filter(region__code="43").values_list("code", flat=True)) == KIROV
    assert set(Municipality.objects.filter(region__code="08").values_list("code", flat=True)) == KALMYKIA
    assert School.objects.filter(municipality__region__code="43").count() == 167
    biggest = max(Municipality.objects.filter(region__code="43"), key=lambda m: m.schools.count())
    assert biggest.code == "kirov"
    assert School.objects.filter(municipality__region__code="08").count() > 30


def test_demo_accounts_exist_with_their_roles(demo):
    User = get_user_model()
    expected = ["operator", "coordinator-43", "coordinator-08", "expert-1", "expert-2", "expert-3", "ministry"]
    expected += [f"organizer-{code}" for code in KIROV | KALMYKIA]

    for username in expected:
        user = User.objects.get(username=username)
        assert user.check_password("demo12345"), username
        assert Appointment.objects.filter(user=user, is_active=True).exists(), username


def test_load_demo_twice_changes_nothing(demo, capsys):
    before = snapshot()

    call_command("load_demo")

    assert snapshot() == before
    assert "ничего не изменено" in capsys.readouterr().out


def test_the_2026_campaign_is_collecting_data(demo):
    campaign = Campaign.objects.get(slug="2026")

    assert campaign.current_stage == "data_collection" or campaign.current_stage == "surveys"
    assert Campaign.objects.get(slug="2020-approbation").results_published


def test_the_login_page_lists_demo_accounts_only_in_demo_mode(demo, client, settings):
    settings.DEMO = True
    shown = client.get(reverse("login")).content.decode()
    settings.DEMO = False
    hidden = client.get(reverse("login")).content.decode()

    assert "coordinator-43" in shown and "demo12345" in shown
    assert "coordinator-43" not in hidden and "demo12345" not in hidden


@pytest.mark.parametrize(
    ("username", "sees"),
    [
        ("operator", ["Кировская область", "Республика Калмыкия"]),
        ("coordinator-43", ["Кировская область", "город Киров"]),
        ("organizer-elista", ["город Элиста", "Заполните формы первичных данных"]),
        ("expert-2", ["Республика Калмыкия"]),
        ("ministry", ["Кировская область", "Республика Калмыкия"]),
    ],
)
def test_every_demo_role_gets_a_russian_dashboard(demo, client, username, sees):
    client.force_login(get_user_model().objects.get(username=username))

    html = client.get(reverse("home")).content.decode()

    for text in sees:
        assert text in html, text
    assert "Что сделать" in html


def test_the_2020_survey_reproduces_the_seed(demo, client):
    User = get_user_model()

    client.force_login(User.objects.get(username="coordinator-43"))

    body = client.get(reverse("api-response-rates", args=["2020-approbation"])).json()

    kirov = body["regions"][0]
    assert (kirov["code"], kirov["schools"], kirov["responded"]) == ("43", 167, 380)
    assert kirov["invited"] == 167 * 3


def test_the_2026_survey_has_links_ready_to_answer(demo, client):
    invitation = Invitation.objects.filter(campaign__slug="2026", completed=False).first()

    response = client.get(reverse("survey", args=[invitation.token]))

    assert response.status_code == 200
    assert Invitation.objects.filter(campaign__slug="2026").count() == School.objects.count() * 3
