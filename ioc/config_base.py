"""What every configuration file's models share: strict models, a label in both languages, ${VAR} expansion,
and the error that names the file, the entry and the field."""

from __future__ import annotations

import os
import re
from typing import Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

SLUG = r"^[a-z0-9][a-z0-9-]*$"
_ENV_REF = re.compile(r"\$\{([A-Z0-9_]+)(?::-([^}]*))?\}")


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or invalid; the message says where."""


class Strict(BaseModel):
    """Unknown fields are errors and loaded values do not change."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A label in both interface languages."""

    vi: str
    en: str

    def get(self, lang: str) -> str:
        return self.vi if lang == "vi" else self.en



def expand_env(text: str) -> str:
    """Replace ${VAR} and ${VAR:-default} with the environment's value (URLs differ per deployment)."""

    def _sub(match: re.Match[str]) -> str:
        value = os.environ.get(match.group(1))
        if value is None:
            if match.group(2) is None:
                raise ValueError(f"environment variable {match.group(1)} is not set and has no default")
            return match.group(2)
        return value

    return _ENV_REF.sub(_sub, text)



def _expanded(value: Any) -> Any:
    return expand_env(value) if isinstance(value, str) else value


# A setting that may say ${VAR} or ${VAR:-default} (URLs, hosts, switches that differ per deployment): expanded
# from the environment before it is checked. Use as Annotated[str, FROM_ENV].
FROM_ENV = BeforeValidator(_expanded)

_Strict = Strict  # the name the configuration modules use
