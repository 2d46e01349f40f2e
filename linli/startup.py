"""What a server process does once, after its code is loaded and before its first request.

A web process keeps a few hundred thousand objects for good: Django's and our modules, and
above all the pinyin dictionaries. Python's cyclic garbage collector walks all of them in every
full collection, at a random request every few hundred requests. `settle()` loads what the views
will load anyway (the URLconf imports every view; the apps' warm-ups, linli.hooks, load what
their first request would), then `gc.freeze()` moves everything alive into a permanent
generation the collector no longer walks. Objects made later are collected as usual.
"""

import gc

from . import hooks


def settle() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view and what they use
    for warm in hooks.warmups():
        warm()

    gc.collect()
    gc.freeze()
