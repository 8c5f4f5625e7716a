"""flaskr: the Flask tutorial blog with a Redis page counter."""

import os

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, with a serializer made once per secret
    key: Flask makes a new one to open and again to save every session."""

    def __init__(self):
        self.serializers = {}

    def get_signing_serializer(self, app):
        keys = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if keys not in self.serializers:
            self.serializers[keys] = super().get_signing_serializer(app)
        return self.serializers[keys]


def create_app(test_config=None):
    """Create and configure an instance of the app."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        instance_path=os.environ.get("FLASKR_INSTANCE_PATH"),
    )
    app.config.from_mapping(
        SECRET_KEY="dev",
        DATABASE=os.path.join(app.instance_path, "flaskr.sqlite"),
        REDIS_URL="redis://localhost:6379/0",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=False,
        # Flask answers 413 to larger request bodies.
        MAX_CONTENT_LENGTH=1024 * 1024,
        POSTS_PER_PAGE=10,
        AUTH_RATE_LIMIT_PER_ADDRESS="10 per minute",
        AUTH_RATE_LIMIT_PER_USERNAME="5 per minute",
    )
    if test_config is None:
        app.config.from_pyfile("config.py", silent=True)
    else:
        app.config.from_mapping(test_config)
    # The tutorial's tests post forms without tokens.
    app.config.setdefault("WTF_CSRF_ENABLED", not app.testing)
    app.config.setdefault("RATELIMIT_ENABLED", not app.testing)

    os.makedirs(app.instance_path, exist_ok=True)
    app.session_interface = SessionInterface()

    @app.route("/hello")
    def hello():
        return "Hello, World!"

    from . import auth, blog, counter, db, health, ratelimit

    csrf.init_app(app)
    db.init_app(app)
    counter.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(blog.bp)
    app.register_blueprint(health.bp)
    # After the blueprints, so that a refused request still knows its user.
    ratelimit.init_app(app)
    app.add_url_rule("/", endpoint="index")

    # Browsers ask for /favicon.ico on pages that name no icon (error pages).
    @app.route("/favicon.ico")
    def favicon():
        return app.send_static_file("favicon.svg")

    return app
