"""A SIP2 (3M Standard Interchange Protocol 2.00) client: what a library's system says of an item.

Only what live availability needs: an optional Login (93 → 94) and Item Information (17 → 18),
over one TCP connection, every message with a sequence number and checksum (``AY``/``AZ``)
and ended by a carriage return. The whole exchange has one deadline: a server that is slow,
hangs or is down raises ``Sip2Error`` and the caller shows what the import said.
"""
import ipaddress
import socket
import string
import time
from dataclasses import dataclass, field
from datetime import datetime

TERMINATOR = b"\r"
DELIMITER = "|"
# the fixed-length part of an 18 after its command: circulation status, security marker,
# fee type (2 each) and the transaction date (18)
ITEM_FIXED_LENGTH = 2 + 2 + 2 + 18
MAX_MESSAGE_BYTES = 64 * 1024
HEX_DIGITS = frozenset(string.hexdigits.encode())
# cloud instance metadata services outside the link-local range (Alibaba Cloud, AWS over
# IPv6, Azure's wire server), and "this network" (0.0.0.0 itself reaches this machine)
ALWAYS_REFUSED = tuple(ipaddress.ip_network(net) for net in (
    "100.100.100.200/32", "fd00:ec2::254/128", "168.63.129.16/32", "0.0.0.0/8"))


class Sip2Error(Exception):
    """The server could not be asked, refused us, or answered something unreadable."""


@dataclass(frozen=True)
class Sip2Server:
    """Where a library's SIP2 server is and how the portal signs in to it."""

    host: str
    port: int
    institution_id: str = ""
    login_user: str | None = None
    login_password: str | None = None
    location_code: str | None = None
    encoding: str = "utf-8"
    # in production a library's server is never this machine, a link-local, reserved or
    # metadata address …
    refuse_local: bool = False
    # … and, if the alliance says so, never a private one (campus servers reached over a VPN
    # usually are)
    allow_private: bool = True


@dataclass(frozen=True)
class ItemInformation:
    """An 18 Item Information Response, the fields the portal reads."""

    circulation_status: str
    item_identifier: str
    title: str = ""
    due_date: str | None = None
    hold_queue_length: str | None = None
    current_location: str | None = None
    screen_messages: tuple = field(default_factory=tuple)


def checksum(prefix):
    """The four hex digits after ``AZ``: the two's complement of the byte sum (16 bits)."""
    return f"{(-sum(prefix)) & 0xFFFF:04X}"


def frame(body, sequence, encoding):
    """``body`` (a command and its fields) with ``AY``/``AZ`` error detection and the CR."""
    try:
        prefix = f"{body}AY{sequence}AZ".encode(encoding)
    except UnicodeEncodeError as exc:
        raise Sip2Error(f"the server's encoding ({encoding}) cannot carry {body!r}") from exc
    return prefix + checksum(prefix).encode("ascii") + TERMINATOR


def transaction_date(moment=None):
    """SIP2's 18-character date: YYYYMMDD, four blanks (local time), HHMMSS."""
    return (moment or datetime.now()).strftime("%Y%m%d    %H%M%S")


def _field(code, value):
    text = str(value or "")
    if DELIMITER in text or "\r" in text:
        raise Sip2Error(f"{code} may not contain '|' or a carriage return")
    return f"{code}{text}{DELIMITER}"


def login_message(server):
    """93: plain-text user id and password (algorithm 0), and the location if given."""
    body = "9300" + _field("CN", server.login_user) + _field("CO", server.login_password)
    if server.location_code:
        body += _field("CP", server.location_code)
    return body


def item_information_message(server, item_identifier, moment=None):
    """17: the institution and the item asked about."""
    return ("17" + transaction_date(moment) + _field("AO", server.institution_id)
            + _field("AB", item_identifier))


def check_frame(raw, sequence):
    """A received message (without its CR) with its trailer verified and removed."""
    if len(raw) >= 9 and raw[-9:-7] == b"AY" and raw[-6:-4] == b"AZ":
        if not HEX_DIGITS.issuperset(raw[-4:]):
            raise Sip2Error("the checksum of the answer is not four hex digits")
        if (sum(raw[:-4]) + int(raw[-4:], 16)) & 0xFFFF:
            raise Sip2Error("the checksum of the answer does not add up")
        if raw[-7:-6] != str(sequence).encode():
            raise Sip2Error("the answer carries another sequence number")
        return raw[:-9]
    if len(raw) >= 6 and raw[-6:-4] == b"AZ":
        raise Sip2Error("the answer has a checksum but no sequence number")
    return raw  # error detection is optional for the server


def variable_fields(text):
    """``{code: [values]}`` of the ``XXvalue|`` fields after a message's fixed part."""
    fields = {}
    for piece in text.split(DELIMITER):
        if len(piece) >= 2:
            fields.setdefault(piece[:2], []).append(piece[2:])
    return fields


def parse_item_information(text):
    """An 18 message (trailer removed) as ``ItemInformation``."""
    if not text.startswith("18") or len(text) < 2 + ITEM_FIXED_LENGTH:
        raise Sip2Error(f"expected an item information response, got {text[:2]!r}")
    fields = variable_fields(text[2 + ITEM_FIXED_LENGTH:])

    def first(code):
        return fields.get(code, [None])[0]

    return ItemInformation(
        circulation_status=text[2:4], item_identifier=first("AB") or "",
        title=first("AJ") or "", due_date=first("AH") or None,
        hold_queue_length=first("CF"), current_location=first("AP"),
        screen_messages=tuple(fields.get("AF", ())))


def address_refusal(address, allow_private=True):
    """Why the portal may not connect to ``address`` in production, or None if it may."""
    ip = ipaddress.ip_address(address.split("%")[0])
    ip = getattr(ip, "ipv4_mapped", None) or ip  # ::ffff:127.0.0.1 is 127.0.0.1
    if (ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast
            or ip.is_reserved or any(ip in net for net in ALWAYS_REFUSED)):
        return "a local address is not allowed"
    if not allow_private and not ip.is_global:
        return "a private address is not allowed"
    return None


def can_carry(text, encoding):
    """Whether SIP2 can send ``text`` as a field to a server speaking ``encoding``."""
    if DELIMITER in text or "\r" in text:
        return False
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


class Sip2Connection:
    """One TCP conversation with a SIP2 server, bounded by a deadline (``time.monotonic``)."""

    def __init__(self, server, deadline):
        self.server = server
        self.deadline = deadline
        self.sequence = 0
        self.buffer = b""
        self.sock = self._connect()

    def _connect(self):
        server, failure = self.server, "no address"
        try:
            addresses = socket.getaddrinfo(server.host, server.port, type=socket.SOCK_STREAM)
        except OSError as exc:
            raise Sip2Error(f"cannot find {server.host}: {exc}") from exc
        for family, kind, proto, _name, address in addresses:
            refused = server.refuse_local and address_refusal(address[0], server.allow_private)
            if refused:
                failure = refused
                continue
            remaining = self._remaining()
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(remaining)
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                failure = exc
        raise Sip2Error(f"cannot reach {server.host}:{server.port}: {failure}")

    def _remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise Sip2Error("the server took too long")
        return left

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def ask(self, body):
        """Send one message and return the answer's text (trailer checked and removed).

        A server that asks for the message again (96) gets it once more.
        """
        message = frame(body, self.sequence, self.server.encoding)
        for _attempt in range(2):
            self._send(message)
            answer = self._receive()
            if not answer.startswith(b"96"):
                break
        else:
            raise Sip2Error("the server kept asking for the message again")
        text = check_frame(answer, self.sequence).decode(self.server.encoding, "replace")
        self.sequence = (self.sequence + 1) % 10
        return text

    def _send(self, message):
        try:
            self.sock.settimeout(self._remaining())
            self.sock.sendall(message)
        except OSError as exc:
            raise Sip2Error(f"sending failed: {exc}") from exc

    def _receive(self):
        while TERMINATOR not in self.buffer:
            if len(self.buffer) > MAX_MESSAGE_BYTES:
                raise Sip2Error("the answer is too long")
            try:
                self.sock.settimeout(self._remaining())
                chunk = self.sock.recv(4096)
            except OSError as exc:  # socket.timeout included
                raise Sip2Error(f"no answer: {exc}") from exc
            if not chunk:
                raise Sip2Error("the server closed the connection")
            self.buffer += chunk
        answer, _, self.buffer = self.buffer.partition(TERMINATOR)
        return answer.lstrip(b"\n")  # some servers send CR LF

    def login(self):
        """93 → 94; raise unless the server says ok."""
        answer = self.ask(login_message(self.server))
        if not answer.startswith("94") or answer[2:3] != "1":
            raise Sip2Error("the server refused the login")

    def item_information(self, item_identifier):
        """17 → 18 for one item."""
        return parse_item_information(self.ask(item_information_message(self.server,
                                                                         item_identifier)))


def items_information(server, item_identifiers, timeout=1.0):
    """Ask one server about several items in one connection, all within ``timeout`` seconds.

    An identifier SIP2 cannot carry (a Chinese call number to a cp850 server, a "|") is not
    asked about: the server could not know it by a mangled name, and the others still can be.
    """
    askable = [item for item in item_identifiers if can_carry(item, server.encoding)]
    if not askable:
        return []
    deadline = time.monotonic() + timeout
    with Sip2Connection(server, deadline) as connection:
        if server.login_user:
            connection.login()
        return [connection.item_information(item) for item in askable]
