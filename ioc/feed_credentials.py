"""How a feed's configuration names its credentials: by reference to an environment variable or a file, never
the value (see `ioc.credentials` for using them)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, model_validator

from ioc.config_base import FROM_ENV, _Strict


class SecretRef(_Strict):
    """Where a secret is kept: an environment variable or a file (a mounted secret). Never the value itself:
    agencies.yaml is reviewed, versioned and shared, a credential is not."""

    env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    file: str | None = Field(default=None, min_length=1, description="relative to the project unless absolute")

    @model_validator(mode="before")
    @classmethod
    def _by_reference(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            # the message must not repeat the value: it may be the secret itself, written in by mistake
            raise ValueError("give the secret by reference, {env: VARIABLE} or {file: path}, not its value")
        return value

    @model_validator(mode="after")
    def _one_place(self) -> SecretRef:
        if (self.env is None) == (self.file is None):
            raise ValueError("give exactly one of 'env' and 'file'")
        return self

    def describe(self) -> str:
        return f"environment variable {self.env}" if self.env else f"secret file {self.file}"


class BearerAuth(_Strict):
    """`Authorization: Bearer <token>` with a long-lived token the agency issued."""

    type: Literal["bearer"]
    token: SecretRef


class ApiKeyAuth(_Strict):
    """An API key in a request header (X-API-Key, as this IOC's own API wants) or a query parameter."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: Literal["api_key"]
    key: SecretRef
    where: Literal["header", "query"] = Field(default="header", alias="in")
    name: str = Field(default="X-API-Key", pattern=r"^[A-Za-z0-9_.-]+$")


class BasicAuth(_Strict):
    """HTTP basic authentication; the user name may be written plainly, the password only by reference."""

    type: Literal["basic"]
    username: str | SecretRef
    password: SecretRef


class OAuth2ClientCredentials(_Strict):
    """OAuth 2.0 client credentials grant (RFC 6749 section 4.4): a token from `token_url`, reused until
    shortly before it expires, fetched again then or when the agency answers 401."""

    type: Literal["oauth2_client_credentials"]
    token_url: Annotated[str, FROM_ENV] = Field(pattern=r"^https?://")
    client_id: str | SecretRef
    client_secret: SecretRef
    scope: str = ""
    # "basic": client id and secret in an Authorization header (RFC 6749 2.3.1, every server takes it);
    # "body": in the form, for servers that only read them there
    client_auth: Literal["basic", "body"] = "basic"
    refresh_margin: float = Field(default=60.0, ge=0, description="seconds before expiry a token is renewed")


FeedAuth = Annotated[BearerAuth | ApiKeyAuth | BasicAuth | OAuth2ClientCredentials, Field(discriminator="type")]
