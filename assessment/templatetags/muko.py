from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

from assessment.models import LevelBand

register = template.Library()


@register.filter
def pct(share, places=0):
    """A share (0.4) as a per cent in the current locale: «40 %» in Russian, with a no-break space."""
    if share in (None, ""):
        return ""
    places = int(places)
    # number_format cuts digits off; a share of 2/3 must read 67 %, not 66 %.
    value = (Decimal(str(share)) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return f"{number_format(value, decimal_pos=places)}\u00a0%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""


@register.filter
def subtract(value, arg):
    try:
        return int(value) - int(arg)
    except (TypeError, ValueError):
        return ""


@register.filter
def signed(value):
    """+5, −3 (a true minus sign), 0: a change reads at a glance."""
    if value in (None, ""):
        return ""
    value = int(value)
    return f"+{value}" if value > 0 else f"\u2212{-value}" if value < 0 else "0"


@register.filter
def level_label(code):
    """The name of a level («partially formed») from its code, in the current language."""
    try:
        return LevelBand.Level(code).label
    except ValueError:
        return code


@register.filter
def follows_region(access, region_id):
    """{% if access|follows_region:region.pk %}: the one rule of access.py, in a template."""
    return access.follows_region(region_id)
