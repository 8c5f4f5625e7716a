from flaskr import create_app


def test_config():
    assert not create_app().testing
    assert create_app({"TESTING": True}).testing


def test_hello(client):
    response = client.get("/hello")
    assert response.data == b"Hello, World!"


def test_instance_path_from_environment(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(instance))
    (tmp_path / "instance").mkdir()
    (instance / "config.py").write_text("SECRET_KEY = 'from-config'\n")

    app = create_app()

    assert app.instance_path == str(instance)
    assert app.config["SECRET_KEY"] == "from-config"
    assert app.config["DATABASE"] == str(instance / "flaskr.sqlite")


def test_instance_folder_is_created(tmp_path, monkeypatch):
    instance = tmp_path / "new" / "instance"
    monkeypatch.setenv("FLASKR_INSTANCE_PATH", str(instance))
    create_app()
    assert instance.is_dir()


def test_session_cookie_defaults(app):
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_favicon_is_the_static_icon(client):
    with (
        client.get("/favicon.ico") as icon,
        client.get("/static/favicon.svg") as static,
    ):
        assert icon.status_code == 200
        assert icon.mimetype == "image/svg+xml"
        assert icon.data == static.data
    # Every page names it, so browsers ask for it there.
    assert b'<link rel="icon" href="/static/favicon.svg"' in client.get("/").data


def test_sessions_keep_one_serializer_per_secret_key(app, auth):
    auth.login()
    serializer = app.session_interface.get_signing_serializer
    assert serializer(app) is serializer(app)
    app.secret_key = "another"
    assert serializer(app).secret_keys == [b"another"]


def test_a_rotated_secret_key_keeps_sessions_signed_by_the_previous_one(make_app):
    old = make_app(SECRET_KEY="old")
    client = old.test_client()
    client.post("/auth/login", data={"username": "test", "password": "test"})
    cookie = client.get_cookie("session").value

    for fallbacks, logged_in in ((["old"], True), ([], False)):
        new = make_app(SECRET_KEY="new", SECRET_KEY_FALLBACKS=fallbacks)
        client = new.test_client()
        client.set_cookie("session", cookie)
        assert (b"Log Out" in client.get("/").data) is logged_in
