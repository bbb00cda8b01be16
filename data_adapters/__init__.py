"""Agency feed readers: one module per standard or bespoke agency, all held to data_adapters.base.Reader."""

# The one reviewable list of reader modules; `ioc adapters new` appends to it.
READER_MODULES: list[str] = [
    "sensorthings",
    "open311",
    "gtfs_rt",
    "gbfs",
    "ngsi_ld",
    "geojson",
    "cap",
    "csv_reader",
    "json_reader",
    "mqtt_json",
    "ioc_api",
]
