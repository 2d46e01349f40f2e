import time

from django.core.management.base import BaseCommand

from fieldwork.services import dues


class Command(BaseCommand):
    help = "Recompute every grid worker's due list (the current period's items of every visit rule)."

    def add_arguments(self, parser):
        parser.add_argument("--area", default="", help="region path of the area to recompute (default: everywhere)")

    def handle(self, *args, area="", **options):
        t = time.perf_counter()
        n = dues.recompute_all(region_path=area)
        self.stdout.write(f"due lists: {n} items in {time.perf_counter() - t:.1f} s")
