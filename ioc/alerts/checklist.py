"""The checklist of an alert's operating procedure: which steps are ticked, by whom and when; every tick
and untick is on the timeline."""

from __future__ import annotations

import json
from datetime import datetime

import redis

from ioc.alerts.record import AlertNotFound, AlertRecord, mark_changed
from ioc.alerts.timeline import write_entry
from ioc.keys import Keys
from ioc.model import to_iso, utcnow


def check_step(
    client: redis.Redis, keys: Keys, alert_id: str, step: int, *, actor: str, label: str = "",
    done: bool = True, now: datetime | None = None,
) -> bool:
    """Tick (or untick) one step; returns False when it already was so. One transaction on the checklist."""
    moment = now or utcnow()
    key = keys.alert_checklist(alert_id)

    def _check(pipe: redis.client.Pipeline) -> bool:
        raw = pipe.hgetall(keys.alert(alert_id))
        if not raw:
            raise AlertNotFound(alert_id)
        record = AlertRecord.from_hash(raw)
        already = pipe.hexists(key, str(step))
        if already == done:
            return False
        pipe.multi()
        if done:
            pipe.hset(key, str(step), json.dumps({"by": actor, "at": to_iso(moment)}))
        else:
            pipe.hdel(key, str(step))
        write_entry(pipe, keys, alert_id, actor=actor, action="step_done" if done else "step_undone",
                    from_state=record.state, to_state=record.state, at=moment,
                    note=label or f"step {step + 1}", entry={"step": str(step)})
        mark_changed(pipe, keys)
        return True

    return client.transaction(_check, key, value_from_callable=True)


def ticked_steps(client: redis.Redis, keys: Keys, alert_id: str) -> dict[int, dict[str, str]]:
    """Ticked steps: step number -> {"by", "at"}."""
    ticked = client.hgetall(keys.alert_checklist(alert_id))
    return {int(step): json.loads(value) for step, value in ticked.items()}
