"""The cluster's PKI: one CA and every certificate the control plane, etcd and the kubelets use.

Generated with `cryptography` (as kubeadm and Kubernetes the Hard Way lay it out) so bringing a
cluster up needs no openssl CLI. `ensure_pki` runs on every `up`; it keeps what is still good
because a rewritten certificate makes provisioning restart every service that reads it, and a
new CA would orphan every kubeconfig already handed out. Keys are therefore only ever created,
never replaced: a certificate that no longer fits the spec is reissued for the same key.

One CA serves both Kubernetes and etcd; a separate etcd CA would buy nothing in a throwaway
cluster and would double what has to be distributed and rotated.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kubegate import mutex
from kubegate.errors import KubegateError
from kubegate.fs import write_atomic
from kubegate.rig.spec import ClusterSpec
from kubegate.wait import WaitTimeout

CA_VALIDITY = dt.timedelta(days=3650)
LEAF_VALIDITY = dt.timedelta(days=365)
# Reissue early enough that a cluster left running for weeks never hits an expired cert mid-run.
RENEW_BEFORE = dt.timedelta(days=30)
# VMs' clocks can lag the host's; a cert that is "not yet valid" fails TLS in confusing ways.
BACKDATE = dt.timedelta(hours=1)
LOCK_TIMEOUT_S = 120.0

KEY_MODE = 0o600
CERT_MODE = 0o644
DIR_MODE = 0o700

CA = "ca"
APISERVER = "kube-apiserver"
APISERVER_KUBELET_CLIENT = "apiserver-kubelet-client"
APISERVER_ETCD_CLIENT = "apiserver-etcd-client"
ETCD_SERVER = "etcd-server"
ADMIN = "admin"
CONTROLLER_MANAGER = "kube-controller-manager"
SCHEDULER = "kube-scheduler"
KUBE_PROXY = "kube-proxy"
REGISTRY = "registry"
SERVICE_ACCOUNT = "sa"


def kubelet_client_name(node: str) -> str:
    return f"kubelet-{node}-client"


def kubelet_serving_name(node: str) -> str:
    return f"kubelet-{node}-serving"


def ca_common_name(spec: ClusterSpec) -> str:
    """Naming the CA after the cluster makes a kubeconfig from another cluster fail loudly, not subtly."""
    return f"kubegate-ca-{spec.name}"


@dataclass(frozen=True)
class CertProfile:
    """What a leaf certificate must say; an existing cert is reused only if it says exactly this."""

    name: str
    cn: str
    orgs: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    server: bool = False
    client: bool = False

    @property
    def subject(self) -> x509.Name:
        return _name(self.cn, self.orgs)

    @property
    def ip_addresses(self) -> frozenset[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        return frozenset(ipaddress.ip_address(ip) for ip in self.ips)

    @property
    def extended_key_usages(self) -> frozenset[x509.ObjectIdentifier]:
        usages = set()
        if self.server:
            usages.add(ExtendedKeyUsageOID.SERVER_AUTH)
        if self.client:
            usages.add(ExtendedKeyUsageOID.CLIENT_AUTH)
        return frozenset(usages)


def _unique(*items: str) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def cert_profiles(spec: ClusterSpec) -> list[CertProfile]:
    """Every leaf the cluster needs; RBAC's default bindings key on these CNs and Os."""
    profiles = [
        CertProfile(
            APISERVER,
            "kube-apiserver",
            ips=_unique(spec.master_ip, spec.apiserver_service_ip, "127.0.0.1"),
            dns=(
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
                "localhost",
                spec.master.name,
            ),
            server=True,
        ),
        CertProfile(APISERVER_KUBELET_CLIENT, "kube-apiserver-kubelet-client", orgs=("system:masters",), client=True),
        CertProfile(APISERVER_ETCD_CLIENT, "kube-apiserver-etcd-client", client=True),
        # etcd presents its serving cert as a client too (grpc-gateway loopback), hence both usages.
        CertProfile(
            ETCD_SERVER,
            "etcd-server",
            ips=_unique("127.0.0.1", spec.master_ip),
            dns=("localhost",),
            server=True,
            client=True,
        ),
        CertProfile(ADMIN, "kubegate-admin", orgs=("system:masters",), client=True),
        CertProfile(CONTROLLER_MANAGER, "system:kube-controller-manager", client=True),
        CertProfile(SCHEDULER, "system:kube-scheduler", client=True),
        # One kube-proxy identity for all minions: the default system:node-proxier binding names this user.
        CertProfile(KUBE_PROXY, "system:kube-proxy", client=True),
    ]
    # The local registry on the host's cluster address: minions' containerd trusts the CA.
    profiles.append(CertProfile(REGISTRY, "kubegate-registry", ips=(spec.registry_ip,), server=True))
    for node in spec.minions:
        # The Node authorizer only grants a kubelet its own node's objects when CN/O look like this.
        profiles.append(
            CertProfile(kubelet_client_name(node.name), f"system:node:{node.name}", orgs=("system:nodes",), client=True)
        )
        # kube-apiserver dials kubelets by IP (--kubelet-preferred-address-types), so the IP SAN is what counts.
        profiles.append(
            CertProfile(
                kubelet_serving_name(node.name),
                f"system:node:{node.name}",
                orgs=("system:nodes",),
                ips=(node.ip,),
                dns=(node.name,),
                server=True,
            )
        )
    return profiles


@dataclass(frozen=True)
class CertKeyPair:
    """A certificate and its key, as paths (for flags) and PEM (for embedding in kubeconfigs)."""

    name: str
    cert_path: Path
    key_path: Path
    cert_pem: bytes
    key_pem: bytes = field(repr=False)


@dataclass(frozen=True)
class ServiceAccountKey:
    """The token signing pair: the controller-manager signs with the key, the apiserver verifies with pub."""

    key_path: Path
    pub_path: Path
    key_pem: bytes = field(repr=False)
    pub_pem: bytes


@dataclass(frozen=True)
class Pki:
    """The result of `ensure_pki`: renderers take paths and PEM from here, never from literal file names."""

    dir: Path
    ca: CertKeyPair
    service_account: ServiceAccountKey
    certs: Mapping[str, CertKeyPair]
    written: tuple[Path, ...] = ()  # what this call (re)wrote; empty when nothing changed

    def cert(self, name: str) -> CertKeyPair:
        try:
            return self.certs[name]
        except KeyError:
            raise KeyError(f"no certificate {name!r} in {self.dir}; have {', '.join(sorted(self.certs))}") from None

    @property
    def apiserver(self) -> CertKeyPair:
        return self.cert(APISERVER)

    @property
    def apiserver_kubelet_client(self) -> CertKeyPair:
        return self.cert(APISERVER_KUBELET_CLIENT)

    @property
    def apiserver_etcd_client(self) -> CertKeyPair:
        return self.cert(APISERVER_ETCD_CLIENT)

    @property
    def etcd_server(self) -> CertKeyPair:
        return self.cert(ETCD_SERVER)

    @property
    def admin(self) -> CertKeyPair:
        return self.cert(ADMIN)

    @property
    def controller_manager(self) -> CertKeyPair:
        return self.cert(CONTROLLER_MANAGER)

    @property
    def scheduler(self) -> CertKeyPair:
        return self.cert(SCHEDULER)

    @property
    def kube_proxy(self) -> CertKeyPair:
        return self.cert(KUBE_PROXY)

    def kubelet_client(self, node: str) -> CertKeyPair:
        return self.cert(kubelet_client_name(node))

    def kubelet_serving(self, node: str) -> CertKeyPair:
        return self.cert(kubelet_serving_name(node))


def ensure_pki(pki_dir: Path, spec: ClusterSpec, *, now: dt.datetime | None = None) -> Pki:
    """Create what is missing or no longer fits `spec`, keep the rest byte for byte.

    `now` exists so expiry handling can be tested without waiting a year.
    """
    now = now or dt.datetime.now(dt.UTC)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware: certificates compare against UTC")
    _ensure_dir(pki_dir)
    with _locked(pki_dir):
        return _Builder(pki_dir, now).build(spec)


def _name(cn: str, orgs: tuple[str, ...] = ()) -> x509.Name:
    return x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs] + [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    )


def _ensure_dir(pki_dir: Path) -> None:
    try:
        pki_dir.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        if stat.S_IMODE(pki_dir.stat().st_mode) != DIR_MODE:
            pki_dir.chmod(DIR_MODE)
    except OSError as e:
        raise KubegateError(
            f"cannot create {pki_dir}: {e.strerror}; make its parent a writable directory owned by you"
        ) from e


@contextlib.contextmanager
def _locked(pki_dir: Path) -> Iterator[None]:
    """Parallel test workers may all bring the cluster up; two CAs written at once would be a mess."""
    try:
        with mutex.hold(pki_dir / ".lock", timeout=LOCK_TIMEOUT_S):
            yield
    except WaitTimeout as e:
        raise KubegateError(
            f"{pki_dir} stayed locked for {LOCK_TIMEOUT_S:.0f}s; stop the other kubegate or delete {pki_dir}/.lock"
        ) from e
    except OSError as e:
        raise KubegateError(f"cannot lock {pki_dir}: {e.strerror}; make it writable") from e


def _public_der(key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey | x509.Certificate) -> bytes:
    pub = key.public_key() if isinstance(key, x509.Certificate) else key
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class _Builder:
    def __init__(self, pki_dir: Path, now: dt.datetime) -> None:
        self.dir = pki_dir
        self.now = now
        self.written: list[Path] = []

    def build(self, spec: ClusterSpec) -> Pki:
        ca, ca_key, ca_cert = self._ca(spec)
        certs = {p.name: self._leaf(p, ca_key, ca_cert) for p in cert_profiles(spec)}
        sa = self._service_account()
        return Pki(self.dir, ca, sa, MappingProxyType(certs), tuple(self.written))

    # -- files -------------------------------------------------------------------------------

    def _write(self, path: Path, data: bytes, mode: int) -> None:
        write_atomic(path, data, mode)
        self.written.append(path)

    def _read(self, path: Path) -> bytes | None:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise KubegateError(f"cannot read {path}: {e.strerror}; fix its permissions or delete {self.dir}") from e
        return data

    def _fix_mode(self, path: Path, mode: int) -> None:
        """A key copied in by hand may be group-readable; tighten it rather than trust it."""
        try:
            if stat.S_IMODE(path.stat().st_mode) != mode:
                path.chmod(mode)
        except OSError as e:
            raise KubegateError(f"cannot chmod {path}: {e.strerror}; delete {self.dir} to regenerate") from e

    # -- keys --------------------------------------------------------------------------------

    def _load_key(self, path: Path) -> tuple[PrivateKeyTypes, bytes] | None:
        data = self._read(path)
        if data is None:
            return None
        self._fix_mode(path, KEY_MODE)
        try:
            return serialization.load_pem_private_key(data, password=None), data
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise KubegateError(
                f"corrupt private key {path}: not an unencrypted PEM key; "
                f"delete it (or all of {self.dir}) to regenerate"
            ) from None

    def _wrong_key(self, path: Path, want: str) -> KubegateError:
        return KubegateError(
            f"unexpected private key {path}: kubegate needs {want} key here; "
            f"delete it (or all of {self.dir}) to regenerate"
        )

    def _write_key(self, path: Path, key: PrivateKeyTypes) -> bytes:
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self._write(path, pem, KEY_MODE)
        return pem

    def _ec_key(self, path: Path) -> tuple[ec.EllipticCurvePrivateKey, bytes]:
        loaded = self._load_key(path)
        if loaded is None:
            new = ec.generate_private_key(ec.SECP256R1())
            return new, self._write_key(path, new)
        key, pem = loaded
        if isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(key.curve, ec.SECP256R1):
            return key, pem
        raise self._wrong_key(path, "an ECDSA P-256")

    def _rsa_key(self, path: Path) -> tuple[rsa.RSAPrivateKey, bytes]:
        loaded = self._load_key(path)
        if loaded is None:
            new = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            return new, self._write_key(path, new)
        key, pem = loaded
        if isinstance(key, rsa.RSAPrivateKey) and key.key_size >= 2048:
            return key, pem
        raise self._wrong_key(path, "an RSA (2048 bit or more)")

    def _service_account(self) -> ServiceAccountKey:
        key_path, pub_path = self.dir / f"{SERVICE_ACCOUNT}.key", self.dir / f"{SERVICE_ACCOUNT}.pub"
        key, key_pem = self._rsa_key(key_path)
        pub_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        if self._read(pub_path) != pub_pem:
            self._write(pub_path, pub_pem, CERT_MODE)
        else:
            self._fix_mode(pub_path, CERT_MODE)
        return ServiceAccountKey(key_path, pub_path, key_pem, pub_pem)

    # -- certificates ------------------------------------------------------------------------

    def _existing_cert(self, path: Path) -> x509.Certificate | None:
        """An unparseable certificate is only derived data: reissue it rather than stop the user."""
        data = self._read(path)
        if data is None:
            return None
        try:
            return x509.load_pem_x509_certificate(data)
        except ValueError:
            return None

    def _fresh(self, cert: x509.Certificate) -> bool:
        return cert.not_valid_before_utc <= self.now and cert.not_valid_after_utc - self.now > RENEW_BEFORE

    def _ca(self, spec: ClusterSpec) -> tuple[CertKeyPair, ec.EllipticCurvePrivateKey, x509.Certificate]:
        key_path, cert_path = self.dir / f"{CA}.key", self.dir / f"{CA}.crt"
        key, key_pem = self._ec_key(key_path)
        subject = _name(ca_common_name(spec))
        cert = self._existing_cert(cert_path)
        if cert is None or not self._ca_ok(cert, key, subject):
            cert = self._issue_ca(subject, key)
            self._write(cert_path, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)
        else:
            self._fix_mode(cert_path, CERT_MODE)
        pem = cert.public_bytes(serialization.Encoding.PEM)
        return CertKeyPair(CA, cert_path, key_path, pem, key_pem), key, cert

    def _ca_ok(self, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey, subject: x509.Name) -> bool:
        try:
            bc = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
            cert.verify_directly_issued_by(cert)
        except (x509.ExtensionNotFound, ValueError, TypeError, InvalidSignature):
            return False
        return (
            bc.ca
            and cert.subject == subject
            and _public_der(cert) == _public_der(key.public_key())
            and self._fresh(cert)
        )

    def _issue_ca(self, subject: x509.Name, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
        return issue_ca(subject, key, self.now)

    def _leaf(self, profile: CertProfile, ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate) -> CertKeyPair:
        key_path, cert_path = self.dir / f"{profile.name}.key", self.dir / f"{profile.name}.crt"
        key, key_pem = self._ec_key(key_path)
        cert = self._existing_cert(cert_path)
        if cert is None or not self._leaf_ok(cert, profile, key, ca_cert):
            cert = self._issue_leaf(profile, key.public_key(), ca_key, ca_cert)
            self._write(cert_path, cert.public_bytes(serialization.Encoding.PEM), CERT_MODE)
        else:
            self._fix_mode(cert_path, CERT_MODE)
        return CertKeyPair(profile.name, cert_path, key_path, cert.public_bytes(serialization.Encoding.PEM), key_pem)

    def _leaf_ok(
        self, cert: x509.Certificate, profile: CertProfile, key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate
    ) -> bool:
        try:
            cert.verify_directly_issued_by(ca_cert)
            eku = frozenset(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value)
        except (x509.ExtensionNotFound, ValueError, TypeError, InvalidSignature):
            return False
        try:
            san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
            ips = frozenset(san.get_values_for_type(x509.IPAddress))
            dns = frozenset(san.get_values_for_type(x509.DNSName))
        except x509.ExtensionNotFound:
            ips, dns = frozenset(), frozenset()
        return (
            cert.subject == profile.subject
            and ips == profile.ip_addresses
            and dns == frozenset(profile.dns)
            and eku == profile.extended_key_usages
            and _public_der(cert) == _public_der(key.public_key())
            and self._fresh(cert)
        )

    def _issue_leaf(
        self,
        profile: CertProfile,
        pub: ec.EllipticCurvePublicKey,
        ca_key: ec.EllipticCurvePrivateKey,
        ca_cert: x509.Certificate,
    ) -> x509.Certificate:
        return issue_leaf(profile, pub, ca_key, ca_cert, self.now)


def _key_usage(signs_certificates: bool) -> x509.KeyUsage:
    """Signatures only (ECDSA keys), plus certificate and CRL signing for a CA."""
    return x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                         data_encipherment=False, key_agreement=False, key_cert_sign=signs_certificates,
                         crl_sign=signs_certificates, encipher_only=False, decipher_only=False)


def issue_ca(subject: x509.Name, key: ec.EllipticCurvePrivateKey, now: dt.datetime) -> x509.Certificate:
    """A self-signed CA for `subject`: the cluster's, or any other kubegate signs with."""
    pub = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        .not_valid_after(now + CA_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_key_usage(signs_certificates=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(pub), critical=False)
        .sign(key, hashes.SHA256())
    )


def issue_leaf(
    profile: CertProfile,
    pub: ec.EllipticCurvePublicKey,
    ca_key: ec.EllipticCurvePrivateKey,
    ca_cert: x509.Certificate,
    now: dt.datetime,
) -> x509.Certificate:
    """A leaf saying exactly what `profile` says, signed by the CA (never outliving it)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(profile.subject)
        .issuer_name(ca_cert.subject)
        .public_key(pub)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - BACKDATE)
        # Never outlive the CA: verifiers reject the chain once the CA expires anyway.
        .not_valid_after(min(now + LEAF_VALIDITY, ca_cert.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        # ECDSA keys only sign in TLS; keyEncipherment is for RSA key transport and would be wrong here.
        .add_extension(_key_usage(signs_certificates=False), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(sorted(profile.extended_key_usages, key=lambda o: o.dotted_string)),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(pub), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
    )
    sans: list[x509.GeneralName] = [x509.DNSName(d) for d in profile.dns]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in profile.ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder.sign(ca_key, hashes.SHA256())


def own_ca(folder: Path) -> tuple[Path, Path]:
    """kubegate's CA for clusters whose CA key it does not hold (it signs what kubegate serves,
    the web API's certificate); created once, key 0600."""
    cert, key = folder / "ca.crt", folder / "ca.key"
    if cert.is_file() and key.is_file():
        return cert, key
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    k = ec.generate_private_key(ec.SECP256R1())
    c = issue_ca(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubegate-web-ca")]), k, dt.datetime.now(dt.UTC))
    write_atomic(key, k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption()), KEY_MODE)
    write_atomic(cert, c.public_bytes(serialization.Encoding.PEM), CERT_MODE)
    return cert, key
