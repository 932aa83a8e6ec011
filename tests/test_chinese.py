"""Every page in 中文 shows no English UI word: a word in Latin letters must be a value from the
data (channel, region, category, experiment and variant names, file names, ids), a well-known
abbreviation, or Streamlit's own widget text."""

import getpass
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from store import STORE_ENV

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")
PAGES = ["pages/overview.py", "pages/cohorts.py", "pages/customers.py", "pages/value.py", "pages/strategy.py",
         "pages/launch.py", "pages/playbook.py",
         "pages/data.py"]
ABBREVIATIONS = {"RFM", "LTV", "AOV", "CUPED", "CLV", "BG", "NBD", "Gamma", "SRM", "CSV", "Excel", "HTML", "UTF",
                 "GBK", "xlsx", "Parquet", "Shopify", "WooCommerce", "UCI", "ERP", "Tmall", "Taobao", "Holm", "BH",
                 "Kaplan", "Meier", "KPI", "KPIs", "ID", "id", "CNY", "USD", "EUR", "GBP", "JPY", "HKD", "A/A", "AA",
                 "docs", "security", "md", "SHA", "importing", "sha", "Language", "zh", "CN", "log", "p", "n", "k", "x",
                 # model names and their parameters, as the literature writes them
                 "MBG", "Pareto", "alpha", "beta", "gamma", "r", "s", "a", "b", "q",
                 "VIP"}  # Chinese shops write VIP in Latin letters too
WORD = re.compile(r"[A-Za-z][A-Za-z_]+")


def data_words(store_root) -> set[str]:
    """Every word that comes from the data: dimension values, experiments, variants, files, ids."""
    from store import Store

    con = Store(store_root).connect()
    values = set()
    for query in ("select distinct channel from orders", "select distinct region from orders",
                  "select distinct category from orders", "select distinct experiment from assignments",
                  "select distinct variant from assignments", "select distinct customer_id from orders"):
        values.update(str(v) for (v,) in con.execute(query).fetchall() if v is not None)
    con.close()
    batches = Store(store_root).batches()
    values.update(str(b.get(k)) for b in batches for k in ("file", "batch_id", "id") if isinstance(b, dict) and b.get(k))
    values.add(getpass.getuser())  # the operating-system user who ran the imports, in the activity log
    values.update(str(e.get(k)) for e in Store(store_root).audit_log(1000) for k in ("user", "target", "preset", "table")
                  if e.get(k))  # user names and the like that other tests' sessions wrote
    return {word for value in values for word in WORD.findall(value)} | {"orders", "parquet", "assignments", "csv"}


def shown_texts(app: AppTest) -> list[tuple[str, str]]:
    """(where, text) for every text a person sees: Markdown, labels, tables and charts."""
    out = []

    def walk(node):
        children = getattr(node, "children", None)
        if isinstance(children, dict):
            for child in children.values():
                walk(child)
        proto = getattr(node, "proto", None)
        if proto is None:
            return
        for field in ("body", "label", "value", "help", "placeholder"):
            value = getattr(proto, field, None)
            if isinstance(value, str) and value:
                out.append((f"{node.type}.{field}", value))
        if node.type == "plotly_chart":
            spec = json.loads(proto.spec)
            layout = spec.get("layout", {})
            out.append(("chart title", layout.get("title", {}).get("text", "").replace("<br>", " ")))
            for axis in [k for k in layout if k.startswith(("xaxis", "yaxis"))]:
                out.append(("chart axis", str(layout[axis].get("title", {}).get("text", ""))))
            for trace in spec.get("data", []):
                for key in ("name", "x", "y", "labels", "text"):
                    value = trace.get(key)
                    if isinstance(value, str):
                        out.append((f"chart {key}", value))
                    elif isinstance(value, list):
                        out.extend((f"chart {key}", v) for v in value if isinstance(v, str))
        if node.type == "dataframe":
            config = json.loads(proto.columns or "{}")
            frame = node.value
            for column in frame.columns:
                label = config.get(str(column), {}).get("label", str(column))
                if not config.get(str(column), {}).get("hidden"):
                    out.append(("table header", label))
                if not pd.api.types.is_numeric_dtype(frame[column]) and not pd.api.types.is_datetime64_any_dtype(frame[column]):
                    out.extend(("table cell", str(v)) for v in frame[column].dropna().unique()[:50])

    walk(app._tree)
    return out


def english_words(texts, allowed: set[str]) -> list[tuple[str, str]]:
    found = []
    for where, text in texts:
        text = re.sub(r"https?://\S+|`[^`]*`|\b\d{4}-\d{2}(-\d{2})?\b|\b[0-9a-f-]{12,}\b", " ", text)
        text = re.sub(r":(green|red|gray|grey|blue|orange|violet)\[", "[", text)
        text = re.sub(r":material/[a-z_]+:", " ", text)
        for word in WORD.findall(text.replace("\\_", "_")):
            if word not in allowed and word.strip("_") not in allowed:
                found.append((where, word, text[:120]))
    return found


@pytest.mark.parametrize("page", PAGES)
def test_every_page_in_chinese_has_no_english_ui_words(monkeypatch, demo_store, page):
    monkeypatch.setenv(STORE_ENV, str(demo_store.root))
    app = AppTest.from_file(APP, default_timeout=90)
    app.query_params["lang"] = "中文"
    app.run()
    if page != PAGES[0]:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    for expander in app.expander:  # what a reader would open
        pass
    texts = shown_texts(app)
    assert len(texts) > 10
    found = english_words(texts, ABBREVIATIONS | data_words(demo_store.root))
    assert not found, "\n".join(map(str, found))
