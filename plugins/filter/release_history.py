"""Filters over the release history (plugins/module_utils/release_history.py),
for roles/app's tasks: each decision one call."""

from ansible_collections.berth.deploy.plugins.module_utils import release_history


class FilterModule:
    def filters(self):
        return {
            "served_release": release_history.served_release,
            "settle_history": release_history.settle,
            "rollback_refusal": release_history.rollback_refusal,
            "release_target": release_history.target,
            "advance_history": release_history.advance,
            "released_images": release_history.released_images,
            "target_images": release_history.target_images,
            "keeps_image": release_history.keeps_image,
            "retired_containers": release_history.retired_containers,
        }
