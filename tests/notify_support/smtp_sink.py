"""A real SMTP server for the email channel tests (aiosmtpd), on loopback.

usage: smtp_sink.py PORT OUT_DIR [--starttls | --implicit-tls] [--auth USER:PASSWORD]

Each accepted message is parsed with Python's email package and written to OUT_DIR as
N.json: envelope sender and recipients, the headers that matter and every text part,
decoded. Recipients at @rejected.example are refused with 550. The TLS modes use
tls/server.pem (a test certificate for 127.0.0.1 signed by tls/ca.pem). Prints "ready"
once it accepts connections; runs until killed. Exits 3 when aiosmtpd is missing.
"""

import asyncio
import email
import email.policy
import json
import os
import ssl
import sys
import time

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:
    print("missing aiosmtpd: run .ci/test (it installs it with pip)", flush=True)
    sys.exit(3)

HERE = os.path.dirname(os.path.abspath(__file__))


class Sink:
    def __init__(self, out_dir):
        self.out_dir = out_dir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.endswith("@rejected.example"):
            return "550 5.1.1 no such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        parts = []
        for part in message.walk():
            if part.get_content_maintype() == "text":
                parts.append({"content_type": part.get_content_type(), "content": part.get_content()})
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "subject": str(message["Subject"]),
            "from": str(message["From"]),
            "to": str(message["To"]),
            "message_id": str(message["Message-ID"]),
            "event_id": str(message["X-Hb-Event-Id"]),
            "content_type": message.get_content_type(),
            "parts": parts,
            "tls": session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None,
            "auth": session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None,
        }
        self.count += 1
        path = os.path.join(self.out_dir, f"{self.count}.json")
        with open(path + ".tmp", "w") as f:
            json.dump(record, f)
        os.rename(path + ".tmp", path)
        return "250 Message accepted for delivery"


def main():
    port = int(sys.argv[1])
    out_dir = sys.argv[2]
    flags = sys.argv[3:]
    kwargs = {}
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(HERE, "tls", "server.pem"), os.path.join(HERE, "tls", "server.key"))
    if "--starttls" in flags:
        kwargs.update(tls_context=context, require_starttls=True)
    if "--implicit-tls" in flags:
        kwargs.update(ssl_context=context)
    if "--auth" in flags:
        user, password = flags[flags.index("--auth") + 1].split(":", 1)

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (
                isinstance(auth_data, LoginPassword)
                and auth_data.login.decode() == user
                and auth_data.password.decode() == password
            )
            return AuthResult(success=ok, handled=False, auth_data=auth_data)

        kwargs.update(authenticator=authenticator, auth_required=True)
    controller = Controller(Sink(out_dir), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
