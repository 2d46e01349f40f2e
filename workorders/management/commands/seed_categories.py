"""Create the standard category tree, its SLA and routing rules and the year's holidays (only
what is missing; an administrator's edits are never overwritten)."""

from django.core.management import BaseCommand

from workorders.services.seed import seed_categories


class Command(BaseCommand):
    help = "Create the missing work-order categories, attribute schemas, SLA and routing rules and holidays."

    def handle(self, *args, **options):
        created = seed_categories()
        if any(created.values()):
            self.stdout.write("Created: " + ", ".join(f"{n} {what}" for what, n in created.items()))
        else:
            self.stdout.write("Categories already seeded; nothing changed.")
