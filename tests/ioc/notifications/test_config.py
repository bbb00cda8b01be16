"""notifications.yaml: the shipped file loads with every channel off, and mistakes are named where they are."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ioc.config import DEFAULT_CONFIG_DIR, ConfigError
from ioc.notifications import load_notifications
from tests.ioc.notifications.conftest import settings_document


def write(tmp_path: Path, document: dict) -> Path:
    (tmp_path / "notifications.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return tmp_path


def test_the_shipped_file_loads_with_every_channel_off_unless_switched_on(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = load_notifications(DEFAULT_CONFIG_DIR)
    assert settings is not None and settings.policies and settings.enabled_channels == {}
    monkeypatch.setenv("IOC_NOTIFY_TELEGRAM", "true")
    assert list(load_notifications(DEFAULT_CONFIG_DIR).enabled_channels) == ["telegram"]


def test_a_city_without_the_file_has_no_notifications(tmp_path: Path) -> None:
    assert load_notifications(tmp_path) is None


def test_a_secret_written_as_its_value_is_refused_without_repeating_it(tmp_path: Path) -> None:
    document = settings_document()
    document["channels"]["telegram"]["token"] = "123:the-real-token"
    with pytest.raises(ConfigError) as refused:
        load_notifications(write(tmp_path, document))
    message = str(refused.value)
    assert "notifications.yaml" in message and "channels.telegram" in message and "by reference" in message
    assert "the-real-token" not in message


@pytest.mark.parametrize(("change", "expected"), [
    (lambda d: d["people"][0]["contacts"].update(fax="123"), "people[0] (op-a): contacts: 'fax' is not a channel"),
    (lambda d: d["rota"][0]["roles"]["operator"].append("nobody"),
     "rota[0]: roles.operator: 'nobody' is not a person"),
    (lambda d: d["policies"][0]["steps"][1].update(roles=["chief"]),
     "policies[0] (urgent): steps[1]: roles: 'chief' is held by nobody in the rota"),
    (lambda d: d["shifts"].pop(), "shifts: no shift covers 00:00"),
    (lambda d: d["policies"][0]["steps"][0].update(after="soon"), "policies[0] (urgent): steps.0.after"),
])
def test_a_mistake_is_named_by_file_entry_and_field(tmp_path: Path, change, expected: str) -> None:  # noqa: ANN001
    document = settings_document()
    change(document)
    with pytest.raises(ConfigError) as refused:
        load_notifications(write(tmp_path, document))
    assert expected in str(refused.value)
    assert str(tmp_path / "notifications.yaml") in str(refused.value)
