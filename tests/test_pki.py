from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import ssl
import stat
import tempfile
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import Criticality, ExtensionPolicy, PolicyBuilder, Store

from kubegate.errors import KubegateError
from kubegate.rig.pki import Pki, ensure_pki
from kubegate.rig.spec import ClusterSpec

SERVER = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT = ExtendedKeyUsageOID.CLIENT_AUTH
SPEC = ClusterSpec()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Pki]:
    """Generated once: keygen is the slow part, and most tests only read."""
    d = tmp_path_factory.mktemp("gen") / "pki"
    return d, ensure_pki(d, SPEC)


@pytest.fixture
def pki_copy(generated: tuple[Path, Pki], tmp_path: Path) -> Path:
    """A private copy for tests that mutate files."""
    d = tmp_path / "pki"
    shutil.copytree(generated[0], d)
    return d


def load(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def cn(cert: x509.Certificate) -> str:
    return str(cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)


def orgs(cert: x509.Certificate) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set(), set()
    return {str(i) for i in san.get_values_for_type(x509.IPAddress)}, set(san.get_values_for_type(x509.DNSName))


def ekus(cert: x509.Certificate) -> set[x509.ObjectIdentifier]:
    return set(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)


def mtimes(d: Path) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in d.iterdir() if p.name != ".lock"}


API_DNS = {
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
    "localhost",
    "master",
}

# name -> (CN, O, IP SANs, DNS SANs, EKUs)
EXPECTED: dict[str, tuple[str, list[str], set[str], set[str], set[x509.ObjectIdentifier]]] = {
    "kube-apiserver": ("kube-apiserver", [], {"10.245.1.2", "10.247.0.1", "127.0.0.1"}, API_DNS, {SERVER}),
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", ["system:masters"], set(), set(), {CLIENT}),
    "apiserver-etcd-client": ("kube-apiserver-etcd-client", [], set(), set(), {CLIENT}),
    "etcd-server": ("etcd-server", [], {"127.0.0.1", "10.245.1.2"}, {"localhost"}, {SERVER, CLIENT}),
    "admin": ("kubegate-admin", ["system:masters"], set(), set(), {CLIENT}),
    "kube-controller-manager": ("system:kube-controller-manager", [], set(), set(), {CLIENT}),
    "kube-scheduler": ("system:kube-scheduler", [], set(), set(), {CLIENT}),
    "kube-proxy": ("system:kube-proxy", [], set(), set(), {CLIENT}),
    # the local registry on the host's cluster address (kubegate registry up)
    "registry": ("kubegate-registry", [], {"10.245.1.1"}, set(), {SERVER}),
}
for _i, _name in enumerate(("minion-1", "minion-2", "minion-3"), start=3):
    EXPECTED[f"kubelet-{_name}-client"] = (f"system:node:{_name}", ["system:nodes"], set(), set(), {CLIENT})
    EXPECTED[f"kubelet-{_name}-serving"] = (
        f"system:node:{_name}",
        ["system:nodes"],
        {f"10.245.1.{_i}"},
        {_name},
        {SERVER},
    )


def test_every_expected_cert_and_nothing_else(generated: tuple[Path, Pki]) -> None:
    d, p = generated
    assert set(p.certs) == set(EXPECTED)
    names = {f.name for f in d.iterdir()} - {".lock"}
    want = {f"{n}.{ext}" for n in [*EXPECTED, "ca"] for ext in ("crt", "key")} | {"sa.key", "sa.pub"}
    assert names == want


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_leaf_subject_sans_usages_and_chain(generated: tuple[Path, Pki], name: str) -> None:
    _, p = generated
    want_cn, want_o, want_ips, want_dns, want_eku = EXPECTED[name]
    pair = p.cert(name)
    cert, ca = load(pair.cert_pem), load(p.ca.cert_pem)
    assert pair.cert_path.read_bytes() == pair.cert_pem
    assert pair.key_path.read_bytes() == pair.key_pem
    assert cn(cert) == want_cn
    assert orgs(cert) == want_o
    assert sans(cert) == (want_ips, want_dns)
    assert ekus(cert) == want_eku

    bc = cert.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and not bc.value.ca
    ku = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
    ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ca_ski = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ca_ski.digest
    assert ski.digest != ca_ski.digest

    key = serialization.load_pem_private_key(pair.key_pem, password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1)
    assert cert.public_key() == key.public_key()
    cert.verify_directly_issued_by(ca)

    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert dt.timedelta(days=365) <= lifetime <= dt.timedelta(days=366)

    # Full RFC 5280 path validation, as a TLS peer would do it.
    store = Store([ca])
    if SERVER in want_eku:
        for ip in want_ips:
            PolicyBuilder().store(store).build_server_verifier(x509.IPAddress(ipaddress.ip_address(ip))).verify(
                cert, []
            )
        for dns in want_dns:
            PolicyBuilder().store(store).build_server_verifier(x509.DNSName(dns)).verify(cert, [])
    if CLIENT in want_eku:
        # Web PKI demands a SAN on client certs; Kubernetes identifies clients by CN/O only.
        ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
            x509.SubjectAlternativeName, Criticality.AGNOSTIC, None
        )
        builder = PolicyBuilder().store(store)
        builder = builder.extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
        builder.build_client_verifier().verify(cert, [])


def test_ca(generated: tuple[Path, Pki]) -> None:
    _, p = generated
    ca = load(p.ca.cert_pem)
    assert cn(ca) == "kubegate-ca-kubegate"
    assert ca.issuer == ca.subject
    bc = ca.extensions.get_extension_for_class(x509.BasicConstraints)
    assert bc.critical and bc.value.ca
    ku = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    assert ku.key_cert_sign and ku.crl_sign
    assert ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
    assert ca.not_valid_after_utc - ca.not_valid_before_utc >= dt.timedelta(days=3650)
    ca.verify_directly_issued_by(ca)


def test_service_account_key_is_rsa_2048_and_pub_matches(generated: tuple[Path, Pki]) -> None:
    _, p = generated
    key = serialization.load_pem_private_key(p.service_account.key_pem, password=None)
    assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
    assert serialization.load_pem_public_key(p.service_account.pub_pem) == key.public_key()
    assert p.service_account.pub_path.read_bytes() == p.service_account.pub_pem


def test_modes(generated: tuple[Path, Pki]) -> None:
    d, _ = generated
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    for f in d.iterdir():
        if f.name == ".lock":
            continue
        want = 0o600 if f.suffix == ".key" else 0o644
        assert stat.S_IMODE(f.stat().st_mode) == want, f.name


def test_accessors(generated: tuple[Path, Pki]) -> None:
    _, p = generated
    assert p.apiserver.name == "kube-apiserver"
    assert p.kubelet_client("minion-2").cert_path.name == "kubelet-minion-2-client.crt"
    assert p.kubelet_serving("minion-3").key_path.name == "kubelet-minion-3-serving.key"
    assert p.etcd_server is p.certs["etcd-server"]
    assert "key_pem" not in repr(p.admin)
    with pytest.raises(KeyError, match="minion-9"):
        p.kubelet_client("minion-9")


def test_keys_are_never_written_with_a_wider_mode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Under umask 0 the temp file must already be 0600 (and complete) when it is renamed into place."""
    seen: dict[str, int] = {}
    real_replace = os.replace

    def spy(src: str, dst: str) -> None:
        seen[Path(dst).name] = stat.S_IMODE(os.stat(src).st_mode)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    old = os.umask(0)
    try:
        ensure_pki(tmp_path / "pki", SPEC)
    finally:
        os.umask(old)
    keys = {n: m for n, m in seen.items() if n.endswith(".key")}
    assert len(keys) == len(EXPECTED) + 2
    assert set(keys.values()) == {0o600}
    assert not [f for f in (tmp_path / "pki").iterdir() if f.name.endswith(".tmp")]


def test_second_call_rewrites_nothing(pki_copy: Path) -> None:
    before = mtimes(pki_copy)
    again = ensure_pki(pki_copy, SPEC)
    assert again.written == ()
    assert mtimes(pki_copy) == before


def test_missing_cert_is_reissued_for_the_same_key(pki_copy: Path) -> None:
    key_pem = (pki_copy / "admin.key").read_bytes()
    (pki_copy / "admin.crt").unlink()
    p = ensure_pki(pki_copy, SPEC)
    assert p.written == (pki_copy / "admin.crt",)
    assert load(p.admin.cert_pem).public_key() == serialization.load_pem_private_key(key_pem, None).public_key()


def test_master_ip_change_reissues_only_what_names_it(pki_copy: Path) -> None:
    before = mtimes(pki_copy)
    spec = replace(SPEC, master_ip="10.245.1.20")
    p = ensure_pki(pki_copy, spec)
    changed = {n for n, m in mtimes(pki_copy).items() if before[n] != m}
    assert changed == {"kube-apiserver.crt", "etcd-server.crt"}
    assert "10.245.1.20" in sans(load(p.apiserver.cert_pem))[0]
    assert "10.245.1.2" not in sans(load(p.etcd_server.cert_pem))[0]
    load(p.apiserver.cert_pem).verify_directly_issued_by(load(p.ca.cert_pem))


def test_new_ca_reissues_every_leaf(pki_copy: Path) -> None:
    (pki_copy / "ca.key").unlink()
    (pki_copy / "ca.crt").unlink()
    p = ensure_pki(pki_copy, SPEC)
    ca = load(p.ca.cert_pem)
    for pair in p.certs.values():
        load(pair.cert_pem).verify_directly_issued_by(ca)
    assert {f.name for f in p.written} >= {f"{n}.crt" for n in EXPECTED}


def test_cluster_rename_gets_a_new_ca_name(pki_copy: Path) -> None:
    p = ensure_pki(pki_copy, replace(SPEC, name="other"))
    assert cn(load(p.ca.cert_pem)) == "kubegate-ca-other"
    load(p.admin.cert_pem).verify_directly_issued_by(load(p.ca.cert_pem))


def test_leaves_expiring_within_30_days_are_renewed(pki_copy: Path) -> None:
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=340)
    p = ensure_pki(pki_copy, SPEC, now=later)
    assert (pki_copy / "ca.crt") not in p.written
    assert {f.name for f in p.written} == {f"{n}.crt" for n in EXPECTED}
    assert load(p.admin.cert_pem).not_valid_after_utc > later + dt.timedelta(days=300)


def test_corrupt_key_is_one_clear_error(pki_copy: Path) -> None:
    (pki_copy / "ca.key").write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n")
    with pytest.raises(KubegateError) as e:
        ensure_pki(pki_copy, SPEC)
    msg = str(e.value)
    assert "\n" not in msg
    assert str(pki_copy / "ca.key") in msg and "to regenerate" in msg


def test_wrong_key_type_is_an_error(pki_copy: Path) -> None:
    shutil.copy(pki_copy / "admin.key", pki_copy / "sa.key")
    with pytest.raises(KubegateError, match=r"sa\.key.*RSA.*to regenerate"):
        ensure_pki(pki_copy, SPEC)


def test_loose_key_mode_is_tightened(pki_copy: Path) -> None:
    (pki_copy / "admin.key").chmod(0o644)
    pki_copy.chmod(0o755)
    ensure_pki(pki_copy, SPEC)
    assert stat.S_IMODE((pki_copy / "admin.key").stat().st_mode) == 0o600
    assert stat.S_IMODE(pki_copy.stat().st_mode) == 0o700


def test_unusable_directory_is_one_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "cluster"
    blocker.write_text("a file where a directory should be")
    with pytest.raises(KubegateError) as e:
        ensure_pki(blocker / "pki", SPEC)
    assert "\n" not in str(e.value) and str(blocker / "pki") in str(e.value)


def test_permission_denied_on_write_is_one_clear_error(pki_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What a non-root user sees for a read-only directory, simulated so it also runs as root."""

    def denied(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    (pki_copy / "admin.crt").unlink()
    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(KubegateError) as e:
        ensure_pki(pki_copy, SPEC)
    assert str(e.value) == f"cannot write {pki_copy / 'admin.crt'}: Permission denied; make {pki_copy} writable"


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_unwritable_directory_is_one_clear_error(tmp_path: Path) -> None:
    d = tmp_path / "pki"
    d.mkdir(mode=0o500)
    try:
        with pytest.raises(KubegateError, match="writable"):
            ensure_pki(d, SPEC)
    finally:
        d.chmod(0o700)


def test_mutual_tls_handshake(generated: tuple[Path, Pki]) -> None:
    """OpenSSL must accept the files as the apiserver and kubectl would load them, hostname checks included."""
    _, p = generated
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(p.apiserver.cert_path, p.apiserver.key_path)
    server_ctx.load_verify_locations(cafile=p.ca.cert_path)
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    client_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    client_ctx.load_cert_chain(p.admin.cert_path, p.admin.key_path)
    client_ctx.load_verify_locations(cafile=p.ca.cert_path)

    s_in, s_out, c_in, c_out = ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO(), ssl.MemoryBIO()
    server = server_ctx.wrap_bio(s_in, s_out, server_side=True)
    client = client_ctx.wrap_bio(c_in, c_out, server_hostname="kubernetes.default.svc")
    done = {"server": False, "client": False}
    for _ in range(10):
        for name, conn in (("client", client), ("server", server)):
            if not done[name]:
                try:
                    conn.do_handshake()
                    done[name] = True
                except ssl.SSLWantReadError:
                    pass
        s_in.write(c_out.read())
        c_in.write(s_out.read())
        if all(done.values()):
            break
    assert all(done.values())
    peer = server.getpeercert()
    assert peer and ((("commonName", "kubegate-admin"),) in peer["subject"])
