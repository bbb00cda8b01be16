"""wall.yaml: validated at load, every error naming the file, the entry and the field; the city's own file
loads and names only the city's areas and sectors."""

from __future__ import annotations

from pathlib import Path

import pytest

from ioc.config import ConfigError, Settings
from ioc.wall.config import DEFAULT_PLAYLIST, WallConfig, check_pages, check_places, load_wall, parse_wall

PATH = Path("config/x/wall.yaml")


def test_the_city_wall_loads_with_a_playlist_per_screen(settings: Settings) -> None:
    wall = load_wall(settings)
    assert [item.key() for item in wall.playlist("wall-1")][:2] == ["page:/", "sector:transport"]
    assert wall.playlist("wall-2")[0].kind == "area"
    assert wall.screen("wall-3").takeover is False
    # a screen the file does not list plays the default playlist and takes part in takeovers
    assert wall.playlist("wall-9") == wall.playlists[DEFAULT_PLAYLIST] and wall.screen("wall-9").takeover


def test_an_item_is_exactly_one_view_and_says_where_it_is() -> None:
    data = {"playlists": {"default": [{"page": "/", "sector": "transport", "dwell_seconds": 10}]}}
    with pytest.raises(ConfigError) as error:
        parse_wall(data, PATH)
    assert str(error.value).startswith(f"{PATH}: playlists.default[0]: ")
    assert "exactly one of page, area or sector" in str(error.value)


@pytest.mark.parametrize(("item", "field"), [
    ({"page": "/", "dwell_seconds": 1}, "dwell_seconds"),
    ({"page": "no-slash", "dwell_seconds": 10}, "page"),
    ({"page": "/", "dwell_seconds": 10, "colour": "red"}, "colour"),
])
def test_a_bad_field_is_named(item: dict[str, object], field: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_wall({"playlists": {"default": [item]}}, PATH)
    assert f"{PATH}: playlists.default[0].{field}: " in str(error.value)


def test_a_screen_must_name_a_playlist_that_exists_and_a_default_is_needed() -> None:
    with pytest.raises(ConfigError, match="screens.wall-1.playlist: 'night' is not a playlist"):
        parse_wall({"screens": {"wall-1": {"playlist": "night"}}}, PATH)
    with pytest.raises(ConfigError, match="a playlist named 'default' is needed"):
        parse_wall({"playlists": {"city": [{"page": "/", "dwell_seconds": 10}]}}, PATH)


def test_areas_and_sectors_must_be_the_citys_own() -> None:
    wall = parse_wall({"playlists": {"default": [{"area": "Hải Châu", "dwell_seconds": 10},
                                                 {"area": "Atlantis", "dwell_seconds": 10},
                                                 {"sector": "space", "dwell_seconds": 10}]}}, PATH)
    problems = check_places(wall, PATH, ["transport"], ["Hải Châu"])
    assert problems == [
        f"{PATH}: playlists.default[1]: area: 'Atlantis' is not an area of the boundaries file (Hải Châu)",
        f"{PATH}: playlists.default[2]: sector: 'space' is not a sector of city.yaml (transport)",
    ]


def test_a_bad_file_stops_the_load_naming_it(settings: Settings, tmp_path: Path) -> None:
    for path in Path(settings.directory).glob("*.yaml"):
        (tmp_path / path.name).write_bytes(path.read_bytes())
    (tmp_path / "wall.yaml").write_text("playlists:\n  default:\n    - {area: Atlantis, dwell_seconds: 10}\n",
                                        encoding="utf-8")
    city = settings.model_copy(update={"directory": tmp_path})
    with pytest.raises(ConfigError, match=r"wall\.yaml: playlists\.default\[0\]: area: 'Atlantis'"):
        load_wall(city)


def test_without_a_file_the_wall_shows_the_control_room(settings: Settings, tmp_path: Path) -> None:
    wall = load_wall(settings.model_copy(update={"directory": tmp_path}))
    assert wall == WallConfig()
    assert [item.key() for item in wall.playlist("any")] == ["page:/"]


def test_pages_must_be_the_dashboards_and_viewable_by_a_screen() -> None:
    wall = parse_wall({"playlists": {"default": [{"page": "/", "dwell_seconds": 10},
                                                 {"page": "/nowhere", "dwell_seconds": 10},
                                                 {"page": "/admin", "dwell_seconds": 10}]}}, PATH)
    problems = check_pages(wall, PATH, {"/": "control_room.view", "/admin": "users.manage"}, {"control_room.view"})
    assert problems == [
        f"{PATH}: playlists.default[1]: page: '/nowhere' is not a page of the dashboard (/, /admin)",
        f"{PATH}: playlists.default[2]: page: '/admin' needs 'users.manage', which a wall screen does not have "
        "(it may only view: control_room.view)",
    ]


def test_the_city_wall_names_only_pages_a_screen_may_see(settings: Settings) -> None:
    from ioc.wall.screens import SCREEN_PERMISSIONS
    from layouts import PAGES

    load_wall(settings, {page.path: page.permission for page in PAGES}, SCREEN_PERMISSIONS)
