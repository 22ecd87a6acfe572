"""Splitting a list of responsible agencies into one entry per agency, as written.

"市市场监管局(知识产权局)牵头,市发改委、市科技局等按职责分工负责" is two lists (lead, others); this module
splits one list: on 、 , ; and whitespace outside parentheses, where two names run together ("区教育局各街道办"),
and on "等和" ("…商务部等和各省级人民政府"). Group phrases ("各县、区政府", "各省、自治区、直辖市人民政府",
"市知识产权工作联席会议各成员单位") stay one entry each; trailing 等 / 按职责分工负责 / 负责 / 牵头 go.
"""

from __future__ import annotations

import re

from .reader import normalize_width

# Endings that make a phrase a body of government (or a group of them). Checked on the name without aliases.
AGENCY_END = re.compile(
    r"(?:局|委|办|部|厅|院|会|中心|政府|单位|署|银行|分行|支行|中支|海关|社|联|处|室|所|站|队|组|公司|集团|党校|"
    r"团中央|妇联|科协|街道|街道办|办事处|镇|乡|管委会|园区|高新区|开发区|新区|部门|机关|机构|协会|学会|电视台|"
    r"中央|法院|检察院|仲裁委|总署|总局|工委|国资委|人大|政协|监狱|医院|学校|大学|学院|人行|馆|台|队伍|军区|"
    r"边检站|保险|交易所|研究所|研究院|基金会|集团公司|保税区|港区|功能区|示范区|自贸区|试验区|片区)$"
)
# A group of agencies: 各成员单位, 各县区, 各有关部门和单位, 各省级人民政府 …
GROUP_START = re.compile(r"^(?:各|有关|相关|其他|其它|全体|所有)")
_ADMIN_LEVEL = (
    r"(?:省|市|县|区|旗|乡|镇|自治区|自治州|自治县|直辖市|街道|县\(区\)|区\(县\)|县\(市、区\)|县\(市\))"
)
_ADMIN_HEAD = re.compile(rf"^各?{_ADMIN_LEVEL}$")
_ADMIN_TAIL = re.compile(rf"^{_ADMIN_LEVEL}(?:级)?(?:人民)?(?:政府|党委|党委和政府)$")

# Where two names run together: after an agency ending, before a new name that starts a list of its own.
_RUN_TOGETHER = re.compile(
    r"(?<=[局委办部厅院府署心关支行])"
    r"(?=各(?!成员|有关|相关|部门|部委|直属|处室|科室|委办局|下属|派出|所属|单位|级|类|项|地)|区(?!委|直|属|级|内|域)|市(?!委|直|属|级|场|民|内|域)"
    r"|县(?!委|直|属|级|域)|省(?!委|直|属|级|内|域)|国家|中共|公安(?!局|厅|部)|人民银行|共青团)"
)
_SEPARATORS = "、,;，； \t/"
_SEPARATOR_SPLIT = re.compile(r"([、,;，； \t/])")
_BRACKET = re.compile(r"[(〔\[【（)〕\]】）]")
_TOKEN = re.compile(r"[(〔\[【（)〕\]】）、,;，； \t/]")
_ROLE_WORDS = (
    r"等|按照?职责分工|按照?职能分工|按照?各自职责|按照?职责|按照?职能|依职责|分别|共同|具体|主要|统筹|"
    r"牵头负责|牵头|主责|负责|配合|参与|协助|协办|落实|实施|推进|为牵头单位|为牵头部门|为责任单位|为配合单位|"
    r"单位负责|[ \t:：、,;。.]"
)
_TRAILING_ROLE = re.compile(rf"(?:{_ROLE_WORDS})+$")
_TRAILING_ALIAS = re.compile(r"\([^()]*\)$")
# "和各省级人民政府": a joining word before a group; never "和平区".
_LEADING_NOISE = re.compile(r"^(?:(?:由|请|会同|主要由|其中)|(?:和|及|以及|与|并)(?=各|有关|相关|其他))+")
_LABEL = re.compile(
    r"^(?:主要)?(?:牵头|责任|配合|协办|参与|协同|主办|承办|实施|落实)(?:单位|部门|处室|领导)?\s*[:：]\s*"
)
_ROLE_NOTE = re.compile(r"\((?:牵头|主要负责|负责|配合|协办|参与|牵头单位|配合单位|责任单位)\)")
_VAGUE_AFTER_DENG = re.compile(r"等(?:有关|相关|其他|其它)?(?:部门|单位|机构)(?:和|及|、)?(?:单位|部门)?")
_DENG_AND = re.compile(r"等(?:和|及|以及|与)")


def strip_role_words(name: str) -> str:
    """Drop trailing role words and list noise: '市科技局等按职责分工负责' -> '市科技局'."""
    name = name.strip(" \t:：、,;。.")
    if ":" in name or "：" in name:
        name = _LABEL.sub("", name)
    if "(" in name:
        name = _ROLE_NOTE.sub("", name)
    name = _LEADING_NOISE.sub("", name)
    return _TRAILING_ROLE.sub("", name).strip(" \t:：、,;。.")


def _split_top_level(text: str) -> list[tuple[str, str]]:
    """Split on separators outside parentheses; each piece with the separator that followed it."""
    if not _BRACKET.search(text):  # the common case, without a character loop
        pieces = _SEPARATOR_SPLIT.split(text)
        return list(zip(pieces[0::2], [*pieces[1::2], ""], strict=True))
    parts: list[tuple[str, str]] = []
    depth = start = 0
    for m in _TOKEN.finditer(text):  # brackets and separators only, not every character
        ch = m.group()
        if ch in "(〔[【（":
            depth += 1
        elif ch in ")〕]】）":
            depth = max(depth - 1, 0)
        elif depth == 0:
            parts.append((text[start : m.start()], ch))
            start = m.end()
    parts.append((text[start:], ""))
    return parts


def is_agency_like(name: str) -> bool:
    """Does the phrase look like a body of government (or a group of them)?"""
    core = _TRAILING_ALIAS.sub("", name).strip()
    if not core or len(core) > 40:
        return False
    if AGENCY_END.search(core):
        return True
    return bool(GROUP_START.match(core)) and len(core) <= 16


def _merge_groups(pieces: list[tuple[str, str]]) -> list[str]:
    """Re-join '各县、区政府' and '各省、自治区、直辖市人民政府': a bare administrative level before 、."""
    merged: list[str] = []
    pending: list[str] = []
    for name, sep in pieces:
        if pending:
            if _ADMIN_TAIL.match(name) or (_ADMIN_HEAD.match(name) and sep == "、"):
                pending.append(name)
                if _ADMIN_TAIL.match(name):
                    merged.append("、".join(pending))
                    pending = []
                continue
            merged.extend(pending)
            pending = []
        if _ADMIN_HEAD.match(name) and sep == "、":
            pending.append(name)
            continue
        merged.append(name)
    merged.extend(pending)
    return merged


def split_agencies(text: str) -> list[str]:
    """One entry per agency, as written (parenthesised aliases kept, role words dropped)."""
    if not text:
        return []
    text = normalize_width(text).strip()
    if ":" in text:
        text = _LABEL.sub("", text)
    if "(" in text:
        text = _ROLE_NOTE.sub("", text)
    if "等" in text:
        text = _DENG_AND.sub("、", _VAGUE_AFTER_DENG.sub("", text))
    pieces = [(strip_role_words(name), sep) for name, sep in _split_top_level(text)]
    pieces = [(name, sep) for name, sep in pieces if name]
    names: list[str] = []
    for name in _merge_groups(pieces):
        for part in _RUN_TOGETHER.split(name) if len(name) > 5 else [name]:
            part = strip_role_words(part)
            if part and part not in names:
                names.append(part)
    return names
