"""A local SMTP sink for development: every message is stored as a file in ``instance/mail``."""
import email
import email.policy
import secrets
from datetime import UTC, datetime
from pathlib import Path

from aiosmtpd.controller import Controller

from jala.embedded.redis_server import free_port


class _StoreHandler:
    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        target = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        tmp = target.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(target)
        return "250 Message stored"


def start_mail_sink(directory, port=None):
    """Start the sink on 127.0.0.1; returns the running aiosmtpd ``Controller``."""
    controller = Controller(_StoreHandler(directory), hostname="127.0.0.1",
                            port=port or free_port())
    controller.start()
    return controller


def stored_mails(directory, limit=100):
    """The newest stored messages as ``(name, parsed message)``."""
    directory = Path(directory)
    if not directory.is_dir():
        return []
    files = sorted(directory.glob("*.eml"), reverse=True)[:limit]
    return [(f.name, read_mail(f)) for f in files]


def read_mail(path):
    """Parse one stored message."""
    with open(path, "rb") as fh:
        return email.message_from_binary_file(fh, policy=email.policy.default)
