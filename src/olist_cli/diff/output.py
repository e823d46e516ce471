"""A DiffReport for people (text) and for programs (JSON; schema in docs/diff.md)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
import math
from typing import Any

from olist_cli.diff.compare import BY_KEY, ModelDiff
from olist_cli.diff.run import DiffReport
from olist_cli.diff.sides import SideSpec

SCHEMA_VERSION = 1
WIDTH = 100  # text lines are cut here


# -- JSON -------------------------------------------------------------------------------


def plain(value: Any) -> Any:
    """A value as JSON can hold it exactly: decimals and non-finite floats as strings,
    dates and times in ISO 8601, bytes in base64."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode("ascii")
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return str(value)


def _side_json(spec: SideSpec) -> dict[str, Any]:
    return {
        "side": spec.text,
        "label": spec.label,
        "engine": spec.engine,
        "location": str(spec.path) if spec.path is not None else spec.project,
        "target": spec.target,
        "raw_dataset": spec.raw_dataset,
    }


def _model_json(m: ModelDiff) -> dict[str, Any]:
    return {
        "model": m.model,
        "materialized": m.materialized,
        "identical": m.identical,
        "compared_by": m.compared_by,
        "key": list(m.key),
        "base": {"relation": m.base.shown, "kind": m.base.kind, "rows": m.rows_base},
        "candidate": {
            "relation": m.candidate.shown,
            "kind": m.candidate.kind,
            "rows": m.rows_candidate,
        },
        "rows": {
            "only_in_base": m.only_in_base,
            "only_in_candidate": m.only_in_candidate,
            "changed": m.changed,
        },
        "columns": {
            "only_in_base": m.columns_only_in_base,
            "only_in_candidate": m.columns_only_in_candidate,
            "type_changes": [
                {"column": c, "base": b, "candidate": t} for c, b, t in m.type_changes
            ],
            "changed": [
                {"column": c.column, "rows": c.changed, "samples": plain(c.samples)}
                for c in m.column_changes
            ],
        },
        "samples": {
            "only_in_base": plain(m.samples_only_in_base),
            "only_in_candidate": plain(m.samples_only_in_candidate),
        },
        "notes": m.notes,
    }


def to_json(report: DiffReport) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "identical": report.identical,
        "base": _side_json(report.base),
        "candidate": _side_json(report.candidate),
        "summary": {
            "models": len(report.models),
            "differing": len(report.differing),
            "identical": len(report.models) - len(report.differing),
            "skipped": len(report.skipped),
        },
        "raw_files": {
            "same": bool(report.raw_files) and all(f.same for f in report.raw_files),
            "tables": [
                {"table": f.table, "base_md5": f.base, "candidate_md5": f.candidate, "same": f.same}
                for f in report.raw_files
            ],
        },
        "models": [_model_json(m) for m in report.models],
        "skipped": [{"model": name, "reason": why} for name, why in report.skipped],
    }


# -- text -------------------------------------------------------------------------------


def shown(value: Any) -> str:
    """A value as SQL would write it: strings quoted, NULL, numbers and times plain."""
    if value is None:
        return "NULL"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {shown(v)}" for k, v in value.items()) + "}"
    return str(value)


def _cut(line: str) -> str:
    return line if len(line) <= WIDTH else line[: WIDTH - 1] + "…"


def _pairs(row: dict[str, Any], columns: list[str] | None = None) -> str:
    names = columns if columns is not None else list(row)
    return ", ".join(f"{c}={shown(row[c])}" for c in names)


def _raw_line(report: DiffReport) -> str:
    files = report.raw_files
    if not files:
        return "raw files: no load recorded on either side, so not known to be the same"
    differ = [f for f in files if not f.same]
    if not differ:
        return f"raw files: the same on both sides ({len(files)} tables, by MD5 of the last load)"
    names = ", ".join(f.table for f in differ)
    return (
        f"raw files: DIFFERENT on the two sides ({names}): rows may differ because the data "
        "does, not the SQL"
    )


def _model_text(m: ModelDiff) -> list[str]:
    how = f"by {', '.join(m.key)}" if m.compared_by == BY_KEY else "as whole rows"
    out = [
        f"DIFFERS  {m.model}  ({m.materialized}, compared {how})  "
        f"{m.rows_base:,} rows → {m.rows_candidate:,} rows"
    ]
    counts = f"  only in base: {m.only_in_base:,}   only in candidate: {m.only_in_candidate:,}"
    if m.compared_by == BY_KEY:
        counts += f"   changed: {m.changed:,}"
    out.append(counts)
    if m.columns_only_in_base:
        out.append(f"  columns only in base: {', '.join(m.columns_only_in_base)}")
    if m.columns_only_in_candidate:
        out.append(f"  columns only in candidate: {', '.join(m.columns_only_in_candidate)}")
    for column, base, cand in m.type_changes:
        out.append(f"  type of {column}: {base} → {cand}")
    for note in m.notes:
        out.append(f"  note: {note}")
    for change in m.column_changes:
        out.append(f"  {change.column}: {change.changed:,} rows changed")
        for s in change.samples:
            out.append(
                _cut(f"      {_pairs(s['key'])}: {shown(s['base'])} → {shown(s['candidate'])}")
            )
    for label, found in (
        ("only in base", m.samples_only_in_base),
        ("only in candidate", m.samples_only_in_candidate),
    ):
        if not found:
            continue
        out.append(f"  {label}, e.g.:")
        for s in found:
            row = s["row"]
            text = _pairs(row, list(m.key)) if m.compared_by == BY_KEY else _pairs(row)
            copies = f"  (×{s['count']})" if s["count"] > 1 else ""
            out.append(_cut(f"      {text}{copies}"))
    return out


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


def to_text(report: DiffReport) -> str:
    out = [f"olist diff: base {report.base.label} → candidate {report.candidate.label}"]
    out.append(_raw_line(report))
    differing = report.differing
    line = (
        f"{_plural(len(report.models), 'model')} compared: {len(differing)} "
        f"{'differs' if len(differing) == 1 else 'differ'}, "
        f"{len(report.models) - len(differing)} identical"
    )
    if report.skipped:
        line += f"; {_plural(len(report.skipped), 'view')} not compared (--views compares them)"
    out.append(line)
    for m in differing:
        out += ["", *_model_text(m)]
    same = [m.model for m in report.models if m.identical]
    if same:
        out += ["", f"identical: {', '.join(same)}"]
    return "\n".join(out) + "\n"
