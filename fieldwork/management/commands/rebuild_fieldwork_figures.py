import time

from django.core.management.base import BaseCommand

from fieldwork.figures import rebuild, refresh


class Command(BaseCommand):
    help = "Recompute every grid worker's worker-days and the fw.* roll-up cells from visits, patrols, orders and ratings."

    def add_arguments(self, parser):
        parser.add_argument("--incremental", action="store_true", help="only what changed since the last run (what the 10-minute job does)")

    def handle(self, *args, incremental=False, **options):
        t = time.perf_counter()
        stats = refresh() if incremental else rebuild()
        self.stdout.write(f"field-work figures: {stats} in {time.perf_counter() - t:.1f} s")
