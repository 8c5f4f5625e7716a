"""What the default scenario's verifiers share."""

import pytest


@pytest.fixture(scope="module")
def settings(host):
    """The inventory's variables: names, paths and ports of the deploy."""
    return host.ansible.get_variables()
