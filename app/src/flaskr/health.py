"""Liveness and readiness endpoints for Docker and load balancers."""

import sqlite3

import redis
from flask import Blueprint

from .counter import get_redis
from .db import get_db

bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz():
    return {"status": "alive"}


@bp.route("/readyz")
def readyz():
    checks = {"database": check_database, "redis": check_redis}
    failed = {name: error for name, check in checks.items() if (error := check())}
    if failed:
        return {"status": "unavailable", "failed": failed}, 503
    return {"status": "ready"}


def check_database():
    try:
        get_db().execute("SELECT 1 FROM post LIMIT 1").fetchall()
    except sqlite3.Error as e:
        return str(e)
    return None


def check_redis():
    try:
        get_redis().ping()
    except redis.RedisError as e:
        return str(e)
    return None
