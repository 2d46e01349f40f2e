"""Serve the platform on one machine: the web server plus a huey consumer for background jobs
(imports, and later SLA timers and rollups). Production runs gunicorn and `manage.py run_huey`
as separate processes instead (README, "Production")."""

import ctypes
import signal
import subprocess
import sys

from django.core.management import BaseCommand, call_command


def _die_with_parent():
    """Linux: the consumer gets SIGTERM if this process dies in any way."""
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Command(BaseCommand):
    help = "Run the web server and a background-job consumer together (development and demo)."

    def add_arguments(self, parser):
        parser.add_argument("--port", default="8000")
        parser.add_argument("--host", default="127.0.0.1")

    def handle(self, *args, port, host, **options):
        consumer = subprocess.Popen([sys.executable, "manage.py", "run_huey", "--quiet"], preexec_fn=_die_with_parent)

        def on_term(signum, frame):
            raise KeyboardInterrupt

        # `kill` or a closed terminal: stop the consumer too, not only the web server.
        signal.signal(signal.SIGTERM, on_term)
        self.stdout.write(f"Linli: http://{host}:{port}/  (demo accounts in README; password linli-demo)")
        try:
            call_command("runserver", f"{host}:{port}", use_reloader=False)
        finally:
            consumer.terminate()
            consumer.wait(timeout=10)
