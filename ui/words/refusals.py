"""Why an upload was refused, and why a row was rejected, in English and Chinese (zh-CN).

`REFUSALS` words each `ImportRefused.code` raised in ingest/ (a test finds every code by reading
the source); its {placeholders} are the refusal's `values`. `ISSUE_REASONS` words the per-row
reasons of the validation report: those are stored as English sentences with every batch (old
batches too), so each entry is the English sentence as a pattern ({rows}, {experiment}...) and
its Chinese wording.
"""

import re

from ui.words.fields import FIELD_NAMES

REFUSALS: dict[str, tuple[str, str]] = {
    # reading the file
    "file_not_found": ("{file}: file not found; check the path and try again.",
                       "{file}：找不到文件；请检查路径后重试。"),
    "empty_file": ("{file}: the file is empty; export it again and upload the new file.",
                   "{file}：文件是空的；请重新导出并上传新文件。"),
    "split_zip": ("{file}: is an empty or split zip archive, not a workbook; save it again as .xlsx.",
                  "{file}：是空的或分卷的 zip 压缩包，不是工作簿；请另存为 .xlsx。"),
    "compressed_file": ("{file}: the file is compressed with {format}; unpack it and upload the file inside.",
                        "{file}：文件经 {format} 压缩；请解压后上传其中的文件。"),
    "archive_file": ("{file}: the file is a {format} archive; unpack it and upload the file inside.",
                     "{file}：文件是 {format} 压缩包；请解压后上传其中的文件。"),
    "pdf_file": ("{file}: the file is a PDF document, not an export; export the orders as CSV or Excel.",
                 "{file}：文件是 PDF 文档，不是导出文件；请将订单导出为 CSV 或 Excel。"),
    "program_file": ("{file}: the file is a program, not an export; export the orders as CSV or Excel.",
                     "{file}：文件是程序，不是导出文件；请将订单导出为 CSV 或 Excel。"),
    "image_file": ("{file}: the file is an image, not an export; export the orders as CSV or Excel.",
                   "{file}：文件是图片，不是导出文件；请将订单导出为 CSV 或 Excel。"),
    "misnamed_file": ("{file}: the file is named {suffix} but its content is not; export it again from the source system.",
                      "{file}：文件扩展名为 {suffix}，但内容并非该格式；请从源系统重新导出。"),
    "bad_workbook": ("{file}: could not be opened as an Excel workbook ({error}); open it in Excel, save it as .xlsx "
                     "and upload it again.",
                     "{file}：无法作为 Excel 工作簿打开（{error}）；请在 Excel 中打开，另存为 .xlsx 后重新上传。"),
    "too_many_parts": ("{file}: the workbook holds {parts:,} parts, which no export has; save it again as .xlsx or "
                       "export the orders as CSV.",
                       "{file}：工作簿包含 {parts:,} 个部件，导出文件不会这样；请另存为 .xlsx 或将订单导出为 CSV。"),
    "zip_bomb": ("{file}: the workbook would unpack to {megabytes:,.0f} MB ({ratio:,.0f} times its packed size), which "
                 "is a zip bomb rather than an export; export the orders as CSV instead.",
                 "{file}：工作簿解压后将达 {megabytes:,.0f} MB（压缩大小的 {ratio:,.0f} 倍），这是压缩炸弹而非导出文件；"
                 "请改为将订单导出为 CSV。"),
    "binary_file": ("{file}: the file contains binary data, not text; export the orders as CSV or Excel and upload "
                    "that file.",
                    "{file}：文件包含二进制数据而非文本；请将订单导出为 CSV 或 Excel 后上传。"),
    "unknown_encoding": ("{file}: the text encoding could not be recognised; save the file as CSV UTF-8 and upload "
                         "it again.",
                         "{file}：无法识别文本编码；请将文件另存为 CSV UTF-8 后重新上传。"),
    "mixed_encodings": ("{file}: the file mixes text encodings (byte {byte} is not {encoding}); save it again as CSV "
                        "UTF-8 and upload it again.",
                        "{file}：文件混用了多种文本编码（第 {byte} 个字节不是 {encoding}）；请另存为 CSV UTF-8 后重新上传。"),
    "line_too_long": ("{file}: line {line:,} is longer than {megabytes} MB, which no order export has; check that the "
                      "file is a CSV export and upload it again.",
                      "{file}：第 {line:,} 行超过 {megabytes} MB，订单导出文件不会这样；请确认文件是 CSV 导出后重新上传。"),
    "empty_first_line": ("{file}: the first line is empty; the column headers must be on the first line, so remove "
                         "the lines above them and upload the file again.",
                         "{file}：第一行是空的；表头必须在第一行，请删除表头上方的行后重新上传。"),
    "too_many_columns": ("{file}: the file has {columns:,} columns, far more than an order export; check that it is "
                         "the right file and upload it again.",
                         "{file}：文件有 {columns:,} 列，远多于订单导出文件；请确认文件无误后重新上传。"),
    "bad_csv": ("{file}: could not be read as CSV ({error}); check that it is a comma, semicolon or tab separated "
                "export and upload it again.",
                "{file}：无法按 CSV 读取（{error}）；请确认是以逗号、分号或制表符分隔的导出文件后重新上传。"),
    "empty_sheet": ("{file}: the first sheet is empty; put the orders on the first sheet.",
                    "{file}：第一个工作表是空的；请把订单放在第一个工作表。"),
    "bad_parquet": ("{file}: could not be read as Parquet ({error}); write the file again and upload it.",
                    "{file}：无法按 Parquet 读取（{error}）；请重新生成文件后上传。"),
    "parquet_too_large": ("{file}: the file would unpack to {megabytes:,.0f} MB in {columns:,} columns, far more than "
                          "an order export; split it or import it with `python -m ingest` per month.",
                          "{file}：文件解压后将达 {megabytes:,.0f} MB、{columns:,} 列，远超订单导出文件；请拆分文件，"
                          "或用 `python -m ingest` 按月导入。"),
    # reading with --engine spark (docs/scale-out.md)
    "spark_format_unsupported": ("{file}: {format} files are read by the default engine only; import it without "
                                 "--engine spark, or save it as CSV or Parquet.",
                                 "{file}：{format} 文件只能由默认引擎读取；请不加 --engine spark 导入，或另存为 CSV 或 "
                                 "Parquet。"),
    "spark_folder_not_parquet": ("{file}: a folder or pattern is read as Parquet files only, and {other} is not one; "
                                 "import CSV files one by one.",
                                 "{file}：文件夹或通配模式只读取 Parquet 文件，而 {other} 不是；请逐个导入 CSV 文件。"),
    # mapping and checking
    "first_sheet_empty": ("{file}: the workbook's first sheet has a header but no rows, and only the first sheet is "
                          "read; {sheets} hold rows: move the orders to the first sheet, or save that sheet as a file of "
                          "its own, and upload it.",
                          "{file}：工作簿的第一个工作表只有表头没有数据行，而只读取第一个工作表；{sheets} 中有数据：请把订单移到第一个"
                          "工作表，或把该工作表另存为单独的文件后上传。"),
    "header_only": ("{file}: the file has a header but no rows; export it again with data.",
                    "{file}：文件只有表头没有数据行；请导出含数据的文件。"),
    "missing_columns": ("{file}: no column found for {fields}; map the columns on the Data page, or on the command "
                        "line use --preset with a mapping saved there, and upload it again.",
                        "{file}：找不到{fields}对应的列；请在「数据」页映射字段，或在命令行用 --preset 指定在那里保存的映射，"
                        "然后重新上传。"),
    "nothing_imported": ("{file}: none of the {rows} rows could be imported (most common problem: {problem}); fix "
                         "the export or the column mapping and upload it again.",
                         "{file}：{rows} 行都无法导入（最常见的问题：{problem}）；请修正导出文件或字段映射后重新上传。"),
    "unknown_preset": ("No preset named {name!r}. Known presets: {known}.",
                       "没有名为 {name} 的预设。已有预设：{known}。"),
    "mapping_unknown_columns": ("The mapping names columns the file does not have: {columns}.",
                                "字段映射中指定了文件没有的列：{columns}。"),
    "bad_currency_code": ("{file}: {currency!r} is not a currency code like GBP, USD or CNY.",
                          "{file}：{currency} 不是 GBP、USD、CNY 这样的货币代码。"),
    "currency_contradicts_file": ("{file}: the file's amounts are in {stated}, not {chosen}; leave the currency "
                                  "unchosen or pick the right one.",
                                  "{file}：文件中的金额是 {stated}，不是 {chosen}；请不选币种或选择正确的币种。"),
    "currency_contradicts_preset": ("{file}: {preset} exports are in {stated}, not {chosen}; leave the currency "
                                    "unchosen or pick the right one.",
                                    "{file}：{preset} 的导出金额是 {stated}，不是 {chosen}；请不选币种或选择正确的币种。"),
    "other_currency": ("{file}: amounts are in {currency} but the store holds {stored} orders; a store holds one "
                       "currency, so convert the amounts to {stored} first, or import this file into a separate store "
                       "(a dashboard started on another store folder, or --store on the command line).",
                       "{file}：金额币种为 {currency}，但库中已有 {stored} 订单；一个数据库只存一种币种，请先把金额换算为 "
                       "{stored}，或将此文件导入单独的数据库（在另一个数据库文件夹上启动的看板，或命令行的 --store）。"),
    "currency_after_unstated": ("{file}: amounts are in {currency} but the store holds orders whose currency was not "
                                "stated; remove those uploads and import them again with their currency (on the Data "
                                "page, or --currency on the command line), or import this file into a separate store.",
                                "{file}：金额币种为 {currency}，但库中已有未注明币种的订单；请删除那些上传并注明币种后重新导入"
                                "（在「数据」页，或命令行的 --currency），或将此文件导入单独的数据库。"),
    "currency_not_stated_in_store": ("{file}: the file does not state the currency of its amounts and the store holds "
                                     "{stored} orders; if the amounts are in {stored}, choose {stored} as their currency "
                                     "(on the Data page, or --currency {stored} on the command line).",
                                     "{file}：文件未注明金额币种，而库中已有 {stored} 订单；如果金额是 {stored}，请将金额币种选为 "
                                     "{stored}（在「数据」页，或命令行的 --currency {stored}）。"),
    "records_unaccounted": ("{file}: the file holds {records:,} records (counted by the {counted_by}) but the import "
                            "accounts for {accounted:,} ({accepted:,} accepted, {rejected:,} rejected, {folded:,} "
                            "folded, {skipped:,} skipped), so nothing was stored; check how the file quotes its values "
                            "and line breaks, or export it again.",
                            "{file}：文件有 {records:,} 条记录（由 {counted_by} 计数），但导入只对上 {accounted:,} 条"
                            "（接受 {accepted:,}、拒绝 {rejected:,}、并入订单 {folded:,}、跳过 {skipped:,}），因此未保存"
                            "任何数据；请检查文件中引号和换行的写法，或重新导出。"),
    # pseudonymised customer ids
    "short_pseudonym_key": ("{file}: the pseudonym key must have at least {length} characters.",
                            "{file}：假名化密钥至少需要 {length} 个字符。"),
    "pseudonym_key_missing": ("{file}: this store holds pseudonymised customer ids but no pseudonym key is "
                              "configured; set {variable} (or [privacy] pseudonym_key) to the store's key and upload "
                              "again.",
                              "{file}：库中的客户编号已假名化，但未配置假名化密钥；请将 {variable}（或 [privacy] "
                              "pseudonym_key）设为该库的密钥后重新上传。"),
    "store_holds_raw_ids": ("{file}: this store holds raw customer ids, so pseudonymised ones would not join them; "
                            "start a new store (--store) for pseudonymised data, or remove the earlier uploads first.",
                            "{file}：库中是原始客户编号，假名化的编号无法与之对应；请为假名化数据新建数据库（--store），"
                            "或先删除之前的上传。"),
    "pseudonym_key_differs": ("{file}: the configured pseudonym key is not the one this store's ids were made with; "
                              "use the same key for every upload.",
                              "{file}：配置的假名化密钥不是生成该库编号时使用的密钥；每次上传请使用同一密钥。"),
    # experiment assignments
    "assignments_missing_columns": ("{file}: no column found for {fields}; an assignments file needs experiment, "
                                    "customer_id, variant and assigned_at columns.",
                                    "{file}：找不到{fields}对应的列；分组文件需要 experiment、customer_id、variant "
                                    "和 assigned_at 列。"),
    "no_assignments": ("{file}: no assignment row could be imported; check the columns and dates.",
                       "{file}：没有可导入的分组记录；请检查列和日期。"),
    "derive_unknown_column": ("Unknown order column {column!r}; derive an experiment from one of {columns}.",
                              "未知的订单字段 {column}；请从以下字段之一生成实验：{columns}。"),
    "derive_period_reversed": ("The period starts ({start}) after it ends ({end}); give the start date first.",
                               "期间的开始日期（{start}）晚于结束日期（{end}）；请先填开始日期。"),
    "derive_no_name": ("Give the experiment a name.", "请为实验命名。"),
    "derive_name_taken": ("An experiment named {name!r} already exists; choose another name or remove its batch first.",
                          "已有名为 {name} 的实验；请换一个名称，或先删除其批次。"),
    "derive_no_orders": ("No valid orders of identified customers between {start} and {end}; choose a period the "
                         "stored orders cover.",
                         "{start} 至 {end} 之间没有可识别客户的有效订单；请选择已存订单覆盖的期间。"),
    "derive_empty_column": ("orders.{column} is empty on every valid order between {start} and {end}; choose another "
                            "column or period.",
                            "{start} 至 {end} 之间所有有效订单的 orders.{column} 都为空；请选择其他字段或期间。"),
    "derive_unknown_values": ("{values} never appears in orders.{column} between {start} and {end}; values seen: "
                              "{seen}.",
                              "{start} 至 {end} 之间的 orders.{column} 中从未出现 {values}；出现过的取值：{seen}。"),
    "derive_control_value": ("The value {value!r} would be read as the control arm; leave it out of the values.",
                             "取值 {value} 会被当作对照组；请不要选它。"),
    "derive_no_control": ("Every customer with an order between {start} and {end} used one of the values of "
                          "orders.{column}, so there is no control group; list fewer values.",
                          "{start} 至 {end} 之间下单的客户都用过所选的 orders.{column} 取值，因此没有对照组；"
                          "请少选一些取值。"),
    "derive_no_variant": ("No customer used one of the chosen values of orders.{column} between {start} and {end}, "
                          "so there is nothing to compare; choose other values or another period.",
                          "{start} 至 {end} 之间没有客户用过所选的 orders.{column} 取值，无从比较；请选择其他取值或期间。"),
}

# Per-row reasons as ingest writes them (English, stored with each batch), and their Chinese words.
ISSUE_REASONS: list[tuple[str, str]] = [
    ("missing order id", "缺少订单号"),
    ("missing order date", "缺少订单日期"),
    ("unparseable date (expected e.g. 2024-03-31 14:05)", "日期无法识别（应如 2024-03-31 14:05）"),
    ("date is in the future", "日期在未来"),
    ("date before 1970, which no order export has; check the date format", "日期早于 1970 年，订单导出不会有这样的日期；请检查日期格式"),
    ("missing amount", "缺少金额"),
    ("amount is not a number", "金额不是数字"),
    ("negative amount on a valid order", "有效订单的金额为负"),
    ("the refund is larger than the amount paid", "退款大于实付金额"),
    ("refunded amount is not a number", "退款金额不是数字"),
    ("quantity is not a number", "数量不是数字"),
    ("unit price is not a number", "单价不是数字"),
    ("line amount is not a number", "行金额不是数字"),
    ("currency differs from the file's main currency; upload each currency separately",
     "币种与文件的主要币种不同；请按币种分别上传"),
    ("unknown status word, counted as a valid order", "无法识别的状态词，按有效订单计"),
    ("order amount is zero", "订单金额为零"),
    ("line cancelled in an order with valid lines: left out of the order's amount", "该行已取消，而订单其他行有效：不计入订单金额"),
    ("line refunded in an order with valid lines: left out of the order's amount", "该行已退款，而订单其他行有效：不计入订单金额"),
    ("line unpaid in an order with valid lines: left out of the order's amount", "该行未付款，而订单其他行有效：不计入订单金额"),
    ("value longer than {chars} characters; check the column mapping", "取值超过 {chars} 个字符；请检查字段映射"),
    ("another row of this order was rejected (row {row}), so the order is left out",
     "该订单的另一行（第 {row} 行）被拒绝，因此该订单未计入"),
    ("order id appears in rows {rows} with different values; fix the export", "订单号出现在第 {rows} 行且取值不同；请修正导出文件"),
    ("same order as row {row}; counted once", "与第 {row} 行是同一订单，只计一次"),
    ("no row of this order has a date", "该订单没有任何一行有日期"),
    ("the lines of this order add up to a negative amount on a valid order", "该有效订单各行合计为负数"),
    ("the refund is larger than the amount the lines add up to", "退款大于各行合计金额"),
    ("a refund whose sale is not in this file: upload it with the export that holds the sale",
     "退款对应的销售不在本文件中：请与包含该销售的导出文件一起上传"),
    ("blank line (every field empty)", "空行（所有字段为空）"),
    ("a row on another sheet of the workbook: only the first sheet is read", "工作簿另一个工作表上的行：只读取第一个工作表"),
    ("the header row repeated inside the file", "文件中间重复出现的表头行"),
    ("a totals row (no order id; a Total/合计 label or the sum of the amounts)", "合计行（无订单号；带 Total/合计 标签或为金额之和）"),
    ("a report's note below the last order, with no date and no amount (eBay: “N record(s) downloaded”)",
     "报表在最后一笔订单下方的说明行，无日期、无金额（eBay：“N record(s) downloaded”）"),
    ("missing experiment, customer or variant", "缺少实验、客户或分组"),
    ("unparseable, missing or implausible assignment date", "分组日期无法识别、缺失或不合理"),
    ("customer is in more than one variant of {experiment}", "客户在实验 {experiment} 中属于多个分组"),
]


def _pattern(template: str) -> re.Pattern:
    """The English reason as a regular expression matching it at the start of a text and ending
    at the end or at "; " (the separator of a row's several reasons)."""
    parts = re.split(r"\{(\w+)\}", template)  # literal, name, literal, name, ...
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                              for i, part in enumerate(parts)) + r"(?=; |\Z)")


_ISSUE_PATTERNS = [(_pattern(english), chinese) for english, chinese in ISSUE_REASONS]


def issue_reason(reason, language: str = "en"):
    """A row's stored reason in `language`; several reasons joined by "; " (the rejected rows' list)
    are worded one by one. A reason no pattern knows is left as it is, and so is the rest after it."""
    if language != "zh" or not isinstance(reason, str):
        return reason
    worded, rest = [], reason
    while rest:
        for pattern, chinese in _ISSUE_PATTERNS:
            found = pattern.match(rest)
            if found:
                worded.append(chinese.format(**found.groupdict()))
                rest = rest[found.end() + 2:]
                break
        else:
            worded.append(rest)
            break
    return "；".join(worded)


def refusal_words(code: str, values: dict, language: str = "en") -> str | None:
    """The refusal `code` worded in `language` with its `values`; None when the code is not known
    here (the caller shows the English sentence)."""
    words = REFUSALS.get(code)
    if words is None:
        return None
    if values.get("problem"):  # a code on the command line ("bad_date"), a few words on screen in either language
        values = {**values, "problem": issue_code(values["problem"], language)}
    if language == "zh" and values.get("missing"):  # the fields, as canonical names: worded here
        values = {**values, "fields": "、".join(FIELD_WORDS.get(f, f) for f in values["missing"])}
    try:
        return (words[1] if language == "zh" else words[0]).format(**values)
    except (KeyError, IndexError, ValueError):
        return None


# the fields a refusal names as missing, in Chinese: an order field by its name (the amount may come from its
# parts), an assignments column by its name and the header it needs
FIELD_WORDS = {**{field: chinese for field, (_, chinese) in FIELD_NAMES.items()},
               "amount": FIELD_NAMES["amount"][1] + "（或行金额，或数量与单价）",  # as the Data page's warning names it
               "experiment": "实验（experiment）", "customer_id": "客户编号（customer_id）",
               "variant": "分组（variant）", "assigned_at": "分组时间（assigned_at）"}

# issue codes as a few words (English, Chinese): the validation report's Problem column, and the most common
# problem named in "nothing_imported"
ISSUE_CODE_WORDS = {
    "missing_order_id": ("missing order id", "缺少订单号"),
    "missing_date": ("missing date", "缺少订单日期"),
    "bad_date": ("unreadable date", "日期无法识别"),
    "future_date": ("date in the future", "日期在未来"),
    "too_old_date": ("date before 1970", "日期早于 1970 年"),
    "missing_amount": ("missing amount", "缺少金额"),
    "bad_amount": ("amount not a number", "金额不是数字"),
    "negative_amount": ("negative amount", "金额为负"),
    "refund_exceeds_amount": ("refund above the amount paid", "退款大于实付金额"),
    "bad_refund": ("refund not a number", "退款金额不是数字"),
    "bad_quantity": ("quantity not a number", "数量不是数字"),
    "bad_unit_price": ("unit price not a number", "单价不是数字"),
    "bad_line_amount": ("line amount not a number", "行金额不是数字"),
    "currency_mismatch": ("another currency", "币种不一致"),
    "value_too_long": ("value too long", "取值过长"),
    "sibling_rejected": ("another row of the order rejected", "同一订单的其他行被拒绝"),
    "duplicate_conflict": ("order id repeated with other values", "订单号重复且取值不同"),
    "duplicate_row": ("repeated row", "重复行"),
    "unknown_status": ("unknown status word", "未知状态词"),
    "zero_amount": ("zero amount", "金额为零"),
    "line_left_out": ("line left out of the amount", "行未计入金额"),
    "blank_line": ("blank line", "空行"),
    "repeated_header": ("repeated header row", "重复的表头行"),
    "totals_row": ("totals row", "合计行"),
    "other_sheet": ("another sheet", "其他工作表"),
    "report_footer": ("note below the orders", "报表末尾说明行"),
    "refund_without_sale": ("refund without its sale", "退款无对应销售"),
    "missing_value": ("missing value", "缺少取值"),
    "two_variants": ("in two variants", "属于多个分组"),
    "no usable rows": ("no usable rows", "没有可用的行"),
}


def issue_code(code, language: str = "en"):
    """An issue code of the validation report as a few words (downloads keep the code)."""
    if not isinstance(code, str):
        return code
    return ISSUE_CODE_WORDS[code][1 if language == "zh" else 0] if code in ISSUE_CODE_WORDS else code
