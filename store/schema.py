"""The canonical tables every importer produces, as DuckDB column types.

Grain: `orders` has one row per order; `order_lines` one row per line of an order;
`assignments` one row per customer and experiment.
"""

ORDERS = {
    "order_id": "VARCHAR",
    "customer_id": "VARCHAR",  # NULL = guest order
    "order_ts": "TIMESTAMP",
    "amount": "DECIMAL(18,2)",
    "status": "VARCHAR",  # valid / unpaid / cancelled / refunded (only valid orders count)
    "channel": "VARCHAR",
    "region": "VARCHAR",
    "store": "VARCHAR",
    "member_tier": "VARCHAR",
    "category": "VARCHAR",
    "coupon_code": "VARCHAR",
    "currency": "VARCHAR",
    "source_row": "BIGINT",  # row of the uploaded file the order came from (header = row 1)
}

ORDER_LINES = {
    "order_id": "VARCHAR",
    "sku": "VARCHAR",
    "category": "VARCHAR",
    "quantity": "DECIMAL(18,3)",
    "unit_price": "DECIMAL(18,4)",
    "source_row": "BIGINT",
}

ASSIGNMENTS = {
    "experiment": "VARCHAR",
    "customer_id": "VARCHAR",
    "variant": "VARCHAR",
    "assigned_at": "TIMESTAMP",
    "strategy": "VARCHAR",
    "cost_per_customer": "DECIMAL(18,2)",
    "derived_from": "VARCHAR",  # NULL = uploaded (randomised); an orders column = observational, derived
}

DIMENSIONS = ("channel", "region", "store", "member_tier", "category", "coupon_code")
STATUSES = ("valid", "unpaid", "cancelled", "refunded")


def column_list(schema: dict[str, str]) -> str:
    """Column definitions for CREATE TABLE, e.g. `order_id VARCHAR, ...`."""
    return ", ".join(f"{name} {sql_type}" for name, sql_type in schema.items())
