"""Writes the annunciator's alarm sounds (assets/sounds/*.wav): plain tones made here, so their licence is the
project's own and they play with no internet.

    python3 scripts/alarm_sounds.py

urgent: a fast two-tone warble, for extreme alarms; high: two slower beeps, for severe ones. The browser loops
each while its alarm is unacknowledged. Distinct rhythms as well as pitches, so they are told apart by ear.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 16_000
OUT = Path(__file__).resolve().parents[1] / "assets" / "sounds"


def tone(hz: float, seconds: float, volume: float = 0.5) -> list[int]:
    count = int(RATE * seconds)
    fade = int(RATE * 0.01)  # 10 ms ramps: no click at either end
    samples = []
    for n in range(count):
        ramp = min(1.0, n / fade, (count - n) / fade)
        samples.append(int(32767 * volume * ramp * math.sin(2 * math.pi * hz * n / RATE)))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


def write(name: str, samples: list[int]) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with wave.open(str(OUT / name), "wb") as sound:
        sound.setnchannels(1)
        sound.setsampwidth(2)
        sound.setframerate(RATE)
        sound.writeframes(struct.pack(f"<{len(samples)}h", *samples))


def main() -> None:
    urgent: list[int] = []
    for _ in range(4):
        urgent += tone(988, 0.12) + tone(1319, 0.12)
    write("alarm-urgent.wav", urgent + silence(0.3))
    write("alarm-high.wav", tone(784, 0.25) + silence(0.15) + tone(784, 0.25) + silence(0.9))


if __name__ == "__main__":
    main()
