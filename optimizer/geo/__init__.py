"""Zones and 四至 (SPEC §5): layers, metric areas, boundary checks, land caps, 四至 text."""

from optimizer.geo.areas import area_m2, area_mu, metric_crs
from optimizer.geo.boundaries import BoundaryReport, check_boundaries, write_boundaries
from optimizer.geo.caps import ConsolidationSpec
from optimizer.geo.layers import read_layer, read_layer_checked
from optimizer.geo.sizhi import describe_sizhi
from optimizer.geo.zones import validate_zones

__all__ = ["BoundaryReport", "ConsolidationSpec", "area_m2", "area_mu", "check_boundaries",
           "describe_sizhi", "metric_crs", "read_layer", "read_layer_checked", "validate_zones",
           "write_boundaries"]
