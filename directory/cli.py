"""Flask commands: `flask --app directory <command>`."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import AppGroup, with_appcontext

from directory import services


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)
    app.cli.add_command(users)
    app.cli.add_command(search_cli)
    app.cli.add_command(recompute_scores)
    app.cli.add_command(similarity_rebuild)


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
