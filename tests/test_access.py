from municipalities.access import access_for
from municipalities.models import Appointment, Role
from tests.factories import AppointmentFactory


def codes(queryset):
    return set(queryset.values_list("code", flat=True))


def test_national_roles_see_everything(world):
    for role in ("operator", "ministry"):
        access = access_for(world.users[role])

        assert codes(access.regions()) == {"43", "08"}
        assert codes(access.municipalities()) == {"kirov", "kumeny", "elista"}


def test_a_coordinator_sees_only_their_region(world):
    access = access_for(world.users["coordinator"])

    assert codes(access.regions()) == {"43"}
    assert codes(access.municipalities()) == {"kirov", "kumeny"}
    assert set(access.schools()) == {world.school}
    assert access.can_manage_region(world.region.pk)
    assert not access.can_manage_region(world.other_region.pk)


def test_organizer_and_deputy_see_only_their_municipality(world):
    for role in ("organizer", "deputy"):
        access = access_for(world.users[role])

        assert codes(access.regions()) == set()
        assert codes(access.municipalities()) == {"kirov"}
        assert access.can_fill_forms(world.municipality.pk)
        assert not access.can_fill_forms(world.sibling.pk)


def test_an_expert_has_a_home_region_but_sees_no_municipality_unassigned(world):
    access = access_for(world.users["expert"])

    assert access.expert_home_region_ids == {world.region.pk}
    assert codes(access.municipalities()) == set()


def test_a_deactivated_appointment_gives_nothing(world):
    Appointment.objects.filter(user=world.users["coordinator"]).update(is_active=False)
    user = type(world.users["coordinator"]).objects.get(pk=world.users["coordinator"].pk)

    access = access_for(user)

    assert access.roles == frozenset()
    assert codes(access.municipalities()) == set()


def test_an_organizers_region_follows_the_municipality(world):
    appointment = Appointment.objects.get(user=world.users["organizer"], role=Role.ORGANIZER)

    assert appointment.region == world.region


def test_access_is_computed_once_per_request(world, django_assert_num_queries):
    user = world.users["coordinator"]
    access_for(user)

    with django_assert_num_queries(0):
        access_for(user)


def test_appointments_are_listed_in_the_models_order_without_ordering_in_sql(world, django_assert_num_queries):
    # One person with roles in both regions and both municipalities: the header and the home page list them
    # by role, region code and municipality name (Appointment.Meta.ordering), sorted in Python by access_for.
    user = world.users["coordinator"]
    AppointmentFactory(user=user, role=Role.COORDINATOR, region=world.other_region)
    AppointmentFactory(user=user, role=Role.EXPERT, region=world.other_region)
    AppointmentFactory(user=user, role=Role.ORGANIZER, municipality=world.sibling)
    AppointmentFactory(user=user, role=Role.ORGANIZER, municipality=world.municipality)
    AppointmentFactory(user=user, role=Role.MINISTRY)
    user = type(user).objects.get(pk=user.pk)

    with django_assert_num_queries(1) as queries:
        access = access_for(user)

    assert "ORDER BY" not in queries.captured_queries[0]["sql"]
    assert [(a.role, a.region.code if a.region else None) for a in access.appointments] == [
        ("coordinator", "08"),
        ("coordinator", "43"),
        ("expert", "08"),
        ("ministry", None),
        ("organizer", "43"),
        ("organizer", "43"),
    ]
    assert [a.municipality.name for a in access.appointments if a.municipality] == ["город Киров", "Куменский район"]
