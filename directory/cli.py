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


@click.command("seed-demo")
@click.option("--clinics", "n_clinics", default=150, show_default=True,
              type=click.IntRange(4, 50_000))
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
@click.option("--role", default="consumer", show_default=True,
              type=click.Choice(["consumer", "clinic_owner", "moderator", "admin"]))
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
        user = accounts.create_user(email, password, role, display_name=display_name,
                                    verified=not unverified)
    except ServiceError as exc:
        raise click.ClickException(str(exc)) from exc
    services.commit()
    extra = " Set up the second factor at the first login." if role in ("moderator", "admin") \
        else ""
    click.echo(f"Created user #{user.id} {user.email} ({role}).{extra}")
