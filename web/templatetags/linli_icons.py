"""The navigation's line icons as ready-made SVG strings: `{% icon name %}` puts one in.

An include of a template per icon (about twenty on every page: the menu and the phone tab bar)
costs a context push, a template lookup and an if-chain each; a dict lookup costs nothing."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()

_OPEN = (
    '<svg class="icon" viewBox="0 0 24 24" width="24" height="24" aria-hidden="true" focusable="false" fill="none" '
    'stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round">'
)

_SHAPES = {
    "home": '<path d="M3 11l9-7 9 7"/><path d="M5 10v10h5v-6h4v6h5V10"/>',
    "tree": '<circle cx="12" cy="4.5" r="2"/><circle cx="5" cy="19" r="2"/><circle cx="12" cy="19" r="2"/>'
            '<circle cx="19" cy="19" r="2"/><path d="M12 6.5V17M12 11H5v6M12 11h7v6"/>',
    "people": '<circle cx="9" cy="8" r="3.5"/><path d="M2.5 20c.5-3.8 3.2-6 6.5-6s6 2.2 6.5 6"/><circle cx="17" cy="9" r="2.5"/>'
              '<path d="M16.5 14c2.6.2 4.4 2 5 5"/>',
    "building": '<rect x="5" y="3" width="14" height="18" rx="1"/><path d="M9 7h2M13 7h2M9 11h2M13 11h2M9 15h2M13 15h2M10 21v-3h4v3"/>',
    "org": '<path d="M3 21h18M5 21V9l7-5 7 5v12"/><path d="M9 21v-6h6v6"/>',
    "sheet": '<rect x="4" y="3" width="16" height="18" rx="1.5"/><path d="M4 9h16M4 15h16M10 3v18"/>',
    "eye": '<path d="M2 12s3.6-7 10-7 10 7 10 7-3.6 7-10 7S2 12 2 12z"/><circle cx="12" cy="12" r="3"/>',
    "search": '<circle cx="11" cy="11" r="7"/><path d="M20 20l-3.5-3.5"/>',
    "menu": '<path d="M4 6h16M4 12h16M4 18h16"/>',
    "pin": '<path d="M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21z"/><circle cx="12" cy="9.5" r="2.5"/>',
}
_FALLBACK = '<circle cx="12" cy="12" r="8"/>'

# Each ends with a line break, as the include it replaces did (a space between icon and label).
ICONS = {name: mark_safe(_OPEN + shape + "</svg>\n") for name, shape in _SHAPES.items()}
UNKNOWN = mark_safe(_OPEN + _FALLBACK + "</svg>\n")


@register.simple_tag
def icon(name) -> str:
    """The SVG of a named icon (a plain circle for an unknown name)."""
    return ICONS.get(name, UNKNOWN)
