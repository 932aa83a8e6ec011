"""What the customer-value models say about a fit, in English and Chinese (zh-CN).

metrics/clv.py and metrics/clv_model.py write each warning as a `Note` (and each reason a model could
not be fitted as a `ClvFitError`): English text for the command line with a `code` and the `values`
it quotes. `NOTES` words each code; {placeholders} are the values. A test reads every code metrics
raises or writes and checks it has words here.
"""

import re

NOTES: dict[str, tuple[str, str]] = {
    "no_identified_orders": ("There are no valid orders from identified customers, so there is nothing to model.",
                             "没有可识别客户的有效订单，无从建模。"),
    "history_too_short": ("The order history is too short to fit the model: {days} days of orders before the cut-off "
                          "{cutoff}, and at least {needed} are needed. Use a later cut-off or load more history.",
                          "订单历史太短，无法拟合模型：截止日 {cutoff} 之前只有 {days} 天的订单，至少需要 {needed} 天。"
                          "请选择更晚的截止日或载入更长的历史。"),
    "too_few_repeat_customers": ("Too few repeat customers to fit the purchase model: {repeaters} of {customers} "
                                 "customers bought again before the cut-off, and at least {needed} are needed. Use a "
                                 "later cut-off date or load a longer order history.",
                                 "复购客户太少，无法拟合购买模型：截止日前 {customers} 位客户中只有 {repeaters} 位再次购买，"
                                 "至少需要 {needed} 位。请选择更晚的截止日或载入更长的订单历史。"),
    "no_history_before_cutoff": ("The order history is too short to fit the purchase model: every customer made their "
                                 "first purchase on the cut-off date. Use a later cut-off date or load more history.",
                                 "订单历史太短，无法拟合购买模型：所有客户都在截止日当天首次购买。请选择更晚的截止日或"
                                 "载入更长的历史。"),
    "too_few_spend_customers": ("Too few repeat customers to fit the spend model: {customers} customers bought again "
                                "with a positive amount before the cut-off, and at least {needed} are needed.",
                                "复购客户太少，无法拟合客单价模型：截止日前只有 {customers} 位客户以正金额再次购买，"
                                "至少需要 {needed} 位。"),
    "no_spend_variation": ("The spend model needs variation in spend, but every repeat customer spent the same.",
                           "客单价模型需要消费金额有差异，但每位复购客户的消费都相同。"),
    "spend_without_mean": ("The spend model found q = {q:.2f} <= 1, so average spend has no finite expected value (a "
                           "few very large orders dominate). Check for outliers or wholesale orders.",
                           "客单价模型得到 q = {q:.2f} <= 1，平均消费没有有限的期望值（少数极大订单占主导）。"
                           "请检查异常值或批发订单。"),
    "likelihood_undefined": ("The {model} did not converge: the likelihood became undefined.",
                             "{model}未收敛：似然函数变为无定义。"),
    "parameters_ran_off": ("The {model} did not converge: {parameters} ran off towards 0 or infinity, so the data do "
                           "not pin the model down. This usually means too short a history or too few repeat customers "
                           "(or, for the purchase model, no sign yet of customers dropping out). Try an earlier cut-off "
                           "with a longer holdout, or load more history.",
                           "{model}未收敛：{parameters} 趋向 0 或无穷大，数据不足以确定模型。通常是历史太短或复购客户"
                           "太少（对购买模型而言，也可能是尚无客户流失的迹象）。请尝试更早的截止日以留出更长的检验期，"
                           "或载入更长的历史。"),
    "not_converged": ("The {model} did not converge after {iterations} iterations ({message}).",
                      "{model}迭代 {iterations} 次后仍未收敛（{message}）。"),
    "model_not_fitted": ("The {model} model could not be fitted.", "无法拟合 {model} 模型。"),
    # warnings: the fit stands, with a caveat
    "no_standard_errors": ("{model} standard errors are unavailable: the Hessian is not positive definite.",
                           "{model} 的标准误无法计算：Hessian 矩阵不是正定的。"),
    "no_dropout_nbd_limit": ("No dropout detected in the calibration period: the {model} likelihood is highest at its "
                             "boundary ({parameters}), where the model becomes the NBD model (customers keep buying at "
                             "their own rate). Predictions use that NBD limit (log-likelihood {nbd_ll:,.1f}, against "
                             "{boundary_ll:,.1f} at the boundary: no significant difference).",
                             "拟合期内未发现流失：{model} 的似然在其边界（{parameters}）处最高，此时模型退化为 NBD 模型"
                             "（客户按各自的频率持续购买）。预测采用该 NBD 极限（对数似然 {nbd_ll:,.1f}，边界处为 "
                             "{boundary_ll:,.1f}：无显著差异）。"),
    "common_dropout_limit": ("Customers do not differ in how likely they are to stop: the {model} likelihood is highest "
                             "at its boundary ({parameters}, a / (a + b) = {share:.3g}), where every customer stops "
                             "with the same probability after each repeat purchase. Predictions use that limit: "
                             "p = {p:.3g} (log-likelihood {limit_ll:,.1f}, against {boundary_ll:,.1f} at the boundary: "
                             "no significant difference).",
                             "客户之间的流失倾向没有差异：{model} 的似然在其边界（{parameters}，a / (a + b) = {share:.3g}）"
                             "处最高，此时每位客户在每次复购后以相同的概率流失。预测采用该极限：p = {p:.3g}（对数似然 "
                             "{limit_ll:,.1f}，边界处为 {boundary_ll:,.1f}：无显著差异）。"),
    "common_dropout_limit_first": ("Customers do not differ in how likely they are to stop: the {model} likelihood is "
                                   "highest at its boundary ({parameters}, a / (a + b) = {share:.3g}), where every "
                                   "customer stops with the same probability after each purchase, the first included. "
                                   "Predictions use that limit: p = {p:.3g} (log-likelihood {limit_ll:,.1f}, against "
                                   "{boundary_ll:,.1f} at the boundary: no significant difference).",
                                   "客户之间的流失倾向没有差异：{model} 的似然在其边界（{parameters}，a / (a + b) = "
                                   "{share:.3g}）处最高，此时每位客户在每次购买后（包括首次购买）以相同的概率流失。"
                                   "预测采用该极限：p = {p:.3g}（对数似然 {limit_ll:,.1f}，边界处为 {boundary_ll:,.1f}："
                                   "无显著差异）。"),
    "parameters_at_edge": ("{model}: {parameters} ran to the edge of the parameter range (the likelihood keeps rising "
                           "that way); predictions use the fitted values, which are the model's limit there.",
                           "{model}：{parameters} 到达参数范围的边缘（似然在该方向持续上升）；预测使用拟合值，"
                           "即模型在该处的极限。"),
    "fitted_on_sample": ("{model} was fitted on a random sample of {sample:,} of {customers:,} customers, for speed; "
                         "its holdout check and predictions cover every customer.",
                         "为加快速度，{model} 基于 {customers:,} 位客户中随机抽取的 {sample:,} 位拟合；"
                         "其留出检验和预测覆盖全部客户。"),
    "homogeneous_spend": ("Average spend does not differ between customers beyond chance (q = {q:.3g} and gamma = "
                          "{gamma:.3g} ran off together): every customer's expected order value is the overall mean, "
                          "{mean:,.2f}.",
                          "客户之间的平均消费没有超出随机波动的差异（q = {q:.3g} 与 gamma = {gamma:.3g} 一同趋于极限）："
                          "每位客户的预期客单价都是总体均值 {mean:,.2f}。"),
    "spend_frequency_correlated": ("Spend and purchase frequency are correlated (r = {r:.2f}) among repeat customers; "
                                   "the spend model assumes they are independent, so expected order values may be "
                                   "biased.",
                                   "复购客户的消费金额与购买频次相关（r = {r:.2f}）；客单价模型假设二者独立，"
                                   "因此预期客单价可能有偏。"),
    "holdout_skipped": ("No purchases after the cut-off, so the holdout check was skipped.",
                        "截止日之后没有购买，因此跳过了留出检验。"),
}

# the model named inside a sentence ("The spend model (Gamma-Gamma) did not converge")
_MODEL_PHRASES = {"purchase model": "购买模型", "spend model": "客单价模型"}


def _model_words(model: str) -> str:
    found = re.fullmatch(r"(purchase model|spend model) \((.+)\)", str(model))
    return f"{_MODEL_PHRASES[found.group(1)]}（{found.group(2)}）" if found else str(model)


def note_words(code: str, values: dict, language: str = "en") -> str | None:
    """The note `code` worded in `language` with its `values`; None when not known here."""
    words = NOTES.get(code)
    if words is None:
        return None
    if language == "zh" and "model" in values:
        values = {**values, "model": _model_words(values["model"])}
    try:
        return (words[1] if language == "zh" else words[0]).format(**values)
    except (KeyError, IndexError, ValueError):
        return None
