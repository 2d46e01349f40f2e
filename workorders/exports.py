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


def _local_time(value) -> str:
    """A moment as the sheet shows it: local time to the minute, blank when there is none."""
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def period(start, end) -> tuple[dt.datetime, dt.datetime]:
    """[start, end + 1 day) from ISO dates; the current month when not given or unreadable."""
    today = timezone.localdate()
    try:
        first = dt.date.fromisoformat(start) if start else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    try:
        last = dt.date.fromisoformat(end) if end else today
    except ValueError:
        last = today
    if last < first:
        first, last = last, first
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(first, dt.time.min, tz), dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tz)


def write_board(qs, path: str) -> int:
    book = StreamingWorkbook(path)
    sheet = book.add_sheet("工单", BOARD_HEADERS, [16, 14, 30, 8, 10, 12, 30, 12, 12, 12, 17, 17, 8])
    written = 0
    now = timezone.now()
    for row in qs.values(*FIELDS).iterator(chunk_size=CHUNK):
        overdue = row["overdue"] or (row["due_at"] is not None and row["due_at"] < now and row["status"] not in (Status.CLOSED, Status.VOIDED, Status.DUPLICATE, Status.SUSPENDED))
        sheet.write_row((
            WorkOrder.format_number(row["id"], row["reported_at"]), safe_text(row["category__name"]), safe_text(row["title"]),
            STATUS_ZH.get(row["status"], row["status"]), SOURCE_ZH.get(row["source"], row["source"]), safe_text(row["region__name"]),
            safe_text(row["address"]), safe_text(row["handler_region__name"]), safe_text(row["department"]),
            safe_text(row["assignee__display_name"] or row["assignee__username"] or ""), _local_time(row["reported_at"]), _local_time(row["due_at"]),
            "是" if overdue else "否",
        ))
        written += 1
    book.close()
    return written


def write_ledger(qs, path: str) -> int:
    book = StreamingWorkbook(path)
    sheet = book.add_sheet("问题台账", LEDGER_HEADERS, [16, 14, 30, 10, 12, 30, 10, 14, 17, 17, 17, 17, 17, 17, 8, 8, 8, 8, 8, 30])
    written = 0
    for row in qs.values(*LEDGER_FIELDS).iterator(chunk_size=CHUNK):
        sheet.write_row((
            WorkOrder.format_number(row["id"], row["reported_at"]), safe_text(row["category__name"]), safe_text(row["title"]),
            SOURCE_ZH.get(row["source"], row["source"]), safe_text(row["region__name"]), safe_text(row["address"]),
            safe_text(row["reporter_name"]), row["reporter_phone_masked"], _local_time(row["reported_at"]), _local_time(row["filed_at"]),
            _local_time(row["dispatched_at"]), _local_time(row["handled_at"]), _local_time(row["verified_at"]), _local_time(row["closed_at"]),
            STATUS_ZH.get(row["status"], row["status"]), "是" if row["overdue"] else "否", row["rework_count"],
            "是" if row["settled_on_spot"] else "否", row["rating__score"], safe_text(row["rating__comment"] or ""),
        ))
        written += 1
    book.close()
    return written


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
