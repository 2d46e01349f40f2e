"""Demo mediation cases for the demo city: a dozen disputes in the first community's grids, at
every stage (just taken in, under mediation, agreed with visits due, closed with and without an
agreement, withdrawn, court-confirmed), spread over the last five months, with their KPI rows.

`build_demo_cases()` is idempotent: it does nothing when the demo community already has cases.
"""

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from registry.models import Resident
from workorders.models import Category, Kind, Rating, Transition, WorkOrder

from . import figures, services
from .models import Case, FollowUp, Session, Term

# (days ago, category words, title, facts, stage, follow-up result, rating)
SCENARIOS = [
    (150, "邻里", "楼上漏水致楼下天花板受损", "楼上住户卫生间防水层老化漏水，楼下天花板及墙面受损，双方就维修和赔偿金额争执不下。", "closed_agreed", "performed", 5),
    (140, "物业", "物业费与电梯维修纠纷", "业主以电梯频繁故障为由拒交物业费，物业公司要求补缴。", "closed_agreed", "performed", 4),
    (120, "婚姻", "赡养老人费用分担纠纷", "三兄妹就母亲赡养费和轮流照料安排产生矛盾。", "closed_agreed", "partly", 4),
    (110, "劳动", "装修工人工资拖欠", "装修队工人称完工后尚有工资未结清，业主称工程质量有问题。", "closed_no", "", 3),
    (95, "邻里", "公共楼道堆物纠纷", "住户长期在楼道堆放杂物，邻居多次反映消防隐患。", "closed_agreed", "performed", 5),
    (80, "房屋", "房屋漏雨维修责任", "出租房屋漏雨，租客与房东就维修责任和租金减免争执。", "withdrawn", "", None),
    (60, "消费", "预付卡退费纠纷", "小区健身房停业，会员要求退还预付卡余额。", "closed_agreed", "not_performed", 2),
    (45, "邻里", "宠物犬扰民纠纷", "邻居饲养的犬只夜间吠叫，影响老人休息。", "agreed", "", None),
    (30, "物业", "停车位占用纠纷", "业主固定车位被他人长期占用，双方发生口角。", "agreed", "", None),
    (12, "婚姻", "离婚后子女探视纠纷", "双方离婚后就孩子探视时间安排发生争执。", "session", "", None),
    (5, "邻里", "空调外机噪音纠纷", "新装空调外机正对邻居卧室窗户，噪音较大。", "dispatched", "", None),
    (1, "劳动", "保洁员工伤医疗费纠纷", "小区保洁员工作中摔伤，与保洁公司就医疗费承担有分歧。", "filed", "", None),
]


def _category(words: str, categories: list) -> Category:
    for c in categories:
        if words in c.name:
            return c
    return categories[0]


def _shift(case: Case, days: int):
    """Move every date of a case `days` into the past, as if it had happened then."""
    delta = dt.timedelta(days=days)
    order_fields = ["reported_at", "filed_at", "dispatched_at", "started_at", "handled_at", "closed_at", "due_at", "deadline"]
    WorkOrder.objects.filter(pk=case.order_id).update(**{f: F(f) - delta for f in order_fields})
    Transition.objects.filter(order_id=case.order_id).update(at=F("at") - delta)
    Session.objects.filter(case=case).update(held_on=F("held_on") - delta)
    Term.objects.filter(case=case).update(due_on=F("due_on") - delta)
    FollowUp.objects.filter(case=case).update(due_on=F("due_on") - delta)
    c = Case.objects.filter(pk=case.pk)
    c.filter(signed_on__isnull=False).update(signed_on=F("signed_on") - delta, performance_due=F("performance_due") - delta)
    c.filter(court_applied_on__isnull=False).update(court_applied_on=F("court_applied_on") - delta)
    c.filter(court_decided_on__isnull=False).update(court_decided_on=F("court_decided_on") - delta)


def build_demo_cases() -> int:
    """Create the demo cases unless they are there. Returns the number of cases created."""
    from registry.demo import _demo_places

    places = _demo_places()
    if places is None:
        return 0
    community = places["community"]
    if Case.objects.filter(region_path__startswith=community.path).exists():
        return 0
    categories = list(Category.objects.filter(kind=Kind.MEDIATION, is_group=False, active=True).order_by("sort", "code"))
    desk = User.objects.filter(username="community1").first()
    grid_workers = [u for u in (User.objects.filter(username=n).first() for n in ("grid1", "grid2")) if u]
    if not categories or desk is None:
        return 0
    grids = [places["grid1"], places["grid2"]]
    people = {g.pk: list(Resident.objects.filter(region=g).exclude(phone_enc="").order_by("pk")[:40]) for g in grids}
    today = timezone.localdate()
    made = 0
    with transaction.atomic():
        for i, (ago, words, title, facts, stage, visit, score) in enumerate(SCENARIOS):
            grid = grids[i % 2]
            pool = people[grid.pk]
            a, b = (pool[(2 * i) % len(pool)], pool[(2 * i + 1) % len(pool)]) if len(pool) >= 2 else (None, None)
            parties = [
                {"name": a.name if a else "张建国", "role": "applicant", "phone": a.reveal_phone() if a else "", "resident": a},
                {"name": b.name if b else "李秀英", "role": "respondent", "phone": b.reveal_phone() if b else "", "resident": b},
            ]
            how = "initiative" if i % 4 == 3 else "application"
            case = services.take_in(desk, category=_category(words, categories), region=grid, title=title, facts=facts, how=how, parties=parties)
            made += 1
            if stage == "filed":
                _shift(case, ago)
                continue
            mediator = grid_workers[i % len(grid_workers)] if grid_workers and i % 3 == 0 else desk
            services.assign_mediators(desk, case, mediators=[mediator] + ([desk] if mediator != desk else []))
            if stage == "dispatched":
                _shift(case, ago)
                continue
            services.record_session(
                mediator, case, held_on=today, place="社区人民调解室", attendees=f"{parties[0]['name']}、{parties[1]['name']}、调解员",
                notes="听取双方陈述，释明相关法律规定，双方各自提出意见，约定再次调解。",
            )
            if stage == "session":
                _shift(case, ago)
                continue
            if stage in ("closed_agreed", "agreed"):
                services.record_agreement(
                    mediator, case, form="written" if i % 3 else "oral", signed_on=today,
                    text="双方自愿达成协议，互谅互让，今后和睦相处。",
                    terms=[
                        {"party": parties[1]["name"], "obligation": "一次性支付补偿款2000元", "due_on": today + dt.timedelta(days=7)},
                        {"party": parties[1]["name"], "obligation": "完成维修并恢复原状", "due_on": today + dt.timedelta(days=21)},
                    ],
                )
                if i % 4 == 0:
                    services.apply_to_court(mediator, case, applied_on=today, court="姑苏区人民法院")
                    services.record_court_result(mediator, case, result="confirmed", decided_on=today)
                if stage == "closed_agreed":
                    services.close_case(desk, case, note="已达成调解协议，结案。")
            elif stage == "closed_no":
                services.close_case(desk, case, outcome="no_agreement", note="双方分歧较大，告知可向人民法院起诉。")
            elif stage == "withdrawn":
                services.close_case(desk, case, outcome="withdrawn", note="申请人撤回调解申请。")
            _shift(case, ago)
            WorkOrder.objects.filter(pk=case.order_id, closed_at__isnull=False).update(closed_at=F("reported_at") + dt.timedelta(days=3 + i % 5))
            if visit:
                for fu in FollowUp.objects.filter(case=case, due_on__lte=today, result=""):
                    services.record_follow_up(
                        mediator, fu, result=visit, visited_on=fu.due_on,
                        note="" if visit == "performed" else "尚有部分款项未支付，已督促履行。",
                    )
            if score:
                order = WorkOrder.objects.get(pk=case.order_id)
                Rating.objects.create(order=order, score=score, comment="", by=order.reporter, at=order.closed_at)
    figures.refresh_all()
    return made


def build(**_options) -> str | None:
    """The demo mediation cases (linli's seed_demo command calls every app's build)."""
    cases = build_demo_cases()
    return f"Demo mediation cases: {cases}." if cases else None
