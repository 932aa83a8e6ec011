"""Global filters (date range, member tier, channel, region, category), applied the same way to
every metric. Defined with the models they select from (`store.models.filters`); this is the name
the screens and the command line use.
"""

from store.models.filters import DIMENSIONS, Filters

__all__ = ["DIMENSIONS", "Filters"]
