"""Flask commands: `flask --app directory <command>`."""

from __future__ import annotations

import time

import click
from flask import Flask
from flask.cli import with_appcontext

from directory import services


def register(app: Flask) -> None:
    app.cli.add_command(seed_demo)


@click.command("seed-demo")
@click.option("--clinics", "n_clinics", default=150, show_default=True, type=click.IntRange(4, 50_000))
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
