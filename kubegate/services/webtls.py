"""The web API's serving certificate: issued for the publicIP by a CA the suites then trust.

On the local rig that CA is the cluster's own (`.cluster/pki/ca.*`), as the issue asks; on a
cluster of yours kubegate holds no CA key, so it keeps a CA of its own per checkout
(`.cluster/web-ca/`) and verifies against that. Either way the client verifies the chain and
the IP SAN; nothing is accepted unverified. Certificates come from the PKI's own issuers.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kubegate.rig.pki import CertProfile, issue_leaf


@dataclass(frozen=True)
class ServingPair:
    cert_pem: bytes
    key_pem: bytes
    ca_file: Path  # what a client verifies against


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def issue(ca_cert_file: Path, ca_key_file: Path, ip: str, names: tuple[str, ...] = ()) -> ServingPair:
    """A fresh serving leaf for `ip` (and DNS `names`), signed by the given CA."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_file.read_bytes())
    ca_key = serialization.load_pem_private_key(ca_key_file.read_bytes(), password=None)
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    profile = CertProfile("pulp-web", f"pulp-web {ip}", ips=(ip,), dns=names, server=True)
    cert = issue_leaf(profile, key.public_key(), ca_key, ca_cert, dt.datetime.now(dt.UTC))
    return ServingPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key), ca_cert_file)
