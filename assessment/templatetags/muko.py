from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()


@register.filter
def pct(share, places=0):
    """A share (0.4) as a per cent in the current locale: «40 %» in Russian, with a no-break space."""
    if share in (None, ""):
        return ""
    value = Decimal(str(share)) * 100
    return f"{number_format(value, decimal_pos=int(places))}\u00a0%"


@register.filter
def get_item(mapping, key):
    return mapping.get(key, "") if hasattr(mapping, "get") else ""
