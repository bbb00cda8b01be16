"""The OData service's one error type and its JSON body (OData v4 JSON format, section 21: error response)."""

from __future__ import annotations

from typing import Any


class ODataError(Exception):
    """A request the service refuses: `status`, an OData error `code`, a message naming what was wrong, and
    the query option (`target`) that held it."""

    def __init__(self, message: str, *, target: str | None = None, code: str = "BadRequest",
                 status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.target = target
        self.code = code
        self.status = status

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target:
            error["target"] = self.target
        return {"error": error}
