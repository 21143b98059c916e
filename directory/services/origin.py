"""Network origin, done once: where an account acts from, as keyed hashes only.

`directory.requestorigin` reads the client's address from the request
(honouring the configured number of reverse proxies, `PROXY_HOPS`) and the
device cookie; `from_values` here turns them into an `Origin` (keyed hashes of
the full address, of its network prefix — /24 for IPv4, /48 for IPv6 — and of
the browser's device cookie), and `record` stores
it for a user at sign-up, at every login and at every submission, whatever the
user's role (owners and staff included). The address itself is never stored.

The trust signals compare these hashes between accounts: a testimonial sent
from the network of the clinic's owner, two accounts on one device, a ring of
accounts on one address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from dataclasses import dataclass

from directory.extensions import db
from directory.models import OriginEvent, User

EVENTS = ("signup", "login", "review", "followup", "result_case", "claim", "clinic", "report")


@dataclass(frozen=True)
class Origin:
    address_hash: str | None
    network_hash: str | None
    device_hash: str | None = None

    @property
    def is_known(self) -> bool:
        return bool(self.address_hash or self.network_hash or self.device_hash)


def network_of(address: str | None) -> str | None:
    """The /24 (IPv4) or /48 (IPv6) network of an address, or None if unparsable.
    IPv4-mapped IPv6 addresses count as the IPv4 address they carry."""
    ip = parse_address(address)
    if ip is None:
        return None
    prefix = 24 if ip.version == 4 else 48
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))


def parse_address(address: str | None):
    if not address:
        return None
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip


def keyed_hash(kind: str, value: str, secret_key: str | bytes) -> str:
    """HMAC-SHA256 under a key derived from SECRET_KEY for this kind of value."""
    secret = secret_key.encode() if isinstance(secret_key, str) else secret_key
    key = hmac.new(secret, f"directory/origin/{kind}/v2".encode(), hashlib.sha256).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()


def from_values(address: str | None, device_id: str | None, secret_key: str | bytes) -> Origin:
    """The origin of an address and device cookie value (pure; tests use it directly)."""
    ip = parse_address(address)
    net = network_of(address)
    return Origin(
        address_hash=keyed_hash("address", str(ip), secret_key) if ip is not None else None,
        network_hash=keyed_hash("network", net, secret_key) if net else None,
        device_hash=keyed_hash("device", device_id, secret_key) if device_id else None,
    )


def record(
    user: User,
    event: str,
    *,
    item_type: str | None = None,
    item_id: int | None = None,
    origin: Origin | None,
) -> OriginEvent | None:
    """Stage one origin event for the user. Nothing is recorded without an origin
    (outside a request: the command line, demo data without addresses)."""
    if event not in EVENTS:
        raise ValueError(f"unknown origin event {event!r}")
    if origin is None or not origin.is_known:
        return None
    if user.id is None:
        db.session.flush()
    row = OriginEvent(
        user_id=user.id,
        event=event,
        item_type=item_type,
        item_id=item_id,
        address_hash=origin.address_hash,
        network_hash=origin.network_hash,
        device_hash=origin.device_hash,
    )
    db.session.add(row)
    return row
