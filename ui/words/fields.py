"""Each order field's name in English and Chinese (zh-CN): on the Data page's mapping boxes (the field's
code is the box's help) and in the refusal that names a column a file lacks."""

FIELD_NAMES = {
    "order_id": ("Order ID", "订单号"), "customer_id": ("Customer ID", "客户编号"),
    "order_ts": ("Order time", "下单时间"), "paid_at": ("Paid at", "付款时间"), "amount": ("Amount paid", "实付金额"),
    "status": ("Order status", "订单状态"), "line_amount": ("Line amount", "行金额"), "quantity": ("Quantity", "数量"),
    "unit_price": ("Unit price", "单价"), "sku": ("SKU", "商品编码"), "category": ("Category", "品类"),
    "channel": ("Channel", "渠道"), "region": ("Region", "地区"), "store": ("Store", "店铺"),
    "member_tier": ("Member tier", "会员等级"), "coupon_code": ("Coupon code", "优惠券码"), "currency": ("Currency", "币种"),
    "refunded_amount": ("Refunded amount", "退款金额"), "gross_amount": ("Order total before refunds", "订单总额"),
    "cancelled_at": ("Cancelled at", "取消时间"),
}
