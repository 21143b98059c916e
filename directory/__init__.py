"""The SMP Clinic Directory: create_app() is the composition root."""

from __future__ import annotations

import logging
import os
from importlib import import_module

from flask import Flask, current_app, g, render_template, request
from flask.globals import request_ctx
from werkzeug.exceptions import HTTPException

from directory import config as config_module
from directory import pagecache
from directory.application import DirectoryFlask, new_request_ids, security_headers
from directory.extensions import bootstrap, csrf, db, limiter, login_manager, migrate

log = logging.getLogger("directory")

BLUEPRINTS = (
    ("public", None),
    ("auth", "/auth"),
    ("account", "/account"),
    ("reviews", None),
    ("manage", "/manage"),
    ("moderation", "/moderation"),
    ("admin", "/admin"),
    ("api", "/api/v1"),
    ("media", "/media"),
    ("feeds", None),
)


def create_app(test_config: dict | None = None) -> Flask:
    app = DirectoryFlask(
        __name__,
        # Tests and the browser harness run the app on a temporary instance folder.
        instance_path=(test_config or {}).get("INSTANCE_PATH")
        or os.environ.get("DIRECTORY_INSTANCE_PATH")
        or None,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.config.from_object(config_module.Defaults)
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
        app.config.from_prefixed_env("DIRECTORY")
    else:
        app.config.from_mapping(test_config)
    config_module.finalise(app)

    # Request id and CSP nonce first: extension hooks (CSRF, rate limits) may end a
    # request with an error page that needs both.
    register_request_hooks(app)
    register_extensions(app)
    register_operations(app)
    register_converters(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def register_extensions(app: Flask) -> None:
    from directory import models  # noqa: F401  (tables known to Alembic)
    from directory.database import configure_engine

    db.init_app(app)
    # Alembic's script location must not depend on the working directory.
    migrations = os.path.join(os.path.dirname(__file__), "migrations")
    migrate.init_app(app, db, directory=migrations, render_as_batch=True, compare_type=True)
    configure_engine(app)
    csrf.init_app(app)
    # Flask-Limiter keeps the first app's key prefix on its (module-level) instance;
    # every app built in this process must count under its own RATELIMIT_KEY_PREFIX.
    limiter._key_prefix = None
    limiter.init_app(app)
    bootstrap.init_app(app)
    login_manager.init_app(app)
    from directory import application

    application.init_app(app, login_manager)
    pagecache.init_app(app)
    from directory import requestorigin

    requestorigin.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(token: str):
        from directory.models import User

        if not token or len(token) > 64:
            return None
        return db.session.execute(
            db.select(User).where(User.session_token == token)
        ).scalar_one_or_none()


def register_operations(app: Flask) -> None:
    """Job queue, mail after commit, queue risk before it, proxy headers, logs, metrics,
    static caching."""
    from directory import jobs, ops
    from directory.services import mail, risk

    jobs.init_app(app)
    mail.install_session_hooks()
    risk.install_session_hooks()
    ops.init_app(app)


def register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _request_id():
        g.request_id, g.csp_nonce = new_request_ids()

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        for name, value in security_headers(app, getattr(g, "csp_nonce", "")).items():
            if name != "Content-Security-Policy" or name not in headers:
                headers[name] = value
        if hasattr(g, "request_id"):
            headers["X-Request-ID"] = g.request_id
        return response

    @app.after_request
    def _no_store_personal_pages(response):
        """Pages with personal data are never stored by a browser or a shared cache:
        every page of the private blueprints, and every page a logged-in user sees
        (names, own pending items, CSRF tokens), error pages included. Static files
        and photos set their own rules (directory/media/views.py)."""
        if request.endpoint in STATIC_ENDPOINTS or (
            request.endpoint in OWN_CACHE_RULES and "Cache-Control" in response.headers
        ):
            return response
        if request.blueprint in PRIVATE_BLUEPRINTS or _logged_in():
            response.headers["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response


# Blueprints whose every page is personal (or a form bound to the visitor's session).
PRIVATE_BLUEPRINTS = frozenset({"account", "auth", "manage", "moderation", "admin"})
# Endpoints that decide their own caching (a photo's error pages follow the rule).
STATIC_ENDPOINTS = frozenset({"static", "bootstrap.static"})
OWN_CACHE_RULES = frozenset({"media.photo", "media.photo_webp"})


def _logged_in() -> bool:
    from flask_login import current_user

    from directory.application import has_login_cookie

    if "_login_user" not in g and not has_login_cookie(current_app._get_current_object()):
        return False  # no user was loaded and none can be: no cookie
    try:
        return bool(current_user.is_authenticated)
    except Exception:  # noqa: BLE001 - a failed user load is "not logged in" here
        return False


def register_converters(app: Flask) -> None:
    # Every `<int:...>` in a route: ASCII digits within the database's range, else 404
    # (directory/numbers.py). Set before any blueprint adds its rules.
    from directory.numbers import IntegerConverter

    app.url_map.converters["int"] = IntegerConverter


def register_blueprints(app: Flask) -> None:
    for name, prefix in BLUEPRINTS:
        module = import_module(f"directory.{name}.views")
        app.register_blueprint(module.bp, url_prefix=prefix)


ERROR_TEXT = {
    400: (
        "Bad request",
        "We could not understand that request. Check what you entered and try again.",
    ),
    401: ("Please log in", "You need to log in to see this page."),
    403: ("Not allowed", "You do not have permission to do that."),
    404: (
        "Page not found",
        "There is no page at this address. It may have moved or never existed.",
    ),
    405: ("Method not allowed", "That action is not available here."),
    409: ("Conflict", "That change clashes with the current state of the item."),
    413: (
        "Too large",
        "What you sent is larger than we accept. Try smaller photos or fewer at once.",
    ),
    429: ("Too many requests", "You are doing that too often. Wait a little and try again."),
    500: ("Something went wrong", "An unexpected error happened on our side. It has been logged."),
    503: ("Unavailable for a moment", "This is unavailable for a moment. Try again shortly."),
}


def register_errorhandlers(app: Flask) -> None:
    def render_error(code: int, detail: str | None = None):
        title, message = ERROR_TEXT.get(code, ERROR_TEXT[500])
        wants_json = request.path.startswith("/api/") or request.path.endswith("/suggest")
        rid = getattr(g, "request_id", "-")
        if request_ctx.url_adapter is None:
            # Refused before routing (e.g. a Host outside TRUSTED_HOSTS): no url_for.
            text = f"{code} {title}. {ERROR_TEXT.get(code, ERROR_TEXT[500])[1]} Reference: {rid}\n"
            return app.response_class(text, status=code, mimetype="text/plain"), code
        if request.path.startswith("/api/"):
            # The public API answers errors as RFC 9457 problem details.
            problem = {
                "type": "about:blank",
                "title": title,
                "status": code,
                "detail": detail or message,
                "instance": request.path,
                "request_id": rid,
            }
            body = app.json.dumps(problem)
            return app.response_class(body, status=code, mimetype="application/problem+json"), code
        if wants_json:
            return {"error": title, "detail": detail or message, "request_id": rid}, code
        return (
            render_template(
                "errors/error.html",
                code=code,
                title=title,
                message=detail or message,
                request_id=rid,
            ),
            code,
        )

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        code = exc.code or 500
        if code >= 500:
            log.error("request %s failed with %s", getattr(g, "request_id", "-"), code)
        # A description given with abort(code, "...") is ours and meant for the user;
        # Werkzeug's stock descriptions are replaced by the site's own wording.
        custom = exc.description if exc.description != type(exc).description else None
        body, _ = render_error(code if code in ERROR_TEXT else 500, custom)
        response = app.make_response((body, code))
        if exc.response is None and hasattr(exc, "get_headers"):
            for key, value in exc.get_headers():
                if key.lower() in ("allow", "retry-after"):
                    response.headers[key] = value
        return response

    from directory.services import ServiceError

    @app.errorhandler(ServiceError)
    def _service_error(exc: ServiceError):
        # A refused use case: nothing of the request's unit of work is kept, and the
        # user sees the service's own message with its 4xx status. Views catch only
        # the errors they answer by re-rendering a form.
        db.session.rollback()
        return render_error(exc.status_code if exc.status_code in ERROR_TEXT else 400, str(exc))

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("request %s raised", getattr(g, "request_id", "-"))
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001 - the error page must still render
            log.exception("rollback after error failed")
        return render_error(500)


def register_template_helpers(app: Flask) -> None:
    from directory import templating

    templating.register(app)


def register_commands(app: Flask) -> None:
    from directory import cli

    cli.register(app)
