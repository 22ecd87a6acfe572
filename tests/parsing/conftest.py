"""Fixtures for the parser tests: the seed plans, their golden annotations, the genre documents, and
builders that re-package a seed as a government web page or a Word file.

No Django here: the parser is a pure package and its tests run without settings.
"""

from __future__ import annotations

import html
import io
import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEEDS = ROOT / "seeds"
HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden"
GENRE = HERE / "genre"

# The five seed plans, by the number they had in the hand annotation.
SEED_FILES = {
    "000": "tianjin-14th-fyp-ip-measures",
    "001": "tianjin-13th-fyp-ip-plan",
    "002": "bozhou-ip-implementation-plan",
    "003": "dongli-2020-2021-protection-plan",
    "004": "jiangjin-ip-work-plan",
}

# 002's indicator table as a real table: (分类, 主要指标, 2020年实现值, 2025年目标值, 属性); a None category is
# spanned from the row above, as on the web page.
BOZHOU_INDICATOR_ROWS = [
    ("知识产权创造", "每万人口高价值发明专利拥有量(件)", "0.75", "2", "预期性"),
    (None, "有效注册商标拥有量(万件)", "5.8", "12", "预期性"),
    ("知识产权运用", "知识产权质押融资登记金额(亿元)", "4", "6", "预期性"),
    (None, "专利公开许可数量(件)", "/", "200", "预期性"),
    ("知识产权保护", "知识产权保护社会满意度(分)", "/", "85以上", "预期性"),
    (None, "知识产权民事一审案件服判息诉率(%)", "/", "92?", "预期性"),
    ("知识产权管理", "国家知识产权优势示范企业数量(家)", "23", "32", "预期性"),
    (None, "知识产权贯标企业数量(家)", "15", "80", ""),
    ("知识产权服务", "省级知识产权信息公共服务网点(家)", "/", "6", "预期性"),
]
BOZHOU_HEADER = ("分类", "主要指标", "2020年实现值", "2025年目标值", "属性")


def seed_path(key: str) -> Path:
    return SEEDS / f"{SEED_FILES[key]}.txt"


def seed_text(key: str) -> str:
    return seed_path(key).read_text(encoding="utf-8")


def golden(key: str) -> dict:
    return json.loads((GOLDEN / f"{SEED_FILES[key]}.json").read_text(encoding="utf-8"))


def blocks_of(text: str) -> list[tuple]:
    """A seed as blocks: ("p", text), ("box", title, [paragraphs]), ("indicators",) — the "|" regions of a
    web copy turned back into the boxes and the table they were."""
    lines = [line.strip() for line in text.split("\n")]
    blocks: list[tuple] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        following = lines[i + 1] if i + 1 < len(lines) else None
        if following == "|" and line.startswith("专栏"):
            j = i + 2
            content = []
            while j < len(lines) and lines[j] != "|":
                content.append(lines[j])
                j += 1
            blocks.append(("box", line, content))
            i = j + 1
        elif following == "|":  # the indicator table: skip its cells up to the first multi-line stretch
            j = i
            while j < len(lines) and (lines[j] == "|" or (j + 1 < len(lines) and lines[j + 1] == "|")):
                j += 1
            blocks.append(("indicators",))
            i = j
        else:
            blocks.append(("p", line))
            i += 1
    return blocks


GOV_PAGE = """<!DOCTYPE html>
<html><head><meta charset="{charset}"><title>{title}</title>
<script>var _hmt = _hmt || []; document.write("<p>统计</p>");</script>
<style>p {{ text-indent: 2em; }}</style></head>
<body>
<div class="top"><nav><a href="/">首页</a> | <a href="/zwgk">政务公开</a> | <a href="/zcwj">政策文件</a></nav></div>
<div class="crumb">当前位置：<a href="/">首页</a> &gt; <a href="/zcwj">政策文件</a></div>
<table class="xxgk"><tr><td>索引号：</td><td>11120110MB1923237B/2022-00002</td>
<td>主题分类：</td><td>市场监管\\知识产权</td></tr></table>
<div class="fontsize">字号：<a>大</a> <a>中</a> <a>小</a></div>
<div id="zoom" class="article">
{body}
</div>
<div class="share">分享到：<a>微信</a> <a>微博</a></div>
<div class="footer">
<p>扫一扫在手机打开当前页</p>
<p>网站声明 | 联系我们 | 网站地图</p>
<p>主办：天津市人民政府办公厅 承办：天津市人民政府办公厅信息中心</p>
<p>网站标识码：1200000052 津ICP备05004140号 津公网安备12010102000080号</p>
</div>
</body></html>
"""


def as_html(text: str, charset: str = "utf-8") -> str:
    """The seed inside a government web page with its navigation, metadata and footer boilerplate."""
    parts = []
    for block in blocks_of(text):
        if block[0] == "p":
            parts.append(f"<p>{html.escape(block[1], quote=False)}</p>" if block[1] else "<p>&nbsp;</p>")
        elif block[0] == "box":
            cells = "".join(f"<p>{html.escape(p, quote=False)}</p>" for p in block[2])
            parts.append(
                f'<table class="zl"><tr><td>{html.escape(block[1])}</td></tr>'
                f"<tr><td>{cells}</td></tr></table>"
            )
        else:
            rows = ["<tr>" + "".join(f"<th>{h}</th>" for h in BOZHOU_HEADER) + "</tr>"]
            for row in BOZHOU_INDICATOR_ROWS:
                category, rest = row[0], row[1:]
                first = f'<td rowspan="2">{category}</td>' if category else ""
                rows.append("<tr>" + first + "".join(f"<td>{html.escape(c)}</td>" for c in rest) + "</tr>")
            parts.append('<table border="1">' + "".join(rows) + "</table>")
    return GOV_PAGE.format(charset=charset, title="政策文件", body="\n".join(parts))


def as_docx(text: str) -> bytes:
    """The seed written into a Word file: paragraphs, boxes as one-column tables, indicators as a table."""
    from docx import Document

    document = Document()
    for block in blocks_of(text):
        if block[0] == "p":
            document.add_paragraph(block[1])
        elif block[0] == "box":
            table = document.add_table(rows=2, cols=1)
            table.cell(0, 0).text = block[1]
            cell = table.cell(1, 0)
            cell.text = block[2][0] if block[2] else ""
            for para in block[2][1:]:
                cell.add_paragraph(para)
        else:
            table = document.add_table(rows=1 + len(BOZHOU_INDICATOR_ROWS), cols=len(BOZHOU_HEADER))
            for col, head in enumerate(BOZHOU_HEADER):
                table.cell(0, col).text = head
            for r, row in enumerate(BOZHOU_INDICATOR_ROWS, 1):
                for col, value in enumerate(row):
                    if value is not None:
                        table.cell(r, col).text = value
                if row[0] is None:  # a category spanning two rows, as merged cells
                    table.cell(r - 1, 0).merge(table.cell(r, 0))
                    table.cell(r - 1, 0).text = BOZHOU_INDICATOR_ROWS[r - 2][0]
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def comparable(plan) -> dict:
    """The contract without warnings (they name line numbers, which differ between formats)."""
    contract = plan.to_contract(include_optional=True)
    contract.pop("warnings")
    return contract


@pytest.fixture(scope="session")
def seeds():
    """Access to the seed plans: seeds.text("003"), seeds.path("003"), seeds.golden("003")."""

    class Seeds:
        keys = tuple(SEED_FILES)
        text = staticmethod(seed_text)
        path = staticmethod(seed_path)
        golden = staticmethod(golden)
        html = staticmethod(as_html)
        docx = staticmethod(as_docx)
        comparable = staticmethod(comparable)

    return Seeds


@pytest.fixture(scope="session")
def genre_dir() -> Path:
    return GENRE
