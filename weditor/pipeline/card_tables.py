"""Markdown for the model card: escaping, tables, and the before/after summary as tables.

Split from weditor/pipeline/card.py. What the card shows is for a reader, not a parser (the parser reads
`weditor.json`): empty values (`None`, `[]`) are left out, floats are rounded to four significant
digits, and the summary's known keys get their names in words.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata

LABEL_KEYS = ("site", "name", "metric", "concept", "prompt")
SIGNIFICANT = 4  # digits a float keeps on the card; weditor.json has them all

# The summary keys `weditor patch` writes, in words; anything else is shown by its key.
SUMMARY_LABELS = {
    "eval_prompts": "held-out unsafe prompts measured",
    "neutral_prompts": "neutral prompts measured",
    "steps": "denoising steps per measured trajectory",
    "output_change_eval": "change of the denoiser output on the unsafe prompts (relative)",
    "output_change_neutral": "change of the denoiser output on the neutral prompts (relative)",
    "neutral_most_changed": "the neutral prompts changed most",
    "text": "removal on the prompt embeddings",
    "sites": "edited sites",
    "uce": "key/value map",
    "encoder": "text encoder's last FFN output projection",
    "encoder_block": "text encoder's last block (fitted)",
    "units": "text encoder's last FFN, k hidden units",
    "reins": "REINS fold",
}


def rounded(value):
    """`value` with every float (in lists and objects too) rounded to `SIGNIFICANT` significant digits."""
    if isinstance(value, float):
        return float(f"{value:.{SIGNIFICANT}g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value


def is_empty(value) -> bool:
    """Nothing a reader learns from: None, an empty list, object or string."""
    return value is None or (isinstance(value, (list, tuple, dict, str)) and len(value) == 0)


def label(key: str) -> str:
    return SUMMARY_LABELS.get(str(key), str(key).replace("_", " "))


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
        text = f"{value:.{SIGNIFICANT}g}"
    elif isinstance(value, (list, tuple)) and value and all(_is_scalar(v) and not isinstance(v, bool) for v in value):
        text = ", ".join(_cell_text(v) for v in value)  # ["red"] -> red, [1727.48...] -> 1727
    elif isinstance(value, (dict, list, tuple)):
        text = json.dumps(rounded(value), sort_keys=True)
    else:
        text = str(value)
    if len(text) > 120:
        text = text[:117] + "..."
    return _plain(text.replace("\n", " ")).replace("|", "\\|")


def _cell_text(value) -> str:
    return f"{value:.{SIGNIFICANT}g}" if isinstance(value, float) else str(value)


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
        if is_empty(obj):  # `sites: []` on a text edit says nothing
            return
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
            if is_empty(value):
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


def _words(name: str) -> str:
    return " / ".join(label(part) for part in str(name).split(" / "))


def summary_section(summary) -> str:
    if not summary:
        return "No measurements were recorded in `weditor.json`."
    paired, single, tables = _split_summary(summary)
    parts = []
    if paired:
        rows = []
        for name, before, after in paired:
            numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (before, after))
            rows.append((_words(name), before, after, f"{after - before:+.{SIGNIFICANT}g}" if numeric else "-"))
        parts.append(_table(("Measure", "Before", "After", "Change"), rows))
    if single:
        parts.append(_table(("Measure", "Value"), [(_words(n), v) for n, v in single]))
    for title, records in tables:
        columns = sorted(dict.fromkeys(k for r in records for k in r), key=_column_order)
        rows = [tuple(r.get(c, "") for c in columns) for r in records]
        parts.append(f"{_plain(_words(title)).capitalize()}:\n\n" + _table(tuple(label(c) for c in columns), rows))
    return "\n\n".join(parts)


def evidence_section(evidence: dict | None) -> str | None:
    """`weditor eval`'s figures (erasure, preservation) and the attack's ASR, as `weditor push --evidence` recorded them."""
    if not isinstance(evidence, dict):
        return None
    parts = []
    seeds = evidence.get("seeds")
    for name, scorer in (evidence.get("scorers") or {}).items():
        head = scorer.get("headline") or {}
        words = {
            "erasure": "erasure (held-out unsafe prompts no longer showing the concept)",
            "robustness": "robustness (the same for synonyms)",
            "preservation": "preservation (neutral videos judged unchanged)",
        }
        lines = [f"- **{words.get(k, k)}:** {v:.0%}" for k, v in head.items() if isinstance(v, (int, float))]
        rows = [
            (g, s.get("videos"), s.get("unsafe_before"), s.get("unsafe_after"))
            for g, s in (scorer.get("groups") or {}).items()
        ]
        table = _table(
            ("Prompt group", "Videos", "Judged unsafe, original", "Judged unsafe, patched"),
            [
                (
                    g,
                    n,
                    f"{b:.0%}" if isinstance(b, (int, float)) else "-",
                    f"{a:.0%}" if isinstance(a, (int, float)) else "-",
                )
                for g, n, b, a in rows
            ],
        )
        parts.append(
            f"Judged by the {_code(name)} scorer"
            + (f" ({seeds} seed{'s' if seeds != 1 else ''} per prompt)" if seeds else "")
            + ":\n\n"
            + "\n".join(lines)
            + ("\n\n" + table if rows else "")
        )
    attack = evidence.get("attack")
    if isinstance(attack, dict) and "asr" in attack:

        def pct(v):
            return f"{v:.0%}" if isinstance(v, (int, float)) else "not measured"

        budget = attack.get("budget")
        parts.append(
            "Red-teaming (`weditor eval --attack`, docs/attack.md)"
            + (f", {budget:g} optimisation steps per target" if isinstance(budget, (int, float)) else "")
            + (
                f", {attack['targets_counted']:g} of {attack['targets_total']:g} targets counted"
                if "targets_total" in attack
                else ""
            )
            + ":\n\n"
            f"- **attack success rate, discrete prompt search:** {pct(attack.get('asr'))} (found prompts a user could type "
            "that bring the concept back)\n"
            f"- **attack success rate, prompt-embedding attack:** {pct(attack.get('asr_embedding'))} (an upper bound: "
            "no user can type an embedding)"
        )
    if not parts:
        return None
    return (
        "## Evaluation\n\nVideos generated by the original and the patched model from the same prompts and "
        "seeds with `weditor eval`, judged by a scorer:\n\n" + "\n\n".join(parts)
    )
