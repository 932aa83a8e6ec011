"""Column mapping: which header of an export feeds which canonical field.

A mapping is a `Preset`: for each canonical field, the headers that may carry it (the first one
present in the file wins, so one preset covers several versions of a vendor's export), plus
status words and a few vendor rules. Headers are compared after normalising case, spaces,
underscores and a BOM, never by position.
"""

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

# Canonical fields an export can map to, with the headers recognised automatically.
FIELD_SYNONYMS: dict[str, list[str]] = {
    "order_id": [
        "order id", "order_id", "orderid", "order no", "order number", "order #", "invoice",
        "invoice no", "invoiceno", "invoice number", "transaction id", "po number", "po #",
        "purchase order number",
        "订单编号", "订单号", "订单id", "主订单编号", "单号", "订单编码", "交易号",
    ],
    "customer_id": [
        "customer id", "customer_id", "customerid", "customer", "client id", "member id",
        "buyer id", "user id", "customer email", "email", "billing email", "customer_user",
        "客户id", "客户编号", "会员id", "会员编号", "会员号", "买家会员名", "买家昵称", "顾客id",
        "用户id", "买家id", "客户", "会员卡号", "卡号", "社保卡号",
    ],
    "order_ts": [
        "order date", "order_date", "order time", "order datetime", "created at", "created_at",
        "invoicedate", "invoice date", "purchase date", "order purchase timestamp", "date", "timestamp",
        "po date", "purchase order date", "date created", "place order time",
        "订单创建时间", "下单时间", "创建时间", "订单时间", "订单日期", "付款时间", "支付时间", "日期",
        "订单付款时间",
    ],
    # when the order was paid; mapped only beside a separate order date: empty = unpaid
    "paid_at": [
        "paid at", "paid_at", "payment date", "payment time", "date paid", "date_paid",
        "订单付款时间", "付款时间", "支付时间",
    ],
    "amount": [
        "amount", "order amount", "total", "order total", "order_total", "total amount",
        "paid amount", "amount paid", "net amount", "revenue", "sales", "grand total", "money",
        "买家实际支付金额", "实付金额", "实收金额", "实际支付金额", "支付金额", "订单金额", "金额",
        "总金额", "销售额", "订单总金额",
    ],
    "status": [
        "status", "order status", "financial status", "payment status",
        "订单状态", "交易状态", "状态",
    ],
    # Amazon's order history: Total Owed is what an item was charged (tax and shipping in, discounts off)
    "line_amount": ["line total", "line amount", "item total", "gross amt", "gross amount", "total owed",
                    "小计", "商品金额"],
    "quantity": ["quantity", "qty", "pcs", "lineitem quantity", "数量", "购买数量", "商品数量", "销售数量"],
    "unit_price": ["unit price", "unitprice", "price", "lineitem price", "wholesale price", "单价", "商品单价", "价格"],
    "sku": ["sku", "stockcode", "stock code", "product id", "item id", "lineitem sku", "asin",
            "商品编码", "商家编码", "商品id", "货号"],
    "category": ["category", "product category", "product type", "类目", "品类", "商品类目", "商品分类"],
    "channel": ["channel", "sales channel", "source", "渠道", "销售渠道", "订单来源", "来源"],
    "region": ["region", "country", "province", "state", "area", "billing country", "shipping country",
               "地区", "区域", "省份", "收货省份"],
    "store": ["store", "shop", "location", "门店", "店铺", "店铺名称", "门店名称"],
    "member_tier": ["member tier", "tier", "membership", "member level", "vip level",
                    "会员等级", "会员级别", "等级"],
    "coupon_code": ["coupon", "coupon code", "discount code", "promo code", "优惠券", "优惠码"],
    "currency": ["currency", "currency code", "币种", "货币"],
    "refunded_amount": ["refunded amount", "refund amount", "退款金额"],
    # the order's total before refunds, beside a paid amount: shows whether refunds are already netted
    "gross_amount": ["gross amount", "order gross", "总金额", "订单总金额"],
    "cancelled_at": ["cancelled at", "canceled at", "取消时间"],
}

FIELDS = tuple(FIELD_SYNONYMS)
REQUIRED = ("order_id", "order_ts")
AMOUNT_SOURCES = (("amount",), ("line_amount",), ("quantity", "unit_price"))
LINE_FIELDS = ("sku", "quantity", "unit_price", "line_amount")

FIELD_LABELS = {
    "order_id": "order id", "customer_id": "customer id", "order_ts": "order date",
    "amount": "order amount", "line_amount": "line amount", "unit_price": "unit price",
}

# Status words (normalised) and what they mean; anything else counts as valid with a warning.
STATUS_WORDS: dict[str, str] = {
    **dict.fromkeys(
        ["valid", "paid", "completed", "complete", "processing", "shipped", "delivered",
         "fulfilled", "authorized", "partially_refunded", "partially refunded", "partially_paid",
         "success", "succeeded", "closed", "wc-completed", "wc-processing",
         "交易成功", "已完成", "已付款", "买家已付款", "等待卖家发货", "买家已付款,等待卖家发货",
         "卖家已发货", "卖家已发货,等待买家确认", "等待买家确认收货", "已发货", "已签收", "已支付", "成功"],
        "valid",
    ),
    **dict.fromkeys(
        ["cancelled", "canceled", "on-hold", "wc-cancelled", "wc-on-hold",
         "交易关闭", "已取消", "取消", "已关闭"],
        "cancelled",
    ),
    # never paid: not orders a customer made, counted apart (Shopify pending/voided, WooCommerce
    # Pending payment/Failed, Taobao 等待买家付款)
    **dict.fromkeys(
        ["unpaid", "pending", "voided", "void", "failed", "pending payment", "wc-pending", "wc-failed",
         "等待买家付款", "未付款", "待付款", "待支付", "未支付"],
        "unpaid",
    ),
    **dict.fromkeys(
        ["refunded", "wc-refunded", "已退款", "退款成功", "全额退款"],
        "refunded",
    ),
}

# what a status word can mean: a sale, or an order that is not one (apart from valid, each counted apart)
STATUS_MEANINGS = ("valid", "cancelled", "unpaid", "refunded")

PRESETS_DIR = Path(__file__).resolve().parent / "presets"


def normalise_header(header: str) -> str:
    """Header as compared: NFKC, no BOM, lower case, runs of space/underscore/hyphen as one space."""
    text = unicodedata.normalize("NFKC", str(header)).replace("\ufeff", "").strip().lower()
    return re.sub(r"[\s_\-]+", " ", text)


def status_key(word: str) -> str:
    """A status word as compared: the SQL macro status_of's rule (ingest.normalise), spaces trimmed, runs of
    ASCII white space, _ and - as one space (RE2's \\s: a no-break space inside a word stays), lower case."""
    return re.sub(r"[\t\n\f\r _\-]+", " ", str(word).strip(" ")).lower()


@dataclass(frozen=True)
class Preset:
    """A named column mapping plus vendor rules, stored as JSON."""

    name: str
    label: str = ""
    columns: dict[str, list[str]] = field(default_factory=dict)
    signature: list[str] = field(default_factory=list)  # headers that identify the format
    status_words: dict[str, str] = field(default_factory=dict)
    cancelled_order_id_prefix: str | None = None  # UCI: invoice numbers starting "C"
    currency: str | None = None  # the platform fixes it (Taobao/Tmall: CNY; UCI Online Retail: GBP)
    signature_min: int | None = None  # how many signature headers must be present (default: all)
    signature_required: list[str] = field(default_factory=list)  # distinctive headers that must be among them
    region_first_part: bool = False  # region column is an address: the province is its first part
    each_row_an_order: bool = False  # a log without order numbers: each row is one order (docs/importing.md)
    saved_from: str | None = None  # the file a saved preset's mapping was made on (its label says so in English)

    @classmethod
    def load(cls, path: Path) -> "Preset":
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        return cls(**data)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=1), encoding="utf-8")


@dataclass(frozen=True)
class Mapping:
    """The resolved mapping for one file: canonical field -> the file's header."""

    columns: dict[str, str]
    preset: Preset | None = None
    # what the user said this file's status words mean (the Data page), over the preset's and the built-in ones
    own_status_words: dict[str, str] = field(default_factory=dict)
    each_row_an_order: bool = False  # no order id column: each row is one order, its id made from the row

    @property
    def is_line_level(self) -> bool:
        return any(f in self.columns for f in LINE_FIELDS)

    def missing_required(self) -> list[str]:
        """Canonical fields a usable mapping still lacks, in words for a person."""
        labels = {**FIELD_LABELS, "amount": "order amount (or line amounts, or quantity and unit price)"}
        return [labels.get(f, f) for f in self.missing_required_fields()]

    def missing_required_fields(self) -> list[str]:
        """The same as canonical field names (order_id, order_ts, amount: the amount or its parts)."""
        missing = [f for f in REQUIRED if f not in self.columns and not (f == "order_id" and self.each_row_an_order)]
        if not any(all(f in self.columns for f in source) for source in AMOUNT_SOURCES):
            missing.append("amount")
        return missing

    def status_words(self) -> dict[str, str]:
        extra = self.preset.status_words if self.preset else {}
        return {status_key(k): v for k, v in {**STATUS_WORDS, **extra, **self.own_status_words}.items()}


def preset_to_save(name: str, file: str, columns: dict[str, str], recognised: Preset | None = None,
                   status_words: dict[str, str] | None = None, each_row_an_order: bool = False) -> Preset:
    """The preset that saves a file's mapping: its columns, the rules of the format it was read as (status
    words, cancelled-id prefix, currency, address as region), the user's own status words over them and
    whether each row is one order, so that --preset NAME reads the next export as this one was read. Never
    recognised by itself (no signature)."""
    base = recognised or Preset(name=name)
    each_row_an_order = (each_row_an_order or base.each_row_an_order) and "order_id" not in columns  # an id wins
    return replace(base, name=name, label=f"saved from {file}", saved_from=file,
                   columns={f: [h] for f, h in columns.items()},
                   signature=[], signature_min=None, signature_required=[],
                   status_words={**base.status_words, **(status_words or {})}, each_row_an_order=each_row_an_order)


def builtin_presets() -> dict[str, Preset]:
    return {p.stem: Preset.load(p) for p in sorted(PRESETS_DIR.glob("*.json"))}


def preset_key(name: str) -> str:
    """A preset name as compared with the built-in ones: NFKC, case-folded, without spaces,
    underscores or hyphens (so `Shopify `, `SHOPIFY` and `uci online-retail` are built-in names)."""
    return re.sub(r"[\s_\-]+", "", unicodedata.normalize("NFKC", str(name)).casefold())


def is_builtin_name(name: str) -> bool:
    """True if `name` is, or could be mistaken for, a built-in preset's name (reserved)."""
    return preset_key(name) in {preset_key(path.stem) for path in PRESETS_DIR.glob("*.json")}


def saved_preset_path(store_root: Path, name: str) -> Path:
    """The file of the saved mapping `name` in the store at `store_root` (`presets/<name>.json`)."""
    return Path(store_root) / "presets" / f"{name}.json"


def saved_presets(store_root: Path) -> dict[str, Preset]:
    """The store's saved mappings, except any file named like a built-in (built-ins cannot be replaced)."""
    return {p.stem: Preset.load(p) for p in sorted(saved_preset_path(store_root, "*").parent.glob("*.json"))
            if not is_builtin_name(p.stem)}


def find_preset(name: str, store_root: Path) -> Preset:
    """The built-in preset `name`, else the saved one (a saved file never shadows a built-in)."""
    presets = {**saved_presets(store_root), **builtin_presets()}
    if name not in presets:
        raise KeyError(f"No preset named {name!r}. Known presets: {', '.join(sorted(presets))}.")
    return presets[name]


def signature_share(preset: Preset, headers: list[str]) -> float:
    """Share of the preset's signature headers present in the file; 0 when fewer than it needs."""
    if not preset.signature:
        return 0.0
    present = {normalise_header(h) for h in headers}
    if not all(normalise_header(s) in present for s in preset.signature_required):
        return 0.0
    found = sum(normalise_header(s) in present for s in preset.signature)
    needed = preset.signature_min or len(preset.signature)
    return found / len(preset.signature) if found >= needed else 0.0


def detect_preset(headers: list[str], store_root: Path) -> Preset | None:
    """The preset whose signature the file matches best (saved presets first on a tie), if any.

    A signature is a list of a format's typical headers; `signature_min` of them suffice, since
    real exports of one platform differ in which columns the seller ticked."""
    best, best_share = None, 0.0
    for preset in [*saved_presets(store_root).values(), *builtin_presets().values()]:
        share = signature_share(preset, headers)
        if share > best_share:
            best, best_share = preset, share
    return best


def resolve(headers: list[str], preset: Preset | None = None) -> Mapping:
    """Map the file's headers to canonical fields: the preset's choices first, then synonyms."""
    by_normal: dict[str, str] = {}
    for header in headers:
        by_normal.setdefault(normalise_header(header), header)
    columns: dict[str, str] = {}
    used: set[str] = set()

    def take(field_name: str, candidates: list[str]) -> None:
        if field_name in columns:
            return
        for candidate in candidates:
            header = by_normal.get(normalise_header(candidate))
            if header is not None and header not in used:
                columns[field_name] = header
                used.add(header)
                return

    if preset:
        for field_name, candidates in preset.columns.items():
            take(field_name, candidates)
    if not preset or not preset.signature:
        # custom or no preset: fill the gaps from the canonical names, then the synonyms
        for field_name, synonyms in FIELD_SYNONYMS.items():
            take(field_name, [field_name, *synonyms])
    return Mapping(columns=columns, preset=preset, each_row_an_order=bool(preset and preset.each_row_an_order))
