"""Write static/css/bootstrap.min.css: Bootstrap's CSS (from Bootstrap-Flask) with only
the rules whose classes the site uses.

Bootstrap's full CSS is 232 KB (23 KB brotli) and about 90 % of it styles components
the site never shows; every page pays for it in CSS parsing and in style
recalculation, which Lighthouse counts as blocking time on a slow phone. A rule is
kept when every class and attribute its selector names appears somewhere in the
templates, our JavaScript or the Python package (any word there counts, so the test
is generous); element-only selectors (the reboot) and the custom properties on
:root are always kept. Classes built in a template from a prefix (`alert-{{ ... }}`)
keep every class with that prefix.

The file is generated, never committed (it is Bootstrap's own CSS): `make run`,
`make test` and the other make targets run this script first, and the test suite
runs it when it starts; by hand:

    .venv/bin/python scripts/trim_bootstrap.py
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "static" / "css" / "bootstrap.min.css"
SOURCES = [
    (ROOT / "templates", ("*.html", "*.xml", "*.txt")),
    (ROOT / "static" / "js", ("*.js",)),
    (ROOT / "directory", ("*.py",)),
]

CLASS_RE = re.compile(r"\.(-?[_a-zA-Z][\w-]*)")
ATTR_RE = re.compile(r"\[\s*([\w-]+)")
WORD_RE = re.compile(r"[A-Za-z_][\w-]*")
# `alert-{{ category }}`, `'text-bg-' ~ x`: classes completed at render time.
PREFIX_RE = re.compile(r"([a-z][\w-]*-)(?:\{\{|'\s*~|\"\s*~)")


def bootstrap_source() -> Path:
    import flask_bootstrap

    return Path(flask_bootstrap.__file__).parent / "static/bootstrap5/css/bootstrap.min.css"


def used_words() -> tuple[set[str], set[str]]:
    """Every word in the site's templates, scripts and Python, and the class prefixes
    completed at render time."""
    words: set[str] = set()
    prefixes: set[str] = set()
    for folder, patterns in SOURCES:
        for pattern in patterns:
            for path in folder.rglob(pattern):
                text = path.read_text(encoding="utf-8")
                words.update(WORD_RE.findall(text))
                prefixes.update(PREFIX_RE.findall(text))
    return words, prefixes


def split_top(text: str, sep: str) -> list[str]:
    """Split on sep outside brackets, parentheses and strings."""
    parts, depth, quote, start = [], 0, "", 0
    for i, ch in enumerate(text):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def parse(css: str, pos: int = 0) -> tuple[list[tuple[str, object]], int]:
    """Rules as (prelude, declarations) or (at-prelude, [rules]) until a closing brace."""
    items: list[tuple[str, object]] = []
    quote, start, i = "", pos, pos
    while i < len(css):
        ch = css[i]
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "\"'":
            quote = ch
        elif css.startswith("/*", i):
            end = css.index("*/", i + 2) + 2
            if css.startswith("/*!", i):  # the licence comment stays
                items.append(("", css[i:end]))
            i = end
            start = i
            continue
        elif ch == ";" and css[start:i].lstrip().startswith("@"):
            items.append((css[start : i + 1].strip(), None))
            start = i + 1
        elif ch == "{":
            prelude = css[start:i].strip()
            if prelude.startswith(("@media", "@supports", "@container", "@layer")):
                inner, i = parse(css, i + 1)
                items.append((prelude, inner))
            else:
                end = i + 1
                depth = 1
                while depth:
                    if css[end] == "{":
                        depth += 1
                    elif css[end] == "}":
                        depth -= 1
                    end += 1
                items.append((prelude, css[i + 1 : end - 1]))
                i = end - 1
            start = i + 1
        elif ch == "}":
            return items, i
        i += 1
    return items, i


def selector_used(selector: str, words: set[str], prefixes: set[str]) -> bool:
    # Inside :not(), :is() and the like a class need not be used for the rule to apply.
    while "(" in selector:
        selector = re.sub(r"\([^()]*\)", "", selector)
    for name in CLASS_RE.findall(selector):
        if name not in words and not name.startswith(tuple(prefixes)):
            return False
    return all(attr in words for attr in ATTR_RE.findall(selector))


def trim(items, words: set[str], prefixes: set[str]) -> str:
    out = []
    for prelude, body in items:
        if prelude == "":
            out.append(body)  # licence comment
        elif body is None:
            out.append(prelude)  # @charset
        elif isinstance(body, list):
            inner = trim(body, words, prefixes)
            if inner:
                out.append(f"{prelude}{{{inner}}}")
        elif prelude.startswith("@keyframes"):
            out.append(f"{prelude}{{{body}}}")  # dropped below when unused
        else:
            kept = [
                s.strip()
                for s in split_top(prelude, ",")
                if selector_used(s.strip(), words, prefixes)
            ]
            if kept:
                out.append(f"{','.join(kept)}{{{body}}}")
    return "".join(out)


def drop_unused_keyframes(css: str) -> str:
    for name in re.findall(r"@keyframes ([\w-]+)", css):
        block = re.search(r"@keyframes " + re.escape(name) + r"\{(?:[^{}]*\{[^{}]*\})*\}", css)
        rest = css[: block.start()] + css[block.end() :]
        if not re.search(r"animation(?:-name)?:[^;}]*\b" + re.escape(name) + r"\b", rest):
            css = rest
    return css


def trimmed_css(source: str | None = None) -> str:
    css = source if source is not None else bootstrap_source().read_text(encoding="utf-8")
    words, prefixes = used_words()
    items, _ = parse(css)
    css = drop_unused_keyframes(trim(items, words, prefixes))
    note = "/* Trimmed by scripts/trim_bootstrap.py to the classes the site uses. */"
    charset = '@charset "UTF-8";'
    if css.startswith(charset):
        return charset + note + css[len(charset) :] + "\n"
    return note + css + "\n"


def main() -> int:
    partial = OUTPUT.with_name(f".{OUTPUT.name}.{os.getpid()}")
    partial.write_text(trimmed_css(), encoding="utf-8")
    os.replace(partial, OUTPUT)  # atomic: test workers may run it at once
    full = bootstrap_source().stat().st_size
    print(f"{OUTPUT.relative_to(ROOT)}: {OUTPUT.stat().st_size} bytes (Bootstrap's: {full})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
