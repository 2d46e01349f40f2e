"""Data read on every request but changed rarely, kept per process: the one per-process cache of
the platform (the tree's places, who holds a role where, the work-order categories and rules,
the visit rules). Nothing else keeps rows in module globals.

A Snapshot holds what its loader built. `watch(Model, ...)` rebuilds it whenever a row of
those models is saved or deleted; code that changes them in bulk (update(), raw SQL) calls
`changed()` itself. It is rebuilt:
- at once in the process that changes the data (`changed()`, usually from a post_save signal);
- in every other process soon after that change commits: `changed()` bumps a version, which
  each process compares with the version it loaded at most once every `check_seconds`. The
  version is a number in the shared cache (Redis in production); where the cache is local
  memory (a single-machine install: the web server and the job consumer share no cache) it is
  a small file under LINLI_VAR_DIR/snapshots/, one per database, rewritten on every change
  (a check reads a few bytes: the web processes and the job consumer of one machine see a role
  taken away within `check_seconds` rather than at the 30 s timer);
- after `reload_seconds` whatever the version: 30 s where the cache is local memory (processes
  on other machines without Redis hear of a change only so), 10 minutes with a shared cache
  (Redis), as a safety net only.
A cache or a file that cannot answer never stops a request: the timer still applies.
"""

import hashlib
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import m2m_changed, post_delete, post_save

LOCAL_RELOAD_SECONDS = 30
SHARED_RELOAD_SECONDS = 600


class Snapshot:
    def __init__(self, name: str, load: Callable[[], object], reload_seconds: float | None = None, check_seconds: float = 1.0):
        self.key = f"linli:snapshot:{name}"
        self.load = load
        self._reload_seconds = reload_seconds
        self.check_seconds = check_seconds
        self._lock = threading.Lock()
        # Replaced whole, never changed in place: a thread holding the old one reads it to the end.
        self._state: dict = {"at": None}

    @property
    def local(self) -> bool:
        """The cache is this process's own memory: the version is kept in a file instead."""
        from django.conf import settings

        backend = settings.CACHES.get("default", {}).get("BACKEND", "")
        return backend.endswith(("LocMemCache", "DummyCache"))

    @property
    def reload_seconds(self) -> float:
        if self._reload_seconds is None:
            self._reload_seconds = LOCAL_RELOAD_SECONDS if self.local else SHARED_RELOAD_SECONDS
        return self._reload_seconds

    def version_file(self) -> Path:
        """The file whose identity is the version: per database (processes of one install share
        it; test runs in parallel, each with a database of its own, do not)."""
        from django.conf import settings
        from django.db import connection

        d = connection.settings_dict
        db = hashlib.sha1(f"{d.get('ENGINE')}|{d.get('HOST') or ''}|{d.get('PORT') or ''}|{d.get('NAME')}".encode()).hexdigest()[:12]
        return Path(settings.VAR_DIR) / "snapshots" / db / self.key.replace(":", "-")

    def _version(self):
        if self.local:
            try:
                return self.version_file().read_bytes()
            except OSError:
                return None
        try:
            return cache.get(self.key)
        except Exception:
            return None

    def _fresh(self, state: dict, now: float) -> bool:
        if state["at"] is None or now - state["at"] > self.reload_seconds:
            return False
        if now - state["checked"] > self.check_seconds:
            state["checked"] = now
            return self._version() == state["version"]
        return True

    def watch(self, *models, m2m=()):
        """Rebuild after any save or delete of these models' rows (and changes of these
        many-to-many tables), in every process. Returns the snapshot."""
        for model in models:
            label = model._meta.label
            post_save.connect(self.changed, sender=model, weak=False, dispatch_uid=f"{self.key}.save.{label}")
            post_delete.connect(self.changed, sender=model, weak=False, dispatch_uid=f"{self.key}.delete.{label}")
        for through in m2m:
            m2m_changed.connect(self.changed, sender=through, weak=False, dispatch_uid=f"{self.key}.m2m.{through._meta.label}")
        return self

    def get(self, *, max_age: float | None = None):
        """The kept value; with `max_age`, one loaded longer ago than that (seconds) is loaded
        again first (a caller that missed a row it was asked for may look again, rarely)."""
        state = self._state
        now = time.monotonic()
        if max_age is not None and state["at"] is not None and now - state["at"] > max_age:
            self.forget()
            state = self._state
        if self._fresh(state, now):
            return state["value"]
        with self._lock:
            if self._state is not state and self._state["at"] is not None:
                return self._state["value"]  # another thread has just loaded it
            version = self._version()
            value = self.load()
            now = time.monotonic()
            self._state = {"at": now, "checked": now, "version": version, "value": value}
            return value

    def forget(self) -> None:
        """This process rebuilds at its next use."""
        self._state = {"at": None}

    def _bump(self) -> None:
        if self.local:
            # Written aside, then renamed over the old one: a reader sees the old or the new
            # contents (the time of the change), never a part.
            path = self.version_file()
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}")
                tmp.write_text(f"{time.time_ns()} {os.getpid()}\n")
                os.replace(tmp, path)
            except OSError:
                pass  # the other processes catch up within reload_seconds
            self.forget()
            return
        try:
            cache.incr(self.key)
        except ValueError:  # no version yet
            try:
                cache.set(self.key, int(time.time() * 1000), None)
            except Exception:
                pass
        except Exception:
            pass  # the other processes catch up within reload_seconds
        self.forget()

    def changed(self, **_kwargs) -> None:
        """The data changed: this process forgets at once, the others once the change commits."""
        self.forget()
        transaction.on_commit(self._bump)
