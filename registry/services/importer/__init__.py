"""Import of resident spreadsheets (台账): .xlsx, .xls, .ods or UTF-8/GBK .csv, one step a module.

- read.py: what kind of file an upload is, its rows, a big sheet cut into parts;
- headers.py: the template's columns, the names real sheets give them, the header row;
- check.py: every row cleaned with the same validators as the forms and the API into a plain
  tuple (ID numbers and phones encrypted on the way), on all cores for a big file, without the
  database;
- plan.py: the rows resolved against the registry in memory (duplicates, known residents by
  blind index, places, one head per household);
- write.py: the plan written in one transaction, in bulk, with ids allocated up front, moves
  recorded as moves and changes in the audit log;
- job.py: the ImportJob: stored and queued, run, its progress, status and outcome.

The row report (registry.exports.import_report_xlsx) lists every row with what happened to it.
"""

from .headers import HEADERS, field_of, find_header
from .job import load_outcome, rows_done, run_import, start_import, store_report
from .read import read_rows

__all__ = [
    "HEADERS",
    "field_of",
    "find_header",
    "load_outcome",
    "read_rows",
    "rows_done",
    "run_import",
    "start_import",
    "store_report",
]
