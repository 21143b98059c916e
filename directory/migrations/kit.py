"""Steps several migrations take alike, written once.

A revision that only adds columns to one table takes both its functions from
`columns_added`, so its downgrade cannot drift from its upgrade. Dropping a
table drops its indexes with it (SQLite and PostgreSQL alike).
"""

from alembic import op


def add_columns(table: str, *columns) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for column in columns:
            batch_op.add_column(column)


def drop_columns(table: str, *names: str) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name in names:
            batch_op.drop_column(name)


def drop_tables(*names: str) -> None:
    """Drop the tables in the order given (dependants first)."""
    for name in names:
        op.drop_table(name)


def columns_added(table: str, *columns):
    """The upgrade (add `columns` to `table`) and the downgrade (drop them, last first)."""

    def upgrade():
        add_columns(table, *columns)

    def downgrade():
        drop_columns(table, *(column.name for column in reversed(columns)))

    return upgrade, downgrade
