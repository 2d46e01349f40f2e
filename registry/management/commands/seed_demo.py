"""Build the demo city (once) and make sure the demo accounts exist. Safe to run on every start."""

from django.core.management import BaseCommand

from insights.rollups import refresh as refresh_rollups
from mediation.demo import build_demo_cases
from registry.demo import PASSWORD, build_demo
from workorders.demo import build_demo_orders, demo_orders_summary


class Command(BaseCommand):
    help = "Create the demo city with its residents and demo accounts, unless it is already there."

    def add_arguments(self, parser):
        parser.add_argument("--residents", type=int, default=10_000, help="number of residents (default 10,000)")
        parser.add_argument("--seed", type=int, default=20240101, help="random seed (same seed, same city)")

    def handle(self, *args, residents, seed, **options):
        if residents < 10:
            self.stderr.write("--residents must be at least 10.")
            return

        def progress(grid, totals):
            if options.get("verbosity", 1) >= 2:
                self.stdout.write(f"  {grid.name} {grid.code}: {totals['residents']} residents so far")

        summary = build_demo(residents=residents, seed=seed, progress=progress)
        if summary.created:
            c = summary.counts
            self.stdout.write(
                f"Demo city built in {summary.seconds:.1f} s: {c['regions']} places, {c['buildings']} buildings, "
                f"{c['houses']} houses, {c['households']} households, {c['residents']} residents, "
                f"{c['tags']} care tags, {c['organizations']} organisations."
            )
        else:
            self.stdout.write(f"Demo city already there ({summary.seconds:.2f} s).")
        if summary.accounts:
            self.stdout.write(f"Demo accounts created: {', '.join(summary.accounts)} (password {PASSWORD}).")
        self.stdout.write(demo_orders_summary(build_demo_orders()))
        cases = build_demo_cases()
        if cases:
            self.stdout.write(f"Demo mediation cases: {cases}.")
        # The dashboards' figures at once (the minute job keeps them current afterwards).
        refresh_rollups()
        from fieldwork.demo import build as build_fieldwork

        # Field work last: its visits find work orders and its arrivals attend the demo's orders.
        self.stdout.write(str(build_fieldwork(seed=seed)))
        refresh_rollups()
