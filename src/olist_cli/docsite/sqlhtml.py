"""SQL as escaped HTML with light syntax colouring (keywords, functions, strings, comments).

Every token is escaped before it is wrapped, so the result is safe to insert as-is.
"""

from __future__ import annotations

import re
from html import escape

from markupsafe import Markup

_KEYWORDS = """
    all and as asc between by case cast coalesce create cross current date day desc distinct
    else end exists false filter first following from full group having if in inner interval
    is join last left like limit matched merge month not null nulls on or order outer over
    partition preceding qualify recursive right row rows select set table then timestamp true
    union unbounded update using values view when where window with year
"""
KEYWORDS = frozenset(_KEYWORDS.split())
# Keywords that take a parenthesis as syntax, not as a function call: "cast(", "in (".
_SYNTAX = "and as cast exists filter in not on or over using values when window"
SYNTAX = frozenset(_SYNTAX.split())

_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<string>'(?:[^']|'')*')
  | (?P<ident>"(?:[^"]|"")*"|`[^`]*`)
  | (?P<number>\b\d+(?:\.\d+)?\b)
  | (?P<word>\b[A-Za-z_][A-Za-z0-9_]*\b)(?P<call>\s*\()?
    """,
    re.VERBOSE | re.DOTALL,
)


def highlight(sql: str) -> Markup:
    out: list[str] = []
    last = 0
    for match in _TOKEN.finditer(sql):
        out.append(escape(sql[last : match.start()]))
        last = match.end()
        kind = match.lastgroup
        if match.group("word") is not None:
            word = match.group("word")
            call = match.group("call") or ""
            if word.lower() in KEYWORDS and not (call and word.lower() not in SYNTAX):
                out.append(f'<span class="k">{escape(word)}</span>{escape(call)}')
            elif call:
                out.append(f'<span class="f">{escape(word)}</span>{escape(call)}')
            else:
                out.append(escape(word))
            continue
        css = {"comment": "c", "string": "s", "ident": "i", "number": "n"}[kind or ""]
        out.append(f'<span class="{css}">{escape(match.group())}</span>')
    out.append(escape(sql[last:]))
    return Markup("".join(out))
