import time

from django.core.management.base import BaseCommand

from workorders.figures import rebuild


class Command(BaseCommand):
    help = "Recompute every work-order fact and wo.* rollup cell from the orders."

    def handle(self, *args, **options):
        t = time.perf_counter()
        stats = rebuild()
        self.stdout.write(f"rebuilt: {stats['changed']} orders, {stats['cells']} cells in {time.perf_counter() - t:.1f} s")
