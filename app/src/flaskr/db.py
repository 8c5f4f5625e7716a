"""SQLite access: one connection per app context, and the schema.

With DATABASE_KEEP_CONNECTIONS (on unless testing) each server thread keeps
its connection for the requests it serves: opening one, and reading the
schema again, cost more than the index's own queries.
"""

import sqlite3
import threading
from datetime import datetime

import click
from flask import current_app, g
from flask.cli import with_appcontext

sqlite3.register_converter("timestamp", lambda v: datetime.fromisoformat(v.decode()))


def connect():
    db = sqlite3.connect(
        current_app.config["DATABASE"],
        detect_types=sqlite3.PARSE_DECLTYPES,
        timeout=10,
    )
    db.row_factory = sqlite3.Row
    return db


def get_db():
    """Return this app context's connection, opening it on first use."""
    if "db" not in g:
        if current_app.config["DATABASE_KEEP_CONNECTIONS"]:
            kept = current_app.extensions["sqlite"]
            if getattr(kept, "db", None) is None:
                kept.db = connect()
            g.db = kept.db
        else:
            g.db = connect()
    return g.db


def close_db(e=None):
    db = g.pop("db", None)
    if db is None:
        return
    if current_app.config["DATABASE_KEEP_CONNECTIONS"]:
        # What a failed request left uncommitted is not the next one's.
        if db.in_transaction:
            db.rollback()
    else:
        db.close()


def create_schema():
    """Create the tables that are missing; never drops anything."""
    db = get_db()
    # WAL lets readers and a writer from several processes work side by side.
    db.execute("PRAGMA journal_mode=WAL")
    with current_app.open_resource("schema.sql") as f:
        db.executescript(f.read().decode("utf8"))


def init_db():
    """Drop every table and create them empty: for development only."""
    db = get_db()
    db.executescript("DROP TABLE IF EXISTS post; DROP TABLE IF EXISTS user;")
    create_schema()


@click.command("init-db")
@with_appcontext
def init_db_command():
    """Clear the existing data and create new tables."""
    init_db()
    click.echo("Initialized the database.")


def init_app(app):
    app.config.setdefault("DATABASE_KEEP_CONNECTIONS", not app.testing)
    app.extensions["sqlite"] = threading.local()
    app.teardown_appcontext(close_db)
    app.cli.add_command(init_db_command)
    with app.app_context():
        create_schema()
