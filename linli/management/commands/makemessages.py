"""makemessages that also extracts `_g(...)`: modules whose `_` is gettext_lazy import the eager
gettext as `_g` (e.g. registry/services/importer/, whose row messages are formatted at once)."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    xgettext_options = makemessages.Command.xgettext_options + ["--keyword=_g"]
