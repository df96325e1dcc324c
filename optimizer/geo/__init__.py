"""Zones and 四至 (SPEC §5): layers, metric areas, boundary checks, land caps, 四至 text.

    read_layer(path, layer=, crs=, what=)      → GeoDataFrame, attrs["warnings"] = repairs
    read_layer_checked(...)                    → (GeoDataFrame, warnings)
    validate_zones(gdf, path)                  → canonical zones frame (ValidationErrors)
    metric_crs(gdf)                            → CGCS2000 3° Gauss-Kruger CRS of the data
    area_mu(geoms, crs) / area_m2(geoms, crs)  → ellipsoidal areas (≈ pyproj.Geod)
    check_boundaries(zones, parcels, protected, features, tolerance_m=, reserve_share=,
                     consolidation=ConsolidationSpec(...)) → BoundaryReport
    write_boundaries(report, folder)           → boundaries.csv (+ boundary_violations.gpkg)
"""

from optimizer.geo.areas import area_m2, area_mu, metric_crs
from optimizer.geo.boundaries import BoundaryReport, check_boundaries, write_boundaries
from optimizer.geo.caps import ConsolidationSpec
from optimizer.geo.layers import read_layer, read_layer_checked
from optimizer.geo.sizhi import describe_sizhi
from optimizer.geo.zones import validate_zones

__all__ = ["BoundaryReport", "ConsolidationSpec", "area_m2", "area_mu", "check_boundaries",
           "describe_sizhi", "metric_crs", "read_layer", "read_layer_checked", "validate_zones",
           "write_boundaries"]
