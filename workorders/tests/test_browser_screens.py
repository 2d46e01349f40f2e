"""Every work-order page in Chromium, on a desktop and on a phone, with realistic data: each must
render without horizontal scrolling on the phone. The screenshots land in screenshots/ (not
committed) for a person to look at."""

import datetime as dt
import io
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from conftest import browser_login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _photo(color, label):
    img = Image.new("RGB", (800, 600), color)
    d = ImageDraw.Draw(img)
    for i in range(0, 800, 40):
        d.line([(i, 600), (i + 300, 0)], fill=tuple(min(255, c + 30) for c in color), width=6)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=80)
    return SimpleUploadedFile(f"{label}.jpg", out.getvalue(), content_type="image/jpeg")


def _city():
    from registry.testing import build_world
    from workorders import services as wo
    from workorders.models import WorkOrder
    from workorders.testing import make_categories

    w = build_world()
    cats = make_categories(w)
    texts = [
        ("litter", "小区东门垃圾桶满溢", "东门垃圾桶已经满了两天，气味很大", {"amount": "large", "bags": 6}),
        ("dispute", "楼上装修噪音扰民", "每天晚上十点后还在电钻", {}),
        ("litter", "绿化带内有建筑垃圾", "有人把装修垃圾倒在绿化带里", {"amount": "small"}),
        ("dispute", "停车位纠纷", "两户为车位争吵", {}),
        ("litter", "楼道堆放杂物", "三单元楼道堆满纸箱，影响消防通道", {"amount": "small"}),
        ("dispute", "宠物狗夜间吠叫", "隔壁家的狗整夜叫", {}),
    ]
    orders = []
    for i in range(18):
        code, title, desc, attrs = texts[i % len(texts)]
        lng = 120.602 + 0.011 * (i % 2) + 0.0003 * i
        o = wo.report(w.resident1, category=cats[code], lat=31.3035 + 0.0003 * i, lng=lng, title=title, description=desc,
                      attributes=attrs, reporter_phone="13912348888", address=f"{i % 5 + 1}号楼附近",
                      files=[_photo((120, 110 + i * 5, 90), "before")] if i % 3 == 0 else [])
        orders.append(o)
    c1 = w.community1
    for o in orders[:12]:
        wo.file(c1, o)
    for o in orders[:9]:
        wo.dispatch(c1, o, assignee=w.grid1_user if o.region == w.grid1 else w.grid2_user, note="请今天处理")
    for o in orders:
        o.refresh_from_db()
    for o in orders[:6]:
        wo.start(o.assignee, o)
    for o in orders[:4]:
        wo.handle(o.assignee, o, note="已联系物业清理完毕", files=[_photo((70, 140, 90), "after")])
    for o in orders[:2]:
        wo.verify(c1, o, passed=True)
    wo.close(c1, orders[0], note="办结")
    wo.rate(w.resident1, orders[0], score=5, comment="处理很快，谢谢网格员")
    wo.request_more_time(orders[4].assignee, orders[4], kind="extension", hours=24, reason="需要等物业经理到场")
    now = timezone.now()
    WorkOrder.objects.filter(pk__in=[orders[7].pk, orders[10].pk]).update(due_at=now - dt.timedelta(hours=3))
    wo.check_deadlines(now)
    wo.settle_on_spot(w.grid1_user, category=cats["litter"], region=w.grid1, note="随手清理", attributes={"amount": "small"},
                      title="路边散落垃圾", files=[_photo((140, 120, 80), "b")], after_files=[_photo((80, 150, 100), "a")])
    return w, cats, orders


def _shoot(pg, name, url):
    pg.goto(pg.base_url + url)
    pg.wait_for_load_state("networkidle")
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"wo-{name}.png"), full_page=True)
    assert pg.evaluate("document.documentElement.scrollWidth") <= pg.viewport_size["width"] + 1, name


def test_every_page_on_a_desktop_and_a_phone(page, phone):
    w, cats, orders = _city()
    pages = {
        "resident1": [("report", "/workorders/report/"), ("mine", "/workorders/mine/"), ("detail-closed", f"/workorders/{orders[0].pk}/")],
        "grid1": [("tasks", "/workorders/tasks/"), ("settle", "/workorders/report/settle/"), ("detail-handled", f"/workorders/{orders[2].pk}/"),
                  ("grid-report", "/workorders/report/")],
        "community1": [("board", "/workorders/board/"), ("detail-reported", f"/workorders/{orders[14].pk}/"),
                       ("detail-request", f"/workorders/{orders[4].pk}/"), ("overdue", "/workorders/overdue/"),
                       ("hotline", "/workorders/report/hotline/"), ("notifications", "/workorders/notifications/"),
                       ("ledger", "/workorders/export/ledger/")],
        "street1": [("assign", "/workorders/report/assign/"), ("street-board", "/workorders/board/?status=all")],
        "roads1": [("inbox", "/workorders/inbox/")],
    }
    for who, shots in pages.items():
        for pg, suffix in ((page, "desktop"), (phone, "phone")):
            pg.context.clear_cookies()
            browser_login(pg, who)
            for name, url in shots:
                _shoot(pg, f"{name}-{suffix}", url)
