import factory
from django.contrib.auth import get_user_model

from municipalities.models import Appointment, Municipality, Region, Role, School


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Иван Петрович"
    last_name = factory.Sequence(lambda n: f"Иванов{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    password = factory.django.Password("correct-horse-9")


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ["code"]

    code = factory.Sequence(lambda n: f"{n + 10}")
    name = factory.Sequence(lambda n: f"Область {n}")


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ["code"]

    region = factory.SubFactory(RegionFactory)
    code = factory.Sequence(lambda n: f"mun-{n}")
    name = factory.Sequence(lambda n: f"Район {n}")
    authority_name = "Управление образования"


class SchoolFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = School

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Муниципальное общеобразовательное учреждение «Школа № {n}»")
    short_name = factory.Sequence(lambda n: f"МОУ Школа № {n}")


class AppointmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Appointment

    user = factory.SubFactory(UserFactory)
    role = Role.OPERATOR
