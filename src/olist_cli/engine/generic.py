"""The generic data tests: the arguments each takes and the failing-rows SELECT it becomes.

A generic test compiles to a small Jinja template that uses ``ref()``, so it renders,
and declares its dependencies, exactly like a singular test file. Tests about values
(``unique``, ``accepted_values``, ``unique_combination``) return one row per offending
value with its ``n_records``; the others return the offending rows themselves.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from olist_cli.settings import IDENTIFIER

Args = dict[str, Any]
# How a generic test's template reads a model; the parser and the renderer read it back.
REF_CALL = re.compile(r"\{\{ ref\('(\w+)'\) \}\}")


def ref_call(model: str) -> str:
    """The ``{{ ref('model') }}`` call, as every generic template writes it."""
    return f"{{{{ ref('{model}') }}}}"


def only_refs(template: str) -> bool:
    """Whether the template's only Jinja is ref() calls written by ``ref_call``: then its
    refs are ``REF_CALL.findall(template)``, and rendering is a substitution."""
    rest = REF_CALL.sub("", template)
    return not any(marker in rest for marker in ("{{", "{%", "{#"))


@dataclass(frozen=True)
class Kind:
    level: str  # "column", "model" or "both"
    required: tuple[str, ...]
    optional: tuple[str, ...]
    select: Callable[[str, str | None, Args], str]  # (relation, column, args) -> SELECT


def identifier(value: Any, what: str) -> str:
    """Column names reach SQL unquoted, so they must be plain identifiers."""
    if not isinstance(value, str) or not IDENTIFIER.match(value):
        raise ValueError(f"{what} must be a plain column name, got {value!r}")
    return value


def sql_literal(value: Any) -> str:
    """A literal both engines read the same way; strings that would need escaping are refused."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and not set(value) & set("'\\{}"):
        return f"'{value}'"
    raise ValueError(f"{value!r} is not a number or a string without quotes, backslashes or braces")


def _unique(rel: str, col: str | None, args: Args) -> str:
    return (
        f"select {col}, count(*) as n_records\nfrom {rel}\nwhere {col} is not null\n"
        f"group by {col}\nhaving count(*) > 1"
    )


def _not_null(rel: str, col: str | None, args: Args) -> str:
    return f"select *\nfrom {rel}\nwhere {col} is null"


def _relationships(rel: str, col: str | None, args: Args) -> str:
    field = identifier(args["field"], "relationships 'field'")
    if not isinstance(args["to"], str):
        raise ValueError(f"relationships 'to' must be a model name, got {args['to']!r}")
    return (
        f"select child.*\nfrom {rel} as child\n"
        f"left join {ref_call(args['to'])} as parent on child.{col} = parent.{field}\n"
        f"where child.{col} is not null and parent.{field} is null"
    )


def _accepted_values(rel: str, col: str | None, args: Args) -> str:
    values = args["values"]
    if not isinstance(values, list) or not values:
        raise ValueError("accepted_values 'values' must be a non-empty list")
    listed = ", ".join(sql_literal(v) for v in values)
    return (
        f"select {col}, count(*) as n_records\nfrom {rel}\n"
        f"where {col} is not null and {col} not in ({listed})\ngroup by {col}"
    )


def _accepted_range(rel: str, col: str | None, args: Args) -> str:
    strict = not args.get("inclusive", True)
    bounds = []
    if args.get("min") is not None:
        bounds.append(f"{col} {'>' if strict else '>='} {sql_literal(args['min'])}")
    if args.get("max") is not None:
        bounds.append(f"{col} {'<' if strict else '<='} {sql_literal(args['max'])}")
    if not bounds:
        raise ValueError("accepted_range needs 'min', 'max' or both")
    return f"select *\nfrom {rel}\nwhere {col} is not null and not ({' and '.join(bounds)})"


def _expression(rel: str, col: str | None, args: Args) -> str:
    expression = args["expression"]
    if not isinstance(expression, str) or not expression.strip():
        raise ValueError("expression 'expression' must be a SQL boolean expression")
    # Column form, as in dbt_utils: the column is the left operand, e.g. '>= 0'.
    condition = f"{col} {expression}" if col else expression
    return f"select *\nfrom {rel}\nwhere not ({condition})"


def _unique_combination(rel: str, col: str | None, args: Args) -> str:
    columns = args["columns"]
    if not isinstance(columns, list) or not columns:
        raise ValueError("unique_combination 'columns' must be a non-empty list")
    listed = ", ".join(identifier(c, "unique_combination column") for c in columns)
    return (
        f"select {listed}, count(*) as n_records\nfrom {rel}\n"
        f"group by {listed}\nhaving count(*) > 1"
    )


KINDS: dict[str, Kind] = {
    "unique": Kind("column", (), (), _unique),
    "not_null": Kind("column", (), (), _not_null),
    "relationships": Kind("column", ("to", "field"), (), _relationships),
    "accepted_values": Kind("column", ("values",), (), _accepted_values),
    "accepted_range": Kind("column", (), ("min", "max", "inclusive"), _accepted_range),
    "expression": Kind("both", ("expression",), (), _expression),
    "unique_combination": Kind("model", ("columns",), (), _unique_combination),
}


def generic_test(
    kind: str, model: str, column: str | None, args: Args, where: str | None
) -> tuple[str, str]:
    """The (name, template) of one generic test; a ValueError says what is wrong with it."""
    spec = KINDS.get(kind)
    if spec is None:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        hint = f"did you mean '{close[0]}'?" if close else "generic tests are " + ", ".join(KINDS)
        raise ValueError(f"unknown test '{kind}'; {hint}")
    if column is None and spec.level == "column":
        raise ValueError(f"'{kind}' is a column test: list it under columns.<name>.tests")
    if column is not None and spec.level == "model":
        raise ValueError(f"'{kind}' is a model test: list it under the model's tests")
    missing = [a for a in spec.required if a not in args]
    unknown = sorted(set(args) - set(spec.required) - set(spec.optional))
    if missing or unknown:
        problem = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        allowed = ", ".join((*spec.required, *spec.optional, "severity", "where")) or "none"
        raise ValueError(f"'{kind}' arguments: {problem} (allowed: {allowed})")
    if column is not None:
        identifier(column, "a tested column")
    rel = ref_call(model)
    if where:
        rel = f"(select * from {rel} where {where})"
    template = spec.select(rel, column, args)  # validates the arguments before naming
    name = "_".join(p for p in (kind, model, column) if p)
    if kind == "relationships":
        name += f"__{args['to']}"
    elif kind == "unique_combination":
        name += "_" + "__".join(args["columns"])
    return name, template
