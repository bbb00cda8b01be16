"""KPIs for managers: the catalogue (config/<city>/kpis.yaml), rollups in Redis, report computation, forecast."""
