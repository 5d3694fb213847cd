"""Throw-away PKI for the simulator: one CA per process, server and client certificates.

ECDSA P-256 keys keep generation in the millisecond range. The CA (and a second,
"foreign" CA used by tests for untrusted client certificates) is made once per
process and cached; each SimCluster still gets its own server certificate.
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import threading
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class CertPair:
    cert_pem: bytes
    key_pem: bytes


@dataclass(frozen=True)
class _CA:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    pair: CertPair


_lock = threading.Lock()
_cas: dict[str, _CA] = {}


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, key: ec.EllipticCurvePrivateKey, *, ca: bool
) -> x509.CertificateBuilder:
    """What the CA and every leaf share: names, key, serial, 30 days, and a CA's or a leaf's usages."""
    now = _dt.datetime.now(_dt.timezone.utc)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _dt.timedelta(hours=1))
        .not_valid_after(now + _dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=not ca,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=ca,
                crl_sign=ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def _ca(name: str = "kaito-sim-ca") -> _CA:
    with _lock:
        ca = _cas.get(name)
        if ca is not None:
            return ca
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        cert = (
            _builder(subject, subject, key, ca=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        ca = _CA(cert, key, CertPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)))
        _cas[name] = ca
        return ca


def ca_pair(foreign: bool = False) -> CertPair:
    """The process-wide simulator CA (or an unrelated CA with `foreign=True`)."""
    return _ca("kaito-sim-foreign-ca" if foreign else "kaito-sim-ca").pair


def _leaf(subject: x509.Name, *, sans: list[x509.GeneralName] | None, server: bool, foreign: bool) -> CertPair:
    ca = _ca("kaito-sim-foreign-ca" if foreign else "kaito-sim-ca")
    key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        _builder(subject, ca.cert.subject, key, ca=False)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
            critical=False,
        )
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    cert = builder.sign(ca.key, hashes.SHA256())
    return CertPair(cert.public_bytes(serialization.Encoding.PEM), _key_pem(key))


def _san(value: str) -> x509.GeneralName:
    value = value.strip()
    for prefix in ("IP:", "ip:"):
        if value.startswith(prefix):
            return x509.IPAddress(ipaddress.ip_address(value[len(prefix) :]))
    for prefix in ("DNS:", "dns:"):
        if value.startswith(prefix):
            return x509.DNSName(value[len(prefix) :])
    try:
        return x509.IPAddress(ipaddress.ip_address(value))
    except ValueError:
        return x509.DNSName(value)


def server_pair(extra_sans: tuple[str, ...] | list[str] = ()) -> CertPair:
    """A server certificate for 127.0.0.1 and localhost plus `extra_sans`
    (plain values or `IP:`/`DNS:` prefixed)."""
    sans: list[x509.GeneralName] = [
        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        x509.DNSName("localhost"),
    ]
    for s in extra_sans:
        name = _san(s)
        if name not in sans:
            sans.append(name)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kaito-sim-apiserver")])
    return _leaf(subject, sans=sans, server=True, foreign=False)


def client_pair(
    common_name: str = "kaito-sim-admin", groups: tuple[str, ...] = ("system:masters",), foreign: bool = False
) -> CertPair:
    """A client certificate (CN = user, O = groups), signed by the sim CA
    unless `foreign=True` (then the server refuses it)."""
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return _leaf(x509.Name(attrs), sans=None, server=False, foreign=foreign)
