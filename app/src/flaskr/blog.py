"""The blog: list, create, update and delete posts."""

import math
import re

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.exceptions import abort

from .auth import login_required
from .db import get_db

bp = Blueprint("blog", __name__)

MAX_TITLE_LENGTH = 200
MAX_BODY_LENGTH = 20_000
MAX_SQLITE_INTEGER = 2**63 - 1
# No sign, no leading zero, and few enough digits for int().
PAGE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


@bp.context_processor
def length_limits():
    return {"max_title_length": MAX_TITLE_LENGTH, "max_body_length": MAX_BODY_LENGTH}


@bp.route("/")
def index():
    db = get_db()
    per_page = current_app.config["POSTS_PER_PAGE"]
    post_count = db.execute("SELECT COUNT(*) FROM post").fetchone()[0]
    # An empty blog still has its first page.
    page_count = max(1, math.ceil(post_count / per_page))
    page = request.args.get("page", "1")
    if not PAGE_NUMBER.fullmatch(page) or int(page) > page_count:
        abort(404)
    page = int(page)
    posts = db.execute(
        "SELECT p.id, title, body, created, author_id, username"
        " FROM post p JOIN user u ON p.author_id = u.id"
        # id breaks ties between posts of the same second, so pages never overlap.
        " ORDER BY created DESC, p.id DESC LIMIT ? OFFSET ?",
        (per_page, (page - 1) * per_page),
    ).fetchall()
    return render_template(
        "blog/index.html", posts=posts, page=page, page_count=page_count
    )


def get_post(id, check_author=True):
    """Return the post, or abort with 404 if missing, 403 if not the author's."""
    # Past SQLite's largest integer no post exists, and the query would fail.
    if id > MAX_SQLITE_INTEGER:
        abort(404, f"Post id {id} doesn't exist.")
    post = (
        get_db()
        .execute(
            "SELECT p.id, title, body, created, author_id, username"
            " FROM post p JOIN user u ON p.author_id = u.id"
            " WHERE p.id = ?",
            (id,),
        )
        .fetchone()
    )
    if post is None:
        abort(404, f"Post id {id} doesn't exist.")
    if check_author and post["author_id"] != g.user["id"]:
        abort(403)
    return post


def read_post_form():
    """Return (title, body) from the form, or None after flashing the error."""
    title = request.form["title"]
    body = request.form["body"]
    if not title:
        error = "Title is required."
    elif len(title) > MAX_TITLE_LENGTH:
        error = f"Title must be at most {MAX_TITLE_LENGTH} characters."
    # Browsers count a line break as one character but send two.
    elif len(body.replace("\r\n", "\n")) > MAX_BODY_LENGTH:
        error = f"Body must be at most {MAX_BODY_LENGTH:,} characters."
    else:
        return title, body
    flash(error)
    return None


@bp.route("/create", methods=("GET", "POST"))
@login_required
def create():
    if request.method == "POST" and (post := read_post_form()):
        db = get_db()
        db.execute(
            "INSERT INTO post (title, body, author_id) VALUES (?, ?, ?)",
            (*post, g.user["id"]),
        )
        db.commit()
        return redirect(url_for("blog.index"))
    return render_template("blog/create.html")


@bp.route("/<int:id>/update", methods=("GET", "POST"))
@login_required
def update(id):
    post = get_post(id)
    if request.method == "POST" and (changes := read_post_form()):
        db = get_db()
        db.execute("UPDATE post SET title = ?, body = ? WHERE id = ?", (*changes, id))
        db.commit()
        return redirect(url_for("blog.index"))
    return render_template("blog/update.html", post=post)


@bp.route("/<int:id>/delete", methods=("POST",))
@login_required
def delete(id):
    get_post(id)
    db = get_db()
    db.execute("DELETE FROM post WHERE id = ?", (id,))
    db.commit()
    return redirect(url_for("blog.index"))
