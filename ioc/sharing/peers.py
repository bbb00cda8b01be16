"""config/<city>/peers.yaml: the peer IOCs this city reads for its regional view: id, name, base URL, where the
credential is kept (by reference, as a feed's), what we read, where the city is. Validated at load; an error
names the file, the entry and the field. IOC_PEERS_FILE points at another file (the two-city demo)."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Literal

from pydantic import Field, ValidationError, model_validator

from ioc.config_base import FROM_ENV, ConfigError, Strict, Text
from ioc.feed_credentials import FeedAuth

READS = ("kpis", "alerts", "feeds")


class Peer(Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,30}$")
    name: Text
    base_url: Annotated[str, FROM_ENV] = Field(pattern=r"^https?://")
    auth: FeedAuth | None = None
    read: list[Literal["kpis", "alerts", "feeds"]] = Field(default_factory=lambda: list(READS), min_length=1)
    # where the city is on the region map: its centre (lon, lat)
    centre: tuple[float, float]
    timeout: float = Field(default=3.0, gt=0, le=30, description="seconds a reading of this peer may take")

    def as_feed(self) -> SimpleNamespace:
        """What ioc.credentials.FeedCredentials reads of a feed: its name, auth and origin."""
        return SimpleNamespace(name=f"peer {self.id}", auth=self.auth, url=self.base_url)


class PeerFile(Strict):
    # seconds between two readings of every peer (the page shows the last good values meanwhile)
    refresh: float = Field(default=10.0, ge=1)
    # a peer answering slower than this (seconds) is shown as slow
    slow_after: float = Field(default=1.5, gt=0)
    peers: list[Peer] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> PeerFile:
        seen: set[str] = set()
        for index, peer in enumerate(self.peers):
            if peer.id in seen:
                raise ValueError(f"peers[{index}] ({peer.id}): id: used twice")
            seen.add(peer.id)
        return self


def peers_path(directory: Path) -> Path:
    return Path(os.environ.get("IOC_PEERS_FILE") or directory / "peers.yaml")


def load_peers(directory: Path) -> PeerFile:
    """The peers of the city whose configuration is `directory`; none when it has no peers.yaml."""
    from ioc.config import _describe, _load_yaml

    path = peers_path(directory)
    if not path.exists():
        return PeerFile()
    data = _load_yaml(path) or {}
    try:
        return PeerFile.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path, data, "peers")) from None
    except ValueError as exc:
        raise ConfigError(f"{path}: {exc}") from None
