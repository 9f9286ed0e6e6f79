#!/usr/bin/env python3
"""A mail catcher for the tests: a real SMTP server (aiosmtpd) that keeps what it receives
in memory, and a small HTTP API to read it.

    scripts/mailcatcher.py [--smtp-port 1025] [--http-port 1080]

HTTP API (JSON):
    GET    /messages            every message received, oldest first
    GET    /messages?to=ADDR    only messages with ADDR among the recipients
    DELETE /messages            forget them all
    GET    /health              {"status": "ok"}

Each message: {"id", "from", "to": [envelope recipients], "subject", "text", "html",
"headers": {...}}. Recipients at the domain `refuse.test` are refused with 550, so tests
can see how a server that refuses mail is handled.
"""
import argparse
import json
import threading
from email import policy
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from aiosmtpd.controller import Controller

MAX_MESSAGES = 5000
messages = []
lock = threading.Lock()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().endswith("@refuse.test"):
            return "550 5.7.1 Recipient refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        text = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
        with lock:
            messages.append(
                {
                    "id": len(messages) + 1,
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "subject": str(msg.get("subject", "")),
                    "text": text.get_content() if text else "",
                    "html": html.get_content() if html else "",
                    "headers": {k: str(v) for k, v in msg.items()},
                }
            )
            del messages[:-MAX_MESSAGES]
        return "250 Message accepted"


class Api(BaseHTTPRequestHandler):
    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urlparse(self.path)
        if url.path == "/health":
            return self._send(200, {"status": "ok"})
        if url.path != "/messages":
            return self._send(404, {"error": "not found"})
        to = parse_qs(url.query).get("to", [None])[0]
        with lock:
            found = [m for m in messages if to is None or to.lower() in (r.lower() for r in m["to"])]
        self._send(200, found)

    def do_DELETE(self):
        if urlparse(self.path).path != "/messages":
            return self._send(404, {"error": "not found"})
        with lock:
            messages.clear()
        self._send(200, {"deleted": True})

    def log_message(self, *args):
        pass


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--smtp-port", type=int, default=1025)
    p.add_argument("--http-port", type=int, default=1080)
    a = p.parse_args()
    smtp = Controller(Handler(), hostname=a.host, port=a.smtp_port)
    smtp.start()
    print(f"mail catcher: SMTP on {a.host}:{a.smtp_port}, HTTP on {a.host}:{a.http_port}", flush=True)
    try:
        ThreadingHTTPServer((a.host, a.http_port), Api).serve_forever()
    finally:
        smtp.stop()


if __name__ == "__main__":
    main()
