"""`make lint`: no dead function, method, class or property in directory/.

vulture finds code nothing calls. Flask reaches much of ours by decorator (views,
commands, hooks), Huey its periodic jobs, WTForms by name (`validate_<field>`),
SQLAlchemy by protocol, and Jinja templates by attribute, so those are not dead:
decorators and names are ignored below, and a name that a template uses counts as
used. Unused variables and attributes are not checked (model columns and form
fields are read by the frameworks). Anything else must be used or listed in
ALLOWED with a reason.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

DECORATORS = [
    "@*.get", "@*.post", "@*.route", "@*.command", "@*.group", "@*.listens_for",
    "@*.user_loader", "@*.before_request", "@*.after_request", "@*.errorhandler",
    "@*.app_errorhandler", "@*.before_app_request", "@*.teardown_request",
    "@*.template_filter", "@*.template_global", "@*.app_template_filter",
    "@*.app_template_global", "@*.context_processor", "@*.app_context_processor",
    "@*.validates", "@*.request_loader", "@*.unauthorized_handler", "@*.after_app_request",
    "@*.before_app_first_request", "@*.teardown_app_request", "@*.url_defaults",
    "@*.periodic_task",
    # The blueprints' own route decorators (one route, limit and guard for like views).
    "@_operation", "@_form_page", "@_settings_page",
]  # fmt: skip
NAMES = ["validate_*", "Meta", "process_bind_param", "process_result_value"]

# name: why it stays although nothing in directory/ calls it.
ALLOWED: dict[str, str] = {
    "create_app": "the application factory, called by wsgi.py, flask --app and tests",
    "process_formdata": "WTForms calls it on a field to read the submitted value",
    "SQLiteStorage": "registered with the limits library by its storage scheme",
    "base_exceptions": "part of the limits library's storage interface",
    "incr": "part of the limits library's storage interface",
}

LINE = re.compile(r"^(?P<path>[^:]+):(?P<line>\d+): unused (?P<kind>\w+) '(?P<name>[^']+)'")


def template_text() -> str:
    return "\n".join(p.read_text() for p in (ROOT / "templates").rglob("*") if p.is_file())


def main() -> int:
    cmd = [
        sys.executable, "-m", "vulture", "directory", "--exclude", "directory/migrations",
        "--min-confidence", "60", "--ignore-decorators", ",".join(DECORATORS),
        "--ignore-names", ",".join(NAMES),
    ]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True).stdout  # noqa: S603
    templates = template_text()
    dead = []
    for line in out.splitlines():
        m = LINE.match(line)
        if not m or m["kind"] in ("variable", "attribute"):
            continue
        name = m["name"]
        if name in ALLOWED or re.search(rf"\b{re.escape(name)}\b", templates):
            continue
        dead.append(line)
    for line in dead:
        print(line)
    print(f"dead code: {len(dead)} unused definitions ({len(ALLOWED)} allowed with a reason)")
    return 1 if dead else 0


if __name__ == "__main__":
    sys.exit(main())
