"""A feed's credentials at poll time: secrets read from their references, sent only to the feed's own server, kept out of every record."""

from __future__ import annotations

import base64
import hashlib
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus

import httpx

from ioc.config import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    Feed,
    OAuth2ClientCredentials,
    SecretRef,
    resolve_path,
)

MASK = "***"
# Query parameters that carry a credential by convention: masked in any URL that is stored, shown or logged,
# whatever a feed's configuration says (a key pasted into `url:` included).
SENSITIVE_PARAMS = frozenset({
    "access_token", "api_key", "api-key", "apikey", "apitoken", "appid", "client_secret", "key", "password",
    "passwd", "secret", "sig", "signature", "subscription-key", "token",
})


class CredentialError(Exception):
    """A feed's credentials cannot be had (a variable unset, a file unreadable, the token endpoint refused).
    The message names where the secret should be, never the secret."""


# --- keeping secrets out of text ----------------------------------------------------------------------


class _Redactor:
    """Every secret value this process has read or been given, in each form it may appear in, and the query
    parameters that carry one; `text` replaces all of them with `***`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: tuple[str, ...] = ()
        self._params: frozenset[str] = SENSITIVE_PARAMS
        self._param_pattern = _param_pattern(self._params)

    def remember(self, value: str) -> None:
        forms = {value, quote(value, safe=""), quote_plus(value), quote(value, safe="/:@")} - {""}
        with self._lock:
            # longest first: a secret that contains another is masked whole
            self._values = tuple(sorted(set(self._values) | forms, key=len, reverse=True))

    def remember_param(self, name: str) -> None:
        with self._lock:
            if name.lower() not in self._params:
                self._params = self._params | {name.lower()}
                self._param_pattern = _param_pattern(self._params)

    def text(self, text: str) -> str:
        for value in self._values:
            if value in text:
                text = text.replace(value, MASK)
        return self._param_pattern.sub(rf"\g<1>{MASK}", text)

    def payload(self, payload: bytes) -> bytes:
        # a refused payload may be megabytes: looked through as bytes, decoded only when something is there
        values, pattern = self._values, self._param_pattern
        if not any(value.encode() in payload for value in values) and not pattern.search(
                payload.decode("latin-1")):
            return payload
        text = payload.decode("utf-8", errors="replace")
        cleaned = self.text(text)
        return payload if cleaned == text else cleaned.encode("utf-8")


def _param_pattern(names: frozenset[str]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(name) for name in sorted(names, key=len, reverse=True))
    return re.compile(rf"([?&;](?:{alternatives})=)[^&#\s\"'<>]*", re.IGNORECASE)


REDACTOR = _Redactor()


def redact(text: str) -> str:
    """`text` with every known secret and every credential query parameter masked."""
    return REDACTOR.text(text)


def redact_payload(payload: bytes) -> bytes:
    """A payload kept for inspection, with any secret the server echoed back masked."""
    return REDACTOR.payload(payload)


def shown_url(feed: Feed) -> str:
    """The feed's URL as it may be listed or shown: its credential query parameters masked."""
    if isinstance(feed.auth, ApiKeyAuth) and feed.auth.where == "query":
        REDACTOR.remember_param(feed.auth.name)
    return redact(feed.url)


class RedactingFilter(logging.Filter):
    """Masks secrets in a log record's message, arguments and traceback: httpx logs each request's URL (a key
    in the query included), and an exception's text may quote a request."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            cleaned = redact(formatted)
            if cleaned != formatted:
                # a formatter prints exc_text when it is set; without exc_info it cannot print the original
                record.exc_text, record.exc_info = cleaned, None
        return True


# the loggers that see requests or a feed's errors; a logger's filter applies to records made on it
LOGGERS = ("httpx", "httpcore", "ioc.runner", "ioc.scheduler", "ioc.mqtt", "data_adapters.http",
           "data_adapters.sensorthings")


def install_log_redaction() -> None:
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(existing, RedactingFilter) for existing in logger.filters):
            logger.addFilter(RedactingFilter())


install_log_redaction()


# --- reading secrets ----------------------------------------------------------------------------------


def read_secret(ref: SecretRef, what: str) -> str:
    """The secret `ref` points to, remembered so it is masked wherever it might be written."""
    if ref.env:
        value = os.environ.get(ref.env, "")
        if not value:
            raise CredentialError(f"{what}: environment variable {ref.env} is not set")
    else:
        path = resolve_path(ref.file or "")
        try:
            value = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            raise CredentialError(f"{what}: secret file {ref.file} is not readable ({reason})") from None
        if not value:
            raise CredentialError(f"{what}: secret file {ref.file} is empty")
    REDACTOR.remember(value)
    return value


def _plain_or_secret(value: str | SecretRef, what: str) -> str:
    return value if isinstance(value, str) else read_secret(value, what)


# --- OAuth2 tokens ------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Token:
    value: str
    renew_at: float


class TokenCache:
    """Access tokens by client, reused until `refresh_margin` before they expire. In memory only: a token is
    a credential, so it is never written to Redis; each process fetches its own."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, _Token] = {}

    def get(self, key: str) -> str | None:
        with self._lock:
            token = self._tokens.get(key)
            return token.value if token is not None and self.clock() < token.renew_at else None

    def put(self, key: str, value: str, expires_in: float | None, margin: float) -> None:
        # without expires_in the token is kept until the server refuses it (a 401 fetches a new one)
        lifetime = math.inf if expires_in is None else max(0.0, expires_in - min(margin, expires_in / 2))
        with self._lock:
            self._tokens[key] = _Token(value, self.clock() + lifetime)

    def drop(self, key: str, value: str) -> None:
        with self._lock:
            if (token := self._tokens.get(key)) is not None and token.value == value:
                del self._tokens[key]

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()


TOKENS = TokenCache()


# --- applying credentials to a feed's requests --------------------------------------------------------


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return (url.scheme, url.host, url.port)


class FeedCredentials(httpx.Auth):
    """A feed's credentials as an httpx auth flow, for requests to the feed's own origin only: a next-page
    link or a redirect to another host does not get them. Secrets are read when this is made (each poll), so
    a rotated secret is used from the next poll and a missing one is that poll's error."""

    def __init__(self, feed: Feed, tokens: TokenCache = TOKENS) -> None:
        config = feed.auth
        if config is None:
            raise ValueError(f"feed {feed.name} has no auth")
        self.config = config
        self.origin = _origin(httpx.URL(feed.url))
        self.tokens = tokens
        self.header: tuple[str, str] | None = None  # the header this sends, for `strip_elsewhere`
        self.param: tuple[str, str] | None = None  # the query parameter this sends
        self.requires_response_body = isinstance(config, OAuth2ClientCredentials)
        if isinstance(config, BearerAuth):
            self.header = ("Authorization", f"Bearer {read_secret(config.token, 'auth.token')}")
        elif isinstance(config, ApiKeyAuth):
            key = read_secret(config.key, "auth.key")
            if config.where == "query":
                REDACTOR.remember_param(config.name)
                self.param = (config.name, key)
            else:
                self.header = (config.name, key)
        elif isinstance(config, BasicAuth):
            user = _plain_or_secret(config.username, "auth.username")
            password = read_secret(config.password, "auth.password")
            request = next(httpx.BasicAuth(user, password).auth_flow(httpx.Request("GET", feed.url)))
            self.header = ("Authorization", request.headers["Authorization"])
            REDACTOR.remember(self.header[1].split(" ", 1)[1])
        else:
            self.client_id = _plain_or_secret(config.client_id, "auth.client_id")
            self.client_secret = read_secret(config.client_secret, "auth.client_secret")
            fingerprint = hashlib.sha256(f"{self.client_id}\0{self.client_secret}".encode()).hexdigest()
            self.token_key = f"{config.token_url} {config.scope} {fingerprint}"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if _origin(request.url) != self.origin:
            yield request
            return
        if not isinstance(self.config, OAuth2ClientCredentials):
            self._apply(request)
            yield request
            return
        token = self.tokens.get(self.token_key)
        if token is None:
            token = yield from self._fetch_token()
        self._bearer(request, token)
        response = yield request
        if response.status_code == 401:
            # revoked or expired early: one new token and one more try, never a loop
            self.tokens.drop(self.token_key, token)
            token = yield from self._fetch_token()
            self._bearer(request, token)
            yield request

    def _apply(self, request: httpx.Request) -> None:
        if self.header is not None:
            request.headers[self.header[0]] = self.header[1]
        if self.param is not None:
            request.url = request.url.copy_set_param(*self.param)

    def _bearer(self, request: httpx.Request, token: str) -> None:
        self.header = ("Authorization", f"Bearer {token}")
        request.headers["Authorization"] = self.header[1]

    def _fetch_token(self) -> Generator[httpx.Request, httpx.Response, str]:
        config = self.config
        assert isinstance(config, OAuth2ClientCredentials)
        form = {"grant_type": "client_credentials"}
        if config.scope:
            form["scope"] = config.scope
        headers = {"Accept": "application/json"}
        if config.client_auth == "basic":
            # RFC 6749 2.3.1: both form-encoded before they are joined
            pair = f"{quote_plus(self.client_id)}:{quote_plus(self.client_secret)}"
            encoded = base64.b64encode(pair.encode()).decode()
            REDACTOR.remember(encoded)
            headers["Authorization"] = f"Basic {encoded}"
        else:
            form.update(client_id=self.client_id, client_secret=self.client_secret)
        response = yield httpx.Request("POST", config.token_url, data=form, headers=headers)
        answer: Any
        try:
            answer = response.json()
        except ValueError:
            answer = None
        token = answer.get("access_token") if isinstance(answer, dict) else None
        if response.status_code != 200 or not isinstance(token, str) or not token:
            # the OAuth error code only (RFC 6749 5.2): the rest of a refusal may quote what was sent
            code = answer.get("error") if isinstance(answer, dict) else None
            reason = f" ({code})" if isinstance(code, str) and re.fullmatch(r"[\w.-]{1,64}", code) else ""
            raise CredentialError(
                f"OAuth2 token endpoint {redact(config.token_url)} answered HTTP {response.status_code}{reason}"
                + ("" if response.status_code != 200 else " without an access_token")
            )
        REDACTOR.remember(token)
        expires = answer.get("expires_in")
        expires_in = float(expires) if isinstance(expires, int | float) and not isinstance(expires, bool) else None
        self.tokens.put(self.token_key, token, expires_in, config.refresh_margin)
        return token

    def strip_elsewhere(self, request: httpx.Request) -> None:
        """Request hook: a redirect to another origin keeps the request's headers (httpx drops only
        Authorization), so what this added is taken off again before it leaves."""
        if _origin(request.url) == self.origin:
            return
        if self.header is not None and request.headers.get(self.header[0]) == self.header[1]:
            del request.headers[self.header[0]]
        if self.param is not None and request.url.params.get(self.param[0]) == self.param[1]:
            request.url = request.url.copy_remove_param(self.param[0])


def feed_credentials(feed: Feed) -> FeedCredentials | None:
    """The feed's credentials read now, or None for a feed without `auth`; CredentialError if unreadable."""
    return FeedCredentials(feed) if feed.auth is not None else None


@contextmanager
def sent_by(http: httpx.Client, credentials: FeedCredentials | None) -> Iterator[None]:
    """`http` sends the feed's credentials for the duration. Readers fetch with the client they are given,
    so the credentials go on the client; every runner holds one client per feed, and it is restored after."""
    if credentials is None:
        yield
        return
    previous = http.auth
    hooks = http.event_hooks
    http.auth = credentials
    hooks["request"].append(credentials.strip_elsewhere)
    try:
        yield
    finally:
        http.auth = previous
        hooks["request"].remove(credentials.strip_elsewhere)
