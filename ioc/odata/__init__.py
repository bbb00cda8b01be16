"""OData v4 over the city's open data (/odata/v4/): entities, latest observations, KPIs and open alerts with
$filter, $select, $orderby, $top, $skip, $count and server-driven paging, described by a CSDL $metadata."""

from ioc.odata.service import PREFIX, install

__all__ = ["PREFIX", "install"]
