import sqlite3
import threading

import pytest

from flaskr import create_app
from flaskr.db import get_db


def test_get_close_db(app):
    with app.app_context():
        db = get_db()
        assert db is get_db()

    with pytest.raises(sqlite3.ProgrammingError) as e:
        db.execute("SELECT 1")

    assert "closed" in str(e.value)


def test_init_db_command(runner, monkeypatch):
    class Recorder:
        called = False

    def fake_init_db():
        Recorder.called = True

    monkeypatch.setattr("flaskr.db.init_db", fake_init_db)
    result = runner.invoke(args=["init-db"])
    assert "Initialized" in result.output
    assert Recorder.called


def test_init_db_command_empties_the_database(app, runner):
    result = runner.invoke(args=["init-db"])
    assert result.output == "Initialized the database.\n"
    with app.app_context():
        assert get_db().execute("SELECT COUNT(*) FROM post").fetchone()[0] == 0


def test_start_up_creates_missing_schema(tmp_path):
    database = tmp_path / "fresh.sqlite"
    app = create_app({"TESTING": True, "DATABASE": str(database)})
    with app.app_context():
        tables = {
            row[0]
            for row in get_db().execute(
                "SELECT name FROM sqlite_master WHERE type='table'"
            )
        }
    assert {"user", "post"} <= tables


def test_start_up_keeps_existing_data(app):
    """A restart, or a new release, finds every post where it was."""
    with app.app_context():
        before = get_db().execute("SELECT * FROM post").fetchall()

    restarted = create_app({"TESTING": True, "DATABASE": app.config["DATABASE"]})

    with restarted.app_context():
        after = get_db().execute("SELECT * FROM post").fetchall()
    assert [tuple(r) for r in after] == [tuple(r) for r in before]
    assert len(after) == 1


def test_kept_connection_serves_the_next_request_clean(app):
    """In production a server thread keeps its connection; what a request left
    uncommitted is rolled back, and another thread has its own."""
    app.config["DATABASE_KEEP_CONNECTIONS"] = True
    with app.app_context():
        db = get_db()
        db.execute("INSERT INTO user (username, password) VALUES ('left', 'x')")

    with app.app_context():
        assert get_db() is db
        count = "SELECT COUNT(*) FROM user WHERE username = 'left'"
        assert db.execute(count).fetchone()[0] == 0

    other = []

    def connect_in_another_thread():
        with app.app_context():
            other.append(get_db())

    thread = threading.Thread(target=connect_in_another_thread)
    thread.start()
    thread.join()
    assert other[0] is not db
