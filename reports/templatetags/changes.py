"""Filters for the change from one campaign to the next (assessment/dynamics.py)."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def signed_pp(share, places=1):
    """A change of share (0.0234) in percentage points: «+2,3 п. п.», «−0,5 п. п.», «0 п. п.» (a true minus sign)."""
    if share in (None, ""):
        return ""
    places = int(places)
    value = (Decimal(str(share)) * 100).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    text = number_format(abs(value), decimal_pos=places)
    sign = "+" if value > 0 else "\u2212" if value < 0 else ""
    return _("%(value)s pp") % {"value": f"{sign}{text}"}


@register.filter
def level_arrow(change):
    """The CSS class of a change of level: up, down or the same."""
    if change is None:
        return ""
    return "level-up" if change.levels > 0 else "level-down" if change.levels < 0 else "level-same"
