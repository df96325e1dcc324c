"""Units in one place: 亩 (mu), ha, m², 万元.

1 mu = 10000/15 m² exactly, so 1 ha = 15 mu.
"""

M2_PER_MU = 10000.0 / 15.0
MU_PER_HA = 15.0
M2_PER_HA = 10000.0
YUAN_PER_WAN = 10000.0


def m2_to_mu(area_m2):
    return area_m2 / M2_PER_MU


def mu_to_m2(area_mu):
    return area_mu * M2_PER_MU


def ha_to_mu(area_ha):
    return area_ha * MU_PER_HA


def mu_to_ha(area_mu):
    return area_mu / MU_PER_HA
