"""Build the demo city (once) and make sure the demo accounts exist. Safe to run on every start.

Every app with a `demo` module adds its part: `demo.build(seed=..., residents=...)` in the order
of INSTALLED_APPS (an app's rows exist before the apps built on it make theirs), then
`demo.finish()` where an app has one (the figures, once every row is there).
"""

from importlib import import_module
from importlib.util import find_spec

from django.apps import apps
from django.core.management import BaseCommand


def demo_modules() -> list:
    out = []
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        if find_spec(name) is not None:
            out.append(import_module(name))
    return out


class Command(BaseCommand):
    help = "Create the demo city with its residents, demo accounts and every app's demo rows, unless they are already there."

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

        modules = demo_modules()
        for module in modules:
            if hasattr(module, "build"):
                said = module.build(seed=seed, residents=residents, progress=progress)
                if said:
                    self.stdout.write(str(said))
        for module in modules:
            if hasattr(module, "finish"):
                module.finish()
