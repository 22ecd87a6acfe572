"""Deadline phrases: "2021年12月底前完成", "2022年6月30日前", "一季度", "到2020年", "持续推进", "每年…".

A phrase without a year ("6月底前") takes the year from the plan period and says so in a warning; a phrase
that looks like a deadline but is not understood keeps its text, gets no date, and a warning. 每年 recurs
(recurrence "yearly"); 持续推进 / 长期坚持 are ongoing. deadline_in_body() finds a deadline in a measure's
own text ("…，2014年12月底前完成。", "…，每年组织考核。") when its clause names none.
"""

from __future__ import annotations

import calendar
import datetime
import re

from .model import Deadline
from .reader import normalize_width

_SPACES = re.compile(r"\s+")
_LIST_SEPARATORS = re.compile(r"[,;，；、]")
_CN_DIGITS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}
_YEAR = r"((?:19|20)\d{2})\s*年?"

_FULL_DATE = re.compile(r"((?:19|20)\d{2})\s*(?:年|\.|-|/)\s*(\d{1,2})\s*(?:月|\.|-|/)\s*(\d{1,2})\s*日?")
_MONTH = re.compile(r"((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月\s*(上旬|中旬|下旬)?")
_HALF = re.compile(_YEAR + r"(?:的)?(上半年|下半年|年中|年底|年末|底|末)")
_QUARTER = re.compile(_YEAR + r"(?:的)?第?([一二三四1-4])季度")
_RANGE = re.compile(r"((?:19|20)\d{2})\s*年?\s*(?:-|—|–|~|至|到)\s*((?:19|20)\d{2})\s*年")
_YEAR_ONLY = re.compile(r"((?:19|20)\d{2})\s*年")

_BARE_DATE = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_BARE_MONTH = re.compile(r"(?<![\d年])(\d{1,2})\s*月\s*(上旬|中旬|下旬)?")
_BARE_HALF = re.compile(r"(上半年|下半年|年中|年底|年末|年内|本年度|当年|全年)")
_BARE_QUARTER = re.compile(r"第?([一二三四])季度")

_ONGOING = re.compile(r"持续|长期|常态化|经常性|久久为功|不断|常年|长效|逐年")
_YEARLY = re.compile(r"每年|每一年|逐年")
_RECURRING = re.compile(r"每季度|每月|每半年|定期|每周|按季度|按月|按年|每年度")
_DEADLINE_LIKE = re.compile(
    r"\d{4}|年|月|季度|旬|底前|之前|以前|期限|时限|持续|长期|每年|常态|立即|即时|完成|启动"
)

# Any of the phrases above, in one pass (looks_like_deadline runs on every part of every clause).
_ANY_DEADLINE = re.compile(
    "|".join(
        p.pattern
        for p in (
            _FULL_DATE,
            _YEAR_ONLY,
            _BARE_MONTH,
            _BARE_QUARTER,
            _BARE_HALF,
            _ONGOING,
            _YEARLY,
            _RECURRING,
        )
    )
)

# In a measure's own text (no clause), only phrases that clearly set a target date count.
_TEXT_DEADLINE = re.compile(
    r"(?:到|至|截至|截止到?)\s*((?:19|20)\d{2})\s*年(?:底|末)?(?:前)?"
    r"|((?:19|20)\d{2})\s*年\s*(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*日)?)?(?:底|末)?(?:之?前|以前)(?:完成)?"
)


def _month_end(year: int, month: int) -> datetime.date | None:
    if not 1 <= month <= 12:
        return None
    return datetime.date(year, month, calendar.monthrange(year, month)[1])


def _safe_date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _tenday_end(year: int, month: int, part: str | None) -> datetime.date | None:
    if part == "上旬":
        return _safe_date(year, month, 10)
    if part == "中旬":
        return _safe_date(year, month, 20)
    return _month_end(year, month)


def _half_end(year: int, word: str) -> datetime.date:
    if word in ("上半年", "年中"):
        return datetime.date(year, 6, 30)
    return datetime.date(year, 12, 31)


def _quarter_end(year: int, q: str) -> datetime.date:
    n = _CN_DIGITS[q]
    return _month_end(year, n * 3) or datetime.date(year, 12, 31)


def _dated(s: str) -> datetime.date | None:
    """A date from a phrase that names its year. With several ("6月底前启动, 2022年底前完成") the latest wins:
    the work is due when its last step is."""
    dates = [d for d in (_dated_one(part) for part in _LIST_SEPARATORS.split(s)) if d]
    return max(dates) if dates else None


def _dated_one(s: str) -> datetime.date | None:
    m = _FULL_DATE.search(s)
    if m:
        return _safe_date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _QUARTER.search(s)
    if m:
        return _quarter_end(int(m.group(1)), m.group(2))
    m = _HALF.search(s)
    if m:
        return _half_end(int(m.group(1)), m.group(2))
    m = _MONTH.search(s)
    if m:
        return _tenday_end(int(m.group(1)), int(m.group(2)), m.group(3))
    m = _RANGE.search(s)
    if m:
        return datetime.date(int(m.group(2)), 12, 31)
    m = _YEAR_ONLY.search(s)
    if m:
        return datetime.date(int(m.group(1)), 12, 31)
    return None


def _yearless(s: str, year: int) -> datetime.date | None:
    m = _BARE_DATE.search(s)
    if m:
        return _safe_date(year, int(m.group(1)), int(m.group(2)))
    m = _BARE_QUARTER.search(s)
    if m:
        return _quarter_end(year, m.group(1))
    m = _BARE_MONTH.search(s)
    if m:
        return _tenday_end(year, int(m.group(1)), m.group(2))
    m = _BARE_HALF.search(s)
    if m:
        return _half_end(year, "上半年" if m.group(1) in ("上半年", "年中") else "下半年")
    return None


def interpret_deadline(
    text: str, period: tuple[int, int] | None = None
) -> tuple[Deadline | None, str | None]:
    """(deadline, doubt): doubt is a reason to warn, or None."""
    phrase = normalize_width(text or "").strip().strip("。;,.、 ")
    if not phrase:
        return None, None
    s = _SPACES.sub("", phrase)
    ongoing = bool(_ONGOING.search(s) or _YEARLY.search(s) or _RECURRING.search(s))
    recurrence = "yearly" if _YEARLY.search(s) else None
    date = _dated(s)
    if date is not None:
        return Deadline(phrase, date, ongoing, recurrence), None
    if _BARE_DATE.search(s) or _BARE_MONTH.search(s) or _BARE_QUARTER.search(s) or _BARE_HALF.search(s):
        if recurrence:  # "每年6月底前": the date recurs, no single one to give
            return Deadline(phrase, None, True, recurrence), None
        if period:
            date = _yearless(s, period[0])
            if date:
                return Deadline(
                    phrase, date, ongoing, recurrence
                ), f"完成时限“{phrase}”未写年份，按{period[0]}年计"
        return Deadline(phrase, None, ongoing, recurrence), f"完成时限“{phrase}”未写年份，无法确定日期"
    if ongoing:
        return Deadline(phrase, None, True, recurrence), None
    if _DEADLINE_LIKE.search(s):
        return Deadline(phrase, None, False, None), f"无法理解的完成时限“{phrase}”"
    return None, None


def parse_deadline(text: str, period: tuple[int, int] | None = None) -> Deadline | None:
    """Deadline of a phrase such as a 完成时限 cell; None when the text names no deadline."""
    return interpret_deadline(text, period)[0]


def looks_like_deadline(text: str) -> bool:
    s = _SPACES.sub("", normalize_width(text or ""))
    return bool(s) and bool(_ANY_DEADLINE.search(s))


# A clause of a measure's text that opens with a deadline: "2014年12月底前完成", "年底前实现…", "第三季度末前形成…",
# "每年组织考核", "长期坚持", "持续推进".
_DONE = r"(?:完成|实现|形成|建成|出台|制定|印发|启动|开通|上线|达到|落实|建立|推出|投入|运行|全面|基本)"
_LEAD_IN = r"(?:力争|确保|争取|要在|须在|须于|务必在|并于|并在|于|在)?"
_WHEN = (
    r"(?:(?:19|20)\d{2}\s*年\s*(?:\d{1,2}\s*月\s*(?:\d{1,2}\s*日|上旬|中旬|下旬)?)?(?:底|末)?"
    r"|(?:(?:19|20)\d{2}\s*年)?(?:年底|年末|年内|年中|上半年|下半年|第?[一二三四1-4]季度末?))"
)
_BODY_DEADLINE = re.compile(
    rf"^{_LEAD_IN}(?:{_WHEN}(?:之?前|以前)|{_WHEN}(?={_DONE}|$))"
    rf"|^每(?:年|季度|半年|月)(?:\d{{1,2}}\s*月(?:底|末)?(?:之?前)?)?(?=组织|开展|举办|召开|评选|认定|发布|更新|报送|评估|考核|通报|{_DONE}|$)"
    r"|^(?:长期坚持|持续推进|常态化推进|长期推进)$"
)
_BODY_SEGMENT = re.compile(r"[,;。!?]")


def opens_with_deadline(text: str) -> bool:
    """Does the phrase open with a deadline ("2020年底前出台", "每年组织考核")? Such a phrase names nobody."""
    return bool(_BODY_DEADLINE.match(_SPACES.sub("", normalize_width(text or ""))))


def deadline_in_body(text: str, period: tuple[int, int] | None = None) -> tuple[Deadline | None, str | None]:
    """(deadline, doubt) from a clause of the measure's own text that opens with a deadline, the last one
    when several do: "…，2014年12月底前完成。", "…，年底前实现网上办理。", "…，每年组织考核。"."""
    found = None
    for segment in _BODY_SEGMENT.split(normalize_width(text or "")):
        segment = _SPACES.sub("", segment)
        if segment and len(segment) <= 40 and _BODY_DEADLINE.match(segment):
            found = segment
    if found is None:
        return None, None
    return interpret_deadline(found, period)


def deadline_in_text(text: str) -> Deadline | None:
    """A target date stated in a measure's own text ("到2020年，建成…"), for items without a clause."""
    m = _TEXT_DEADLINE.search(normalize_width(text or ""))
    if not m:
        return None
    phrase = m.group(0).strip()
    return interpret_deadline(phrase)[0]
