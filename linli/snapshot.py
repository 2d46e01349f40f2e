"""Data read on every request but changed rarely, kept per process (the tree's places, who holds
a role where).

A Snapshot holds what its loader built. It is rebuilt:
- at once in the process that changes the data (`changed()`, usually from a post_save signal);
- in every other process soon after that change commits: `changed()` bumps a version number
  in the shared cache (Redis in production), which each process compares with the version it
  loaded at most once every `check_seconds`;
- after `reload_seconds` whatever the version: 30 s where the cache is local memory (a
  single-machine install; its processes share no cache, so the timer is their only news of a
  change), 10 minutes with a shared cache (Redis), as a safety net only.
A cache that cannot answer never stops a request: the timer still applies.
"""

import threading
import time
from collections.abc import Callable

from django.core.cache import cache
from django.db import transaction

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
    def reload_seconds(self) -> float:
        if self._reload_seconds is None:
            from django.conf import settings

            backend = settings.CACHES.get("default", {}).get("BACKEND", "")
            local = backend.endswith(("LocMemCache", "DummyCache"))
            self._reload_seconds = LOCAL_RELOAD_SECONDS if local else SHARED_RELOAD_SECONDS
        return self._reload_seconds

    def _version(self):
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

    def get(self):
        state = self._state
        if self._fresh(state, time.monotonic()):
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
