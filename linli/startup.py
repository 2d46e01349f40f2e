"""What a server process does once, after its code is loaded and before its first request.

A web process keeps about 370,000 objects for good: Django's and our modules, and above all the
pinyin dictionaries (pypinyin: 47,000 phrases and 42,000 characters, 209,000 lists). Python's
cyclic garbage collector walks all of them in every full collection: 100–145 ms, at a random
request every few hundred requests, which was most of the resident search's slowest 5%.
`settle()` loads what the views will load anyway (the URLconf imports every view; the search
and import use the pinyin dictionaries), then `gc.freeze()` moves everything alive into a
permanent generation the collector no longer walks. Objects made later are collected as usual.
"""

import gc


def settle() -> None:
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view and what they use
    from registry import pinyin  # noqa: F401 — the pinyin dictionaries

    gc.collect()
    gc.freeze()
