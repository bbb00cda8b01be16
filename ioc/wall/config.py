"""config/<city>/wall.yaml: each screen's playlist (pages, areas, sectors, each with a dwell time) and the
critical takeover (which severities, which screens, when the wall goes back). Validated at load; errors name
the file, the entry and the field."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, model_validator

from ioc.config import ConfigError, Settings, Text, _load_yaml
from ioc.config_base import Strict
from ioc.model import Severity
from ioc.roles import USER_NAME

WALL_FILE = "wall.yaml"
# below this a page has not drawn before it leaves again (a control room's first tick is 2 s)
MIN_DWELL_SECONDS = 3
DEFAULT_PLAYLIST = "default"


class PlaylistItem(Strict):
    """One view of a playlist: a dashboard page, the control room zoomed to one area, or the control room
    showing one sector; shown for `dwell_seconds`."""

    page: str | None = Field(default=None, pattern=r"^/[a-z0-9/_-]*$")
    area: str | None = Field(default=None, min_length=1)
    sector: str | None = Field(default=None, min_length=1)
    dwell_seconds: float = Field(ge=MIN_DWELL_SECONDS, le=86400)

    @model_validator(mode="after")
    def _one_view(self) -> PlaylistItem:
        given = [name for name in ("page", "area", "sector") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"an item is exactly one of page, area or sector (this one has "
                             f"{', '.join(given) or 'none'})")
        return self

    @property
    def kind(self) -> str:
        return "page" if self.page is not None else "area" if self.area is not None else "sector"

    @property
    def target(self) -> str:
        return str(self.page or self.area or self.sector)

    def key(self) -> str:
        return f"{self.kind}:{self.target}"


class ScreenSettings(Strict):
    """What wall.yaml says of one screen (registered by id with `ioc screens add`)."""

    name: Text | None = None
    playlist: str = DEFAULT_PLAYLIST
    # whether a critical alarm turns this screen to the situation view
    takeover: bool = True


class Takeover(Strict):
    """When the wall (its screens with `takeover: true`) turns to a situation view, and when it goes back."""

    severities: list[Severity] = Field(default_factory=lambda: [Severity.EXTREME, Severity.SEVERE], min_length=1)
    # active CAP warnings of those severities take over too (one relayed as an alert is taken over as the alert)
    cap_warnings: bool = True
    # back to the playlist once the alarm is acknowledged ...
    return_on_acknowledge: bool = True
    # ... or after this long in any case, so an alarm nobody acknowledges does not hold the wall for ever
    return_after_minutes: float = Field(default=10, gt=0, le=24 * 60)


class WallConfig(Strict):
    """Everything wall.yaml says."""

    takeover: Takeover = Field(default_factory=Takeover)
    playlists: dict[str, list[PlaylistItem]] = Field(
        default_factory=lambda: {DEFAULT_PLAYLIST: [PlaylistItem(page="/", dwell_seconds=60)]})
    screens: dict[str, ScreenSettings] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _references(self) -> WallConfig:
        for name, items in self.playlists.items():
            if not items:
                raise ValueError(f"playlist '{name}' has no items")
        if DEFAULT_PLAYLIST not in self.playlists:
            raise ValueError(f"a playlist named '{DEFAULT_PLAYLIST}' is needed (screens not listed use it)")
        for screen_id, screen in self.screens.items():
            if not USER_NAME.match(screen_id):
                raise ValueError(f"screen id '{screen_id}': 2-40 lower-case letters, digits, '.', '_' or '-'")
            if screen.playlist not in self.playlists:
                raise ValueError(f"screens.{screen_id}.playlist: '{screen.playlist}' is not a playlist "
                                 f"({', '.join(sorted(self.playlists))})")
        return self

    def screen(self, screen_id: str) -> ScreenSettings:
        return self.screens.get(screen_id) or ScreenSettings()

    def playlist(self, screen_id: str) -> list[PlaylistItem]:
        return self.playlists[self.screen(screen_id).playlist]


def _where(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts[-1] = f"{parts[-1]}[{part}]" if parts else f"[{part}]"
        else:
            parts.append(str(part))
    return ".".join(parts) or "(file)"


def check_places(config: WallConfig, path: Path, sectors: Iterable[str], areas: Iterable[str]) -> list[str]:
    """Problems with the areas and sectors the playlists name (they must be the city's own)."""
    sector_ids, area_names = set(sectors), set(areas)
    problems = []
    for name, items in config.playlists.items():
        for index, item in enumerate(items):
            if item.sector is not None and item.sector not in sector_ids:
                problems.append(f"{path}: playlists.{name}[{index}]: sector: '{item.sector}' is not a sector of "
                                f"city.yaml ({', '.join(sorted(sector_ids))})")
            if item.area is not None and item.area not in area_names:
                problems.append(f"{path}: playlists.{name}[{index}]: area: '{item.area}' is not an area of the "
                                f"boundaries file ({', '.join(sorted(area_names))})")
    return problems


def check_pages(config: WallConfig, path: Path, pages: Mapping[str, str], may: Collection[str]) -> list[str]:
    """Problems with the pages the playlists name: each must be a page of the dashboard (`pages`: path ->
    its permission) that a screen may see (`may`: the screen permission set)."""
    problems = []
    for name, items in config.playlists.items():
        for index, item in enumerate(items):
            if item.page is None:
                continue
            if item.page not in pages:
                problems.append(f"{path}: playlists.{name}[{index}]: page: '{item.page}' is not a page of the "
                                f"dashboard ({', '.join(sorted(pages))})")
            elif pages[item.page] not in may:
                problems.append(f"{path}: playlists.{name}[{index}]: page: '{item.page}' needs "
                                f"'{pages[item.page]}', which a wall screen does not have (it may only view: "
                                f"{', '.join(sorted(may))})")
    return problems


def parse_wall(data: Any, path: Path) -> WallConfig:
    """wall.yaml's content validated; errors name the file, the entry and the field."""
    try:
        return WallConfig.model_validate(data if data is not None else {})
    except ValidationError as exc:
        lines = [f"{path}: {_where(err['loc'])}: {err['msg'].removeprefix('Value error, ')}" for err in exc.errors()]
        raise ConfigError("\n".join(lines)) from None


def load_wall(settings: Settings, pages: Mapping[str, str] | None = None,
              may: Collection[str] = ()) -> WallConfig:
    """The city's wall.yaml, its places checked against the city's sectors and areas (and, given the
    dashboard's `pages` and the screen permission set `may`, its pages); without the file, one playlist
    showing the control room and takeover by extreme and severe alarms."""
    from ioc.areas import area_index

    path = Path(settings.directory) / WALL_FILE
    if not path.exists():
        return WallConfig()
    config = parse_wall(_load_yaml(path), path)
    problems = check_places(config, path, (sector.id for sector in settings.city.sectors),
                            area_index(settings.city).names)
    if pages is not None:
        problems += check_pages(config, path, pages, may)
    if problems:
        raise ConfigError("\n".join(problems))
    return config
