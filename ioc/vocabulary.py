"""The city's vocabulary: metric names and their aliases, units, their spellings and conversions, snake case.

Every reader names metrics and units through this module, so PM2.5 published as "PM2.5", "pm2_5" or
"pm2p5", in µg/m³, mg/m³ or with the NGSI-LD unit code GQ is one metric in one unit on every screen.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

# --- names ---------------------------------------------------------------------------------------------

# separators, camelCase, ACRONYMWord and wordACRONYM boundaries ("pH" and "NO2" stay one word)
_WORD_SPLIT = re.compile(
    r"[\W_]+|(?<=[a-z0-9])(?=[A-Z][a-z])|(?<=[A-Z])(?=[A-Z][a-z])|(?<=[a-z])(?=[A-Z]{2,}(?![a-z]))"
)


@lru_cache(maxsize=8192)  # names repeat across every record of a feed
def fold(text: str) -> str:
    """Vietnamese and other accents off ('Nhiệt độ' -> 'Nhiet do'), so names match the alias table."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words(name: str) -> list[str]:
    """The words of a field name: 'reporterPhone' -> ['reporter', 'Phone'], 'stationID' -> ['station', 'ID']."""
    return [word for word in _WORD_SPLIT.split(name) if word]


@lru_cache(maxsize=8192)
def snake_case(name: str) -> str:
    """lower_snake for attribute and metric names, accents off: averageVehicleSpeed -> average_vehicle_speed,
    stationID -> station_id, N-TOT -> n_tot, pH -> ph, 'Nhiệt độ' -> nhiet_do."""
    return "_".join(word.lower() for word in words(fold(name)))


@lru_cache(maxsize=8192)
def squash(text: str) -> str:
    """The key a name is looked up by in METRIC_ALIASES: 'PM 2.5', 'pm2_5' and 'PM2.5' all -> 'pm25'."""
    return re.sub(r"[^a-z0-9]", "", fold(text).lower())


# Squashed spellings (see `squash`) -> the city's metric name.
METRIC_ALIASES: dict[str, str] = {
    "pm25": "pm25",
    "pm2p5": "pm25",
    "pm10": "pm10",
    "pm1": "pm1",
    "no2": "no2",
    "nitrogendioxide": "no2",
    "so2": "so2",
    "sulfurdioxide": "so2",
    "sulphurdioxide": "so2",
    "o3": "o3",
    "ozone": "o3",
    "co": "co",
    "carbonmonoxide": "co",
    "no": "no",
    "nitrogenmonoxide": "no",
    "nitricoxide": "no",
    "nox": "nox",
    "nitrogenoxides": "nox",
    "nh3": "nh3",
    "ammonia": "nh3",
    "h2s": "h2s",
    "sh2": "h2s",
    "hydrogensulfide": "h2s",
    "c6h6": "c6h6",
    "benzene": "c6h6",
    "co2": "co2",
    "carbondioxide": "co2",
    "aqi": "aqi",
    "vnaqi": "aqi",
    "airqualityindex": "aqi",
    "temperature": "temperature",
    "airtemperature": "temperature",
    "ambienttemperature": "temperature",
    "temp": "temperature",
    "nhietdo": "temperature",
    "humidity": "humidity",
    "relativehumidity": "humidity",
    "airhumidity": "humidity",
    "rh": "humidity",
    "doam": "humidity",
    "pressure": "pressure",
    "airpressure": "pressure",
    "atmosphericpressure": "pressure",
    "barometricpressure": "pressure",
    "windspeed": "wind_speed",
    "winddirection": "wind_direction",
    "rainfall": "rainfall",
    "precipitation": "rainfall",
    "luongmua": "rainfall",
    "waterlevel": "water_level",
    "mucnuoc": "water_level",
    "riverlevel": "water_level",
    "gaugeheight": "water_level",
    "ph": "ph",
    "turbidity": "turbidity",
    "dissolvedoxygen": "dissolved_oxygen",
    "conductivity": "conductivity",
    "noise": "noise",
    "soundlevel": "noise",
}

# The air pollutants, by the city's metric name: what makes a station an air-quality station.
POLLUTANTS = frozenset({"pm25", "pm10", "pm1", "no2", "so2", "o3", "co", "no", "nox", "nh3", "h2s", "c6h6"})


def metric_name(name: str) -> str | None:
    """The city's metric for a published name ('PM2.5', 'pm2_5', 'Nhiệt độ'), or None if it is not one we know."""
    return METRIC_ALIASES.get(squash(name))


def is_water_level(metric: str) -> bool:
    """Levels and depths are kept in cm, whatever length unit they are published in."""
    return "level" in metric or "depth" in metric


# --- units ---------------------------------------------------------------------------------------------

# The canonical symbols the city stores.
MICROGRAMS_PER_M3 = "µg/m³"  # MICRO SIGN, as the screens and the rules write it
KMH = "km/h"
CELSIUS = "°C"
PERCENT = "%"
CENTIMETRE = "cm"
HECTOPASCAL = "hPa"

# UN/CEFACT common codes, the NGSI-LD/FIWARE `unitCode` (Rec. 20), matched exactly -> symbol.
UNIT_CODES: dict[str, str] = {
    "GQ": MICROGRAMS_PER_M3,
    "GP": "mg/m³",
    "59": "ppm",
    "61": "ppb",
    "CEL": CELSIUS,
    "FAH": "°F",
    "KEL": "K",
    "P1": PERCENT,
    "C62": "",
    "MTR": "m",
    "CMT": CENTIMETRE,
    "MMT": "mm",
    "KMT": "km",
    "KMH": KMH,
    "MTS": "m/s",
    "HM": "mph",
    "KNT": "kn",
    "DD": "°",
    "A97": HECTOPASCAL,
    "PAL": "Pa",
    "MBR": "mbar",
    "KWH": "kWh",
    "WTT": "W",
    "KWT": "kW",
    "AMP": "A",
    "VLT": "V",
    "LUX": "lx",
    "M1": "mg/L",
    "GL": "g/L",
    "H79": "NTU",
    "D10": "S/m",
    "SEC": "s",
    "MIN": "min",
    "HUR": "h",
    "E32": "veh/h",
    "2N": "dB",
}

# Other spellings -> symbol: UCUM and SensorThings unitOfMeasurement symbols and names, WMO codes
# (api.weather.gov), plain export spellings. Keys as `_unit_key` writes them: NFKC, lower case, no spaces.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    MICROGRAMS_PER_M3: ("µg/m³", "ug/m3", "μg.m-3", "ug.m-3", "μgm-3", "ugm-3", "microgrampercubicmetre",
                        "microgrampercubicmeter"),
    "mg/m³": ("mg/m3", "mg.m-3", "milligrampercubicmetre", "milligrampercubicmeter"),
    "ng/m³": ("ng/m3", "ng.m-3", "nanogrampercubicmetre", "nanogrampercubicmeter"),
    "ppm": ("ppm", "[ppm]", "partspermillion"),
    "ppb": ("ppb", "[ppb]", "partsperbillion"),
    CELSIUS: ("°c", "degc", "cel", "celsius", "degreecelsius", "degreescelsius"),
    "K": ("k", "kelvin"),
    "°F": ("°f", "degf", "[degf]", "fahrenheit", "degreefahrenheit"),
    PERCENT: ("%", "percent", "pct", "%rh", "[%]"),
    KMH: ("km/h", "kmh", "km/hr", "kph", "km.h-1", "km_h-1", "kilometreperhour"),
    "m/s": ("m/s", "m.s-1", "ms-1", "m_s-1", "meterpersecond", "metrepersecond"),
    "mph": ("mph", "[mi_i]/h"),
    "kn": ("kn", "kt", "kts", "knot", "knots", "[kn_i]"),
    "": ("unitless", "dimensionless", "1", "-"),
    CENTIMETRE: ("cm", "centimetre", "centimeter"),
    "m": ("m", "metre", "meter"),
    "mm": ("mm", "millimetre", "millimeter"),
    "km": ("km",),
    "Pa": ("pa",),
    HECTOPASCAL: ("hpa",),
    "°": ("deg", "degree_(angle)"),
}


def _unit_key(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower().replace(" ", "")


UNIT_SYNONYMS: dict[str, str] = {_unit_key(spelling): symbol for symbol, spellings in _SYNONYMS.items()
                                 for spelling in spellings}

# (from, to) -> (factor, offset): value in `to` = value * factor + offset.
CONVERSIONS: dict[tuple[str, str], tuple[float, float]] = {
    ("mg/m³", MICROGRAMS_PER_M3): (1000.0, 0.0),
    ("ng/m³", MICROGRAMS_PER_M3): (0.001, 0.0),
    ("°F", CELSIUS): (5 / 9, -32 * 5 / 9),
    ("K", CELSIUS): (1.0, -273.15),
    ("m/s", KMH): (3.6, 0.0),
    ("mph", KMH): (1.609344, 0.0),
    ("kn", KMH): (1.852, 0.0),
    ("m", CENTIMETRE): (100.0, 0.0),
    ("mm", CENTIMETRE): (0.1, 0.0),
    ("Pa", HECTOPASCAL): (0.01, 0.0),
    ("mbar", HECTOPASCAL): (1.0, 0.0),
}

# The unit a value is stored in when nothing more specific is asked for (a water level asks for cm).
CITY_UNITS: dict[str, str] = {
    "mg/m³": MICROGRAMS_PER_M3,
    "ng/m³": MICROGRAMS_PER_M3,
    "ppm": MICROGRAMS_PER_M3,  # only for a gas whose molar mass we know, see MOLAR_MASS_G
    "ppb": MICROGRAMS_PER_M3,
    "°F": CELSIUS,
    "K": CELSIUS,
    "m/s": KMH,
    "mph": KMH,
    "kn": KMH,
    "Pa": HECTOPASCAL,  # what the hydro-meteorological desk reads
    "mbar": HECTOPASCAL,
}

# Lengths a level is published in; a water level is stored in cm.
LEVEL_UNITS = frozenset({"m", "cm", "mm"})

# Gas mixing ratios to mass concentration at 25 °C and 1 atm (molar volume 24.45 L), the reference of WHO
# guidelines and of QCVN 05:2023/BTNMT: µg/m³ = ppb × molar mass / 24.45.
MOLAR_MASS_G: dict[str, float] = {
    "no2": 46.0055,
    "nox": 46.0055,  # NOx is reported as NO2 equivalent
    "so2": 64.066,
    "o3": 47.997,
    "co": 28.010,
    "no": 30.006,
    "nh3": 17.031,
    "h2s": 34.08,
    "c6h6": 78.11,
}
MOLAR_VOLUME_L = 24.45
_PPB_PER = {"ppb": 1.0, "ppm": 1000.0}


@cache
def known_unit(unit: str) -> str | None:
    """The symbol of a unit spelled any way we know (a UN/CEFACT code, UCUM, a name, a WMO code), else None."""
    text = unit.strip()
    if text in UNIT_CODES:
        return UNIT_CODES[text]
    if "://" in text:
        text = text.rsplit("/", 1)[-1]  # http://codes.wmo.int/common/unit/degC
    elif ":" in text:
        text = text.rsplit(":", 1)[-1]  # wmoUnit:degC, unit:degC
    return UNIT_SYNONYMS.get(_unit_key(text))


def unit_symbol(unit: str) -> str:
    """The symbol of a unit; one we do not know is kept as published (without a WMO code's prefix)."""
    symbol = known_unit(unit)
    if symbol is not None:
        return symbol
    text = unit.strip()
    if "://" in text:
        return text.rsplit("/", 1)[-1]
    if ":" in text:
        return text.rsplit(":", 1)[-1]
    return unicodedata.normalize("NFC", text)


def conversion(unit: str, to: str, metric: str = "") -> tuple[float, float] | None:
    """(factor, offset) from a unit symbol to another; ppm/ppb to µg/m³ only for a gas of known molar mass."""
    if unit == to:
        return (1.0, 0.0)
    if (unit, to) in CONVERSIONS:
        return CONVERSIONS[(unit, to)]
    if to == MICROGRAMS_PER_M3 and unit in _PPB_PER and metric in MOLAR_MASS_G:
        return (_PPB_PER[unit] * MOLAR_MASS_G[metric] / MOLAR_VOLUME_L, 0.0)
    return None


def convert(
    value: float, unit: str, *, to: str | None = None, metric: str = "", digits: int = 6
) -> tuple[float, str]:
    """A value in a published unit to `to`, or to the city's unit for it; kept as published if we cannot.

    Rounded to `digits` only when converted: that drops the float noise (0.1 * 3.6 = 0.36000000000000004).
    """
    symbol = unit_symbol(unit)
    target = to if to is not None else CITY_UNITS.get(symbol, symbol)
    step = conversion(symbol, target, metric)
    if step is None or target == symbol:
        return value, symbol
    factor, offset = step
    return round(value * factor + offset, digits), target
