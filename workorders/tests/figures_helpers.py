"""Orders for the insights tests: built through the work-order services, then back-dated."""

import datetime as dt

from django.utils import timezone

from workorders import services as wo
from workorders.models import Source, WorkOrder

TZ = timezone.get_default_timezone()


def at(day: str, hour: int = 9, minute: int = 0) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=TZ)


def backdate(order, **fields):
    """Move an order's timestamps and flags (the services stamp "now"); bumps updated_at as a
    save would."""
    WorkOrder.objects.filter(pk=order.pk).update(updated_at=timezone.now(), **fields)
    order.refresh_from_db()
    return order


def reported(w, cats, grid=None, category="litter", **kw):
    grid = grid or w.grid1
    return wo.report(
        {w.grid1.pk: w.grid1_user, w.grid2.pk: w.grid2_user}.get(grid.pk, w.street1),
        category=cats[category],
        source=Source.GRID,
        region=grid,
        title=kw.pop("title", "暴露垃圾"),
        attributes={"amount": "small"} if category == "litter" else {},
    )


def closed(w, cats, grid=None, rework=False):
    """Report → file → dispatch → start → handle → (rework →) verify → close."""
    o = reported(w, cats, grid)
    grid = grid or w.grid1
    worker = {w.grid1.pk: w.grid1_user, w.grid2.pk: w.grid2_user}.get(grid.pk, w.street1)
    o = wo.file(w.street1, o)
    o = wo.dispatch(w.street1, o, assignee=worker)
    o = wo.start(worker, o)
    o = wo.handle(worker, o, note="已清理")
    if rework:
        o = wo.verify(w.street1, o, passed=False, note="没清干净")
        o = wo.handle(worker, o, note="再次清理")
    o = wo.verify(w.street1, o, passed=True)
    return wo.close(w.street1, o)
