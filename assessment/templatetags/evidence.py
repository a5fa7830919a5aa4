"""The evidence marks of the pages: whether a link is off the authority's own site (assessment/sites.py)."""

from django import template

from assessment.sites import on_authority_site

register = template.Library()


@register.filter
def off_site(url, website):
    """{% if link.url|off_site:submission.municipality.website %}: the link is not on the authority's site."""
    return not on_authority_site(url, website)
