"""Flask commands: `flask --app directory <command>`."""

from __future__ import annotations

import threading
import time

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from directory import services
from directory.extensions import db


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(search_cli)
    app.cli.add_command(recompute_scores)
    app.cli.add_command(worker)
    app.cli.add_command(send_reminders)
    app.cli.add_command(backup_cli)
    app.cli.add_command(case_top)
    app.cli.add_command(export_open_data)
    app.cli.add_command(similarity_rebuild)
    app.cli.add_command(queue_risk)


@click.command("seed-demo")
@click.option(
    "--clinics", "n_clinics", default=150, show_default=True, type=click.IntRange(4, 50_000)
)
@click.option("--seed", "seed_value", default=2026, show_default=True, type=int)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has clinics.")
@click.option("--no-images", is_flag=True, help="Skip drawing result photos (faster).")
@with_appcontext
def seed_demo(n_clinics: int, seed_value: int, if_empty: bool, no_images: bool) -> None:
    """Fill the database with deterministic demo data."""
    from directory import demo

    if not demo.is_empty():
        if if_empty:
            click.echo("Database already has clinics; demo data not seeded.")
            return
        raise click.ClickException("The database is not empty; seed-demo only fills an empty one.")
    started = time.perf_counter()
    demo.seed(n_clinics, seed_value, with_images=not no_images, log=click.echo)
    services.commit()
    click.echo(f"Done in {time.perf_counter() - started:.1f} s.")
    for line in demo.summary_lines():
        click.echo(line)


@click.group("users", cls=AppGroup)
def users() -> None:
    """Manage accounts."""


@users.command("create")
@click.argument("email")
@click.option(
    "--role",
    default="consumer",
    show_default=True,
    type=click.Choice(["consumer", "clinic_owner", "moderator", "admin"]),
)
@click.option("--name", "display_name", default=None, help="Display name (default: from e-mail).")
@click.option("--unverified", is_flag=True, help="Leave the e-mail address unconfirmed.")
def users_create(email: str, role: str, display_name: str | None, unverified: bool) -> None:
    """Create an account. The password is read from stdin when piped, else prompted for."""
    import sys

    from directory.services import ServiceError, accounts

    if sys.stdin is not None and not sys.stdin.isatty():
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = accounts.create_user(
            email, password, role, display_name=display_name, verified=not unverified
        )
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    services.commit()
    extra = (
        " Set up the second factor at the first login." if role in ("moderator", "admin") else ""
    )
    click.echo(f"Created user #{user.id} {user.email} ({role}).{extra}")


search_cli = AppGroup("search", help="Keep the search index in step with the database.")


@search_cli.command("sync")
@click.option("--loop", is_flag=True, help="Keep draining (a background worker).")
@click.option("--interval", default=1.0, show_default=True, type=click.FloatRange(0.05, 3600))
def search_sync(loop: bool, interval: float) -> None:
    """Apply pending outbox rows to the index."""
    from flask import current_app

    from directory.search import indexer

    index_dir = current_app.config["INDEX_DIR"]
    if not indexer.exists(index_dir):
        raise click.ClickException("There is no usable search index; run `flask search rebuild`.")
    while True:
        applied = indexer.try_drain(index_dir, wait_s=30.0, rounds=1_000_000)
        if not loop:
            left = indexer.pending_count()
            click.echo(f"Applied {applied} outbox rows; {left} pending.")
            return
        time.sleep(interval)


def _rebuild() -> None:
    from flask import current_app

    from directory.search import indexer

    n = indexer.rebuild(current_app.config["INDEX_DIR"], echo=click.echo)
    click.echo(f"Search index rebuilt: {n} clinics.")


@search_cli.command("rebuild")
def search_rebuild() -> None:
    """Index every public clinic into a fresh directory and swap it in."""
    _rebuild()


@search_cli.command("reindex")
def search_reindex() -> None:
    """Same as `rebuild`."""
    _rebuild()


@search_cli.command("check")
def search_check() -> None:
    """Compare the index with the database; exits 1 on drift."""
    from flask import current_app

    from directory.search import indexer

    try:
        drift = indexer.check(current_app.config["INDEX_DIR"])
    except indexer.Unavailable as exc:
        raise click.ClickException(f"{exc} - run `flask search rebuild`.") from exc
    for cid in drift.missing:
        click.echo(f"missing from the index: clinic {cid}")
    for cid in drift.extra:
        click.echo(f"in the index but not public: clinic {cid}")
    click.echo(
        f"{len(drift.missing)} missing, {len(drift.extra)} extra, "
        f"{drift.pending} outbox rows pending."
    )
    if not drift.ok:
        raise SystemExit(1)


@click.command("recompute-scores")
@with_appcontext
def recompute_scores() -> None:
    """Recompute every clinic's quality score (testimonials age: run it daily)."""
    from directory.services import scores

    n = scores.recompute_all()
    services.commit()
    click.echo(f"Recomputed {n} clinics.")


@click.command("worker")
@click.option("--threads", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--periodic/--no-periodic",
    default=True,
    show_default=True,
    help="Also run the daily jobs (score ageing, reminders, pruning); one node only.",
)
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="Drain this node's search outbox (each web node runs one worker for its index).",
)
@with_appcontext
def worker(threads: int, periodic: bool, search: bool) -> None:
    """Run the job worker: mail delivery, search outbox drain, daily jobs."""
    from flask import current_app

    from directory import jobs

    app = current_app._get_current_object()
    stop = threading.Event()
    ticker = threading.Thread(
        target=_tick, args=(app, stop, search), name="directory-ticker", daemon=True
    )
    ticker.start()
    consumer = jobs.huey.create_consumer(
        workers=threads, worker_type="thread", periodic=periodic, check_worker_health=True
    )
    click.echo(
        f"Worker: {threads} job threads, queue {jobs.storage_url(app).split('?')[0]}, "
        f"periodic {'on' if periodic else 'off'}, search drain {'on' if search else 'off'}."
    )
    try:
        consumer.run()
    finally:
        stop.set()


def _tick(app: Flask, stop: threading.Event, search: bool) -> None:
    """Drain this node's search outbox often and sweep the mail table every MAIL_SWEEP_S."""
    import logging

    from directory import jobs
    from directory.search import indexer

    log = logging.getLogger("directory.jobs")
    interval = float(app.config.get("SEARCH_DRAIN_INTERVAL_S", 0.5))
    sweep_every = float(app.config.get("MAIL_SWEEP_S", 15))
    next_sweep = 0.0
    while not stop.is_set():
        with app.app_context():
            if search:
                try:
                    indexer.try_drain(app.config["INDEX_DIR"], wait_s=1.0, rounds=1000)
                except Exception:  # noqa: BLE001 - logged; retried next tick
                    log.exception("search outbox drain failed")
            if time.monotonic() >= next_sweep:
                next_sweep = time.monotonic() + sweep_every
                try:
                    jobs.sweep_mail()
                except Exception:  # noqa: BLE001
                    log.exception("mail sweep failed")
        stop.wait(interval)


@click.command("send-reminders")
@with_appcontext
def send_reminders() -> None:
    """Stage the healing follow-up and touch-up reminder mails that are due (daily job)."""
    from directory import reminders

    n = reminders.send_due()
    click.echo(f"Staged {n} reminder mails.")


backup_cli = AppGroup(
    "backup", help="Back up and restore the database and media (docs/operations.md)."
)


@backup_cli.command("create")
@click.argument("folder", type=click.Path(file_okay=False))
def backup_create(folder: str) -> None:
    """Write database, media and a manifest into a new FOLDER."""
    from flask import current_app

    from directory import backup

    m = backup.create(
        folder, current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["MEDIA_DIR"]
    )
    click.echo(
        f"Backup in {folder}: {m['database']} database, {sum(m['tables'].values())} rows in "
        f"{len(m['tables'])} tables, {len(m['media'])} media files."
    )


@backup_cli.command("check")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
def backup_check(folder: str) -> None:
    """Restore FOLDER into scratch space and compare it with its manifest (1 on a difference)."""
    from flask import current_app

    from directory import backup

    try:
        problems = backup.check(folder, current_app.config["SQLALCHEMY_DATABASE_URI"])
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    for p in problems:
        click.echo(p)
    if problems:
        raise SystemExit(1)
    click.echo(f"Backup {folder} restores completely: every table and media file matches.")


@backup_cli.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
def backup_restore(folder: str, yes: bool) -> None:
    """Replace the database and media with FOLDER's (stop web and worker first)."""
    from flask import current_app

    from directory import backup

    if not yes:
        click.confirm("This replaces the current database and media. Go on?", abort=True)
    db.session.remove()
    db.engine.dispose()
    try:
        backup.restore(
            folder, current_app.config["SQLALCHEMY_DATABASE_URI"], current_app.config["MEDIA_DIR"]
        )
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo("Restored. Now rebuild the search index: flask --app directory search rebuild")


@click.command("case-top")
@click.option("--stage", default=None, help="e.g. norwood-6 or ludwig-2")
@click.option("--skin-type", default=None, type=int, help="Fitzpatrick 1-6")
@click.option("--hair-colour", default=None, help="e.g. black, blond")
@click.option("--goal", default=None, help="buzz, density or scar")
@click.option("--limit", default=5, show_default=True, type=click.IntRange(1, 100))
@with_appcontext
def case_top(stage, skin_type, hair_colour, goal, limit) -> None:
    """The clinics best for a case (the like-for-like score), with their evidence."""
    from directory.services import Invalid, casescores

    try:
        case = casescores.parse_case(
            {"stage": stage, "skin_type": skin_type, "hair_colour": hair_colour, "goal": goal}
        )
    except Invalid as exc:
        raise click.BadParameter(str(exc)) from None
    if not case.is_set:
        raise click.BadParameter("Give at least one of the case fields.")
    click.echo(f"Best for {casescores.describe(case)}:")
    for i, (clinic, cs) in enumerate(casescores.top(case, limit), start=1):
        overall = "unrated" if clinic.quality_score is None else f"{clinic.quality_score:.2f}"
        click.echo(
            f"{i}. {clinic.name} ({clinic.city}): {cs.score:.2f} for this case from "
            f"{cs.similar} similar testimonial{'' if cs.similar == 1 else 's'} "
            f"({cs.exact} exact, weight {cs.weight:.2f}); "
            f"overall {overall} from {clinic.review_count}"
        )


@click.command("export-open-data")
@click.option(
    "--out",
    "out_dir",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder in which the dated dump folder is written.",
)
@click.option(
    "--as-of",
    "as_of",
    default=None,
    help="ISO time the dump's scores are computed at (default: now, UTC).",
)
@with_appcontext
def export_open_data(out_dir: str, as_of: str | None) -> None:
    """Write every public clinic, score (with its inputs), testimonial and result case
    as JSON Lines, with a README, into OUT/open-data-YYYY-MM-DD."""
    from datetime import UTC, datetime

    from flask import current_app, url_for

    from directory.services import export

    if as_of:
        try:
            when = datetime.fromisoformat(as_of.replace("Z", "+00:00"))
        except ValueError as exc:
            raise click.BadParameter(f"not an ISO time: {as_of}", param_hint="--as-of") from exc
        when = when if when.tzinfo else when.replace(tzinfo=UTC)
    else:
        when = datetime.now(UTC)
    base = current_app.config["CANONICAL_URL"].rstrip("/")
    with current_app.test_request_context("/", base_url=base):

        def photo_url(photo_id: int, size: str) -> str:
            return base + url_for("media.photo", photo_id=photo_id, size=size)

        summary = export.write(out_dir, when, photo_url)
    click.echo(f"Wrote {summary.folder}")
    for name, rows in summary.counts.items():
        click.echo(f"  {name}: {rows} rows")


@click.command("similarity-rebuild")
@click.option("--photos/--no-photos", default=True, help="Also recompute photo hashes and matches.")
@with_appcontext
def similarity_rebuild(photos: bool) -> None:
    """Recompute stored near-duplicate texts (and photos), e.g. after an upgrade."""
    from flask import current_app

    from directory.services import scores, similarity

    n = similarity.rebuild_texts()
    click.echo(f"Indexed {n} texts.")
    if photos:
        m = similarity.rebuild_photos(current_app.config["MEDIA_DIR"])
        click.echo(f"Hashed and compared {m} photos.")
    scores.recompute_all()
    services.commit()


@click.command("queue-risk")
@click.option(
    "--stale-minutes",
    type=click.IntRange(0),
    default=None,
    help="Only items computed longer ago than this (and never computed ones).",
)
@with_appcontext
def queue_risk(stale_minutes: int | None) -> None:
    """Recompute the stored trust signals of every item waiting for moderation
    (the queues order by them); the worker does it every half hour."""
    from datetime import timedelta

    from directory.services import risk

    older = timedelta(minutes=stale_minutes) if stale_minutes is not None else None
    n = risk.refresh_waiting(older)
    services.commit()
    click.echo(f"Computed the signals of {n} waiting items.")
