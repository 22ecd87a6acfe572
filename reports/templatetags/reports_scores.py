"""Lookups the scorecard templates need (dictionary items by a variable key)."""

from django import template

register = template.Library()


@register.filter
def component(components: dict, key: str):
    return components.get(key)


@register.filter
def weight(weights, key: str) -> int:
    return weights.get(key, 0) if isinstance(weights, dict) else getattr(weights, key, 0)
