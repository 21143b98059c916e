"""The visitor's own case on public pages: set by a GET form (`case=set` with
stage, skin_type, hair_colour, goal), kept in the session, cleared by an empty
form or `case=clear`. Never required: without it pages show overall scores.

A GET form on purpose: the case is a viewing preference, like a sort order; it
changes no stored data, and public pages stay cacheable and token-free.
"""

from __future__ import annotations

from flask import abort, session
from werkzeug.datastructures import MultiDict

from directory import quality
from directory.services import Invalid, casescores


def current_case(args: MultiDict) -> quality.Case | None:
    """The case for this request; stores a newly set one in the session (400 on bad values)."""
    marker = args.get("case")
    if marker == "clear":
        session.pop(casescores.SESSION_KEY, None)
        return None
    if marker == "set":
        try:
            case = casescores.parse_case(args)
        except Invalid as exc:
            abort(400, str(exc))
        stored = casescores.to_session(case)
        if stored is None:
            session.pop(casescores.SESSION_KEY, None)
            return None
        session[casescores.SESSION_KEY] = stored
        return case
    if marker not in (None, ""):
        abort(400, "“case” must be “set” or “clear”.")
    return casescores.from_session(session.get(casescores.SESSION_KEY))
