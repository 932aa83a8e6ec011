"""A small store whose every text value from the files is a hostile string (issue 20, item 1).

The demo data (deterministic), with each channel, tier, region, store, category, coupon code,
customer id, experiment, variant and strategy name replaced by a string that would be a link,
a remote image, bold text, an HTML tag, code, a formula, a colour directive or an icon if it
were read as Markdown or HTML, and imported from files whose names are hostile too.
Every hostile target is on beacon.invalid, so a test can tell a link or fetch from data by its host.
"""

from datetime import date
from pathlib import Path

import pandas as pd

BEACON = "beacon.invalid"
TOKENS = [
    f"[phish](https://{BEACON}/link)",
    f"![x](https://{BEACON}/b.png)",
    "**bold**",
    f'<a href="https://{BEACON}/a">hostile-a</a>',
    f'<img src="https://{BEACON}/i.png">',
    "<b>hostile-b</b>",
    "`code`",
    "$x$",
    ":red[x]",
    f"https://{BEACON}/bare",
    ":material/warning:",
    "__under__",
]
# the pieces that, rendered, would be markup: used to recognise hostile text on the page
MARKDOWN_TOKENS = [token for token in TOKENS if not token.startswith("<")]
HTML_TOKENS = [token for token in TOKENS if token.startswith("<")]
EMPHASIS_WORDS = ("bold", "hostile-b", "under")  # text that would come out bold or italic
ORDERS_FILE = "orders [phish](beacon.invalid) ![x](b.png) `c` $x$ __b__.csv"
ASSIGNMENTS_FILE = "assignments [exp](beacon.invalid) **b**.csv"
EXPERIMENTS = {"points_double_2025": f"[exp](https://{BEACON}/e) **points**",
               "aa_followup_2025": f'<a href="https://{BEACON}/x">aa</a> `aa` $x$'}
VARIANTS = {"treatment": f"<b>treat</b> ![v](https://{BEACON}/v.png)"}
STRATEGY = f":red[x] [s](https://{BEACON}/s)"
DERIVED_EXPERIMENT = f"![d](https://{BEACON}/d.png) coupon"
DIMENSIONS = ("channel", "member_tier", "region", "store", "category", "coupon_code")


def hostile_value(value: str, number: int) -> str:
    """The value's hostile stand-in: a token followed by the original, so values stay distinct."""
    return f"{TOKENS[number % len(TOKENS)]} {value}"


def write_hostile_files(folder: Path, customers: int = 1_500) -> dict[str, Path]:
    """Orders and assignments CSV files with hostile values and names; returns their paths."""
    from ingest.demo import write_demo

    plain = write_demo(folder / "plain", customers=customers)
    orders = pd.read_parquet(plain["orders"])
    for offset, column in enumerate(DIMENSIONS):
        values = sorted(orders[column].dropna().unique())
        stand_ins = {value: hostile_value(value, offset + index) for index, value in enumerate(values)}
        orders[column] = orders[column].map(stand_ins)
    if orders["coupon_code"].isna().all():  # the derive section offers coupon codes: have some
        orders.loc[orders.index % 7 == 0, "coupon_code"] = hostile_value("SPRING", 3)
    customer_ids = sorted(orders["customer_id"].dropna().unique())  # guests have none
    id_map = {value: f"{TOKENS[index % len(TOKENS)]}#{value}" for index, value in enumerate(customer_ids)}
    orders["customer_id"] = orders["customer_id"].map(id_map)
    orders_path = folder / ORDERS_FILE
    orders.to_csv(orders_path, index=False)

    assignments = pd.read_csv(plain["assignments"])
    assignments["customer_id"] = assignments["customer_id"].map(id_map)
    assignments["experiment"] = assignments["experiment"].map(EXPERIMENTS)
    assignments["variant"] = assignments["variant"].replace(VARIANTS)
    assignments["strategy"] = STRATEGY
    assignments_path = folder / ASSIGNMENTS_FILE
    assignments.to_csv(assignments_path, index=False)
    return {"orders": orders_path, "assignments": assignments_path}


def build_hostile_store(root: Path):
    """A Store at root/store holding the hostile orders and assignments."""
    from ingest.assignments import import_assignments
    from ingest.derived_assignments import derive_assignments
    from ingest.pipeline import import_file
    from store import Store

    store = Store(root / "store")
    paths = write_hostile_files(root / "files")
    import_file(paths["orders"], store)
    import_assignments(paths["assignments"], store)
    # an observational experiment named on the Data page: coupon users against the others
    derive_assignments(store, DERIVED_EXPERIMENT, date(2025, 1, 1), date(2025, 6, 30), column="coupon_code")
    return store


def as_read(markdown: str) -> str:
    """A Markdown body as the reader sees it when it holds escaped values: backslash escapes
    resolved, invisible word joiners dropped (other Markdown left as it is)."""
    import re

    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown).replace("\u2060", "")
