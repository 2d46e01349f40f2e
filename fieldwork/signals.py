"""Keeps due lists in step with the registry (registry.hooks.households_changed)."""

from django.dispatch import receiver

from registry.hooks import households_changed

# More households than this at once (a bulk import) are rebuilt by area in the background.
INLINE_LIMIT = 50


@receiver(households_changed, dispatch_uid="fieldwork.households_changed")
def _households_changed(sender, household_ids=None, region_path=None, **kwargs):
    from . import tasks
    from .services import dues

    if household_ids and len(household_ids) <= INLINE_LIMIT:
        for hid in sorted(household_ids):
            dues.refresh_household(hid)
        return
    if region_path is None and household_ids:
        from registry.models import Household

        paths = sorted(set(Household.objects.filter(pk__in=household_ids).values_list("region_path", flat=True)))
        for path in paths:
            tasks.rebuild_area(path)
        return
    if region_path is not None:
        tasks.rebuild_area(region_path)
