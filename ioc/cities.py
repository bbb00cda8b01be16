"""The cities one deployment serves: IOC_CITIES read and checked at start, each city's context, the city of
the request being served (the session's choice, or the city an API key is bound to) and who holds a role in
which city. One city (IOC_CITIES unset) is the deployment as it always was: nothing here is consulted."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import flask

from ioc.config import PROJECT_ROOT, ConfigError, Settings, load_settings

CITIES_ENV = "IOC_CITIES"
# the session's chosen city (a Flask session field, signed in the cookie, checked on every request)
SESSION_CITY = "ioc_city"
# where the request's city is kept once the guard resolved it
_G_CITY = "ioc_city"
SWITCH_PATH = "/city"


def city_folders(value: str | None) -> list[Path]:
    """The configuration folders IOC_CITIES names (comma-separated: a folder under config/ or a path)."""
    if value is None or not value.strip():
        return []
    names = [part.strip() for part in value.split(",")]
    if any(not name for name in names):
        raise ConfigError(
            f"{CITIES_ENV}: '{value}' has an empty entry; list city folders separated by commas"
        )
    folders = []
    for name in names:
        folder = (
            Path(name).expanduser()
            if ("/" in name or name.startswith("."))
            else PROJECT_ROOT / "config" / name
        )
        if not folder.is_dir():
            raise ConfigError(
                f"{CITIES_ENV}: '{name}' is not a city configuration folder ({folder} not found)"
            )
        folders.append(folder)
    return folders


def deployment_settings(home: Settings, value: str | None = None) -> list[Settings]:
    """Every city of the deployment, `home` (the city served, whose keys hold users and sessions) first, the
    others in IOC_CITIES order; [home] when IOC_CITIES is unset. A city listed twice, a folder that does not
    load, or a list without the served city is a configuration error naming it."""
    value = os.environ.get(CITIES_ENV) if value is None else value
    folders = city_folders(value)
    if not folders:
        return [home]
    loaded: list[Settings] = []
    for folder in folders:
        settings = home if folder.resolve() == Path(home.directory).resolve() else load_settings(folder)
        if any(other.city.id == settings.city.id for other in loaded):
            raise ConfigError(f"{CITIES_ENV}: city '{settings.city.id}' is listed twice ({folder})")
        loaded.append(settings)
    if all(settings.city.id != home.city.id for settings in loaded):
        raise ConfigError(
            f"{CITIES_ENV}: the served city '{home.city.id}' ({home.directory}) is not among "
            f"{', '.join(s.city.id for s in loaded)}"
        )
    return [home, *(settings for settings in loaded if settings.city.id != home.city.id)]


# --- roles per city --------------------------------------------------------------------------------------------


def parse_city_roles(text: str | None) -> dict[str, str]:
    """The user record's `city_roles` field: JSON {city: role} for the cities other than the home city."""
    if not text:
        return {}
    try:
        parsed = json.loads(text)
    except ValueError:
        return {}  # a damaged field grants nothing
    return {str(city): str(role) for city, role in parsed.items() if role} if isinstance(parsed, dict) else {}


def held_roles(role: str, city_roles: Mapping[str, str], home: str) -> dict[str, str]:
    """Every city a user holds a role in -> that role. A stored record keeps the home city's role in `role`;
    a user resolved for a request (Deployment.for_user) carries every city's role in `city_roles`, which
    wins over `role` (then the role in the request's city)."""
    return {**({home: role} if role else {}), **{city: held for city, held in city_roles.items() if held}}


# the words a city's name starts or ends with that a switch between cities need not repeat on every button
_ADMINISTRATIVE_PREFIXES = ("Thành phố ", "Tỉnh ", "TP. ")
_ADMINISTRATIVE_SUFFIXES = (" City", " Province")


def short_name(name: str) -> str:
    """'Thành phố Đà Nẵng' -> 'Đà Nẵng', 'Hue City' -> 'Hue': the header has room for short names only."""
    for prefix in _ADMINISTRATIVE_PREFIXES:
        if name.startswith(prefix) and len(name) > len(prefix):
            return name[len(prefix) :]
    for suffix in _ADMINISTRATIVE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


@dataclass(frozen=True, slots=True)
class Deployment:
    """The cities of one app: their contexts in order (the home city first) and their display names."""

    contexts: Mapping[str, Any]  # city id -> ioc.web.WebContext

    @property
    def home(self) -> str:
        return next(iter(self.contexts))

    @property
    def several(self) -> bool:
        return len(self.contexts) > 1

    def names(self, lang: str) -> list[tuple[str, str]]:
        """(city id, name without its administrative word) of every city, for the header's switch."""
        return [
            (city, short_name(context.settings.city.name.get(lang)))
            for city, context in self.contexts.items()
        ]

    def cities_of(self, user: Any) -> list[str]:
        """The deployment's cities `user` holds a role in, in the deployment's order."""
        held = held_roles(user.role, dict(user.city_roles), self.home)
        return [city for city in self.contexts if city in held]

    def current_city(self) -> str:
        """The city of the request being served (resolved by the guard); the home city outside one."""
        if flask.has_request_context():
            city = flask.g.get(_G_CITY)
            if city in self.contexts:
                return city
        return self.home

    def current(self) -> Any:
        return self.contexts[self.current_city()]

    def for_user(self, user: Any) -> Any:
        """`user` as the request sees them: their role in the session's city (their first city when the
        session chose none, or one they no longer hold); the request's city is set to it. None when they
        hold no role in any city of the deployment."""
        if user is None:
            return None
        held = held_roles(user.role, dict(user.city_roles), self.home)
        cities = [city for city in self.contexts if city in held]
        if not cities:
            return None
        chosen = flask.session.get(SESSION_CITY) if flask.has_request_context() else None
        city = chosen if chosen in cities else cities[0]
        if flask.has_request_context():
            flask.g.ioc_city = city
        return replace(user, role=held[city], city_roles=tuple(sorted(held.items())))

    def bind(self, city: str) -> bool:
        """Serve this request in `city` (an API key's city); False when the deployment does not serve it."""
        if city not in self.contexts:
            return False
        flask.g.ioc_city = city
        return True


# Powers over the whole deployment, not one city: accounts are deployment-wide, so managing users, roles and
# API keys takes the permission in the home city, whatever a role elsewhere grants (an administrator of one
# city must not make themselves an administrator of another).
DEPLOYMENT_WIDE = frozenset({"users.manage"})


def allowed_in_deployment(roles: Any, user: Any, permission: str) -> bool:
    """Whether `user`'s role in the request's city grants `permission`; for a deployment-wide permission with
    several cities, their role in the home city must grant it too."""
    if not roles.allows(user.role, permission):
        return False
    deployment = deployment_of()
    if deployment is None or permission not in DEPLOYMENT_WIDE:
        return True
    home_role = held_roles("", dict(user.city_roles), deployment.home).get(deployment.home, "")
    return bool(home_role) and roles.allows(home_role, permission)


def deployment_of(app: flask.Flask | None = None) -> Deployment | None:
    """The app's deployment when it serves several cities; None for one city (nothing changes then)."""
    app = app or (flask.current_app if flask.has_app_context() else None)
    found = app.extensions.get("ioc_cities") if app is not None else None
    return found if isinstance(found, Deployment) and found.several else None
