"""static/css/bootstrap.min.css is Bootstrap's CSS trimmed to the classes the site
uses (scripts/trim_bootstrap.py). A class a template, script or view starts to use
must be in it, or the page would silently lose its style."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def trimmer():
    spec = importlib.util.spec_from_file_location(
        "trim_bootstrap", ROOT / "scripts" / "trim_bootstrap.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def classes(css: str) -> set[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"\{[^{}]*\}", "{}", css)  # selectors only, not url(...) or values
    return set(re.findall(r"\.(-?[_a-zA-Z][\w-]*)", css))


def selectors(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    css = re.sub(r"@[^{;]+\{", "", css)  # open @media blocks: their rules stand alone
    return [s.strip() for prelude in re.findall(r"([^{}]+)\{", css) for s in prelude.split(",")]


def test_every_bootstrap_class_the_site_uses_is_in_the_trimmed_css():
    trim = trimmer()
    words, prefixes = trim.used_words()
    shipped = classes(trim.OUTPUT.read_text(encoding="utf-8"))
    needed = set()
    for selector in selectors(trim.bootstrap_source().read_text(encoding="utf-8")):
        if trim.selector_used(selector, words, prefixes):
            needed |= classes(re.sub(r"\([^()]*\)", "", selector) + "{}")
    missing = sorted(needed - shipped)
    assert not missing, f"run scripts/trim_bootstrap.py: missing {missing[:20]}"


def test_the_trimmed_css_keeps_what_every_page_needs_and_drops_the_rest():
    trim = trimmer()
    css = trim.OUTPUT.read_text(encoding="utf-8")
    assert css.startswith('@charset "UTF-8";') and "Licensed under MIT" in css
    shipped = classes(css)
    for needed in (
        "navbar",
        "navbar-toggler",
        "container",
        "row",
        "col-lg-8",
        "btn-primary",
        "form-control",
        "is-invalid",
        "alert-danger",
        "alert-success",
        "text-bg-secondary",
        "visually-hidden-focusable",
        "card",
    ):
        assert needed in shipped, needed
    for unused in ("carousel", "modal-dialog", "offcanvas", "toast", "popover", "accordion"):
        assert unused not in shipped, unused
    assert len(css) < trim.bootstrap_source().stat().st_size / 3


def test_a_rule_is_kept_only_when_the_site_uses_its_classes():
    trim = trimmer()
    words, prefixes = {"btn", "btn-primary", "type"}, {"alert-"}
    css = (
        ".btn{a:1}.btn-primary,.btn-secondary{b:2}.modal .btn{c:3}"
        "@media (min-width:1px){.modal{d:4}.btn:not(.btn-check){e:5}}"
        "[type=button]{f:6}[data-bs-theme=dark]{g:7}.alert-warning{h:8}p{i:9}"
        ".spin{animation:spin 1s}@keyframes spin{0%{j:10}}"
    )
    items, _ = trim.parse(css)
    out = trim.drop_unused_keyframes(trim.trim(items, words, prefixes))
    assert out == (
        ".btn{a:1}.btn-primary{b:2}@media (min-width:1px){.btn:not(.btn-check){e:5}}"
        "[type=button]{f:6}.alert-warning{h:8}p{i:9}"
    )
