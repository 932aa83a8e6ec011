"""Refusals, row problems and model notes in the user's language: every refusal code raised in
ingest/ and every note or failure of the customer-value models has English and Chinese words, the
Data page shows a refused upload's reason in 中文 in Chinese, and the CLI keeps printing the English
sentence, now with its code."""

import ast
import json
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from ingest import ImportRefused, batch_problems, import_file
from ingest.derived_assignments import derive_assignments
from ingest.normalise import ROW_CHECKS
from ingest.readers import MAGIC_REFUSALS
from ingest.records import SKIP_REASONS
from store import Store
from tests.conftest import data_page_app, fixture
from ui.i18n import refusal_text
from ui.words.refusals import ISSUE_REASONS, REFUSALS, issue_reason

ROOT = Path(__file__).resolve().parent.parent
CHINESE = re.compile(r"[\u4e00-\u9fff]")
# English words of a sentence (file names, codes and library errors quoted in it are values, not words)
ENGLISH_WORDS = re.compile(r"\b(?:the|file|not|and|upload|export|again|column|rows?)\b")


def refusal_sites() -> list[tuple[str, int, list[str], set[str]]]:
    """(file, line, codes, keyword names) of every ImportRefused(...) in ingest/, read from the source."""
    sites = []
    for path in sorted((ROOT / "ingest").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "ImportRefused"):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            code = keywords.get("code")
            if isinstance(code, ast.Constant):
                codes = [code.value]
            elif isinstance(code, ast.IfExp):
                codes = [code.body.value, code.orelse.value]
            elif isinstance(code, ast.Name) and code.id == "code" and path.name == "readers.py":
                codes = sorted({entry[0] for entry in MAGIC_REFUSALS.values()})  # the magic-bytes loop
            else:
                codes = [None]
            sites.append((f"{path.name}:{node.lineno}", node.lineno, codes, set(keywords) - {"code"}))
    return sites


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


def test_every_refusal_in_ingest_has_a_code_with_english_and_chinese_words():
    sites = refusal_sites()
    assert len(sites) >= 45  # the refusals ingest/ raises today; a new one without a code fails below
    for where, _, codes, names in sites:
        for code in codes:
            assert code is not None, f"{where}: ImportRefused without a constant code"
            assert code in REFUSALS, f"{where}: code {code!r} has no words in ui/words/refusals.py"
            english, chinese = REFUSALS[code]
            assert CHINESE.search(chinese) and not CHINESE.search(english.replace("合计", "")), code
            for template in (english, chinese):  # each placeholder is a value the raise site gives
                assert placeholders(template) <= names, (where, code, placeholders(template) - names)
    raised = {code for _, _, codes, _ in sites for code in codes}
    assert raised == set(REFUSALS), f"words for codes nobody raises: {set(REFUSALS) - raised}"


def refusal(call) -> ImportRefused:
    with pytest.raises(ImportRefused) as caught:
        call()
    return caught.value


@pytest.fixture
def refusals(tmp_path, store) -> list[ImportRefused]:
    """Real refusals of several kinds, raised by the importer on files written here."""
    png = tmp_path / "orders 2024.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    header_only = tmp_path / "header.csv"
    header_only.write_text("order_id,customer_id,order_date,amount\n")
    no_amount = tmp_path / "no_amount.csv"
    no_amount.write_text("order_id,customer_id,order_date\n1,a,2024-01-01\n")
    plain = tmp_path / "plain.csv"  # amounts without a currency, into a store of yuan
    plain.write_text("order_id,customer_id,order_date,amount\n1,a,2024-01-01,10\n")
    euros = tmp_path / "euros.csv"
    euros.write_text("order_id,customer_id,order_date,amount\n1,a,2024-01-01,€10\n")
    unstated = Store(tmp_path / "unstated")
    import_file(plain, unstated)
    import_file(fixture("generic_orders.csv"), store, currency="CNY")
    return [
        refusal(lambda: import_file(euros, unstated)),
        refusal(lambda: import_file(plain, store)),
        refusal(lambda: import_file(euros, store)),
        refusal(lambda: import_file(png, store)),
        refusal(lambda: import_file(empty, store)),
        refusal(lambda: import_file(header_only, store)),
        refusal(lambda: import_file(no_amount, store)),
        refusal(lambda: import_file(fixture("generic_orders.csv"), store, currency="usd")),
        refusal(lambda: import_file(fixture("generic_orders.csv"), store, preset_name="no-such-preset")),
        refusal(lambda: derive_assignments(store, "", __import__("datetime").date(2024, 1, 1),
                                           __import__("datetime").date(2024, 3, 31))),
    ]


def test_a_refusal_reads_the_same_in_english_as_the_cli_and_in_chinese_names_the_same_values(refusals):
    codes = [r.code for r in refusals]
    assert codes == ["currency_after_unstated", "currency_not_stated_in_store", "other_currency", "image_file", "empty_file", "header_only", "missing_columns", "currency_contradicts_file",
                     "unknown_preset", "derive_no_name"]
    for refused in refusals:
        assert refusal_text(refused, "en") == str(refused)  # the screen's English is the CLI's sentence
        chinese = refusal_text(refused, "zh")
        assert CHINESE.search(chinese) and not ENGLISH_WORDS.search(chinese), chinese
        for name in placeholders(REFUSALS[refused.code][0]) - ({"fields"} if "missing" in refused.values else set()):
            # the file name, the currencies... (missing fields are worded: see below)
            assert str(refused.values[name]) in chinese, (refused.code, name, chinese)
    png = refusals[3]
    assert refusal_text(png, "zh") == "orders 2024.csv：文件是图片，不是导出文件；请将订单导出为 CSV 或 Excel。"
    assert refusal_text(refusals[6], "zh").startswith("no_amount.csv：找不到实付金额（或行金额，或数量与单价）对应的列；")


def test_a_refusal_without_words_shows_its_english_sentence():
    assert refusal_text(ImportRefused("Something new went wrong.", code="not_worded_yet"), "zh") == \
        "Something new went wrong."


def test_every_row_reason_ingest_writes_has_chinese_words(store):
    reasons = [check[4] for check in ROW_CHECKS] + list(SKIP_REASONS.values())
    for reason in reasons:
        assert CHINESE.search(issue_reason(reason, "zh")), reason
    import_file(fixture("generic_orders.csv"), store, currency="CNY")
    issues, rejected = batch_problems(store, store.batches()[0]["id"])
    assert len(issues) >= 8 and len(rejected) >= 4
    for reason in [*issues["reason"], *rejected["reasons"]]:  # as stored: the row numbers kept
        worded = issue_reason(reason, "zh")
        assert CHINESE.search(worded) and not ENGLISH_WORDS.search(worded), (reason, worded)
        assert re.findall(r"\d+", worded) == re.findall(r"\d+", reason.replace("2024-03-31 14:05", "")) or \
            "2024-03-31" in worded
    assert issue_reason("same order as row 7; counted once", "zh") == "与第 7 行是同一订单，只计一次"
    assert issue_reason("missing amount; another row of this order was rejected (row 12), so the order is left out",
                        "zh") == "缺少金额；该订单的另一行（第 12 行）被拒绝，因此该订单未计入"
    assert issue_reason("same order as row 7; counted once", "en") == "same order as row 7; counted once"
    assert len(ISSUE_REASONS) == len({english for english, _ in ISSUE_REASONS})


def test_the_cli_prints_the_english_sentence_and_the_refusal_code(tmp_path):
    png = tmp_path / "orders.csv"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    result = subprocess.run([sys.executable, "-m", "ingest", "--store", str(tmp_path / "store"), "--json", str(png)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert json.loads(result.stdout) == {
        "refused": "orders.csv: the file is an image, not an export; export the orders as CSV or Excel.",
        "refusal_code": "image_file"}
    plain = subprocess.run([sys.executable, "-m", "ingest", "--store", str(tmp_path / "store"), str(png)],
                           capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert plain.stderr.strip().endswith(
        "Refused: orders.csv: the file is an image, not an export; export the orders as CSV or Excel.")


@pytest.mark.parametrize(("language", "expected"), [
    ("English", "Not imported: orders.csv: the file is an image, not an export; export the orders as CSV or Excel."),
    ("中文", "未导入：orders.csv：文件是图片，不是导出文件；请将订单导出为 CSV 或 Excel。"),
])
def test_the_data_page_shows_a_refused_upload_in_the_page_language(tmp_path, monkeypatch, language, expected):
    from store import STORE_ENV

    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    app = data_page_app()
    app.session_state["lang"] = language
    app.run()
    app.get("file_uploader")[0].set_value(("orders.csv", b"\x89PNG\r\n\x1a\n" + b"\0" * 64, "text/csv"))
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    assert len(app.error) == 1
    shown = app.error[0].value.replace("\\", "").replace("\u2060", "")
    assert shown == expected



def model_note_sites() -> list[tuple[str, str | None, set[str]]]:
    """(where, code, keyword names) of every ClvFitError(...) and Note(...) written in metrics/clv*.py;
    a re-raise that passes on another error's code and values (`**first.values`) is left out."""
    sites = []
    for path in sorted((ROOT / "metrics").glob("clv*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) in ("ClvFitError", "Note")):
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if None in keywords:
                continue  # passes on the code and values of the note it re-raises
            code = keywords.get("code") or (node.args[1] if node.func.id == "Note" and len(node.args) > 1 else None)
            sites.append((f"{path.name}:{node.lineno}", code.value if isinstance(code, ast.Constant) else None,
                          set(keywords) - {"code"}))
    return sites


def test_every_customer_value_note_has_a_code_with_english_and_chinese_words():
    from ui.words.notes import NOTES

    sites = model_note_sites()
    assert len(sites) >= 18
    for where, code, names in sites:
        assert code, f"{where}: a model note or failure without a constant code"
        assert code in NOTES, f"{where}: {code!r} has no words in ui/words/notes.py"
        english, chinese = NOTES[code]
        assert CHINESE.search(chinese), code
        for template in (english, chinese):
            assert placeholders(template) <= names, (where, code, placeholders(template) - names)
    assert {code for _, code, _ in sites} == set(NOTES)


def test_a_model_failure_reads_the_same_in_english_and_in_chinese_with_its_numbers():
    import numpy as np

    from metrics.clv_model import ClvFitError, fit_bgnbd, fit_gamma_gamma
    from ui.i18n import note_text

    x, t_x, T = np.array([1.0, 0, 0, 2]), np.array([5.0, 0, 0, 9]), np.array([30.0, 30, 20, 30])
    with pytest.raises(ClvFitError) as purchase:
        fit_bgnbd(x, t_x, T)  # 2 of 4 customers bought again; 20 are needed
    with pytest.raises(ClvFitError) as spend:
        fit_gamma_gamma(np.array([1.0] * 30), np.array([9.5] * 30), min_repeat_customers=20)
    for failure in (purchase.value, spend.value):
        assert note_text(failure, "en") == str(failure)
        assert CHINESE.search(note_text(failure, "zh")) and not ENGLISH_WORDS.search(note_text(failure, "zh"))
    assert note_text(purchase.value, "zh") == ("复购客户太少，无法拟合购买模型：截止日前 4 位客户中只有 2 位再次购买，"
                                               "至少需要 20 位。请选择更晚的截止日或载入更长的订单历史。")
    assert note_text(spend.value, "zh") == "客单价模型需要消费金额有差异，但每位复购客户的消费都相同。"


def test_the_data_page_in_english_names_each_problem_in_words_not_its_code(tmp_path, monkeypatch, store):
    """The validation report's Problem column read `unknown_status`, `zero_amount`: the codes stay in downloads."""
    from store import STORE_ENV
    from ui.words.refusals import ISSUE_CODE_WORDS

    assert all(english and CHINESE.search(chinese) for english, chinese in ISSUE_CODE_WORDS.values())
    import_file(fixture("generic_orders.csv"), store, currency="CNY")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = data_page_app()
    app.run()
    issues = next(d.value for d in app.dataframe if "reason" in d.value.columns)
    stored, _ = batch_problems(store, store.batches()[0]["id"])
    assert list(issues["code"]) == [ISSUE_CODE_WORDS[code][0] for code in stored["code"]]
    assert not any("_" in code for code in issues["code"]) and len(set(issues["code"])) >= 4
    from ui.i18n import field_label
    assert list(issues["field"]) == [field_label(field, "en") for field in stored["field"]]  # "Order time", not order_ts
    assert "order_ts" in set(stored["field"]) and not any("_" in field for field in issues["field"])


def test_the_data_page_in_chinese_words_the_validation_report(tmp_path, monkeypatch, store):
    """Row reasons, problem codes and outcomes of a stored batch read in Chinese; row numbers stay."""
    from store import STORE_ENV

    import_file(fixture("generic_orders.csv"), store, currency="CNY")
    monkeypatch.setenv(STORE_ENV, str(store.root))
    app = data_page_app()
    app.session_state["lang"] = "中文"
    app.run()
    assert not app.exception, [e.value for e in app.exception]
    issues = next(d.value for d in app.dataframe if "reason" in d.value.columns)
    stored, _ = batch_problems(store, store.batches()[0]["id"])
    assert len(issues) == len(stored)
    for shown, reason in zip(issues["reason"], stored["reason"]):
        assert CHINESE.search(shown) and not ENGLISH_WORDS.search(shown), shown
        assert re.findall(r"\d+", shown.replace("2024-03-31 14:05", "")) == \
            re.findall(r"\d+", reason.replace("2024-03-31 14:05", ""))
    assert set(issues["severity"]) <= {"拒绝", "警告", "跳过"} and "拒绝" in set(issues["severity"])
    assert all(CHINESE.search(code) for code in issues["code"]), set(issues["code"])
    rejected = next(d.value for d in app.dataframe if "reasons" in d.value.columns)
    assert all(CHINESE.search(r) for r in rejected["reasons"])


def test_nothing_imported_names_its_most_common_problem_in_words_on_screen():
    """An eBay export refused for its dates said "most common problem: bad_date" on the English page too."""
    refused = ImportRefused("x.csv: none of the 8 rows could be imported (most common problem: bad_date); fix the "
                            "export or the column mapping and upload it again.", code="nothing_imported",
                            file="x.csv", rows=8, problem="bad_date")
    assert "(most common problem: unreadable date)" in refusal_text(refused, "en")
    assert "日期无法识别" in refusal_text(refused, "zh")
