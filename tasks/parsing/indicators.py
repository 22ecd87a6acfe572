"""Indicator tables (主要指标表) and explicit target lists.

Tables come in two shapes: rows ("分类 | 主要指标 | 2020年实现值 | …", from HTML and .docx), or a flat run of
cells each closed by a "|" line (web copies of the same table, with row boundaries lost). A category cell that
spans several rows appears only in the first of them; rows are rebuilt from what each cell can hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .model import ParsedIndicator

_EMPTY = {"", "/", "-", "—", "——", "–", "无", "暂无", "—/—", "-/-", "\\"}
_ATTRIBUTES = {"预期性", "约束性", "预期", "约束", "指导性", "引导性"}
_YEAR = re.compile(r"((?:19|20)\d{2})")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_UNIT_IN_NAME = re.compile(r"[(（]([^()（）]{1,8})[)）]$")
_WORD_VALUES = re.compile(
    r"^(?:全覆盖|明显提升|显著提升|稳步提升|持续提升|大幅提升|进一步提高|达标|持续增长|稳步增长|"
    r"明显增加|显著增加|全面完成|基本实现|实现|完成|建成|保持稳定)$"
)


@dataclass
class Columns:
    category: int | None = None
    name: int | None = None
    unit: int | None = None
    baseline: int | None = None
    target: int | None = None
    attribute: int | None = None
    baseline_year: int | None = None
    target_year: int | None = None
    count: int = 0


_TARGET_HEAD = re.compile(r"目标|预期值|规划值|预期")
_BASELINE_HEAD = re.compile(r"基期|基准|现状|现值|实现值|基数|基础值|完成值|实际值|起始值|基线")
_BARE_YEAR_HEAD = re.compile(r"^(?:19|20)\d{2}年?(?:末|底|值|年末|年底)*$")
# Header cell -> column role, first match wins.
_HEAD_ROLES = [
    ("skip", re.compile(r"序号|编号|备注|说明|来源|责任")),
    ("attribute", re.compile(r"属性|性质")),
    ("unit", re.compile(r"^(?:计量)?单位$")),
    ("year", _BARE_YEAR_HEAD),
    ("target", _TARGET_HEAD),
    ("baseline", _BASELINE_HEAD),
    ("category", re.compile(r"分类|类别|类型|领域|维度|方面|一级指标|板块")),
    ("name", re.compile(r"指标|名称|项目|内容")),
]
_DIGIT = re.compile(r"\d")
_SEGMENT_SPLIT = re.compile(r"[,;。，；]")


def _header_role(cell: str) -> str | None:
    c = cell.replace(" ", "")
    if not c or len(c) > 16:
        return None
    for role, pattern in _HEAD_ROLES:
        if pattern.search(c):
            return role
    return None


def read_header(cells: list[str]) -> Columns | None:
    """Column roles of an indicator table header; None if the cells are not such a header.

    "2020年实现值" is a baseline and "2025年目标值" a target; bare years ("2020年", "2025年") are baseline
    and target by their order."""
    cols = Columns()
    years: list[int] = []
    for i, cell in enumerate(cells):
        role = _header_role(cell)
        if role is None:
            break
        cols.count = i + 1
        if role == "year":
            years.append(i)
        elif role != "skip" and getattr(cols, role) is None:
            setattr(cols, role, i)
    for index in years:  # fill what the labelled columns left open, earlier year first
        if cols.baseline is None and (cols.target is None or index < cols.target) and index != years[-1]:
            cols.baseline = index
        elif cols.target is None:
            cols.target = index
        elif cols.baseline is None:
            cols.baseline = index
    for role in ("baseline", "target"):
        index = getattr(cols, role)
        year = _YEAR.search(cells[index]) if index is not None else None
        setattr(cols, f"{role}_year", int(year.group(1)) if year else None)
    if cols.name is None or (cols.target is None and cols.baseline is None) or cols.count < 3:
        return None
    return cols


def _value_like(cell: str) -> bool:
    c = cell.strip().replace(" ", "")
    if c in _EMPTY or _WORD_VALUES.match(c):
        return True
    return bool(_DIGIT.search(c)) and len(_CJK.findall(c)) <= 4 and len(c) <= 16


def _row_fits(cells: list[str], cols: Columns, offset: int) -> bool:
    """Do these cells fill the columns from `offset` on (offset 1: the category cell was spanned)?"""

    def at(role_index: int | None) -> str | None:
        if role_index is None or role_index < offset:
            return None
        return cells[role_index - offset]

    name = at(cols.name)
    if name is None or not name.strip() or _value_like(name):
        return False
    for idx in (cols.baseline, cols.target):
        value = at(idx)
        if value is not None and not _value_like(value):
            return False
    attribute = at(cols.attribute)
    if attribute is not None and attribute.strip() and attribute.strip() not in _ATTRIBUTES:
        return False
    if cols.category is not None and offset == 0:
        category = cells[cols.category]
        if _value_like(category) and category.strip():
            return False
    return True


def _indicator(cells: list[str], cols: Columns, offset: int, category: str | None) -> ParsedIndicator:
    def at(role_index: int | None) -> str | None:
        if role_index is None or role_index < offset or role_index - offset >= len(cells):
            return None
        value = cells[role_index - offset].strip()
        return None if value in _EMPTY else value

    name = at(cols.name) or ""
    unit = at(cols.unit)
    if unit is None:
        m = _UNIT_IN_NAME.search(name)
        unit = m.group(1) if m else None
    return ParsedIndicator(
        category=category,
        name=name,
        unit=unit,
        baseline=at(cols.baseline),
        baseline_year=cols.baseline_year,
        target=at(cols.target),
        target_year=cols.target_year,
        attribute=at(cols.attribute),
    )


def indicators_from_cells(cells: list[str]) -> list[ParsedIndicator]:
    """A flat run of cells (row boundaries lost): header first, then rows rebuilt by what fits."""
    cols = read_header(cells)
    if cols is None:
        return []
    width = cols.count
    rest = cells[width:]
    out: list[ParsedIndicator] = []
    category: str | None = None
    i = 0
    while i < len(rest):
        full = rest[i : i + width]
        if len(full) == width and _row_fits(full, cols, 0):
            if cols.category is not None:
                category = full[cols.category].strip() or category
            out.append(_indicator(full, cols, 0, category))
            i += width
            continue
        if cols.category == 0:
            short = rest[i : i + width - 1]
            if len(short) == width - 1 and _row_fits(short, cols, 1):
                out.append(_indicator(short, cols, 1, category))
                i += width - 1
                continue
        i += 1  # a stray cell (title, note): skip it and resynchronise
    return out


def indicators_from_rows(rows: list[list[str]]) -> list[ParsedIndicator]:
    """Rows of a real table; a row short of cells lost its leading (row-spanned) ones."""
    header_at = next((k for k, row in enumerate(rows[:3]) if read_header(row)), None)
    if header_at is None:
        return []
    cols = read_header(rows[header_at])
    assert cols is not None
    out: list[ParsedIndicator] = []
    previous: list[str] = []
    category: str | None = None
    for row in rows[header_at + 1 :]:
        cells = list(row)
        if len(cells) < cols.count and previous:
            cells = previous[: cols.count - len(cells)] + cells
        cells = (cells + [""] * cols.count)[: cols.count]
        if not _row_fits(cells, cols, 0):
            continue
        if cols.category is not None:
            category = cells[cols.category].strip() or category
        out.append(_indicator(cells, cols, 0, category))
        previous = cells
    return out


# ---------------------------------------------------------------- target lists in prose

_TARGET_LEAD = re.compile(r"^(?:力争)?(?:到|至|截至)?\s*((?:19|20)\d{2})\s*年(?:底|末)?\s*[,:，：]")
_UNITS = (
    "万人次|人次|万件|亿件|件|亿元|万元|千元|元|万家|家|万个|个|项|%|‰|万人|人|万次|次|所|座|条|台|套|"
    "亿千瓦|万千瓦|千瓦|万吨|吨|公里|平方米|平方公里|万亩|亩|户|种|部|名|批|倍|天|小时|位|篇|分|级|处|场"
)
_METRIC = re.compile(
    r"(?P<name>[\u4e00-\u9fffA-Za-z]{2,24}?)"
    r"(?:达到|达|超过|突破|稳定在|保持在|提高到|提升到|提高至|提升至|增长到|增加到|增至|不少于|不低于|力争达到|为)?"
    r"(?P<value>\d+(?:\.\d+)?)(?P<unit>" + _UNITS + r")?(?P<tail>以上|左右|以内)?"
)
_NAME_NOISE = re.compile(r"^(?:其中|完成|实现|力争|确保|累计|全市|全区|全县|全省|全国)+")


def indicators_from_target_list(paragraph: str) -> list[ParsedIndicator]:
    """'2020年,年专利申请达到12万件,年专利授权量5万件,…' — a list of targets for one year.

    Only a paragraph that opens with the year and is mostly figures counts; a goal paragraph of prose with a
    figure here and there is not an explicit target list.
    """
    m = _TARGET_LEAD.match(paragraph)
    if not m:
        return []
    year = int(m.group(1))
    segments = [s for s in _SEGMENT_SPLIT.split(paragraph[m.end() :]) if s.strip()]
    found: list[ParsedIndicator] = []
    with_figures = 0
    for segment in segments:
        hits = list(_METRIC.finditer(segment))
        if hits:
            with_figures += 1
        for hit in hits:
            name = _NAME_NOISE.sub("", hit.group("name"))
            if len(name) < 2:
                continue
            found.append(
                ParsedIndicator(
                    None,
                    name,
                    hit.group("unit"),
                    None,
                    None,
                    hit.group("value") + (hit.group("tail") or ""),
                    year,
                    None,
                )
            )
    if not segments or with_figures * 2 < len(segments):
        return []
    return found
