"""Which parts of the document tree are measures, and what each measure says.

A measure is a numbered work item in a task section, or a paragraph carrying its own responsibility clause.
Background (发展基础, 形势), guiding thought, principles and goals are not tasks. A heading whose body holds
several paragraphs with their own clauses gives one measure per paragraph: "(六)-1", "(六)-2". 专栏 box
contents, and 保障措施 items without a clause, are measures marked optional.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field

from .clauses import find_trailing_clause, parse_clause_full, unread_clause
from .deadlines import deadline_in_body, deadline_in_text
from .layout import CH, CHAPTER, Box, Node, Para, Table, match_heading
from .model import Assignment, Deadline, ParsedMeasure
from .tasktables import task_rows

_NON_TASK = re.compile(
    r"基础与形势|基础和形势|发展基础|工作基础|现实基础|发展现状|现状与形势|现状和形势|现状与问题|现状和问题|面临形势|"
    r"面临的形势|形势与挑战|形势和挑战|发展形势|发展环境|机遇与挑战|机遇和挑战|存在问题|主要问题|存在的问题|背景|"
    r"主要成效|工作成效|取得成效|取得的成效|发展成就|主要成就|工作回顾|进展情况|指导思想|总体思路|基本思路|发展思路|"
    r"工作思路|基本原则|工作原则|主要原则|遵循原则|发展目标|工作目标|主要目标|总体目标|具体目标|预期目标|阶段目标|"
    r"目标要求|总体要求|总体部署|战略定位|发展定位|功能定位|总体定位|适用范围|实施范围|编制依据|规划依据|规划范围|"
    r"规划期限|实施期限|主要指标|指标体系|^原则$|^目标$|^形势$|^现状$|^意义$|重要意义|^总则$|^附则$|名词解释"
)
_GUARANTEE = re.compile(
    r"保障措施|保障机制|组织保障|组织实施|实施保障|工作要求|有关要求|组织领导|保障条件|"
    r"支撑保障|政策保障|工作保障|落实保障|实施机制"
)
_ACTION = re.compile(
    r"^(?:加强|加快|推进|推动|实施|完善|健全|建立|强化|提升|提高|深化|优化|扩大|促进|支持|开展|"
    r"做好|落实|打造|构建|培育|夯实|巩固|创新|引导|鼓励|规范|严格|营造|发挥|坚持)"
)
_GOAL = re.compile(r"目标|指标")
_SENTENCE_END = re.compile(r"[。:：]")
_INNER_STOP = re.compile(r"[。;!?]")
_TASKISH = re.compile(r"任务|措施|举措|工程|行动|重点|项目")


def _first_sentence(text: str) -> str:
    return _SENTENCE_END.split(text.strip(), maxsplit=1)[0].strip(" ,;")


def heading_kind(text: str) -> tuple[bool, bool, bool]:
    """(not a task section, a guarantee section, a goal section) for a heading's text."""
    head = _first_sentence(text)
    if len(head) > 18:
        return False, False, False
    non_task = bool(_NON_TASK.search(head)) and not _ACTION.match(head) and not _TASKISH.search(head)
    return non_task, bool(_GUARANTEE.search(head)), non_task and bool(_GOAL.search(head))


def is_heading_text(rest: str) -> bool:
    """A title line with nothing after its one short sentence: "(三)健全知识产权政策体系。"."""
    core = rest.strip().rstrip("。:：;")
    return bool(core) and len(core) <= 40 and not _INNER_STOP.search(core)


@dataclass
class Draft:
    number: str
    kind: str
    chain: list[str]
    path: tuple[str, ...]
    text: str
    clause: str | None
    line: int
    optional: bool
    assignments: tuple[Assignment, ...] = ()
    deadline: Deadline | None = None
    and_others: bool = False


@dataclass
class Extractor:
    period: tuple[int, int] | None
    known_agencies: Collection[str] | None = None
    drafts: list[Draft] = field(default_factory=list)
    doubts: list[tuple[int, str]] = field(default_factory=list)
    first_is_lead: bool = False
    goal_paragraphs: list[str] = field(default_factory=list)
    absorbed: list[Node] = field(default_factory=list)  # sub-points folded into their item's text
    # "以下各项任务，排在第一位的为牵头单位": the line from which the first listed agency leads
    convention_from: int | None = None

    # ------------------------------------------------------------ walking the tree
    def walk(
        self,
        node: Node,
        path: tuple[str, ...] = (),
        chain: tuple[str, ...] = (),
        flags: tuple[bool, bool] = (False, False),
    ) -> None:
        non_task, guarantee = flags
        if node.heading is not None:
            kind = heading_kind(node.heading.rest)
            non_task = non_task or kind[0]
            guarantee = guarantee or kind[1]
            if non_task:
                self._collect_goal_text(node, kind[2])
                return
        self._tables(node, path + ((node.title,) if node.heading else ()), chain)
        if node.heading is None:
            self._root(node)
        elif node.children:
            self._container(node, path, chain, guarantee)
        else:
            self._leaf(node, path, chain, guarantee)
        own_path = path + ((node.title,) if node.heading else ())
        own_chain = ((node.heading.number,) if node.heading else ()) + chain
        for child in node.children:
            if child in self.absorbed:
                continue
            self.walk(child, own_path, own_chain, (non_task, guarantee))

    def collect_goals(self, node: Node) -> None:
        """Only the goal sections' text (the plan period needs it before measures are read)."""
        for child in node.children:
            kind = heading_kind(child.heading.rest)
            if kind[0]:
                self._collect_goal_text(child, kind[2])
            else:
                self.collect_goals(child)

    def _collect_goal_text(self, node: Node, is_goal: bool) -> None:
        """Text of goal sections (发展目标, 工作目标), for target lists and the plan period."""
        if is_goal:
            self.goal_paragraphs.append(node.heading.rest)
            self.goal_paragraphs.extend(p.text for p in node.items if isinstance(p, Para))
        for child in node.children:
            self._collect_goal_text(child, is_goal or heading_kind(child.heading.rest)[2])

    def _root(self, node: Node) -> None:
        groups = [g for g in _groups(_paras(node)) if g[1]]
        for k, (members, clause) in enumerate(groups, 1):
            self._add(str(k), "root", [], (), members, clause, False)
        self._boxes(node, (), [], False)

    def _container(self, node: Node, path: tuple[str, ...], chain: tuple[str, ...], guarantee: bool) -> None:
        heading = node.heading
        own_path = path + (node.title,)
        title_own, title_clause = _title_clause(node)
        if title_clause:
            # "1.加强…。(A负责)" over (1)(2) sub-points without clauses: the sub-points are the item's detail
            points = [c for c in node.children if not c.children and not _has_clause(c)]
            if len(points) == len(node.children):
                self.absorbed.extend(points)
            members = [(Para(heading.line, heading.rest), title_own)]
            members += [(Para(c.heading.line, c.title), c.title) for c in points if c in self.absorbed]
            self._add(heading.number, heading.style, list(chain), path, members, title_clause, False)
        groups = [g for g in _groups(_paras(node)) if g[1]]
        for k, (members, clause) in enumerate(groups, 1):
            number = f"{heading.number}-{k}" if title_clause or len(groups) > 1 else heading.number
            self._add(number, heading.style, list(chain), own_path, members, clause, False)
        self._boxes(node, own_path, [heading.number, *chain], guarantee)

    def _leaf(self, node: Node, path: tuple[str, ...], chain: tuple[str, ...], guarantee: bool) -> None:
        heading = node.heading
        title_own, title_clause = _title_clause(node)
        paras = _paras(node)
        groups = _groups(paras)
        numbered = heading.number
        if title_clause is None and is_heading_text(heading.rest) and paras:
            own_path = path + (node.title,)
            clause_groups = [g for g in groups if g[1]]
            if clause_groups:
                chosen = clause_groups
            elif heading.style in (CH, CHAPTER) and any(s.children for s in node.parent.children):
                chosen = []  # a section with prose under it, beside sections of numbered items: not a task
            else:
                chosen = [(_prose(paras), None)]
            for k, (members, clause) in enumerate(chosen, 1):
                number = numbered if len(chosen) == 1 else f"{numbered}-{k}"
                self._add(
                    number, heading.style, list(chain), own_path, members, clause, guarantee and not clause
                )
            self._boxes(node, own_path, [numbered, *chain], guarantee)
            return
        if (
            title_clause is None
            and not paras
            and is_heading_text(heading.rest)
            and (heading.style in (CH, CHAPTER) or any(not isinstance(i, Para) for i in node.items))
        ):
            self._boxes(node, path + (node.title,), [numbered, *chain], guarantee)
            return  # a section title over a table or a box, not a work item itself
        # the title line is the measure's text (and may hold its clause)
        head = (Para(heading.line, heading.rest), title_own)
        if title_clause:
            chosen = [([head], title_clause)] + [g for g in groups if g[1]]
        else:
            clause_groups = [g for g in groups if g[1]]
            if clause_groups:
                first_members, first_clause = clause_groups[0]
                chosen = [([head, *first_members], first_clause)] + clause_groups[1:]
            else:
                chosen = [([head], None)]
        for k, (members, clause) in enumerate(chosen, 1):
            number = numbered if len(chosen) == 1 else f"{numbered}-{k}"
            self._add(number, heading.style, list(chain), path, members, clause, guarantee and not clause)
        self._boxes(node, path + (node.title,), [numbered, *chain], guarantee)

    def _boxes(self, node: Node, path: tuple[str, ...], chain: list[str], guarantee: bool) -> None:
        boxes = [b for b in node.items if isinstance(b, Box)]
        for box in boxes:
            box_number = f"专栏{box.number}" if box.number else f"专栏{self._box_count() + 1}"
            for k, para in enumerate(box.paras, 1):
                own, clause = _split(para)
                numbered = match_heading(own, para.line)
                if numbered is not None and numbered.rest:  # "1.建设保护中心。": the box's own numbering
                    own = numbered.rest
                self._add(
                    f"{box_number}-{k}",
                    "box",
                    chain,
                    path + (box.title,),
                    [(para, own)],
                    clause,
                    clause is None,
                )

    def _tables(self, node: Node, path: tuple[str, ...], chain: tuple[str, ...]) -> None:
        for table in (t for t in node.items if isinstance(t, Table)):
            rows = task_rows(table.rows, table.cells)
            for k, row in enumerate(rows, 1):
                row_path = path + ((row.category,) if row.category else ())
                line = table.row_lines[row.index] if row.index < len(table.row_lines) else table.line
                member = (Para(line, row.text), row.text)
                self._add(
                    row.number or str(k),
                    f"table@{table.line}",
                    list(chain),
                    row_path,
                    [member],
                    row.clause or None,
                    False,
                )

    def _box_count(self) -> int:
        return len({d.path[-1] for d in self.drafts if d.kind == "box"})

    # ------------------------------------------------------------ one measure
    def _add(
        self,
        number: str,
        kind: str,
        chain: list[str],
        path: tuple[str, ...],
        members: list[tuple[Para, str]],
        clause: str | None,
        optional: bool,
    ) -> None:
        text = "\n".join(own for _, own in members if own).strip()
        if not text and not clause:
            return
        line = members[0][0].line if members else 0
        draft = Draft(number, kind, list(chain), path, text, clause, line, optional)
        if clause:
            first_is_lead = self.first_is_lead or (
                self.convention_from is not None and line >= self.convention_from
            )
            result = parse_clause_full(clause, first_is_lead=first_is_lead, period=self.period)
            if result.declares_first_lead and "下同" in clause:
                self.first_is_lead = True  # "列第一位者为牵头单位，下同": from here on
            draft.assignments = tuple(result.assignments)
            draft.and_others = result.and_others
            draft.deadline = result.deadline
            if draft.deadline is None:  # "…，2014年12月底前完成。(A牵头…)": the deadline is in the text
                draft.deadline, doubt = deadline_in_body(text, self.period)
                if doubt:
                    result.doubts.append(doubt)
            for doubt in result.doubts:
                self.doubts.append((line, doubt))
            if not result.assignments:
                self.doubts.append((line, f"责任分工无法识别：{clause}"))
            self._check_known(line, result.assignments)
        else:
            draft.deadline, doubt = deadline_in_body(text, self.period)
            if doubt:
                self.doubts.append((line, doubt))
            draft.deadline = draft.deadline or deadline_in_text(text)
            unread = unread_clause(members[-1][1]) if members else None
            if unread:
                self.doubts.append((members[-1][0].line, f"无法读取的责任分工：{unread}"))
        self.drafts.append(draft)

    def _check_known(self, line: int, assignments: list[Assignment]) -> None:
        if self.known_agencies is None:
            return
        for a in assignments:
            if a.agency not in self.known_agencies:
                self.doubts.append((line, f"未知单位“{a.agency}”"))

    # ------------------------------------------------------------ results
    def measures(self) -> list[ParsedMeasure]:
        self.drafts.sort(key=lambda d: d.line)  # document order: boxes sit between the paragraphs they follow
        _qualify(self.drafts)
        required = [d for d in self.drafts if not d.optional]
        with_clause = sum(1 for d in required if d.clause)
        if required and with_clause * 2 >= len(required):
            for d in required:
                if not d.clause:
                    self.doubts.append((d.line, f"任务“{d.number}”没有找到责任单位"))
        return [
            ParsedMeasure(
                d.number,
                d.path,
                d.text,
                d.clause,
                d.assignments,
                d.deadline,
                d.line,
                d.optional,
                d.and_others,
            )
            for d in self.drafts
        ]


def _has_clause(node: Node) -> bool:
    if _title_clause(node)[1]:
        return True
    return any(_split(p)[1] for p in _paras(node))


def _paras(node: Node) -> list[Para]:
    return [p for p in node.items if isinstance(p, Para)]


def _split(para: Para) -> tuple[str, str | None]:
    """(own text, clause as written) of a paragraph, its trailing clause and any clause lines after it."""
    if para.split is None:
        para.split = _split_uncached(para)
    return para.split


def _split_uncached(para: Para) -> tuple[str, str | None]:
    found = find_trailing_clause(para.text)
    own, clause = found if found else (para.text, None)
    if para.clause_lines:
        extra = " ".join(para.clause_lines)
        clause = f"{clause} {extra}" if clause else extra
    return own, clause


def _title_clause(node: Node) -> tuple[str, str | None]:
    if node.title_para is None:
        node.title_para = Para(node.heading.line, node.heading.rest, list(node.title_clause_lines))
    return _split(node.title_para)


def _groups(paras: list[Para]) -> list[tuple[list[tuple[Para, str]], str | None]]:
    """Consecutive paragraphs up to and including one with a clause form a group; the rest trail clause-less."""
    groups, current = [], []
    for para in paras:
        own, clause = _split(para)
        current.append((para, own))
        if clause:
            groups.append((current, clause))
            current = []
    if current:
        groups.append((current, None))
    return groups


def _prose(paras: list[Para]) -> list[tuple[Para, str]]:
    """The body of a heading without clauses: its paragraphs, up to the first line that is not prose."""
    members = []
    for para in paras:
        text = para.text.strip()
        if members and len(text) < 20 and not text.endswith(("。", ";", "!", "?")):
            break
        members.append((para, text))
    return members


def _qualify(drafts: list[Draft]) -> None:
    """Numbers must be unique: repeated ones ("1" under each (一)) get their parent's number in front."""
    for level in range(3):
        counts = Counter(d.number for d in drafts)
        repeated = {n for n, c in counts.items() if c > 1}
        if not repeated:
            return
        kinds = {d.kind for d in drafts if d.number in repeated}
        for d in drafts:
            if d.kind in kinds and len(d.chain) > level:
                d.number = d.chain[level] + d.number
