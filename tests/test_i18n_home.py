"""The home page in Chinese and in English, checked by the reusable i18n_check.assert_chinese."""
from __future__ import annotations

import pytest

from i18n_check import ALLOWED, assert_chinese, english_words, not_chinese, open_in, page_texts


def test_home_page_is_chinese():
    at = open_in("zh")
    assert_chinese(at)
    assert at.markdown[0].value.startswith("### 机器是怎样找到损失函数的最低点的")
    assert [e.proto.label for e in at.sidebar.get("page_link")][0] == "首页"


def test_home_page_in_english_fails_the_check():
    """The checker can fail: the English page is full of words it reports, in every kind of element."""
    at = open_in("en")
    problems = not_chinese(at)
    kinds = {p.split(" ", 1)[0].split(".", 1)[0] for p in problems}
    assert {"markdown", "subheader", "caption", "page_link", "plotly_chart"} <= kinds, kinds
    with pytest.raises(AssertionError, match="not Chinese"):
        assert_chinese(at)


def test_home_teaser_figure_texts_are_collected():
    at = open_in("zh")
    where = [w for w, _t in page_texts(at) if w.startswith("plotly_chart")]
    assert any("hovertemplate" in w for w in where) and any("xaxis.title" in w for w in where)


@pytest.mark.parametrize("text, bad", [
    ("学习率 lr = 0.05 时 SGD 发散", []),
    ("在 $\\theta_{t+1} = \\theta_t - \\eta \\nabla f$ 中", []),
    ("`torch.optim.Adam` 的默认值：betas = (0.9, 0.999)", []),
    ("打开 https://example.org/a?lang=zh 或加上 ?embed=true", []),
    ("weight_decay 与 x0、torch.optim.SGD 都是标识符", []),
    ("Adam 与 RMSProp 在 Rosenbrock 上", []),
    ("📖 Kingma & Ba (2015), Adam: A Method for Stochastic Optimization", []),
    ("SGD<br>第 %{customdata} 步<extra></extra>", []),
    ("the learning rate", ["the", "learning", "rate"]),
    ("学习率 (learning rate)", ["learning", "rate"]),
    ("**The question:** 为什么", ["The", "question"]),
    ("Hessian 矩阵", ["Hessian"]),
    ("糖尿病数据集（Efron 等，2004）：442 名患者", []),
    ("动量法：Polyak (1964)；Nesterov 动量采用 Sutskever 等人的形式", []),
    ("Efron wrote it", ["Efron", "wrote", "it"]),   # a name without a year is no citation
])
def test_english_words_rules(text, bad):
    assert english_words(text) == bad


def test_allow_list_names_what_stays_latin():
    assert {"SGD", "Adam", "AdaGrad", "RMSProp", "NAdam", "RAdam", "Adadelta", "BFGS", "MSE", "MAE", "PyTorch",
            "NumPy", "OptLab"} <= ALLOWED
    assert english_words("Levenberg–Marquardt 阻尼", allow={"Levenberg", "Marquardt"}) == []
