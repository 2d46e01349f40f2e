"""bench/RESULTS.md from the results files of the last runs (bench/out/results-<db>.json)."""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "out"


def _f(value, unit="", digits=1):
    if value is None:
        return "—"
    if isinstance(value, (int, float)):
        return f"{value:,.{digits}f}{unit}"
    return str(value)


def _ok(cond) -> str:
    if cond is None:
        return "—"
    return "met" if cond else "**missed**"


def _section(r: dict) -> list[str]:
    db = r["db"]
    m = r.get("machine", {})
    n = r.get("residents", 0)
    lines = [f"## {'SQLite' if db == 'sqlite' else 'PostgreSQL'}", ""]
    lines.append(f"Run {r.get('started', '?')} – {r.get('finished', '?')}; command `{r.get('command', '')}`.")
    if r.get("kept_from_earlier_run"):
        lines.append(f"Figures for {', '.join(r['kept_from_earlier_run'])} come from an earlier run of the same size.")
    version = f"PostgreSQL {m['postgresql']}" if "postgresql" in m else f"SQLite {m.get('sqlite', '?')}"
    lines.append(f"Database: {version}. Load average (1/5/15 min) on the machine: {m.get('load_average', '?')} when the "
                 f"big city was ready, {r.get('load_average_at_end', '?')} at the end (other work shared the cores).")
    lines.append("")
    lines.append("| measure | result | baseline (same run) | target | verdict |")
    lines.append("|---|---|---|---|---|")
    g = r.get("generate")
    if g:
        lines.append(
            f"| generate {g['residents']:,} residents ({g['households']:,} households, {g['houses']:,} houses, "
            f"{g['grids']} grids, {g['tags']:,} tags) | {_f(g['seconds'], ' s')} = {g['residents_per_second']:,} residents/s "
            f"on {g['workers']} processes; database {_f(g.get('db_size_mb'), ' MB', 0)} | — | fast | — |"
        )
    gs = r.get("generate_small")
    s, s0 = r.get("search"), r.get("search_small")
    if s and "cases" in s:
        for case, v in s["cases"].items():
            base = (s0 or {}).get("cases", {}).get(case) if s0 else None
            ratio = v["p95_ms"] / base["p95_ms"] if base and base["p95_ms"] else None
            ok = v["p95_ms"] < 50 and (ratio is None or ratio <= 1.5)
            who, what = case.split(":")
            lines.append(
                f"| {what.replace('_', ' ')} ({who} user), p95 at {n:,} | {_f(v['p95_ms'], ' ms')} (p50 {_f(v['p50_ms'], ' ms')}) "
                f"| {_f(base['p95_ms'] if base else None, ' ms')} at {gs['residents'] if gs else '?':,} (×{_f(ratio, '', 2)}) "
                f"| < 50 ms and ≤ 1.5× | {_ok(ok)} |"
            )
        lines.append(f"| (pages measured through: {s.get('target')}) | | | | |")
    elif s:
        lines.append(f"| list and search | error: {s.get('error')} | | | |")
    lk = r.get("lookup")
    if lk and "p95_ms" in lk:
        lines.append(f"| exact ID-number lookup p95 at {n:,} ({lk['n']} lookups, {lk['found']} found) | "
                     f"{_f(lk['p95_ms'], ' ms', 2)} (p50 {_f(lk['p50_ms'], ' ms', 2)}) | — | < 10 ms | {_ok(lk['p95_ms'] < 10)} |")
    ex = r.get("export")
    if ex and "street" in ex:
        big, small = ex["street"], ex.get("community", {})
        if "seconds" in big:
            flat = big["rss_peak_growth_mb"] - small.get("rss_peak_growth_mb", 0) < 50
            lines.append(
                f"| export {big['rows']:,} masked rows to .xlsx | {_f(big['seconds'], ' s')}, peak RSS +{_f(big['rss_peak_growth_mb'], ' MB')}, "
                f"file {_f(big['file_mb'], ' MB')} | {small.get('rows', 0):,} rows: {_f(small.get('seconds'), ' s')}, "
                f"peak RSS +{_f(small.get('rss_peak_growth_mb'), ' MB')} | < 10 s, flat memory | "
                f"time {_ok(big['seconds'] < 10)}; memory {'flat' if flat else '**grows**'} |"
            )
        else:
            lines.append(f"| export | error: {big} | | | |")
    elif ex:
        lines.append(f"| export | error: {ex.get('error')} | | | |")
    im = r.get("import")
    if im and "raw" in im:
        raw, li, iex = im["raw"], im.get("linli", {}), im.get("import_export", {})
        f = im["file"]
        lines.append(f"| import file | {f['rows']:,} rows, {f['file_mb']} MB .xlsx | | | |")
        def runs(x):
            return f" (median of {', '.join(_f(v, ' s') for v in x['runs'])})" if len(x.get("runs") or ()) > 1 else ""

        lines.append(f"| raw baseline: calamine read + executemany into one flat table | {_f(raw['seconds'], ' s')}{runs(raw)} "
                     "| — | — | — |")
        if "seconds" in li:
            ratio = li["seconds"] / raw["seconds"]
            lines.append(
                f"| registry.services.importer run_import (atomic; {li['status']}, {li['created']:,} created, {li['errors']} errors) "
                f"| {_f(li['seconds'], ' s')}{runs(li)} | raw ×{ratio:.2f} | ≤ 3× raw | {_ok(ratio <= 3)} |"
            )
            if "report_seconds" in li:
                lines.append(
                    f"| its row report (a job of its own after the import: {li['created']:,} rows, masked) "
                    f"| {_f(li['report_seconds'], ' s')} | — | — | — |"
                )
        else:
            lines.append(f"| registry.services.importer | {li.get('error')} | | | |")
        if "seconds" in iex and "seconds" in li:
            scale = f["rows"] / iex["rows"] if iex.get("rows") else 1
            # tablib reads the whole file before the rows are cut, so only the per-row part scales.
            read = iex.get("read_seconds", 0)
            est = read + (iex["seconds"] - read) * scale
            note = "" if scale == 1 else (f" (file read {read:.0f} s + {iex['rows']:,} rows imported in "
                                          f"{iex['seconds'] - read:.0f} s, scaled ×{scale:.0f})")
            speedup = est / li["seconds"]
            lines.append(
                f"| django-import-export 4.4.3 ModelResource, same file{note} ({iex['created']:,} created, "
                f"{iex['errors']} errors) | {_f(est, ' s')} | registry.services.importer is {speedup:.1f}× faster | ≥ 10× faster | "
                f"{_ok(speedup >= 10)} |"
            )
        elif iex:
            lines.append(f"| django-import-export | {iex.get('error', 'skipped')} | | | |")
    elif im:
        lines.append(f"| import | error: {im.get('error')} | | | |")
    lines.append("")
    return lines


def write_report() -> Path:
    results = []
    for db in ("sqlite", "postgres"):
        p = OUT / f"results-{db}.json"
        if p.exists():
            results.append(json.loads(p.read_text()))
    m = next((r["machine"] for r in results if "machine" in r), {})
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench` (see bench/__main__.py); every figure is from the run named in",
        "its section, each beside the baseline measured in the same run.",
        "",
        f"Machine: {m.get('cores', '?')} cores ({m.get('cpu', '?')}), {_f(m.get('memory_mb', 0) / 1024, ' GB')} memory, "
        f"Python {m.get('python', '?')}, SQLite {m.get('sqlite', '?')}, "
        f"PostgreSQL {next((r['machine'].get('postgresql') for r in results if 'postgresql' in r.get('machine', {})), '—')}; "
        f"{m.get('os', '')}.",
        "",
        "How to read it: *p95* is the 95th percentile of the request or call times (after a warm-up);",
        "page timings are server-side (Django test client: middleware, view, queries, template) for one",
        "client; the import baseline is the same file read with python-calamine and inserted with a",
        "plain executemany into one flat table; memory is the peak resident-set growth of a fresh",
        "process doing only the export. Imports run in a transaction that is rolled back after timing,",
        "so each importer starts from the same data; on PostgreSQL the foreign-key checks deferred to",
        "commit are run inside the timing before the rollback. Before its timings each city's",
        "database is read once (this machine pages out file pages left idle; bench/NOTES.md).",
        "",
    ]
    path = HERE / "RESULTS.md"
    put_head(path, lines)
    for r in results:
        body = _section(r)
        put_section(path, body[0].removeprefix("## "), body[1:])
    notes = HERE / "NOTES.md"
    if notes.exists():
        put_section(path, "Notes", ["", notes.read_text().strip(), ""])
    return path


# ---------------------------------------------------------------- sections of RESULTS.md
# Each benchmark writes its own sections (the registry's SQLite and PostgreSQL, "Work orders",
# "Field work") in place and leaves the others as they are.


def _split(text: str) -> tuple[str, list[tuple[str, str]]]:
    parts = re.split(r"(?m)^## ", text)
    head, sections = parts[0], []
    for part in parts[1:]:
        title, _nl, body = part.partition("\n")
        sections.append((title.strip(), body))
    return head, sections


def _join(head: str, sections: list[tuple[str, str]]) -> str:
    return head.rstrip("\n") + "\n\n" + "\n".join(f"## {t}\n\n{b.strip(chr(10))}\n" for t, b in sections)


def put_head(path: Path, lines: list[str]) -> None:
    """Replace the text before the first section."""
    _head, sections = _split(path.read_text() if path.exists() else "")
    path.write_text(_join("\n".join(lines), sections))


def put_section(path: Path, title: str, lines: list[str]) -> None:
    """Write one section of RESULTS.md, in its place if it is there, else at the end."""
    head, sections = _split(path.read_text() if path.exists() else "# Benchmark results\n")
    body = "\n".join(lines)
    for i, (t, _b) in enumerate(sections):
        if t == title:
            sections[i] = (title, body)
            break
    else:
        sections.append((title, body))
    path.write_text(_join(head, sections))
