#!/usr/bin/python
"""GET a path over HTTPS from an address, naming the site in TLS and Host."""

DOCUMENTATION = r"""
module: https_get
short_description: GET a path over HTTPS from an address, with a given server name
description:
  - Connects to O(address) on O(port), asks for the certificate of
    O(server_name) (TLS SNI), and sends C(GET O(path)) with that name as Host.
  - This is how a host checks its own HTTPS site before the name resolves to
    it, as ansible.builtin.uri, which connects where the URL's name resolves,
    cannot.
  - The certificate is not verified unless O(ca_file) is given. Its SHA-256
    fingerprint is returned, so that a caller can tell whether it changed.
  - Changes nothing.
options:
  server_name:
    description: The site's name, sent in TLS and as the Host header.
    type: str
    required: true
  address:
    description: Where to connect.
    type: str
    default: 127.0.0.1
  port:
    description: The port to connect to.
    type: int
    default: 443
  path:
    description: The path to GET.
    type: str
    default: /
  ca_file:
    description: A PEM file of CA certificates on the host; when given, the
      certificate must chain to one of them and name O(server_name).
    type: path
  timeout:
    description: Seconds to wait for the connection and for the answer.
    type: float
    default: 10
attributes:
  check_mode:
    support: full
"""

EXAMPLES = r"""
- name: Wait until the site answers over HTTPS on this host
  berth.deploy.https_get:
    server_name: blog.example.com
    path: /readyz
  register: ready
  until: ready.status == 200
  retries: 30
  delay: 2
"""

RETURN = r"""
status:
  description: The HTTP status of the answer, or 0 when there was none.
  returned: always
  type: int
error:
  description: Why there was no answer (TLS or connection error); empty otherwise.
  returned: always
  type: str
certificate_sha256:
  description: The SHA-256 fingerprint of the certificate served, in hex.
  returned: when the TLS handshake succeeded
  type: str
certificate_not_after:
  description: When the certificate served expires, in ISO 8601 (UTC).
  returned: when the TLS handshake succeeded
  type: str
  sample: "2027-02-25T12:00:00Z"
"""

import hashlib
import http.client
import socket
import ssl
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule


def tls_context(ca_file):
    if ca_file:
        return ssl.create_default_context(cafile=ca_file)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def not_after(der):
    """The certificate's expiry, in ISO 8601. Python's ssl module decodes a
    certificate it has not verified only from a file; the host needs no
    cryptography library for it."""
    with tempfile.NamedTemporaryFile("w", suffix=".pem") as pem:
        pem.write(ssl.DER_cert_to_PEM_cert(der))
        pem.flush()
        decoded = ssl._ssl._test_decode_cert(pem.name)
    seconds = ssl.cert_time_to_seconds(decoded["notAfter"])
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def https_get(address, port, server_name, path, ca_file, timeout):
    """Return (status, the served certificate (DER) or None, error text)."""
    try:
        raw = socket.create_connection((address, port), timeout=timeout)
        with tls_context(ca_file).wrap_socket(raw, server_hostname=server_name) as tls:
            certificate = tls.getpeercert(binary_form=True)
            connection = http.client.HTTPConnection(server_name, port, timeout=timeout)
            connection.sock = tls
            connection.request("GET", path, headers={"Host": server_name})
            response = connection.getresponse()
            response.read()
            return response.status, certificate, ""
    except (OSError, http.client.HTTPException) as error:
        return 0, None, f"{type(error).__name__}: {error}"


def main():
    module = AnsibleModule(
        argument_spec={
            "server_name": {"type": "str", "required": True},
            "address": {"type": "str", "default": "127.0.0.1"},
            "port": {"type": "int", "default": 443},
            "path": {"type": "str", "default": "/"},
            "ca_file": {"type": "path"},
            "timeout": {"type": "float", "default": 10},
        },
        supports_check_mode=True,
    )
    p = module.params
    status, certificate, error = https_get(
        p["address"], p["port"], p["server_name"], p["path"], p["ca_file"], p["timeout"]
    )
    result = {"changed": False, "status": status, "error": error}
    if certificate:
        result["certificate_sha256"] = hashlib.sha256(certificate).hexdigest()
        result["certificate_not_after"] = not_after(certificate)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
