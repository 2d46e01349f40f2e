"""Events other apps follow without the registry knowing them.

`households_changed` says that who lives in a household or the care tags of its members changed.
Arguments: `household_ids` (a set) or, for a bulk import, `region_path` (everything under it may
have changed). Field work keeps its due lists in step with it.

For a few households it is sent inside the transaction that made the change, so the receivers'
writes commit or roll back with it (and cost no second commit); after a bulk import it is sent
once the import has committed, and receivers hand the area to a background job.
"""

from django.db import transaction
from django.dispatch import Signal

households_changed = Signal()


def household_changed(*household_ids):
    ids = {i for i in household_ids if i}
    if ids:
        households_changed.send(sender=None, household_ids=ids, region_path=None)


def area_changed(region_path: str):
    transaction.on_commit(lambda: households_changed.send(sender=None, household_ids=None, region_path=region_path))
