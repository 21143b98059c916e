"""The import rules of docs/architecture.md, checked on the source."""

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "directory"
BLUEPRINTS = {
    "public",
    "auth",
    "account",
    "reviews",
    "manage",
    "moderation",
    "admin",
    "api",
    "media",
    "feeds",
}


def modules():
    for path in PKG.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        yield path, ast.parse(path.read_text(), filename=str(path))


def imported(tree) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def rel(path):
    return path.relative_to(PKG).as_posix()


def test_quality_trust_and_vocab_know_nothing_of_flask_or_the_database():
    for path, tree in modules():
        if rel(path) in ("quality.py", "trust.py", "vocab.py"):
            bad = {
                n
                for n in imported(tree)
                if n.split(".")[0] in ("flask", "sqlalchemy", "flask_sqlalchemy", "whoosh")
                or (
                    n.startswith("directory")
                    and n != "directory.vocab"
                    and not n.startswith("directory.vocab.")
                )
            }
            assert bad == set(), (rel(path), bad)


def test_only_the_search_package_imports_whoosh():
    for path, tree in modules():
        if not rel(path).startswith("search/"):
            assert not any(n.split(".")[0] == "whoosh" for n in imported(tree)), rel(path)


def test_nothing_imports_a_blueprint_but_the_factory():
    for path, tree in modules():
        own = rel(path).split("/")[0]
        for name in imported(tree):
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "directory" and parts[1] in BLUEPRINTS:
                assert own == parts[1], f"{rel(path)} imports blueprint module {name}"


def test_models_and_services_never_touch_the_request():
    for path, tree in modules():
        if rel(path).startswith(("models/", "services/")):
            names = imported(tree)
            for forbidden in (
                "flask.request",
                "flask.session",
                "flask_login.current_user",
                "flask.url_for",
                "flask.g",
            ):
                assert forbidden not in names, (rel(path), forbidden)


def test_services_and_models_never_commit():
    for path, tree in modules():
        if rel(path).startswith(("models/", "services/")) and rel(path) != "services/__init__.py":
            for node in ast.walk(tree):
                if isinstance(node, ast.Attribute) and node.attr == "commit":
                    raise AssertionError(f"{rel(path)}:{node.lineno} calls commit()")


def test_layers_import_only_downwards():
    """models < search < services < blueprints: a lower layer never imports a higher one."""
    order = {"models": 0, "search": 1, "services": 2}
    for path, tree in modules():
        layer = rel(path).split("/")[0]
        if layer not in order:
            continue
        for name in imported(tree):
            parts = name.split(".")
            if len(parts) >= 2 and parts[0] == "directory" and parts[1] in order:
                if parts[1] == "services" and layer == "search":
                    # search.documents may read service queries? no: forbidden
                    raise AssertionError(f"{rel(path)} imports {name}")
                assert order[parts[1]] <= order[layer], f"{rel(path)} imports {name}"
