"""The release history's decisions (plugins/module_utils/release_history.py):
settle a killed switch, choose what a deploy or a rollback runs, advance the
history, and what leaves the host with the releases it no longer keeps."""

import pytest
from ansible_collections.berth.deploy.plugins.module_utils import release_history as h

IMAGE = "registry:5000/flaskr"


def release(version, image_id=None, **more):
    image_id = image_id or f"sha256:{version}"
    return {
        "id": f"id-{version}",
        "version": version,
        "image": f"{IMAGE}:{version}",
        "image_id": image_id,
        "containers": [f"flaskr-id-{version}-1"],
        **more,
    }


def history(live, *previous, upcoming=None):
    return {"live": live, "previous": list(previous), "next": upcoming}


@pytest.mark.parametrize(
    "caddyfile, served",
    [
        ("# release 0123abcd\n:80 {\n}\n", "0123abcd"),
        ("{\n\tadmin unix//config/admin.sock\n}\n# release beef\n", "beef"),
        ("# the proxy, by berth\n:80 {}\n", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_the_served_release_is_read_from_the_caddyfile(caddyfile, served):
    assert h.served_release(caddyfile) == served


def test_a_history_with_nothing_next_is_as_recorded():
    recorded = history(release("2"), release("1"))
    assert h.settle(recorded, "id-2") == recorded
    assert h.settle(None, "") == h.EMPTY
    assert h.settle({}, "") == h.EMPTY


def test_a_killed_switch_the_proxy_made_is_settled_as_live():
    upcoming = {"live": release("3"), "previous": [release("2"), release("1")]}
    recorded = history(release("2"), release("1"), upcoming=upcoming)
    assert h.settle(recorded, "id-3") == {**upcoming, "next": None}


def test_a_killed_switch_the_proxy_never_made_is_forgotten():
    upcoming = {"live": release("3"), "previous": [release("2")]}
    recorded = history(release("2"), release("1"), upcoming=upcoming)
    assert h.settle(recorded, "id-2") == history(release("2"), release("1"))


def test_a_deploy_runs_the_version_and_keeps_the_live_release_below():
    chosen = h.target(history(release("2"), release("1")), IMAGE, "3")
    assert chosen["run"] == {"version": "3", "image": f"{IMAGE}:3"}
    assert [r["version"] for r in chosen["below"]] == ["2", "1"]


def test_a_first_deploy_has_nothing_below():
    assert h.target(h.EMPTY, IMAGE, "1")["below"] == []


def test_a_rollback_runs_the_newest_earlier_release_and_drops_the_later():
    chosen = h.target(
        history(release("3"), release("2"), release("1")), IMAGE, "4", rollback=True
    )
    assert chosen["run"] == release("2")
    assert chosen["below"] == [release("1")]


def test_a_rollback_to_a_version_drops_those_after_it():
    past = history(release("4"), release("3"), release("2"), release("1"))
    chosen = h.target(past, IMAGE, "", rollback=True, rollback_version="2")
    assert chosen["run"] == release("2")
    assert chosen["below"] == [release("1")]


def test_a_record_of_state_format_1_runs_its_tag_of_the_image():
    old = {"id": "format-1:1", "version": "1", "containers": ["flaskr-1"]}
    chosen = h.target(history(release("2"), old), IMAGE, "", rollback=True)
    assert chosen["run"] == {**old, "image": f"{IMAGE}:1"}


@pytest.mark.parametrize(
    "past, version, says",
    [
        (history(release("1")), "", "No earlier release is kept on this host (live: 1; earlier, newest first: none)."),
        (h.EMPTY, "", "No earlier release is kept on this host (live: none; earlier, newest first: none)."),
        (history(release("3"), release("2"), release("1")), "9",
         "No earlier release is tagged 9 (live: 3; earlier, newest first: 2, 1)."),
    ],
)  # fmt: skip
def test_a_rollback_with_nowhere_to_go_is_refused_saying_what_there_is(
    past, version, says
):
    refusal = h.rollback_refusal(past, version)
    assert refusal == says + " Deploy a version with `make deploy VERSION=<tag>`."


@pytest.mark.parametrize("version", ["", "1"])
def test_a_rollback_that_can_be_is_not_refused(version):
    assert h.rollback_refusal(history(release("2"), release("1")), version) == ""


def test_advancing_makes_the_release_live_and_names_the_drained_containers():
    past = history(release("2"), release("1"))
    new = release("3")
    advanced = h.advance(
        past, new, [release("2"), release("1")], 5, "2026-12-06T10:00:00Z"
    )
    assert advanced == {
        "live": {
            **new,
            "deployed": "2026-12-06T10:00:00Z",
            "drained": ["flaskr-id-2-1"],
        },
        "previous": [release("2"), release("1")],
    }


def test_advancing_keeps_app_keep_releases_in_all():
    below = [release(str(n)) for n in range(5, 0, -1)]
    advanced = h.advance(history(below[0], *below[1:]), release("6"), below, "3", "t")
    assert [r["version"] for r in advanced["previous"]] == ["5", "4"]
    assert h.advance(history(below[0]), release("6"), below, 1, "t")["previous"] == []


def test_advancing_drops_earlier_records_of_the_same_image():
    # A new tag of the image release 1 ran: rolling back to 1 would run it again.
    below = [release("2"), release("1", image_id="sha256:same")]
    new = release("1b", image_id="sha256:same")
    advanced = h.advance(history(*below), new, below, 5, "t")
    assert [r["version"] for r in advanced["previous"]] == ["2"]


def test_advancing_drops_a_state_format_1_record_of_the_same_tag():
    old = {"id": "format-1:3", "version": "3", "containers": ["flaskr-3"]}
    advanced = h.advance(
        history(release("2"), old), release("3"), [release("2"), old], 5, "t"
    )
    assert advanced["previous"] == [release("2")]


def test_the_first_release_drains_nothing():
    assert h.advance(h.EMPTY, release("1"), [], 5, "t")["live"]["drained"] == []


def test_the_live_release_again_advances_nothing():
    assert h.advance(history(release("2")), release("2"), [], 5, "t") is None


def test_the_images_of_releases_no_longer_kept_are_released():
    before = history(release("3"), release("2"), release("1"))
    after = {"live": release("4"), "previous": [release("3"), release("2")]}
    assert h.released_images(before, after) == [f"{IMAGE}:1"]


def test_an_image_a_kept_release_runs_by_tag_stays():
    before = history(release("2"), release("1"))
    after = {"live": {**release("1"), "id": "new"}, "previous": [release("2")]}
    assert h.released_images(before, after) == []


def test_a_format_1_record_names_no_image_to_release():
    old = {"id": "format-1:1", "version": "1", "containers": ["flaskr-1"]}
    before = history(release("2"), old)
    assert (
        h.released_images(before, {"live": release("3"), "previous": [release("2")]})
        == []
    )


@pytest.mark.parametrize(
    "failed, kept",
    [
        (release("9"), False),
        (release("9", image_id="sha256:1"), True),  # another tag of a kept image
        ({**release("1"), "image_id": "sha256:other"}, True),  # a kept tag, re-pushed
    ],
)
def test_a_failed_releases_image_goes_unless_a_kept_release_runs_it(failed, kept):
    past = history(release("2"), release("1"), {"id": "format-1:0", "version": "0"})
    assert h.keeps_image(past, failed) is kept


def test_the_containers_of_other_releases_retire():
    found = [
        {"Names": ["/flaskr-id-3-1"]},
        {"Names": ["/flaskr-id-2-1"]},
        {"Names": ["/flaskr-id-2-2"]},
    ]
    assert h.retired_containers(found, release("3")) == [
        "flaskr-id-2-1",
        "flaskr-id-2-2",
    ]


def test_a_deploy_looks_for_its_tag_and_each_release_it_may_return_to():
    old = {"id": "format-1:0", "version": "0", "containers": ["flaskr-0"]}
    upcoming = history(release("4"), release("3"))
    found = h.image_names(history(release("3"), old, upcoming=upcoming), IMAGE, "5")
    assert found == [
        f"{IMAGE}:5",
        "sha256:3", f"{IMAGE}:3",
        f"{IMAGE}:0",  # state format 1: its tag of the image
        "sha256:4", f"{IMAGE}:4",
    ]  # fmt: skip


def test_a_first_deploy_or_a_rollback_looks_for_what_it_knows():
    assert h.image_names(None, IMAGE, "1") == [f"{IMAGE}:1"]
    assert h.image_names(history(release("2"), release("1")), IMAGE, "") == [
        "sha256:2", f"{IMAGE}:2", "sha256:1", f"{IMAGE}:1",
    ]  # fmt: skip


def test_a_releases_image_is_found_by_id_before_its_tag():
    by_id, by_tag = {"Id": "sha256:2"}, {"Id": "sha256:re-pushed"}
    found = {"sha256:2": by_id, f"{IMAGE}:2": by_tag}
    assert h.target_images(found, release("2")) == [by_id, by_tag]
    assert h.target_images(found, {"version": "2", "image": f"{IMAGE}:2"}) == [by_tag]
    assert h.target_images({}, release("2")) == []
