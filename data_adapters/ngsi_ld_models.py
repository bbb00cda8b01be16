"""What each FIWARE Smart Data Model means for the city: which attributes are readings, in which unit.

The NGSI-LD reader (data_adapters.ngsi_ld) looks a model's attributes up here; a model not listed keeps its
numeric properties as readings in their published unit.
"""

from __future__ import annotations

from dataclasses import dataclass

from data_adapters.contract import MICROGRAMS_PER_M3, Severity

# --- what each Smart Data Model means -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Metric:
    """How one attribute of a model becomes an observation."""

    metric: str
    kind: str = "number"  # number | count | fraction (0..1 in the model, % here) | text | flag
    unit: str = ""  # our unit; "" keeps the published unit
    default_code: str = ""  # the unit the model implies when the source gives no unitCode


def _pollutant(metric: str) -> Metric:
    # the Smart Data Models examples publish pollutants in µg/m³ (unitCode GQ); keyValues carry no code
    return Metric(metric, "number", MICROGRAMS_PER_M3, "GQ")


# Weather-like attributes that any model may carry.
COMMON_METRICS: dict[str, Metric] = {
    "temperature": Metric("temperature", "number", "°C", "CEL"),
    "relativeHumidity": Metric("relative_humidity", "fraction", "%"),
    "windSpeed": Metric("wind_speed", "number", "km/h", "MTS"),
    "windDirection": Metric("wind_direction", "number", "°", "DD"),
    "precipitation": Metric("precipitation", "number", "mm", "MMT"),
    "atmosphericPressure": Metric("atmospheric_pressure", "number", "hPa", "A97"),
}

_PARKING = {
    "availableSpotNumber": Metric("available_spots", "count", "count"),
    "totalSpotNumber": Metric("total_spots", "count", "count"),
    "occupiedSpotNumber": Metric("occupied_spots", "count", "count"),
    "occupancy": Metric("occupancy", "fraction", "%"),
    "percentageOccupancy": Metric("occupancy", "number", "%"),  # older examples, already in percent
    "status": Metric("status", "text"),
}

TYPE_METRICS: dict[str, dict[str, Metric]] = {
    "TrafficFlowObserved": {
        # kept as published: the model defines it as vehicles counted over dateObservedFrom..To, and the
        # city's detectors count over an hour
        "intensity": Metric("intensity", "number", "veh/h"),
        "averageVehicleSpeed": Metric("average_speed", "number", "km/h", "KMH"),
        "occupancy": Metric("occupancy", "fraction", "%"),
        "congested": Metric("congested", "flag"),
    },
    "OffStreetParking": _PARKING,
    "OnStreetParking": _PARKING,
    "ParkingSpot": {"status": Metric("status", "text")},
    "WasteContainer": {
        "fillingLevel": Metric("filling_level", "fraction", "%"),
        "status": Metric("status", "text"),
    },
    "Streetlight": {
        "powerState": Metric("power_state", "text"),
        "status": Metric("status", "text"),
        "illuminanceLevel": Metric("illuminance_level", "fraction", "%"),
        "powerConsumption": Metric("power_consumption", "number"),
    },
    "WaterQualityObserved": {
        "pH": Metric("ph", "number", "pH"),
        "turbidity": Metric("turbidity", "number", "NTU"),
        "tur": Metric("turbidity", "number", "NTU"),
        "O2": Metric("dissolved_oxygen", "number", "mg/L"),
        "dissolvedOxygen": Metric("dissolved_oxygen", "number", "mg/L"),
        "conductivity": Metric("conductivity", "number", "S/m"),
    },
    "AirQualityObserved": {
        name: _pollutant(metric)
        for name, metric in {
            "pm1": "pm1",
            "pm25": "pm25",
            "pm10": "pm10",
            "no": "no",
            "no2": "no2",
            "nox": "nox",
            "so2": "so2",
            "co": "co",
            "o3": "o3",
            "nh3": "nh3",
            "sh2": "h2s",
            "h2s": "h2s",
            "c6h6": "c6h6",
        }.items()
    }
    | {"airQualityIndex": Metric("air_quality_index"), "airQualityLevel": Metric("air_quality_level", "text")},
    "FloodMonitoring": {
        "currentLevel": Metric("water_level", "number", "cm", "MTR"),
        "alertLevel": Metric("alert_level", "number", "cm", "MTR"),
        "dangerLevel": Metric("danger_level", "number", "cm", "MTR"),
        "referenceLevel": Metric("reference_level", "number", "cm", "MTR"),
        "measuredDistance": Metric("measured_distance", "number", "cm", "MTR"),
        "floodLevelStatus": Metric("flood_level_status", "text"),
    },
}
# Models whose every numeric attribute is a measurand (the rest of a known model's numbers are
# descriptors: lane ids, bin capacities, pole heights). Unknown models are treated this way too.
ALL_NUMERIC = frozenset({"AirQualityObserved", "WaterQualityObserved"})

# A lamp that does not light: the Streetlight statuses that need a maintenance crew.
LAMP_OUT_STATUSES = frozenset({"defectiveLamp", "brokenLantern"})

# The entity's own time, most specific first; a reading's own observedAt wins over it for that reading.
TIME_ATTRIBUTES = (
    "dateObserved",
    "observationDateTime",
    "dateModified",
    "dateLastReported",
    "dateIssued",
    "modifiedAt",
)
SKIPPED = frozenset({"id", "type", "@context", "location", *TIME_ATTRIBUTES})

# FIWARE Alert severity -> CAP scale
ALERT_SEVERITY: dict[str, Severity] = {
    "critical": Severity.EXTREME,
    "high": Severity.SEVERE,
    "medium": Severity.MODERATE,
    "low": Severity.MINOR,
    "informational": Severity.MINOR,
    "extreme": Severity.EXTREME,
    "severe": Severity.SEVERE,
    "moderate": Severity.MODERATE,
    "minor": Severity.MINOR,
}

PREFERRED_LANGUAGES = ("vi", "en")
