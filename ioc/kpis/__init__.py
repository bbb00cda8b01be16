"""KPIs: the catalogue (config/<city>/kpis.yaml), rollups in Redis, reports and their exports, the tiles."""
