"""The annunciator's server side as a plain function: what it announces, and nothing read twice or sent while
no alert changed."""

from __future__ import annotations

import dash

from ioc.config import Settings
from ioc.model import Alert, Severity
from ioc.store import Store
from ioc.web import context_of
from layouts import annunciator
from layouts.app import create_app


def test_nothing_is_sent_again_until_an_alert_changes(fake_store: Store, settings: Settings) -> None:
    context = context_of(create_app(fake_store, settings, redis_kind="in-process").server)
    first = fake_store.alerts.raise_alert(Alert(id="", rule_id="r", entity_id="e1", title="Ngập sâu", sector="emergency",
                                                severity=Severity.SEVERE, agency="a", district="Cẩm Lệ"))[0]

    data, lines, seen = annunciator.refresh(context, 1, "vi", None)
    assert [item["id"] for item in data] == [first.id] and lines

    assert annunciator.refresh(context, 2, "vi", seen) == (dash.no_update,) * 3  # nothing new: nothing sent

    fake_store.alerts.acknowledge(first.id, actor="operator-1")
    data, lines, _ = annunciator.refresh(context, 3, "vi", seen)
    assert data == [] and lines == []  # acknowledged elsewhere: the screen hears of it at its next tick


def test_a_burst_names_the_first_alarms_counts_the_rest_and_every_one_sounds(fake_store: Store,
                                                                            settings: Settings) -> None:
    from ioc.annunciation import POPUP_LINES
    from tests.layouts.dom import with_class

    context = context_of(create_app(fake_store, settings, redis_kind="in-process").server)
    raised = [fake_store.alerts.raise_alert(Alert(id="", rule_id="r", entity_id=f"e{n}", title="Ngập sâu",
                                                  sector="emergency", severity=Severity.SEVERE, agency="a",
                                                  district="Cẩm Lệ"))[0].id for n in range(30)]

    data, lines, _ = annunciator.refresh(context, 1, "en", None)

    named = with_class(lines, "annunciator-line")
    assert [line.to_plotly_json()["props"]["data-alert"] for line in named] == raised[:POPUP_LINES]
    more = with_class(lines, "annunciator-more")
    assert [line.to_plotly_json()["props"]["data-more"] for line in more] == [str(30 - POPUP_LINES)]
    # every alarm sounds, and the silence button (which silences what the data holds) covers each, named or not
    assert [item["id"] for item in data] == raised and {item["sound"] for item in data} == {"high"}
