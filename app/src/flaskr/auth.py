"""Registration, login and logout."""

import functools

from flask import (
    Blueprint,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.security import check_password_hash, generate_password_hash

from .db import get_db

bp = Blueprint("auth", __name__, url_prefix="/auth")

MAX_USERNAME_LENGTH = 64
# Long enough for any passphrase, short enough to hash cheaply.
MAX_PASSWORD_LENGTH = 1024


@bp.context_processor
def length_limits():
    return {
        "max_username_length": MAX_USERNAME_LENGTH,
        "max_password_length": MAX_PASSWORD_LENGTH,
    }


def login_required(view):
    """Redirect anonymous users to the login page."""

    @functools.wraps(view)
    def wrapped_view(**kwargs):
        if g.user is None:
            return redirect(url_for("auth.login"))
        return view(**kwargs)

    return wrapped_view


@bp.before_app_request
def load_logged_in_user():
    user_id = session.get("user_id")
    g.user = (
        None
        if user_id is None
        else get_db().execute("SELECT * FROM user WHERE id = ?", (user_id,)).fetchone()
    )


def credentials_error(username, password):
    """The message for a username or password out of bounds, or None."""
    if not username:
        return "Username is required."
    if not password:
        return "Password is required."
    if len(username) > MAX_USERNAME_LENGTH:
        return f"Username must be at most {MAX_USERNAME_LENGTH} characters."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Password must be at most {MAX_PASSWORD_LENGTH:,} characters."
    return None


@bp.route("/register", methods=("GET", "POST"))
def register():
    if request.method == "POST":
        username = request.form["username"]
        password = request.form["password"]
        db = get_db()
        error = credentials_error(username, password)

        if error is None:
            try:
                db.execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                db.commit()
            except db.IntegrityError:
                error = f"User {username} is already registered."
            else:
                return redirect(url_for("auth.login"))

        flash(error)

    return render_template("auth/register.html")


@bp.route("/login", methods=("GET", "POST"))
def login():
    if request.method == "POST":
        username = request.form["username"]
        password = request.form["password"]
        # Bounds first: no hashing of a megabyte-long password.
        error = credentials_error(username, password)

        if error is None:
            user = (
                get_db()
                .execute("SELECT * FROM user WHERE username = ?", (username,))
                .fetchone()
            )
            if user is None:
                error = "Incorrect username."
            elif not check_password_hash(user["password"], password):
                error = "Incorrect password."

        if error is None:
            session.clear()
            session["user_id"] = user["id"]
            return redirect(url_for("index"))

        flash(error)

    return render_template("auth/login.html")


@bp.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("index"))
