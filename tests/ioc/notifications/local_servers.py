"""Real servers on loopback that record what they receive: an SMTP server (aiosmtpd) and an HTTP endpoint."""

from __future__ import annotations

import json
import ssl
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from ioc.redis_conn import free_port


@dataclass
class ReceivedMail:
    sender: str
    recipients: list[str]
    message: EmailMessage


class _MailHandler:
    def __init__(self) -> None:
        self.received: list[ReceivedMail] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        with self.lock:
            self.received.append(ReceivedMail(envelope.mail_from, list(envelope.rcpt_tos),
                                              message_from_bytes(envelope.original_content, policy=policy.default)))
        return "250 OK"


class MailServer:
    """aiosmtpd on 127.0.0.1: every message accepted and kept in `received`; with `login`, only after AUTH
    with that user name and password (over plain loopback: the test has no certificate)."""

    def __init__(self, login: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None) -> None:
        self.handler = _MailHandler()
        self.port = free_port()
        self.logins: list[str] = []
        options: dict[str, Any] = {}
        if login is not None:
            options = {"authenticator": self._authenticator(login), "auth_required": True,
                       "auth_require_tls": tls is not None}
        if tls is not None:
            options.update(tls_context=tls, require_starttls=True)
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port, **options)

    def _authenticator(self, login: tuple[str, str]) -> Any:
        def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            given = (data.login.decode(), data.password.decode()) if isinstance(data, LoginPassword) else None
            if given == login:
                self.logins.append(given[0])
                return AuthResult(success=True)
            return AuthResult(success=False, handled=False)

        return check

    @property
    def received(self) -> list[ReceivedMail]:
        with self.handler.lock:
            return list(self.handler.received)


@contextmanager
def mail_server(login: tuple[str, str] | None = None, tls: ssl.SSLContext | None = None
                ) -> Iterator[MailServer]:
    server = MailServer(login, tls)
    server.controller.start()
    try:
        yield server
    finally:
        server.controller.stop()


@dataclass
class Posted:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class HttpRecorder:
    """Every POST kept in `posted` (also the refused ones); `script[path]` holds answers to give, in order,
    before the default 200 (Telegram's and Zalo's success shapes on their paths)."""

    port: int = 0
    posted: list[Posted] = field(default_factory=list)
    script: dict[str, deque[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer_next(self, path: str, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        content = json.dumps(body).encode() if body is not None else b""
        with self.lock:
            self.script.setdefault(path, deque()).append((status, headers or {}, content))

    def received(self, path_part: str = "") -> list[Posted]:
        with self.lock:
            return [p for p in self.posted if path_part in p.path]

    def _answer(self, path: str) -> tuple[int, dict[str, str], bytes]:
        with self.lock:
            queue = self.script.get(path)
            if queue:
                return queue.popleft()
        if path.endswith("/sendMessage"):
            return 200, {}, json.dumps({"ok": True, "result": {"message_id": 1}}).encode()
        if "zalo" in path:
            return 200, {}, json.dumps({"error": 0, "message": "Success", "data": {"message_id": "m1"}}).encode()
        return 200, {}, b"{}"


@contextmanager
def http_recorder() -> Iterator[HttpRecorder]:
    recorder = HttpRecorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            with recorder.lock:
                recorder.posted.append(Posted(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status, headers, content = recorder._answer(self.path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    recorder.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield recorder
    finally:
        server.shutdown()
        server.server_close()
