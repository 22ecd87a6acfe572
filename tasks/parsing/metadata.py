"""Plan metadata: title, 文号, issuer, jurisdiction, period.

The title is the plan's own ("2020-2021年天津市东丽区强化知识产权保护推进计划"), not the 关于印发…的通知 that
wraps it — but the wrapper is the better copy when the plan's own title line is broken, so both are read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from . import furniture
from .agencies import AGENCY_END

_GENRE_END = re.compile(
    r"(?:规划|方案|计划|措施|举措|意见|办法|纲要|要点|通知|决定|细则|清单|分工|分工表|安排|行动|规定|指南|通告|公告|"
    r"政策|条例|建议|任务|战略|实施方案|工作方案)"
    r"\s*(?:[(〔]?[^()〔〕。,]{0,24}[)〕])?$"
)
_WRAPPER = re.compile(
    r"^(?:名称[:：]?)?(?P<issuer>[^《,。:：]{0,40}?)(?:关于)?(?:印发|转发|下发|发布)(?P<title>.{4,120}?)的?通知"
    r"(?:\s*[(〔][^()]{0,24}[)〕])?$"
)
DOC_NUMBER = re.compile(
    r"[\u4e00-\u9fff]{1,14}\s*[〔\[【(]\s*(?:19|20)\d{2}\s*[〕\]】)]\s*第?\s*\d{1,4}\s*号"
)
_DOC_NUMBER_LABEL = re.compile(r"(?:发文字号|文号|文件编号|发文编号)")
_ISSUER_LABEL = re.compile(r"(?:发布机构|发文机关|发文单位|发布单位|制发机关|发文机构)[\]】]?[:：]?")
_TITLE_ISSUER = re.compile(r"^(?P<issuer>[\u4e00-\u9fff]{2,30}?)关于")
_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:-|—|–|~|至|到)\s*((?:19|20)\d{2})\s*年?")
_SINGLE_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?:度)?")
_FIVE_YEAR = re.compile(r"十([一二三四五六七八九])五")
_FIVE_YEAR_START = {"一": 2006, "二": 2011, "三": 2016, "四": 2021, "五": 2026, "六": 2031}
_PLACE = re.compile(
    r"[\u4e00-\u9fff]{1,6}?(?:省|自治区|特别行政区|自治州|自治县|市|州|盟|地区|新区|区|县|旗)"
)
_NOT_PLACE = re.compile(
    r"知识|产权|关于|落实|推进|建设|国家|强市|强区|强县|印发|实施|加快|促进|深化|全面|试点|示范|"
    r"工作|保护|发展|创新|规划|计划|方案|城市|开放|综合|高新|经济|保税|自由|贸易"
)
_YEAR_PREFIX = re.compile(r"^(?:(?:19|20)\d{2}\s*(?:年)?\s*(?:-|—|–|~|至|到)?\s*)+(?:年|年度)?")
_NATIONAL = re.compile(r"^(?:国务院|中共中央|国家|全国|中央)")


_SPACES = re.compile(r"\s+")
_NOT_COMPARED = re.compile(r"[\s《》“”\"'()〈〉<>〔〕\-—–?]")
_PUNCTUATION = re.compile(r"[。,;:!?，；：]")
_DOC_NUMBER_PREFIX = re.compile(r"^(?:发文字号|文号|文件编号|发文编号)[\]】]?[:：]?")
_CELL_END = re.compile(r"[\[【•|]")
_LEADING_YEAR = re.compile(r"((?:19|20)\d{2})")


@dataclass(frozen=True)
class Metadata:
    title: str
    doc_number: str | None
    issuer: str | None
    jurisdiction: str | None
    period: tuple[int, int] | None
    doc_year: int | None


def compact(text: str) -> str:
    return _SPACES.sub("", text)


def _comparable(text: str) -> str:
    return _NOT_COMPARED.sub("", text)


def find_wrapper(lines: list[str], limit: int = 60) -> tuple[int, str] | None:
    """(index, wrapped plan title) of a '关于印发《X》的通知' line near the top."""
    for i, line in enumerate(lines[:limit]):
        if not line or "通知" not in line:
            continue
        m = _WRAPPER.match(compact(line))
        if not m:
            continue
        title = m.group("title").strip()
        if title.startswith("《") and title.endswith("》") and title.count("《") == 1:
            title = title[1:-1]
        if _GENRE_END.search(title):
            return i, title
    return None


def _is_title_line(line: str) -> bool:
    c = compact(line)
    if not c or len(c) > 70 or "。" in c or furniture.is_noise(line) or furniture.is_date_line(line):
        return False
    if c.startswith(("关于印发", "印发", "名称")) or _WRAPPER.match(c) or c.endswith((":", "：")):
        return False
    return bool(_GENRE_END.search(c))


def _fragment(line: str) -> bool:
    """The first line of a title split in two ("国务院关于做好当前和今后一个时期" / "促进就业工作的若干意见");
    short menu entries ("政务公开") are not."""
    c = compact(line)
    return (
        (8 <= len(c) <= 36 or ("关于" in c and len(c) <= 36))
        and not _PUNCTUATION.search(c)
        and not furniture.is_noise(line)
        and not furniture.is_date_line(line)
        and not DOC_NUMBER.fullmatch(c)
        and "《" not in c
        and "通知" not in c
    )


def title_candidates(lines: list[str], after: int = 0, limit: int = 80, stop_at_section: bool = True):
    """(index, title) of lines that read as a plan title, a split title joined with the line before it.

    The search ends at the first section heading (一、): a title comes before the text it names — unless a
    notice's own numbered paragraphs may stand before the plan it wraps (stop_at_section=False)."""
    from .layout import match_heading

    previous: int | None = None
    for i in range(after, min(len(lines), after + limit)):
        line = lines[i]
        if not line:
            continue
        heading = match_heading(line, i + 1)
        if stop_at_section and heading and i > after and heading.style in ("ch", "chapter"):
            return
        if _is_title_line(line):
            if (
                previous is not None
                and _fragment(lines[previous])
                and not _GENRE_END.search(compact(lines[previous]))
            ):
                yield previous, compact(lines[previous]) + compact(line)
            yield i, compact(line)
        previous = i


def standalone_title_index(lines: list[str], after: int = 0, expected: str | None = None) -> int | None:
    candidates = (
        title_candidates(lines, after)
        if expected is None
        else title_candidates(lines, after, limit=400, stop_at_section=False)
    )
    for index, title in candidates:
        if expected is None:
            return index
        a, b = _comparable(title), _comparable(expected)
        if a == b or (len(a) >= 6 and (a in b or b in a)):
            return index
    return None


def _pick_title(lines: list[str]) -> str:
    wrapper = find_wrapper(lines)
    own = next(title_candidates(lines), None)
    if wrapper is not None:
        wrapped = wrapper[1]
        if "?" not in wrapped or own is None:
            return wrapped
    if own is not None:
        return own[1]
    for line in lines[:30]:
        if line and not furniture.is_noise(line) and len(line) <= 60:
            return compact(line)
    return ""


def _doc_number(lines: list[str], head: int) -> str | None:
    for line in lines[:head]:
        if line and _DOC_NUMBER_LABEL.search(compact(line)):
            m = DOC_NUMBER.search(compact(line))
            if m:
                return _clean_doc_number(m.group(0))
    for line in lines[:head]:
        c = compact(line)
        if c and len(c) <= 24 and DOC_NUMBER.fullmatch(c):
            return _clean_doc_number(c)
    wrapper = find_wrapper(lines)
    if wrapper is not None:  # "关于印发…的通知(津丽知〔2021〕3号)"
        m = DOC_NUMBER.search(compact(lines[wrapper[0]]).rsplit("通知", 1)[-1])
        if m:
            return _clean_doc_number(m.group(0))
    return None


def _clean_doc_number(text: str) -> str:
    text = compact(text)
    return _DOC_NUMBER_PREFIX.sub("", text)


def _issuer(lines: list[str], head: int, title: str) -> str | None:
    for line in lines[:head]:
        c = compact(line)
        m = _ISSUER_LABEL.search(c)
        if m:
            value = _CELL_END.split(c[m.end() :].lstrip("|:：]】"), maxsplit=1)[0].strip(":：")
            if value and AGENCY_END.search(value):
                return value
    wrapper = find_wrapper(lines)
    if wrapper is not None:
        m = _WRAPPER.match(compact(lines[wrapper[0]]))
        issuer = m.group("issuer") if m else ""
        if issuer and AGENCY_END.search(issuer):
            return issuer
    m = _TITLE_ISSUER.match(title)
    if m and AGENCY_END.search(m.group("issuer")):
        return m.group("issuer")
    signatures = sorted(furniture.signature_lines(lines))
    if signatures:
        return compact(lines[signatures[0]])
    return None


def _places(text: str) -> list[str]:
    text = _YEAR_PREFIX.sub("", compact(text))
    found, pos = [], 0
    while True:
        m = _PLACE.match(text, pos)
        if not m or _NOT_PLACE.search(m.group(0)):
            return found
        end = m.end()
        while end < len(text) and text[end] in "市区县州盟旗" and end + 1 < len(text):
            end += 1  # "亳州" + "市": the lazy match stopped at the first place ending
        found.append(text[pos:end])
        pos = end


def _jurisdiction(title: str, issuer: str | None) -> str | None:
    for text in (title, issuer or ""):
        if _NATIONAL.match(compact(text)):
            return "全国"
        places = _places(text)
        if places:
            return places[-1]
    return None


def _doc_year(lines: list[str]) -> int | None:
    for line in lines:
        if line and furniture.is_date_line(line):
            m = _LEADING_YEAR.match(compact(line))
            if m:
                return int(m.group(1))
    return None


def period_from_title(title: str) -> tuple[int, int] | None:
    m = _RANGE.search(title)
    if m and int(m.group(1)) <= int(m.group(2)):
        return int(m.group(1)), int(m.group(2))
    m = _FIVE_YEAR.search(title)
    if m and m.group(1) in _FIVE_YEAR_START:
        start = _FIVE_YEAR_START[m.group(1)]
        return start, start + 4
    m = _SINGLE_YEAR.search(title)
    if m:
        return int(m.group(1)), int(m.group(1))
    return None


def period_from_body(
    text: str, goal_years: list[int], baseline_year: int | None, target_year: int | None, doc_year: int | None
) -> tuple[int, int] | None:
    """A plan without a period in its title: the target year of its indicators or goals, and a start."""
    end = target_year or (goal_years[0] if goal_years else None)
    if end is None:
        return None
    if baseline_year and baseline_year < end:
        return baseline_year + 1, end
    for m in _FIVE_YEAR.finditer(text):
        start = _FIVE_YEAR_START.get(m.group(1))
        if start and start <= end <= start + 4:
            return start, end
    if doc_year and doc_year <= end:
        return doc_year, end
    return None


def read_metadata(
    lines: list[str], head: int, goal_years: list[int], baseline_year: int | None, target_year: int | None
) -> Metadata:
    """`head`: index of the first line of the plan body (metadata lives above it, or near it)."""
    head = max(head, min(len(lines), 60))
    title = _pick_title(lines)
    issuer = _issuer(lines, head, title)
    doc_year = _doc_year(lines[:head]) or _doc_year(lines)
    period = period_from_title(title) or period_from_body(
        "\n".join(lines), goal_years, baseline_year, target_year, doc_year
    )
    return Metadata(
        title=title,
        doc_number=_doc_number(lines, head),
        issuer=issuer,
        jurisdiction=_jurisdiction(title, issuer),
        period=period,
        doc_year=doc_year,
    )
