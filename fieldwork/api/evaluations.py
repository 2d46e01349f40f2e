"""Ratings of grid workers and the public grid notice over JSON (mounted at /api/fieldwork/).

- POST /ratings            a resident rates one of their grid's workers in the open round
- GET  /ratings/mine       the resident's grid workers, the open round and their ratings
- GET  /ratings/results    staff: results of a round in an area of their scope (anonymous)
- GET  /notice/{slug}      the public notice of a grid (no authentication)
"""

import datetime as dt

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema, Status

from linli.errors import Forbidden, NotFound
from linli.schemas import errors
from regions import access as regions_access

from ..models import EvaluationRound
from ..services import evaluations as ev

router = Router(tags=["fieldwork"])


class RateIn(Schema):
    worker: int
    score: int | str
    comment: str = ""


class RatingOut(Schema):
    id: int
    round: str
    round_id: int
    worker: int
    worker_name: str
    grid: int
    score: int
    comment: str


def _rating_out(r) -> dict:
    return {
        "id": r.pk, "round": r.round.name, "round_id": r.round_id, "worker": r.worker_id, "worker_name": str(r.worker),
        "grid": r.region_id, "score": r.score, "comment": r.comment,
    }


@router.post("/ratings", response={201: RatingOut, **errors()}, summary="Rate my grid worker (residents)")
def rate(request, payload: RateIn):
    r = ev.rate(request.auth, worker=payload.worker, score=payload.score, comment=payload.comment)
    return Status(201, _rating_out(r))


class WorkerOut(Schema):
    id: int
    name: str
    rated: RatingOut | None = None


class RoundOut(Schema):
    id: int
    name: str
    period_start: dt.date
    opens_on: dt.date
    closes_on: dt.date


class MineOut(Schema):
    grid: str
    round: RoundOut | None
    workers: list[WorkerOut]
    past: list[RatingOut]


def _round_out(rnd) -> dict | None:
    if rnd is None:
        return None
    return {"id": rnd.pk, "name": rnd.name, "period_start": rnd.period_start, "opens_on": rnd.opens_on, "closes_on": rnd.closes_on}


@router.get("/ratings/mine", response={200: MineOut, **errors()}, summary="My grid workers and my ratings (residents)")
def mine(request):
    data = ev.rate_page(request.auth)
    if data.refusal is not None:
        raise data.refusal
    return {
        "grid": data.grid.name,
        "round": _round_out(data.round),
        "workers": [{"id": t.worker.pk, "name": str(t.worker), "rated": _rating_out(t.rating) if t.rating else None} for t in data.targets],
        "past": [_rating_out(r) for r in data.past],
    }


class CommentOut(Schema):
    score: int
    comment: str
    on: dt.date


class TallyOut(Schema):
    id: int
    name: str
    grid_id: int | None
    grid: str
    count: int
    average: float | None
    distribution: list[int]
    ranked: bool
    rank: int | None
    comments: list[CommentOut]


class ResultsOut(Schema):
    region: dict
    round: RoundOut
    minimum: int
    count: int
    average: float | None
    distribution: list[int]
    workers: list[TallyOut]
    grids: list[TallyOut]


@router.get("/ratings/results", response={200: ResultsOut, **errors()}, summary="Ratings of grid workers in my area (staff)")
def results(request, round: int | None = None, region: int | None = None):
    user = request.auth
    if not user.has_perm("fieldwork.view_figures"):
        raise Forbidden("forbidden", _("You do not have permission for this."))
    if region is not None:
        area = regions_access.place(user, region)
    else:
        area = regions_access.home_region(user)
        if area is None:
            raise Forbidden("forbidden", _("You do not have permission for this."))
    if round is not None:
        rnd = EvaluationRound.objects.filter(pk=round).first()
        if rnd is None:
            raise NotFound("not_found", _("There is no such rating round."))
    else:
        today = timezone.localdate()
        rnd = ev.current_round(today) or ev.last_closed_round(today) or ev.default_round(ev.half_start(today))
    data = ev.results(area.path, rnd).as_dict()
    data["region"] = {"id": area.pk, "name": area.name}
    return data


class NoticeWorkerOut(Schema):
    name: str
    average: float | None
    count: int


class NoticeOut(Schema):
    grid: str
    community: str
    street: str
    workers: list[NoticeWorkerOut]
    duties: str
    commitment: str
    service_hours: str
    phone: str
    rating_round: str | None
    url: str
    call_url: str | None
    qr_url: str


@router.get("/notice/{slug}", auth=None, response={200: NoticeOut, **errors()}, summary="A grid's public notice (no sign-in)")
def notice(request, slug: str):
    from django.urls import reverse

    try:
        profile = ev.notice_by_slug(slug)
    except NotFound:
        raise Http404
    data = ev.public_notice(profile).as_dict()
    data["url"] = request.build_absolute_uri(reverse("fieldwork:notice", args=[profile.slug]))
    data["call_url"] = request.build_absolute_uri(reverse("fieldwork:notice_call", args=[profile.slug])) if profile.phone_enc else None
    data["qr_url"] = request.build_absolute_uri(reverse("fieldwork:notice_qr", args=[profile.slug]))
    return data
