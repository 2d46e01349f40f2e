"""Work orders out to Excel: any desk as filtered, and the problem ledger (问题台账).

The queryset comes scoped from the view (access.py); rows are read with `.values().iterator()`
and written by linli.xlsx as they arrive, so memory stays flat. Only the masked reporter phone
leaves the database; free text goes through registry.exports.safe_text (no formulas).
"""

import datetime as dt
import os
import tempfile

from django.http import FileResponse
from django.utils import timezone

from linli.xlsx import StreamingWorkbook
from registry.exports import safe_text

from .models import Source, Status, WorkOrder

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CHUNK = 2000

# The sheet is for Chinese offices whatever the UI language.
STATUS_ZH = {
    Status.REPORTED: "已上报", Status.FILED: "已立案", Status.DISPATCHED: "已派遣", Status.IN_PROGRESS: "处置中",
    Status.HANDLED: "已处置", Status.VERIFIED: "已核查", Status.CLOSED: "已结案", Status.SUSPENDED: "缓办中",
    Status.VOIDED: "已作废", Status.DUPLICATE: "重复件",
}
SOURCE_ZH = {
    Source.PORTAL: "居民随手拍", Source.GRID: "网格员上报", Source.HOTLINE: "热线", Source.ASSIGNED: "上级交办",
    Source.OPEN311: "开放接口", Source.WINDOW: "一窗受理", Source.SUPERVISION: "督查",
}

BOARD_HEADERS = ["工单编号", "类别", "标题", "状态", "来源", "网格", "地址", "承办单位", "承办部门", "处置人", "上报时间",
                 "本阶段时限", "是否超期"]
LEDGER_HEADERS = ["工单编号", "类别", "标题", "来源", "网格", "地址", "上报人", "联系电话(脱敏)", "上报时间", "立案时间",
                  "派遣时间", "处置时间", "核查时间", "结案时间", "状态", "是否超期", "返工次数", "就地解决", "满意度", "评价"]

FIELDS = ("id", "reported_at", "category__name", "title", "status", "source", "region__name", "address",
          "handler_region__name", "department", "assignee__display_name", "assignee__username", "due_at", "overdue")
LEDGER_FIELDS = ("id", "reported_at", "category__name", "title", "source", "region__name", "address", "reporter_name",
                 "reporter_phone_masked", "filed_at", "dispatched_at", "handled_at", "verified_at", "closed_at", "status",
                 "overdue", "rework_count", "settled_on_spot", "rating__score", "rating__comment")


def _t(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def period(start, end) -> tuple[dt.datetime, dt.datetime]:
    """[start, end + 1 day) from ISO dates; the current month when not given or unreadable."""
    today = timezone.localdate()
    try:
        a = dt.date.fromisoformat(start) if start else today.replace(day=1)
    except ValueError:
        a = today.replace(day=1)
    try:
        b = dt.date.fromisoformat(end) if end else today
    except ValueError:
        b = today
    if b < a:
        a, b = b, a
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(a, dt.time.min, tz), dt.datetime.combine(b + dt.timedelta(days=1), dt.time.min, tz)


def write_board(qs, path: str) -> int:
    wb = StreamingWorkbook(path)
    ws = wb.add_sheet("工单", BOARD_HEADERS, [16, 14, 30, 8, 10, 12, 30, 12, 12, 12, 17, 17, 8])
    n = 0
    now = timezone.now()
    for r in qs.values(*FIELDS).iterator(chunk_size=CHUNK):
        overdue = r["overdue"] or (r["due_at"] is not None and r["due_at"] < now and r["status"] not in (Status.CLOSED, Status.VOIDED, Status.DUPLICATE, Status.SUSPENDED))
        ws.write_row((
            WorkOrder.format_number(r["id"], r["reported_at"]), safe_text(r["category__name"]), safe_text(r["title"]),
            STATUS_ZH.get(r["status"], r["status"]), SOURCE_ZH.get(r["source"], r["source"]), safe_text(r["region__name"]),
            safe_text(r["address"]), safe_text(r["handler_region__name"]), safe_text(r["department"]),
            safe_text(r["assignee__display_name"] or r["assignee__username"] or ""), _t(r["reported_at"]), _t(r["due_at"]),
            "是" if overdue else "否",
        ))
        n += 1
    wb.close()
    return n


def write_ledger(qs, path: str) -> int:
    wb = StreamingWorkbook(path)
    ws = wb.add_sheet("问题台账", LEDGER_HEADERS, [16, 14, 30, 10, 12, 30, 10, 14, 17, 17, 17, 17, 17, 17, 8, 8, 8, 8, 8, 30])
    n = 0
    for r in qs.values(*LEDGER_FIELDS).iterator(chunk_size=CHUNK):
        ws.write_row((
            WorkOrder.format_number(r["id"], r["reported_at"]), safe_text(r["category__name"]), safe_text(r["title"]),
            SOURCE_ZH.get(r["source"], r["source"]), safe_text(r["region__name"]), safe_text(r["address"]),
            safe_text(r["reporter_name"]), r["reporter_phone_masked"], _t(r["reported_at"]), _t(r["filed_at"]),
            _t(r["dispatched_at"]), _t(r["handled_at"]), _t(r["verified_at"]), _t(r["closed_at"]),
            STATUS_ZH.get(r["status"], r["status"]), "是" if r["overdue"] else "否", r["rework_count"],
            "是" if r["settled_on_spot"] else "否", r["rating__score"], safe_text(r["rating__comment"] or ""),
        ))
        n += 1
    wb.close()
    return n


def response(qs, name: str, *, ledger: bool = False) -> FileResponse:
    """The sheet as a download; the temp file is unlinked at once (the open handle keeps it)."""
    fd, path = tempfile.mkstemp(prefix="linli-orders-", suffix=".xlsx")
    os.close(fd)
    try:
        (write_ledger if ledger else write_board)(qs, path)
        handle = open(path, "rb")
    finally:
        if os.path.exists(path):
            os.unlink(path)
    filename = f"{name}-{timezone.localdate():%Y%m%d}.xlsx"
    return FileResponse(handle, as_attachment=True, filename=filename, content_type=XLSX)
