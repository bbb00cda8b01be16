"""Time playback: the city at a past moment, rebuilt from the history archive for the control room."""

from ioc.playback.alerts import alerts_at
from ioc.playback.city import PlaybackCity
from ioc.playback.records import PastRecords, records_at

__all__ = ["PastRecords", "PlaybackCity", "alerts_at", "records_at"]
