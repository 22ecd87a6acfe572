"""Splitting a list of responsible agencies into one entry per agency, as written.

"市市场监管局(知识产权局)牵头,市发改委、市科技局等按职责分工负责" is two lists (lead, others); this module
splits one list: on 、 , ; and whitespace outside parentheses, where two names run together ("区教育局各街道办"),
on "等和" ("…商务部等和各省级人民政府") and on 和/及 between two bodies ("市委和市政府", not "工业和信息化部").
Trailing 等 / 按职责分工负责 / 负责 / 牵头 go; a list ending in 等 ("X、Y等部门") says "and others" (and_others).

Collective subjects name a class of bodies and stay one entry each, never split on their inner 、:
"各区、县(市)", "各县、区政府", "各省、自治区、直辖市人民政府", "各市(州)、县(市、区)人民政府", "各成员单位".
collective_kind() tells a fixed class ("named": mapped once to its members) from one to resolve per measure
("vague": 有关部门, 各有关单位, 项目责任单位). The table reader and the import call it too.
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
_LEVEL_WORD = r"(?:省|市|县|区|旗|乡|镇|州|盟|自治区|自治州|自治县|直辖市|设区市|街道)"
# a level, with the levels counted with it in brackets: 县(市、区), 市(州), 乡(镇、街道)
_ADMIN_LEVEL = rf"(?:{_LEVEL_WORD}(?:\({_LEVEL_WORD}(?:、{_LEVEL_WORD})*\))?)"
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
# Words that close a list or a name in it: "市科技局等按职责分工负责" -> "市科技局". Stripped from the end one
# word at a time (see _strip_trailing_roles): a regex "(?:word|…)+$" backtracks exponentially on long cells.
_ROLE_SUFFIXES = tuple(
    sorted(
        {
            *(
                f"{by}{duty}"
                for by in ("按", "按照")
                for duty in ("职责分工", "职能分工", "各自职责", "职责", "职能")
            ),
            *"等 \t:：、,;。.",
            *("依职责", "分别", "共同", "具体", "主要", "统筹", "牵头负责", "牵头", "主责", "负责", "配合"),
            *("参与", "协助", "协办", "落实", "实施", "推进", "为牵头单位", "为牵头部门", "为责任单位"),
            *("为配合单位", "等单位", "等部门"),
        },
        key=len,
        reverse=True,
    )
)
_LONGEST_SUFFIX = max(len(w) for w in _ROLE_SUFFIXES)
_SUFFIXES_BY_FIRST: dict[str, tuple[str, ...]] = {
    ch: tuple(w for w in _ROLE_SUFFIXES if w[0] == ch) for ch in {w[0] for w in _ROLE_SUFFIXES}
}
_TRAILING_ALIAS = re.compile(r"\([^()]*\)$")
# "和各省级人民政府": a joining word before a group; never "和平区".
_LEADING_NOISE = re.compile(r"^(?:(?:由|请|会同|主要由|其中)|(?:和|及|以及|与|并)(?=各|有关|相关|其他))+")
_LABEL = re.compile(
    r"^(?:主要)?(?:牵头|责任|配合|协办|参与|协同|主办|承办|实施|落实)(?:单位|部门|处室|领导)?\s*[:：]\s*"
)
_ROLE_NOTE = re.compile(r"\((?:牵头|主要负责|负责|配合|协办|参与|牵头单位|配合单位|责任单位)\)")
_VAGUE_AFTER_DENG = re.compile(r"等(?:有关|相关|其他|其它)?(?:部门|单位|机构)(?:和|及|、)?(?:单位|部门)?")
# 等 closing a list (not the 等 of a name such as 高等学校): at the end, before a separator, a crowd word,
# a joining word or a role word.
_AND_OTHERS = re.compile(
    r"等(?=$|[、,;。\s]|(?:有关|相关|其他|其它)?(?:部门|单位|机构)|和|及|以及|与|按|负责|牵头|配合|参与|共同|分别)"
)
_VAGUE_COLLECTIVE = re.compile(r"有关|相关|其他|其它|^各方$")
_NAMED_COLLECTIVE = re.compile(
    r"^各|成员单位$|各(?:部门|单位|部委|委办局|直属机构|处室|科室)$|^(?:地方)?各级"
)
# "项目责任单位", "课题承担单位": whoever holds that role for the measure
_CLASS_OF_UNITS = re.compile(r"(?:责任|牵头|承担|实施|参与|配合|协办|主办)(?:单位|部门)$")
# "各区、县(市)和市直有关部门", "市科技局和市财政局": 和/及 between two bodies, never inside one's name
# (工业和信息化局, 中央和国家机关工委, 各有关部门和单位)
_AND_BETWEEN = re.compile(
    r"(?<=[局委办部厅院署会)府门位])(?:和|及|以及)(?=各|有关|相关|其他|市|县|区|省|国家)"
)
_DENG_AND = re.compile(r"等(?:和|及|以及|与)")


def strip_role_words(name: str) -> str:
    """Drop trailing role words and list noise: '市科技局等按职责分工负责' -> '市科技局'."""
    name = name.strip(" \t:：、,;。.")
    if ":" in name or "：" in name:
        name = _LABEL.sub("", name)
    if "(" in name:
        name = _ROLE_NOTE.sub("", name)
    name = _LEADING_NOISE.sub("", name)
    return _strip_trailing_roles(name).strip(" \t:：、,;。.")


def _strip_trailing_roles(name: str) -> str:
    """Drop the longest ending made only of role words. Linear: position i is "all role words from here to
    the end" when a word starts at i and ends where another such position (or the end) is; once no position
    in a window as long as the longest word qualifies, none further left can."""
    n = len(name)
    reachable = [False] * (n + 1)
    reachable[n] = True
    cut = n
    for i in range(n - 1, -1, -1):
        if cut - i > _LONGEST_SUFFIX:
            break
        words = _SUFFIXES_BY_FIRST.get(name[i], ())
        if any(i + len(w) <= n and reachable[i + len(w)] and name.startswith(w, i) for w in words):
            reachable[i] = True
            cut = i
    return name[:cut]


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
            if _ADMIN_HEAD.match(name) and not name.startswith("各"):  # the last level: "各区、县(市)"
                pending.append(name)
                _flush(merged, pending)
                pending = []
                continue
            _flush(merged, pending)
            pending = []
        if _ADMIN_HEAD.match(name) and sep == "、":
            pending.append(name)
            continue
        merged.append(name)
    _flush(merged, pending)
    return merged


def _flush(merged: list[str], pending: list[str]) -> None:
    """Bare levels left over: "各区、县(市)" (a 各 and levels after it) is one collective, anything else
    ("区、县" without 各 and without 政府) stays as written, one entry each."""
    if len(pending) >= 2 and pending[0].startswith("各") and not any(p.startswith("各") for p in pending[1:]):
        merged.append("、".join(pending))
    else:
        merged.extend(pending)


def split_agencies(text: str) -> list[str]:
    """One entry per agency, as written (parenthesised aliases kept, role words dropped)."""
    return split_agencies_full(text)[0]


def and_others(text: str) -> bool:
    """Does the list end in "等" ("X、Y等部门", "X等有关单位", "X等和各省级人民政府"): others besides those named?"""
    return bool(text) and "等" in text and bool(_AND_OTHERS.search(normalize_width(text)))


def split_agencies_full(text: str) -> tuple[list[str], bool]:
    """(one entry per agency as written, whether the list says "and others" with a trailing 等)."""
    if not text:
        return [], False
    text = normalize_width(text).strip()
    others = and_others(text)
    if ":" in text:
        text = _LABEL.sub("", text)
    if "(" in text:
        text = _ROLE_NOTE.sub("", text)
    if "等" in text:
        text = _DENG_AND.sub("、", _VAGUE_AFTER_DENG.sub("", text))
    if "和" in text or "及" in text:
        text = _AND_BETWEEN.sub("、", text)
    pieces = [(strip_role_words(name), sep) for name, sep in _split_top_level(text)]
    pieces = [(name, sep) for name, sep in pieces if name]
    names: list[str] = []
    for name in _merge_groups(pieces):
        for part in _RUN_TOGETHER.split(name) if len(name) > 5 else [name]:
            part = strip_role_words(part)
            if part and part not in names:
                names.append(part)
    return names, others


def collective_kind(name: str) -> str | None:
    """ "named" for a fixed class of bodies (各区、县(市), 各成员单位, 各市、县人民政府, 联席会议各成员单位),
    "vague" for one to resolve per measure (有关部门, 各有关单位, 市直有关部门, 项目责任单位), None for one agency."""
    core = _TRAILING_ALIAS.sub("", normalize_width(name or "").strip()).strip()
    if not core:
        return None
    if _VAGUE_COLLECTIVE.search(core):
        return "vague"
    if _NAMED_COLLECTIVE.search(core):
        return "named"
    if _CLASS_OF_UNITS.search(core):
        return "vague"
    return None
