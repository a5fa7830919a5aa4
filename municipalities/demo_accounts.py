"""The demo accounts the login page lists when DEMO=1 (fixtures.demo creates them): every password is the same,
so that a newcomer can try each role."""

import json
from pathlib import Path

from django.conf import settings

from municipalities.models import Appointment, Role

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
        .filter(user__username__in=demo_usernames(), user__is_active=True)
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


def demo_usernames():
    codes = [m["code"] for m in territory_data()["municipalities"]]
    return (
        ["operator", "ministry", "coordinator-43", "coordinator-08"]
        + [e[0] for e in EXPERTS]
        + [f"organizer-{code}" for code in codes]
        + [f"deputy-{code}" for code in codes]
    )
