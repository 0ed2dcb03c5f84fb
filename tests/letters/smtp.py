"""A real SMTP server on 127.0.0.1 for the tests (aiosmtpd), keeping every message it accepted."""

import email
import email.policy
import socket
import threading

from aiosmtpd.controller import Controller


class Keeper:
    """The server's handler: stores each accepted message, or refuses with a chosen SMTP answer."""

    def __init__(self):
        self.messages = []
        self.refuse_with = None  # e.g. "550 5.1.1 no such mailbox" or "451 4.3.0 try later"
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.messages.append((list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(port: int | None = None):
    keeper = Keeper()
    controller = Controller(keeper, hostname="127.0.0.1", port=port or free_port())
    controller.start()
    return controller, keeper
