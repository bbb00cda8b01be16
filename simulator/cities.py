"""`ioc demo --cities danang,hue`: several simulated cities, each its own IOC (its own Redis, simulator, adapters
and dashboard, in its own process), sharing with the others only over their open-data APIs, exactly as two
real cities would: each grants the others an agreement (KPIs, open alerts and feed health, ward granularity),
hands them its key, and lists them in the peers file its regional view reads."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import yaml

from ioc.config import DEFAULT_CONFIG_DIR, PROJECT_ROOT, load_settings

SHARED = ["kpis", "alerts", "feeds"]


def _city_dir(city: str) -> Path:
    folder = PROJECT_ROOT / "config" / city
    if not (folder / "city.yaml").exists():
        raise SystemExit(f"error: --cities: no config/{city}/city.yaml")
    return folder


def _key_variable(city: str) -> str:
    return f"IOC_PEER_KEY_{city.upper().replace('-', '_')}"


def _relay(prefix: str, stream: object) -> None:
    for line in iter(stream.readline, ""):  # type: ignore[attr-defined]
        print(f"[{prefix}] {line}", end="", flush=True)


def run_cities(args: argparse.Namespace) -> int:
    from ioc.auth import UserBook, load_roles
    from ioc.redis_conn import client_from_url, data_dir, start_redis_server
    from ioc.sharing import AgreementBook
    from ioc.store import Store
    from simulator.moved import MovedFeeds

    names = [name.strip() for name in args.cities.split(",") if name.strip()]
    if len(set(names)) < 2:
        raise SystemExit("error: --cities names two or more different cities, e.g. danang,hue")
    binary = shutil.which("redis-server")
    if not binary:
        raise SystemExit("error: --cities runs a redis-server per city; none is on PATH")
    settings = {name: load_settings(_city_dir(name)) for name in names}
    # the simulator's own geography is Da Nang's: another city gets it moved to its centre
    home = load_settings(DEFAULT_CONFIG_DIR).city.center
    ports = {name: args.port + number for number, name in enumerate(names)}
    work = Path(tempfile.mkdtemp(prefix="ioc-cities-"))
    servers, fronts, children = [], [], []
    try:
        urls = {}
        # SIGTERM ends the children and the Redis servers too, as Ctrl-C does
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        for name in names:
            process, url = start_redis_server(binary, data=data_dir() / "cities" / name)
            servers.append(process)
            urls[name] = url
        # each city grants every other one an agreement in its own Redis; the key goes to the reader only
        keys: dict[tuple[str, str], str] = {}
        for grantor in names:
            client = client_from_url(urls[grantor])
            store = Store(client, settings[grantor].city.id)
            users = UserBook(store.redis, store.keys, load_roles(settings[grantor].directory))
            book = AgreementBook(store.redis, store.keys, users)
            for reader in names:
                if reader != grantor:
                    keys[(grantor, reader)] = book.grant(
                        settings[reader].city.id, name=settings[reader].city.name.vi, datasets=SHARED,
                        granularity="ward", actor="demo", address="local")
                    print(f"sharing: {grantor} lets {reader} read {', '.join(SHARED)} by ward", flush=True)
        for number, name in enumerate(names):
            # each city's own data folder (its Redis files, its history archive)
            env = dict(os.environ, IOC_REDIS_URL=urls[name], PYTHONUNBUFFERED="1",
                       IOC_DATA_DIR=str(data_dir() / "cities" / name))
            peers = []
            for other in names:
                if other == name:
                    continue
                variable = _key_variable(other)
                env[variable] = keys[(other, name)]
                city = settings[other].city
                peers.append({"id": city.id, "name": {"vi": city.name.vi, "en": city.name.en},
                              "base_url": f"http://127.0.0.1:{ports[other]}",
                              "auth": {"type": "api_key", "key": {"env": variable}},
                              "centre": list(city.center), "timeout": 3})
            peers_file = work / f"{name}-peers.yaml"
            peers_file.write_text(yaml.safe_dump({"refresh": 5, "peers": peers}, allow_unicode=True), encoding="utf-8")
            env["IOC_PEERS_FILE"] = str(peers_file)
            sim_port = args.sim_port + 2 * number
            centre = settings[name].city.center
            offset = (round(centre[0] - home[0], 6), round(centre[1] - home[1], 6))
            if offset != (0.0, 0.0):
                front = MovedFeeds(f"http://127.0.0.1:{sim_port}", sim_port + 1, offset).start()
                fronts.append(front)
                env["IOC_SIM_URL"] = front.url
            else:
                env["IOC_SIM_URL"] = f"http://127.0.0.1:{sim_port}"
            command = [sys.executable, "-m", "ioc", "--config", str(settings[name].directory), "demo",
                       "--host", args.host, "--port", str(ports[name]), "--sim-port", str(sim_port),
                       "--seed", str(args.seed + number), "--speed", str(args.speed),
                       # the simulator's MQTT topics are Da Nang's: only the first city publishes them
                       "--mqtt-url", args.mqtt_url if number == 0 else ""]
            child = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            children.append(child)
            threading.Thread(target=_relay, args=(name, child.stdout), daemon=True).start()
            print(f"{name}: http://{args.host}:{ports[name]}/ (regional view: /regional)", flush=True)
        for child in children:
            child.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        for child in children:
            if child.poll() is None:
                child.terminate()
        for child in children:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(timeout=30)
        for front in fronts:
            front.stop()
        for server in servers:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)
    return 0
