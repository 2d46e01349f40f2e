"""The field-work API at /api/fieldwork/: each area's routes in its own module.

- visits.py       the caller's due list, recording and listing visits, arriving at a must-attend order
- patrols.py      starting, feeding and ending a patrol; a patrol's route; patrol lists
- sync.py         the phone's offline queue and the bundle it keeps
- compliance.py   the compliance figures of a place
- evaluations.py  residents' ratings, their results, the public grid notice
"""

from ninja import Router

from . import compliance, evaluations, patrols, sync, visits

router = Router(tags=["fieldwork"])
for _area in (visits, patrols, sync, compliance, evaluations):
    router.add_router("", _area.router)
