"""Responsibility clauses: who leads, who supports, who is responsible, and by when.

Forms of the genre (after half-width normalisation):
  (区金融局牵头,区发改委、区科技局按职责分工负责;2021年12月底前完成)
  (A、B按职责分工负责)  (A负责)  (A负责、B;持续推进)  (A、B牵头负责)  (A会同有关部门负责)
  (责任单位:A、B)  〔责任单位:A(B)、C按职责分工负责〕  牵头单位:A 配合单位:B、C 完成时限:2021年底前
  (人力资源社会保障部、财政部负责。列第一位者为牵头单位,下同)  — from then on the first agency leads.
  (A牵头,B配合)2015年6月底前完成  — a deadline written after the clause belongs to it.
Roles: agencies before 牵头 lead; with a lead, every other agency supports; with no lead every agency is
responsible — unless the "first listed leads" convention is in force. 牵头/配合 before 单位/部门 belong to a
name ("各课题牵头单位"). An unnamed crowd ("会同有关部门") is kept as a vague collective.
assignments_from_lists() applies the same rules to the role-labelled cells of a 任务分工表.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .agencies import and_others, collective_kind, is_agency_like, split_agencies
from .deadlines import interpret_deadline, looks_like_deadline, opens_with_deadline
from .model import Assignment, Deadline
from .reader import normalize_width

OPENERS = "(〔[【"
CLOSERS = ")〕]】"

FIRST_LEADS = re.compile(
    r"[,，;。]?\s*(?:列|排|排在|排列|位列|名列|排名|列在)?(?:在)?(?:第一|首)(?:位|个|家)?(?:的|者)?(?:单位|部门)?"
    r"(?:为|是|系)(?:牵头|主责|主办)(?:单位|部门)?(?:[,，]?\s*下同)?"
)
_RESPONSIBILITY_LABEL = re.compile(r"(?:主要)?(?:牵头|责任|配合|主办|主责)")
_SAME_BELOW = re.compile(r"[,，;]?\s*下同")
_LABELLED = re.compile(
    r"(?P<label>(?:主要)?(?:牵头|责任|配合|协办|参与|协同|主办|承办|实施|落实|主责)(?:单位|部门|处室)"
    r"|完成时限|完成时间|完成期限|时间节点|时间要求|时限要求|时限|进度安排|完成日期|期限|时间)\s*:"
)
_LABEL_ROLE = {
    "牵头": "lead",
    "主办": "lead",
    "主责": "lead",
    "配合": "support",
    "协办": "support",
    "参与": "support",
    "协同": "support",
}
# Role words that close a run of agencies; the run takes the role of the word after it.
_ROLE_MARK = re.compile(
    # 牵头 before 单位/部门 is part of a name ("各课题牵头单位"), unless said of one: "A为牵头单位"
    r"为牵头(?:单位|部门)|为配合(?:单位|部门)|为责任(?:单位|部门)|牵头负责|牵头(?!单位|部门)|主责|会同"
    r"|配合(?!单位|部门)|协助|协办|参与(?!单位|部门)"
    r"|(?:按照?(?:职责分工|职能分工|各自职责|职责|职能)|分别|共同|依职责|具体|主要|统筹)?(?:负责|落实)"
    r"|按照?(?:职责分工|职能分工|各自职责)"
)
_ROLE_NOTE = re.compile(r"\((牵头|主要负责|牵头单位|配合|配合单位|参与)\)")
_NOT_CLAUSE_START = re.compile(
    r"^(?:如|含|包括|即|简称|以下简称|详见|见|注|例如|比如|其中|不含|除|指|试行|暂行|草案|"
    r"征求意见|此件|本件|第[一二三四五六七八九十\d]+)"
)
_ROLE_WORD = re.compile(r"牵头|负责|配合|协助|协办|按照?职责|责任单位|责任部门|主办|落实单位")
# Words of a sentence, not of an agency's name: "(按要求推进)" names nobody.
_PROSE = re.compile(
    r"按|要求|根据|按照|进行|开展|加强|推进|实施|完成|确保|做好|情况|需要|任务|措施|工作|方面|同时|以及"
)
_TRAILING_DEADLINE = re.compile(r"[)〕\]】]\s*([^()〔〕\[\]【】]{2,30})$")
_UNCLOSED_TAIL = re.compile(r"[(〔【]([^()〔〕【】]{2,200})$")
_TRAILING_LABEL = re.compile(r"(?:^|(?<=[。;!?]))\s*((?:牵头|责任|主责)(?:单位|部门)\s*:.+)$")


_SPLITTERS = {seps: re.compile("[" + re.escape(seps) + "]") for seps in (",，", ";。\n")}
_BRACKETS = re.compile("[" + re.escape(OPENERS + CLOSERS) + "]")


@dataclass
class ClauseResult:
    assignments: list[Assignment] = field(default_factory=list)
    deadline: Deadline | None = None
    declares_first_lead: bool = False
    doubts: list[str] = field(default_factory=list)
    and_others: bool = False  # "X、Y等部门": the list names some and others besides


def _bracket_groups(text: str) -> list[str] | None:
    """Contents of "(…)(…)" when the text is nothing but bracket groups, else None."""
    groups, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in OPENERS:
            if depth == 0:
                start = i
            depth += 1
        elif ch in CLOSERS and depth:
            depth -= 1
            if depth == 0:
                groups.append(text[start + 1 : i])
        elif depth == 0 and ch not in " ,;，；":
            return None
    return groups if depth == 0 and groups else None


def _strip_brackets(text: str) -> str:
    text = text.strip().rstrip("。;,. ")
    groups = _bracket_groups(text)
    if groups:
        return ";".join(g.strip() for g in groups)
    if text and text[0] in OPENERS:
        end = _matching_closer(text)
        if end is not None and _deadline_only(text[end + 1 :].strip(" 。;,，；")):
            # "(A牵头,B配合)2015年6月底前完成": the deadline written after the clause belongs to it
            return f"{text[1:end].strip()};{text[end + 1 :].strip(' 。;,，；')}"
        return text[1:].strip()
    return text


def _matching_closer(text: str) -> int | None:
    depth = 0
    for i, ch in enumerate(text):
        if ch in OPENERS:
            depth += 1
        elif ch in CLOSERS:
            depth -= 1
            if depth == 0:
                return i
    return None


def _top_level_split(text: str, seps: str) -> list[str]:
    """Split at the separators that stand outside brackets: "A(B、C)、D" is "A(B、C)" and "D"."""
    pattern = _SPLITTERS.get(seps) or re.compile("[" + re.escape(seps) + "]")
    if not any(ch in text for ch in OPENERS):  # the common case
        return [p.strip() for p in pattern.split(text) if p.strip()]
    spans = _bracketed_spans(text)
    parts, start = [], 0
    for m in pattern.finditer(text):
        if not _within(spans, m.start()):
            parts.append(text[start : m.start()])
            start = m.end()
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def _role_runs(text: str) -> list[tuple[str, str]]:
    """Cut an agency text at role words: [(agencies, role)], role in lead/support/other/with."""
    text = _ROLE_NOTE.sub(
        lambda m: ("牵头" if "牵头" in m.group(1) or "主要" in m.group(1) else "配合") + ",", text
    )
    runs: list[tuple[str, str]] = []
    pos = 0
    inside = _bracketed_spans(text)
    for m in _ROLE_MARK.finditer(text):
        if _within(inside, m.start()):  # a role word in an alias is part of the name
            continue
        word = m.group(0)
        chunk = text[pos : m.start()]
        if word.startswith(("为牵头", "牵头", "主责")):
            role = "lead"
        elif word == "会同":
            role = "with"
        elif word in ("配合", "协助", "协办", "参与") or word.startswith("为配合"):
            role = "support"
        else:
            role = "other"
        if chunk.strip(" ,;、"):
            runs.append((chunk, role))
        elif runs and role in ("lead", "support") and runs[-1][1] == "other":
            # "A牵头负责" is one mark; "A负责牵头" and similar stutter keep the stronger role
            runs[-1] = (runs[-1][0], role)
        pos = m.end()
    rest = text[pos:]
    if rest.strip(" ,;、"):
        runs.append((rest, "other"))
    return runs


def _within(spans: list[tuple[int, int]], pos: int) -> bool:
    """Is pos strictly inside one of the spans (sorted, not overlapping)? A bisection, not a scan: a long
    cell has many brackets and many separators."""
    i = bisect.bisect_left(spans, (pos,)) - 1  # the last span starting before pos
    return i >= 0 and spans[i][0] < pos < spans[i][1]


def _bracketed_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each outermost bracket group; an unclosed one runs to the end."""
    spans, depth, start = [], 0, 0
    for m in _BRACKETS.finditer(text):
        if m.group() in OPENERS:
            if depth == 0:
                start = m.start()
            depth += 1
        elif depth:
            depth -= 1
            if depth == 0:
                spans.append((start, m.end()))
    if depth:
        spans.append((start, len(text) + 1))
    return spans


def _assign(tagged_names: tuple[tuple[str, str], ...], first_is_lead: bool) -> list[Assignment]:
    # "会同有关部门": an unnamed crowd is kept, as a vague collective the import resolves per measure
    tagged = [(name, role) for name, role in tagged_names if is_agency_like(name) or not _PROSE.search(name)]
    with_others = any(role != "with" for _, role in tagged)
    has_lead = any(role == "lead" for _, role in tagged) or (
        any(role == "with" for _, role in tagged) and with_others
    )
    result: list[Assignment] = []
    seen: set[str] = set()
    for index, (name, role) in enumerate(tagged):
        if name in seen:
            continue
        seen.add(name)
        if has_lead:
            final = "lead" if role in ("lead", "with") else "support"
        elif first_is_lead:
            final = "lead" if index == 0 else "support"
        else:  # no lead: responsible, except those the clause itself calls 配合/参与
            final = "support" if role == "support" else "responsible"
        result.append(Assignment(name, final, collective_kind(name)))
    return result


@dataclass(frozen=True)
class _Analysis:
    """What a clause says, before roles are settled (they depend on the convention in force)."""

    tagged: tuple[tuple[str, str], ...]  # (agency, role word class: lead/support/with/other), in order
    deadline_texts: tuple[str, ...]
    declares_first_lead: bool
    and_others: bool = False


def _prepare(text: str) -> str:
    return _strip_brackets(_BRACKET_LABEL.sub(r"\1:", normalize_width(text or "")))


@lru_cache(maxsize=1024)
def _analyse(inner: str) -> _Analysis:
    """Read a clause (brackets stripped). Cached: a paragraph's clause is read when it is found and again
    when it is assigned; api.parse clears the cache so that each parse does its own work."""
    declares = bool(FIRST_LEADS.search(inner))
    if declares:
        inner = FIRST_LEADS.sub("", inner)
    inner = _SAME_BELOW.sub("", inner)
    runs: list[tuple[str, str]] = []
    deadline_texts: list[str] = []
    for segment in _segments(inner):
        label = _LABELLED.match(segment)
        if label:
            _labelled_segment(label, segment, runs, deadline_texts)
            continue
        agency_parts = []
        for part in _top_level_split(segment, ",，"):
            if _is_deadline_part(part):
                deadline_texts.append(part)
            else:
                agency_parts.append(part)
        if agency_parts:
            runs.extend(_role_runs(",".join(agency_parts)))
    tagged = tuple((name, role) for chunk, role in runs for name in split_agencies(chunk))
    return _Analysis(tagged, tuple(deadline_texts), declares, any(and_others(chunk) for chunk, _ in runs))


def reset_cache() -> None:
    _analyse.cache_clear()


def parse_clause_full(
    text: str, *, first_is_lead: bool = False, period: tuple[int, int] | None = None
) -> ClauseResult:
    """Parse one clause (with or without its brackets); see the module docstring for the forms."""
    analysis = _analyse(_prepare(text))
    result = ClauseResult(declares_first_lead=analysis.declares_first_lead, and_others=analysis.and_others)
    result.assignments = _assign(analysis.tagged, first_is_lead or analysis.declares_first_lead)
    if analysis.deadline_texts:
        phrase = ",".join(analysis.deadline_texts)
        result.deadline, doubt = interpret_deadline(phrase, period)
        if doubt:
            result.doubts.append(doubt)
    return result


_BRACKET_LABEL = re.compile(
    r"[【\[]\s*((?:牵头|责任|配合|协办|主责)(?:单位|部门)|完成时限|完成时间|时间节点|时限)\s*[】\]]\s*:?"
)


def _segments(inner: str) -> list[str]:
    """Split at ; and 。, and before each label ("牵头单位: A 配合单位: B" on one line)."""
    inner = _BRACKET_LABEL.sub(r"\1:", inner)
    pieces = []
    for seg in _top_level_split(inner, ";。\n"):
        starts = [m.start() for m in _LABELLED.finditer(seg)]
        if len(starts) <= 1:
            pieces.append(seg)
            continue
        bounds = starts + [len(seg)]
        head = seg[: starts[0]].strip()
        if head:
            pieces.append(head)
        pieces.extend(seg[a:b].strip(" ,，") for a, b in zip(bounds, bounds[1:], strict=False))
    return [p for p in pieces if p]


def _labelled_segment(label: re.Match, segment: str, runs: list, deadline_texts: list) -> None:
    name = label.group("label")
    value = segment[label.end() :].strip()
    if not value:
        return
    if not name.endswith(("单位", "部门", "处室")):
        deadline_texts.append(value)
        return
    role = _LABEL_ROLE.get(name.replace("主要", "")[:2], "other")
    # "牵头单位:A,2014年9月底前完成": a deadline written inside the label's list
    parts = _top_level_split(value, ",，")
    deadlines = [p for p in parts if _is_deadline_part(p)]
    if deadlines:
        deadline_texts.extend(deadlines)
        value = ",".join(p for p in parts if p not in deadlines)
        if not value:
            return
    sub_runs = _role_runs(value)
    if role == "other":
        runs.extend(sub_runs)
    else:
        runs.extend((chunk, role if sub_role == "other" else sub_role) for chunk, sub_role in sub_runs)


def _is_deadline_part(part: str) -> bool:
    return looks_like_deadline(part) and (opens_with_deadline(part) or not _names_agency(part))


def _names_agency(part: str) -> bool:
    return any(is_agency_like(n) for n in split_agencies(part))


def parse_clause(
    text: str, first_is_lead: bool = False, period: tuple[int, int] | None = None
) -> tuple[tuple[Assignment, ...], Deadline | None]:
    """(assignments, deadline) of a clause such as "(区金融局牵头,区发改委按职责分工负责;2021年底前完成)"."""
    result = parse_clause_full(text, first_is_lead=first_is_lead, period=period)
    return tuple(result.assignments), result.deadline


def assignments_from_lists(
    lead: str | None, support: str | None, responsible: str | None = None
) -> tuple[Assignment, ...]:
    """Assignments from lists as written in role-labelled cells (牵头单位 / 配合单位 / 责任单位 columns of a
    任务分工表), by the clause rules: one entry per agency, collectives whole and marked, role words in a cell
    ("A牵头,B配合") heeded. With a lead, the 责任单位 list supports it; without one, it is responsible."""
    tagged: list[tuple[str, str]] = []
    for text, role in ((lead, "lead"), (support, "support"), (responsible, "other")):
        cell = normalize_width(text or "").strip()
        if not cell:
            continue
        for chunk, said in _role_runs(cell):
            # as in a labelled clause: a role word in the cell ("A、B配合") wins over the column's role
            tagged.extend((name, role if said == "other" else said) for name in split_agencies(chunk))
    return tuple(_assign(tuple(tagged), first_is_lead=False))


def is_clause(inner: str) -> bool:
    """Is the bracketed text a responsibility clause (and not a prose aside, a quote or a law title)?"""
    inner = normalize_width(inner).strip()
    if not inner or len(inner) > 400 or _NOT_CLAUSE_START.match(inner):
        return False
    if _LABELLED.match(inner) and _RESPONSIBILITY_LABEL.match(inner):
        return True
    if FIRST_LEADS.search(inner):
        return True
    names: list[str] = []
    others: list[str] = []
    for name, _role in _analyse(_prepare(inner)).tagged:
        (names if is_agency_like(name) else others).append(name)
    if not names:
        return False
    if _ROLE_WORD.search(FIRST_LEADS.sub("", inner)):
        return len(names) >= len(others)
    return not others


def find_trailing_clause(paragraph: str) -> tuple[str, str] | None:
    """Split a paragraph into (own text, clause as written) when it ends in a responsibility clause."""
    stripped = paragraph.rstrip(" 。;,.，；")
    if not stripped:
        return None
    after = _TRAILING_DEADLINE.search(stripped)
    if after and _deadline_only(after.group(1)):
        # "…。(A牵头,B配合)2015年6月底前完成。": the clause, then its deadline
        found = find_trailing_clause(stripped[: after.start(1)])
        if found:
            return found[0], paragraph[len(found[0]) :].strip()
    if stripped[-1] in CLOSERS:
        start = _matching_opener(stripped)
        if start is not None and is_clause(stripped[start + 1 : -1]) and _placed_as_clause(stripped, start):
            return _own_text(paragraph[:start]), paragraph[start:].strip()
        if start is not None and _deadline_only(stripped[start + 1 : -1]):
            # "…(区金融局负责)(2021年底前)": the deadline has a bracket of its own
            before = stripped[:start].rstrip(" ,;，；")
            if before and before[-1] in CLOSERS:
                first = _matching_opener(before)
                if first is not None and is_clause(before[first + 1 : -1]):
                    return _own_text(paragraph[:first]), paragraph[first:].strip()
    m = _UNCLOSED_TAIL.search(stripped)
    if m and is_clause(m.group(1)) and _ROLE_WORD.search(m.group(1)):
        return _own_text(paragraph[: m.start()]), paragraph[m.start() :].strip()
    m = _TRAILING_LABEL.search(stripped)
    if m and is_clause(m.group(1)):
        return _own_text(paragraph[: m.start(1)]), m.group(1).strip()
    return None


def unread_clause(paragraph: str) -> str | None:
    """A closing bracket that speaks of responsibility but could not be read as a clause, for a warning."""
    stripped = paragraph.rstrip(" 。;,.，；")
    if not stripped or stripped[-1] not in CLOSERS:
        return None
    start = _matching_opener(stripped)
    if start is None:
        return None
    inner = stripped[start + 1 : -1]
    return stripped[start:] if _ROLE_WORD.search(inner) else None


def _deadline_only(inner: str) -> bool:
    return looks_like_deadline(inner) and not _names_agency(inner) and len(inner) <= 30


def _placed_as_clause(text: str, start: int) -> bool:
    """A bare list of names (no 负责/牵头) is a clause only after a sentence, or when it names several:
    "打造示范单位(园区)" is an alias in prose, "…机制。(区科技局)" is a clause."""
    inner = text[start + 1 : -1]
    if _ROLE_WORD.search(inner) or start == 0:
        return True
    if text[start - 1] in "。;,!?，；、:":
        return True
    return len(split_agencies(inner)) >= 2


def _own_text(text: str) -> str:
    return text.rstrip(" ,;，；、")


def _matching_opener(text: str) -> int | None:
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        ch = text[i]
        if ch in CLOSERS:
            depth += 1
        elif ch in OPENERS:
            depth -= 1
            if depth == 0:
                return i
    return None


def is_clause_line(line: str) -> bool:
    """A line that is nothing but a clause: "(区金融局牵头…)" or "牵头单位:区金融局 配合单位:…"."""
    s = normalize_width(line).strip().rstrip("。;,")
    if not s:
        return False
    if s[0] in OPENERS and s[-1] in CLOSERS and _matching_opener(s) == 0:
        return is_clause(s[1:-1])
    return bool(_LABELLED.match(s))


__all__ = [
    "ClauseResult",
    "assignments_from_lists",
    "find_trailing_clause",
    "is_clause",
    "is_clause_line",
    "parse_clause",
    "parse_clause_full",
    "unread_clause",
]
