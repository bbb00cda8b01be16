"""Alert rules from configuration, one module per rule kind, judged by one engine.

Kinds today (config `kind:`): `threshold` (minimum duration and hysteresis), `rate_of_change` (from the
observation streams), `staleness` (a feed or a sensor gone quiet, also on the timer), `geofence` (inside a
zone) and `relay` (CAP warnings and agency incidents with their own severity). `engine` turns every kind's
verdicts into alerts through one state machine; `escalation` is what time does to open alerts.

Adding a kind: write `ioc/rules/<kind>.py` that reduces a batch to `Verdict`s and ends with
`register(RuleKind("<kind>", on_batch=...))`; the registry imports every module of this package, so nothing
else lists it. Its configuration model joins the `Rule` union in ioc/config.py, where every rule is
validated at load with errors naming the file, the entry and the field (the models stay there: moving them
here would make configuration loading import the engine, Redis and shapely).
"""

from __future__ import annotations

from ioc.rules.base import RuleContext, TickReport, Verdict
from ioc.rules.engine import RuleEngine, RuleTicker
from ioc.rules.geofence import Zone, load_zones
from ioc.rules.registry import RuleKind, register
from ioc.rules.relay import relay_verdict

__all__ = ["RuleContext", "RuleEngine", "RuleKind", "RuleTicker", "TickReport", "Verdict", "Zone",
           "load_zones", "register", "relay_verdict"]
