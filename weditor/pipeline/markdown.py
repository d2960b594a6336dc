"""The model card's Markdown: escaping of every string a user or a base model chose, tables, and the
summary's figures as tables (whatever shape a method gives its summary)."""

from __future__ import annotations

import html
import json
import re
import unicodedata

LABEL_KEYS = ("site", "name", "metric", "concept", "prompt")


# -- markdown helpers ----------------------------------------------------------------------------
# Every string the card shows that a user or a base model chose (prompts, descriptions, folder and
# model names, parameters) goes through `_plain`, `_code` or `_py_string`: the card is hashed, pushed
# and rendered by the Hub, so `<script>` must arrive as text, and invisible characters (NUL, a
# right-to-left override) as visible escapes. Ordinary strings come out unchanged.


def _plain(value) -> str:
    """A user string as Markdown text: `&`, `<`, `>` HTML-escaped; control, format (bidi, zero-width)
    and other non-characters shown as `\\uXXXX`."""
    text = html.escape(str(value), quote=False)
    return "".join(f"\\u{ord(c):04x}" if unicodedata.category(c)[0] == "C" else c for c in text)


def _code(value) -> str:
    """An inline code span for a name, when it can be one literally; otherwise the escaped text."""
    text = str(value)
    if text and text.isprintable() and "`" not in text and html.escape(text, quote=False) == text:
        return f"`{text}`"
    return _plain(text)


def _py_string(value: str) -> str:
    """A Python string literal for a code block: JSON's escapes (quotes, backslashes, non-printable
    characters) plus `<`, `>`, `&` as `\\u003c`..., which Python reads back as the same string."""
    text = json.dumps(value, ensure_ascii=not value.isprintable())
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _cell(value) -> str:
    if isinstance(value, float):
        text = f"{value:.4g}"
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(value, sort_keys=True)
    else:
        text = str(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return _plain(text.replace("\n", " ")).replace("|", "\\|")


def _table(header: tuple[str, ...], rows: list[tuple]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _flatten(obj, prefix: str = "") -> list[tuple[str, object]]:
    if isinstance(obj, dict) and obj:
        out = []
        for key in sorted(obj, key=str):
            out += _flatten(obj[key], f"{prefix}.{key}" if prefix else str(key))
        return out
    return [(prefix, obj)]


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _split_summary(summary) -> tuple[list[tuple], list[tuple], list[tuple[str, list]]]:
    """(measure, before, after) rows, (measure, value) rows and (title, records) tables.

    `weditor patch` owns the summary's layout, so the usual shapes are all recognised rather than
    one: `{"x": {"before": 1, "after": 0}}`, `{"before": {...}, "after": {...}}`,
    `{"x_before": 1, "x_after": 0}`, and lists of records (per-site figures) as their own table.
    """
    paired: list[tuple] = []
    single: list[tuple] = []
    tables: list[tuple[str, list]] = []

    def join(label: str, key) -> str:
        return f"{label} / {key}" if label else str(key)

    def walk(obj, label: str):
        if isinstance(obj, list) and obj and all(isinstance(x, dict) for x in obj):
            tables.append((label or "records", obj))
            return
        if not isinstance(obj, dict):
            single.append((label or "value", obj))
            return
        rest = dict(obj)
        before, after = obj.get("before"), obj.get("after")
        if "before" in obj and "after" in obj and _is_scalar(before) and _is_scalar(after):
            paired.append((label or "value", before, after))
            del rest["before"], rest["after"]
        elif isinstance(before, dict) and isinstance(after, dict):
            b, a = dict(_flatten(before)), dict(_flatten(after))
            for key in sorted(set(b) | set(a)):
                paired.append((join(label, key), b.get(key, "-"), a.get(key, "-")))
            del rest["before"], rest["after"]
        for key in sorted(rest, key=str):
            value = rest[key]
            m = re.fullmatch(r"(.+?)([_ -])(before|after)", str(key))
            if m:
                twin = m.group(1) + m.group(2) + ("after" if m.group(3) == "before" else "before")
                if twin in rest and _is_scalar(value) and _is_scalar(rest[twin]):
                    if m.group(3) == "before":  # emitted once, with its "after" twin
                        paired.append((join(label, m.group(1)), value, rest[twin]))
                    continue
            if _is_scalar(value):
                single.append((join(label, key), value))
            else:
                walk(value, join(label, key))

    walk(summary, "")
    return paired, single, tables


def _column_order(key: str):
    """Record keys come back sorted from JSON: put the label first and each "before" by its "after"."""
    if key in LABEL_KEYS:
        return (0, LABEL_KEYS.index(key), "", 0)
    m = re.fullmatch(r"(.+?)[_ -](before|after)", key)
    return (1, 0, m.group(1), 1 if m.group(2) == "before" else 2) if m else (1, 0, key, 0)


def summary_section(summary) -> str:
    if not summary:
        return "No measurements were recorded in `weditor.json`."
    paired, single, tables = _split_summary(summary)
    parts = []
    if paired:
        rows = []
        for name, before, after in paired:
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
            rows.append((name, before, after, f"{after - before:+.4g}" if numeric else "-"))
        parts.append(_table(("Measure", "Before", "After", "Change"), rows))
    if single:
        parts.append(_table(("Measure", "Value"), single))
    for title, records in tables:
        columns = sorted(dict.fromkeys(k for r in records for k in r), key=_column_order)
        rows = [tuple(r.get(c, "") for c in columns) for r in records]
        parts.append(f"{_code(title)}:\n\n" + _table(tuple(columns), rows))
    return "\n\n".join(parts)
