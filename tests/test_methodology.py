import pytest
from django.db.models import Sum
from django.urls import reverse

from assessment.models import Campaign, Criterion, MethodologyLocked
from assessment.services import methodology_import, methodology_new_version


def test_the_methodology_has_nine_mechanisms_of_nine_criteria_totalling_555(methodology):
    criteria = Criterion.objects.filter(mechanism__methodology=methodology)

    assert methodology.mechanisms.count() == 9
    assert methodology.components.count() == 9
    assert criteria.count() == 81
    assert criteria.aggregate(total=Sum("max_points"))["total"] == 555
    assert methodology.validation_errors() == []
    assert {m.code: sum(c.max_points for c in m.criteria.all()) for m in methodology.mechanisms.all()} == {
        "1.1": 65,
        "1.2": 65,
        "1.3": 65,
        "1.4": 65,
        "2.1": 59,
        "2.2": 59,
        "2.3": 59,
        "2.4": 59,
        "2.5": 59,
    }


def test_every_criterion_has_real_guidance_in_russian(methodology):
    for criterion in Criterion.objects.filter(mechanism__methodology=methodology):
        assert len(criterion.guidance) > 150, criterion.code
        assert criterion.evidence and criterion.recommendation, criterion.code
        assert "lorem" not in criterion.guidance.lower()
        assert any("а" <= ch <= "я" for ch in criterion.guidance.lower()), criterion.code


def test_exact_mechanism_titles_from_the_seeds(methodology):
    titles = dict(methodology.mechanisms.values_list("code", "title"))

    assert titles["1.1"] == "Система оценки качества подготовки обучающихся"
    assert titles["2.4"] == "Система методической работы"


def test_an_import_that_does_not_add_up_writes_nothing(db):
    import json

    from django.conf import settings

    data = json.loads((settings.BASE_DIR / "fixtures" / "methodology_2020.json").read_text(encoding="utf-8"))
    data["code"] = "broken"
    data["mechanisms"][0]["criteria"][0]["max_points"] += 1

    with pytest.raises(ValueError, match="556"):
        methodology_import(data=data)

    assert not Criterion.objects.filter(mechanism__methodology__code="broken").exists()


def test_a_methodology_in_use_cannot_be_edited(methodology):
    Campaign.objects.create(slug="c", title="C", year=2026, methodology=methodology)
    criterion = Criterion.objects.filter(mechanism__methodology=methodology).first()
    criterion.max_points += 1

    with pytest.raises(MethodologyLocked):
        criterion.save()
    with pytest.raises(MethodologyLocked):
        criterion.mechanism.delete()


def test_a_change_makes_a_new_editable_version(methodology):
    Campaign.objects.create(slug="c", title="C", year=2026, methodology=methodology)

    copy = methodology_new_version(methodology=methodology)
    criterion = Criterion.objects.filter(mechanism__methodology=copy, code="1.1.2").get()
    criterion.max_points = 9
    criterion.save()

    assert copy.version == 2 and copy.previous == methodology
    assert copy.criteria_total() == 554
    assert methodology.criteria_total() == 555
    assert copy.validation_errors()  # 554 ≠ 555: cannot be used by a campaign until fixed


def test_a_campaign_refuses_a_methodology_that_does_not_add_up(methodology):
    from django.core.exceptions import ValidationError

    copy = methodology_new_version(methodology=methodology)
    Criterion.objects.filter(mechanism__methodology=copy, code="1.1.1").update(max_points=1)

    with pytest.raises(ValidationError):
        Campaign(slug="x", title="X", year=2027, methodology=copy).full_clean()


def test_the_methodology_page_shows_every_criterion_and_the_total(methodology, world, as_role):
    client = as_role(world, "organizer")

    response = client.get(reverse("methodology"))

    html = response.content.decode()
    assert response.status_code == 200
    for code in ("1.1.1", "1.4.9", "2.5.9"):
        assert f'id="c-{code}"' in html
    assert "data-total>555<" in html
    assert "Система методической работы" in html
