"""Every page in 中文 shows no English UI word: a word in Latin letters must be a value from the
data (channel, region, category, experiment and variant names, file names, ids), a well-known
abbreviation, or Streamlit's own widget text."""

import ast
import getpass
import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from hostile import as_read
from store import STORE_ENV

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "dashboard.py")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PAGES = ["pages/overview.py", "pages/cohorts.py", "pages/customers.py", "pages/value.py", "pages/strategy.py",
         "pages/launch.py", "pages/playbook.py",
         "pages/data.py"]
ABBREVIATIONS = {"RFM", "LTV", "AOV", "CUPED", "CLV", "BG", "NBD", "Gamma", "SRM", "CSV", "Excel", "HTML", "UTF",
                 "GBK", "xlsx", "xls", "TXT", "TSV", "Parquet", "UTC", "Shopify", "WooCommerce", "UCI", "ERP", "Tmall", "Taobao", "eBay", "Etsy", "Wayfair", "Square", "Holm", "BH",
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
        if node.type == "table":  # st.table: Markdown cells, escaped where they hold data
            frame = node.value
            out.extend(("table header", as_read(str(column))) for column in frame.columns)
            out.extend(("table cell", as_read(str(v))) for column in frame.columns for v in frame[column].dropna().unique())
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


@pytest.mark.parametrize(("asked", "title"), [("zh", "复购指标看板"), ("zh-CN", "复购指标看板"), ("中文", "复购指标看板"),
                                              ("en", "Repurchase KPIs"), ("English", "Repurchase KPIs"),
                                              ("fr", "Repurchase KPIs")])
def test_a_shared_link_names_the_language_by_code_or_label(monkeypatch, demo_store, asked, title):
    """?lang=zh opens in Chinese like ?lang=中文 (the switch's own label); an unknown value opens in English."""
    from tests.conftest import open_app

    app = open_app(monkeypatch, demo_store.root, lang=asked)
    assert app.title[0].value == title
    chinese = title == "复购指标看板"
    assert app.session_state["lang"] == ("中文" if chinese else "English")  # the switch shows it chosen
    app.switch_page("pages/customers.py").run()  # and it stays so on the next page
    assert app.title[0].value == ("客户" if chinese else "Customers")
    if asked == "zh":  # the switch still switches
        app.run()
        app.session_state["lang"] = "English"
        app.run()
        assert app.title[0].value == "Customers"


# Files whose Chinese strings are allowed outside ui/i18n.py and ui/words/, and why.
CHINESE_ELSEWHERE = {
    "metrics/playbook.py": "community channel names as shops write them (社群, 微信群, 私域...), matched in the data",
    "ui/strategy_words.py": "arm names as exports write them (实验组), read from the data",
    "metrics/experiments/keys.py": "control-arm names as exports write them (对照组), read from the data",
    "metrics/experiments/sources.py": "a refusal that quotes those control-arm names",
    "metrics/kpis.py": "export values meaning 'no membership' (非会员, 普通用户), read from the data",
    "ui/guard.py": "a plain HTTP refusal sent before the app runs, in both languages at once",
}


def test_every_chinese_word_lives_in_the_words_mechanism():
    """One words mechanism: outside ui/i18n.py and ui/words/, no code string holds Chinese; metrics
    return keys and codes, ui words them (docstrings and comments may quote a Chinese example)."""
    found = []
    for folder in ("metrics", "ui", "pages", "ingest"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            where = str(path.relative_to(ROOT))
            if where == "ui/i18n.py" or where.startswith("ui/words/") or where in CHINESE_ELSEWHERE:
                continue
            tree = ast.parse(path.read_text(encoding="utf-8"))
            docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                          if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                          and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
            found += [(where, node.lineno, node.value[:60]) for node in ast.walk(tree)
                      if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                      and CHINESE.search(node.value)]
    # ingest reads Chinese exports: its header synonyms, status and totals words are the data's words
    assert all(where.startswith("ingest/") for where, _, _ in found), [f for f in found if not f[0].startswith("ingest/")]
    assert any(where == "ingest/mapping.py" for where, _, _ in found)  # the check does see Chinese strings


def test_metric_words_cover_every_metric_and_segment_code():
    from metrics.definitions import ALL
    from store.models.customers import RFM_SEGMENT_SQL
    from ui.words.metrics import METRIC_DEFINITIONS, METRIC_NAMES, RFM_NAMES

    assert set(METRIC_NAMES) == set(ALL) == set(METRIC_DEFINITIONS)
    for key, definition in ALL.items():  # the CLI's English name is the screen's English name
        assert METRIC_NAMES[key][0] == definition.name, key
    segments = {code for pair in re.findall(r"then '(\w+)'|else '(\w+)'", RFM_SEGMENT_SQL) for code in pair if code}
    assert len(segments) == 10 and segments == set(RFM_NAMES)


DATE_VALUE = re.compile(r"^\d{4}-\d{2}(-\d{2})?([ T][\d:.]+)?$")


def english_date_axes(app: AppTest) -> list[tuple[str, str]]:
    """(chart, axis) of every chart axis showing dates with Plotly's own English ticks ("Jan 2024"):
    a date axis needs a tick format of ours (or category labels) to read in the page's language."""
    found = []
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        layout = spec.get("layout", {})
        for trace in spec.get("data", []):
            for letter in ("x", "y"):
                values = trace.get(letter)
                if not isinstance(values, list) or not values or not all(isinstance(v, str) and DATE_VALUE.match(v)
                                                                         for v in values):
                    continue
                name = trace.get(f"{letter}axis", letter).replace(letter, f"{letter}axis", 1)
                axis = layout.get(name, {})
                formats = [f for f in [axis.get("tickformat"), *(s.get("value") for s in axis.get("tickformatstops", []))]
                           if f]
                if axis.get("type") != "category" and not (formats and all(CHINESE.search(f) for f in formats)):
                    found.append((layout.get("title", {}).get("text", "")[:40], name))
    return found


@pytest.mark.parametrize("page", ["pages/overview.py", "pages/cohorts.py", "pages/value.py", "pages/strategy.py"])
def test_date_axes_in_chinese_name_months_in_chinese(monkeypatch, demo_store, page):
    """The value page's holdout curve and cohort bars once ticked "Aug 2025", "Jan 2023" in 中文."""
    from tests.conftest import open_app

    app = open_app(monkeypatch, demo_store.root, page, timeout=120, lang="中文")
    assert app.get("plotly_chart")
    assert not english_date_axes(app), english_date_axes(app)


ORDERS_CSV = (b"order_id,customer_id,order_date,amount,currency,coupon_code\n"
              b"1,a,2024-01-05,10,CNY,\n2,b,2024-01-06,20,CNY,SPRING\n3,c,2024-01-07,30,CNY,\n"
              b"4,a,2024-02-03,15,CNY,SPRING\n5,a,2024-02-04,25,CNY,WINTER\n6,b,2024-02-05,35,CNY,\n"
              b"7,c,2024-02-06,12,CNY,SPRING\n8,d,2024-02-07,18,CNY,\n9,a,2024-03-02,40,CNY,\n10,b,2024-03-03,22,CNY,\n")
# one experiment without a control arm, and a customer the store has never seen
ASSIGNMENTS_CSV = (b"experiment,customer_id,variant,assigned_at\n"
                   b"welcome,a,treatment,2024-01-01\nwelcome,b,treatment,2024-01-01\nwelcome,zz,treatment,2024-01-01\n")


def test_data_page_in_chinese_after_uploads_and_a_derived_experiment_has_no_english_ui_words(tmp_path, monkeypatch):
    """Orders, then assignments, then an experiment derived from coupon codes, all on the Data page
    in 中文: the import's warnings, the batch lines and the progress words are Chinese."""
    from tests.conftest import data_page_app

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    app = data_page_app()
    app.session_state["lang"] = "中文"
    app.run()
    texts = []
    app.get("file_uploader")[0].set_value(("orders.csv", ORDERS_CSV, "text/csv"))
    app.run()
    app.button(key="import_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    assert any("已导入" in s.value or "导入" in s.value for s in app.success), [s.value for s in app.success]
    texts += shown_texts(app)

    app.radio(key="upload_kind").set_value("assignments").run()
    app.get("file_uploader")[0].set_value(("assign.csv", ASSIGNMENTS_CSV, "text/csv"))
    app.run()
    app.button(key="import_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    warnings = [w.value for w in app.warning]
    # the experiment has no control arm; zz has no order: 1 of 3 assigned customers
    assert any("welcome" in w and "没有对照组" in w for w in warnings), warnings
    assert any(w.startswith("1 位") for w in warnings), warnings
    texts += shown_texts(app)

    app.text_input(key="derive_name").input("spring_feb")
    app.button(key="derive_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    warnings = [w.value for w in app.warning]
    # in February a used SPRING and WINTER (1 customer, two values); b had used SPRING in January and is
    # in the control arm in February
    assert any(w.startswith("1 位客户在该期间使用了多个所选值") for w in warnings), warnings
    assert any(w.startswith("1 位对照组客户") for w in warnings), warnings
    texts += shown_texts(app)

    headers = set(WORD.findall(ORDERS_CSV.split(b"\n")[0].decode()))  # the file's own headers, in its preview
    allowed = ABBREVIATIONS | data_words(tmp_path / "store") | headers | {"SPRING", "WINTER", "spring_feb", "welcome", "treatment",
                                                               "coupon_code", "zz", "control"}
    found = english_words(texts, allowed)
    assert not found, "\n".join(map(str, found))


def test_import_phases_have_chinese_words_and_the_cli_keeps_its_english():
    from ingest import PROGRESS_STEPS
    from ui.i18n import t

    for step, english in PROGRESS_STEPS.items():
        assert CHINESE.search(t(f"progress_{step}", "zh")), step
        assert english and not CHINESE.search(english)
    assert PROGRESS_STEPS["reading"] == "reading file"


def test_not_set_segments_are_worded_in_chinese():
    from store.models.kpis import NOT_SET
    from ui.i18n import NOT_SET_CODE, segment_name, value_name

    assert NOT_SET["channel"] == NOT_SET["region"] == NOT_SET["category"] == NOT_SET_CODE
    assert segment_name(NOT_SET["channel"], "zh") == "（未填写）"
    assert value_name("channel", NOT_SET["channel"], "zh") == "（未填写）"
    assert value_name("channel", NOT_SET["channel"], "en") == "(not set)"
    assert value_name("channel", "app", "zh") == "app"  # a channel named app is data


def test_every_order_field_has_a_name_in_both_languages():
    """The mapping boxes name each field in words (its code is the box's help): no box reads "order_ts"."""
    from ingest import FIELDS
    from ui.i18n import field_label

    assert all(CHINESE.search(field_label(field, "zh")) for field in FIELDS)
    english = [field_label(field, "en") for field in FIELDS]
    assert all("_" not in name and name[0].isupper() for name in english), english
    assert len(set(english)) == len(FIELDS) and field_label("order_ts", "en") == "Order time"


def test_a_recognised_export_is_named_in_chinese_on_the_chinese_data_page(tmp_path, monkeypatch):
    """"识别到的格式：UCI Online Retail (I and II): one row per invoice line..." read half English."""
    from conftest import data_page_app
    from ingest.mapping import builtin_presets
    from ui.i18n import PRESET_LABELS_ZH

    assert set(PRESET_LABELS_ZH) == set(builtin_presets())
    assert all(CHINESE.search(label) for label in PRESET_LABELS_ZH.values())
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    app = data_page_app()
    app.session_state["lang"] = "中文"
    app.run()
    workbook = (Path(__file__).parent / "fixtures" / "real" / "uci_online_retail_ii_2x499.xlsx").read_bytes()
    app.get("file_uploader")[0].set_value(("online_retail_II.xlsx", workbook, "application/octet-stream")).run()
    shown = [s.value.replace("\\", "") for s in app.success]
    assert any(s.startswith("识别到的格式：UCI Online Retail（I 与 II）：每行一张发票的一个商品") for s in shown), shown
