import sqlite3


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "alive"}


def test_readyz_with_database_and_redis(redis_app):
    response = redis_app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json == {"status": "ready"}


def test_readyz_names_redis_when_it_is_down(client):
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert list(response.json["failed"]) == ["redis"]


def test_readyz_names_the_database_when_it_is_broken(redis_app):
    with sqlite3.connect(redis_app.config["DATABASE"]) as db:
        db.execute("DROP TABLE post")

    response = redis_app.test_client().get("/readyz")

    assert response.status_code == 503
    assert list(response.json["failed"]) == ["database"]
    assert "post" in response.json["failed"]["database"]
