"""The simulator's one registry of agency feeds: URL path -> render function.

Adding an agency is one module in this package with `render(city, now, request) -> (bytes, content_type)`
and one line below. The path is the one the agency's real server would use, so an adapter pointed at the
simulator needs only the host changed to point at the agency.
"""

from __future__ import annotations

from ioc.simulator.feeds import gtfs_rt, open311, sensorthings
from ioc.simulator.feeds.common import BadFeedRequest, FeedRender, FeedRequest

FEEDS: dict[str, FeedRender] = {
    "/sensorthings/v1.1/Things": sensorthings.render,
    "/open311/v2/requests.json": open311.render,
    "/open311/v2/services.json": open311.render_services,
    "/gtfs-rt/vehicle-positions.pb": gtfs_rt.render,
}

__all__ = ["FEEDS", "BadFeedRequest", "FeedRender", "FeedRequest"]
