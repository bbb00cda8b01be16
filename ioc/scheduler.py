"""Every enabled feed of a city, each in its own thread: polled ones through ioc.runner, pushed (MQTT) ones
through ioc.mqtt; plus the rules' timer. Its own module so runner and mqtt need not import each other."""

from __future__ import annotations

import logging
import threading
import time

import redis

from ioc.areas import area_index
from ioc.config import Feed, Settings
from ioc.lifecycle import start_sweeper
from ioc.mqtt import MqttFeedWorker
from ioc.rules import RuleEngine, RuleTicker
from ioc.runner import _log_failure, _log_recovery, default_listeners, make_http_client, poll_feed
from ioc.store import Store

log = logging.getLogger(__name__)


class FeedScheduler:
    """Polls every enabled feed on its own interval, each in its own thread."""

    def __init__(self, settings: Settings, store: Store, *, feeds: list[Feed] | None = None) -> None:
        self.settings = settings
        self.store = store
        # feeds=[] is none (the queued runner keeps only the pushed feeds here, which may be none)
        self.feeds = [f for f in (settings.feeds if feeds is None else feeds) if f.enabled]
        self.areas = area_index(settings.city)
        self.rules = RuleEngine(settings, store)
        self.listeners = default_listeners(settings, store)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self.polls = 0

    def start(self) -> None:
        for feed in self.feeds:
            if feed.url.startswith("mqtt://"):
                worker = MqttFeedWorker(
                    feed, store=self.store, areas=self.areas, rules=self.rules, city=self.settings.city.id,
                    listeners=self.listeners, stop=self._stop,
                )
                target, args = worker.run, ()
            else:
                target, args = self._loop, (feed,)
            thread = threading.Thread(target=target, args=args, name=f"feed-{feed.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        # silence delivers no batch: staleness, escalation and expiry are judged on a timer
        ticker = threading.Thread(target=RuleTicker(self.rules, self._stop).run, name="rules-tick", daemon=True)
        ticker.start()
        self._threads.append(ticker)
        # entities unseen for their feed's gone_after multiple of its cadence leave the map (ioc.lifecycle)
        self._threads.append(start_sweeper(self.settings, self.store, self._stop))

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout)

    def _loop(self, feed: Feed) -> None:
        with make_http_client(feed.timeout) as http:
            while not self._stop.is_set():
                started = time.monotonic()
                try:
                    outcome = poll_feed(
                        feed, store=self.store, http=http, areas=self.areas, rules=self.rules,
                        city=self.settings.city.id, sleep=self._stop.wait, listeners=self.listeners,
                    )
                    if outcome.ok:
                        _log_recovery(feed.name)
                except redis.RedisError as exc:
                    # Redis itself is down: nothing can be recorded; try again next interval.
                    _log_failure(feed.name, f"Redis unavailable: {exc}")
                except Exception:  # keep the feed's thread alive whatever happens
                    log.exception("poll of %s failed unexpectedly", feed.name)
                self.polls += 1
                self._stop.wait(max(0.0, feed.interval - (time.monotonic() - started)))
