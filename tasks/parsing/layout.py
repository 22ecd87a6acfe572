"""From clean lines to a document tree: numbered headings, paragraphs, clause lines, 专栏 boxes and tables.

Heading levels are found, not assumed: a numbering style seen for the first time opens a level below the
current one, a style already open closes everything below it (一、 > (一) > 1. > (1) in most plans, but a plan
may start at (一) or use 第一章).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from . import furniture
from .clauses import find_trailing_clause, is_clause_line

CN_DIGITS = "一二三四五六七八九十百零〇两"

CHAPTER, CH, PCH, AR, PAR, ARP, CIRC, PDIG = "chapter", "ch", "pch", "ar", "par", "arp", "circ", "pdig"
_HEADINGS: list[tuple[str, re.Pattern[str]]] = [
    (CHAPTER, re.compile(rf"^第([{CN_DIGITS}\d]{{1,4}})(章|部分|篇|节)\s*")),
    (CH, re.compile(rf"^([{CN_DIGITS}]{{1,4}})\s*([、.])\s*(?=\S)")),
    (PCH, re.compile(rf"^[(〔【]\s*([{CN_DIGITS}]{{1,4}})\s*[)〕】]\s*[、.]?\s*")),
    (PAR, re.compile(r"^[(〔【]\s*(\d{1,3})\s*[)〕】]\s*[、.]?\s*")),
    (AR, re.compile(r"^(\d{1,3})\s*([、.])(?!\d)\s*")),
    (ARP, re.compile(r"^(\d{1,3})\)\s*(?=\S)")),
    (CIRC, re.compile(r"^([\u2460-\u2473\u2776-\u277f])\s*")),
    (PDIG, re.compile(r"^([\u2474-\u2487])\s*")),
]
# Line openings that look like numbering but follow none of the genre's patterns: a doubt worth a warning.
_ODD_NUMBERING = re.compile(
    rf"^(?:[{CN_DIGITS}]{{1,3}}\s*[)\]】]|[(【\[][{CN_DIGITS}\d]{{1,3}}[、.]|[ⅠⅡⅢⅣⅤⅥⅦⅧⅨⅩ]+\s*[、.]"
    rf"|\d{{1,2}}\s*[,，]\s*[\u4e00-\u9fff])"
)
_NONSTANDARD = {(CH, "."): "“一.”", (ARP, ""): "“1)”"}
BOX_TITLE = re.compile(r"^(?:专栏|专 栏|附专栏)\s*([0-9一二三四五六七八九十]{0,4})\s*[:：、.]?\s*(.*)$")
_NUMBER_BEFORE_DIGITS = re.compile(r"^(\d{1,3})\s*[、.](?=\d+[^\d\s.、])")  # not an outline "2.1 加强"
_ROW_SPLIT = re.compile(r"\s*\|\s*")
_MARKDOWN_RULE = re.compile(r"^[|\s:\-—]+$")


@dataclass(eq=False)
class Para:
    line: int
    text: str
    clause_lines: list[str] = field(default_factory=list)
    split: tuple[str, str | None] | None = None  # (own text, clause), filled in once by measures._split


@dataclass
class Box:
    line: int
    title: str
    number: str | None
    paras: list[Para] = field(default_factory=list)


@dataclass
class Table:
    line: int
    cells: list[str] | None = None  # flat cells, row boundaries lost
    rows: list[list[str]] | None = None
    row_lines: list[int] = field(default_factory=list)


@dataclass
class Heading:
    line: int
    style: str
    number: str  # as the contract shows it: "一", "(一)", "1", "(1)"
    ordinal: int | None
    rest: str  # the line after its number
    text: str  # the whole line
    nonstandard: str | None = None


@dataclass(eq=False)
class Node:
    heading: Heading | None
    parent: Node | None = None
    children: list[Node] = field(default_factory=list)
    items: list[Para | Box | Table] = field(default_factory=list)
    title_clause_lines: list[str] = field(default_factory=list)
    title_para: Para | None = None  # the heading's own text as a paragraph, made once by measures

    @property
    def style(self) -> str | None:
        return self.heading.style if self.heading else None

    @property
    def title(self) -> str:
        return self.heading.text if self.heading else ""

    def ancestors(self) -> list[Node]:
        chain, node = [], self.parent
        while node is not None and node.heading is not None:
            chain.append(node)
            node = node.parent
        return chain[::-1]


@dataclass
class Layout:
    root: Node
    tables: list[tuple[Table, Node]]
    body_start: int  # index of the first line of the plan proper (after a cover letter)
    doubts: list[tuple[int, str]]


def cn_to_int(text: str) -> int | None:
    """'二十一' -> 21, '十' -> 10, '一百零二' -> 102; None for anything else."""
    values = {
        "零": 0,
        "〇": 0,
        "一": 1,
        "二": 2,
        "两": 2,
        "三": 3,
        "四": 4,
        "五": 5,
        "六": 6,
        "七": 7,
        "八": 8,
        "九": 9,
    }
    if text.isdigit():
        return int(text)
    total, current = 0, 0
    for ch in text:
        if ch in values:
            current = values[ch]
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        elif ch == "百":
            total += (current or 1) * 100
            current = 0
        else:
            return None
    return total + current


_HEADING_START = (
    set(CN_DIGITS + "第(〔【0123456789")
    | {chr(c) for c in range(0x2460, 0x2488)}
    | {chr(c) for c in range(0x2776, 0x2780)}
)


def match_heading(line: str, line_no: int) -> Heading | None:
    if not line or line[0] not in _HEADING_START:
        return None
    for style, pattern in _HEADINGS:
        m = pattern.match(line)
        if not m:
            continue
        raw = m.group(1)
        rest = line[m.end() :].strip()
        if style == CH and not rest:
            return None
        if style == CHAPTER:
            number, ordinal = f"第{raw}{m.group(2)}", cn_to_int(raw)
        elif style in (CH, AR):
            number, ordinal = raw, cn_to_int(raw)
        elif style in (PCH, PAR):
            number, ordinal = f"({raw})", cn_to_int(raw)
        elif style == ARP:
            number, ordinal = f"{raw})", int(raw)
        elif style == PDIG:
            ordinal = ord(raw) - 0x2474 + 1
            number = f"({ordinal})"
        else:
            number, ordinal = raw, ord(raw) - (0x2460 if raw <= "\u2473" else 0x2776) + 1
        sep = m.group(2) if style == CH else ""
        note = _NONSTANDARD.get((style, sep))
        return Heading(line_no, style, number, ordinal, rest, line, note)
    return None


def _is_section_heading(line: str) -> bool:
    heading = match_heading(line, 0)
    return heading is not None and heading.style in (CH, CHAPTER)


def is_row_line(line: str) -> bool:
    if "|" not in line or line.strip() == "|":
        return False
    return sum(1 for c in row_cells(line) if c) >= 2


def row_cells(line: str) -> list[str]:
    """Cells of "a | b | c" or "| a | b | |" (one border bar each side at most: an empty last cell stays)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|"):
        s = s[:-1]
    return [c.strip() for c in _ROW_SPLIT.split(s)]


# ---------------------------------------------------------------- scanning lines into elements


def _cover_end(lines: list[str]) -> int:
    """Where the plan proper starts when a 印发 notice wraps it: the plan's own title line after the notice."""
    from .metadata import find_wrapper, standalone_title_index

    wrapper = find_wrapper(lines)
    if wrapper is None:
        return 0
    wrapped_at, plan_title = wrapper
    index = standalone_title_index(lines, after=wrapped_at + 1, expected=plan_title)
    return index if index is not None else 0


def _skipped_lines(lines: list[str], start: int) -> set[int]:
    skip = set(furniture.signature_lines(lines))
    seen_heading = False
    for i in range(start, len(lines)):
        line = lines[i]
        if not line:
            continue
        if furniture.is_noise(line):
            skip.add(i)
            if seen_heading and furniture.is_footer_start(line):
                skip.update(range(i, len(lines)))  # the rest of the page is footer
                break
            continue
        if not seen_heading and match_heading(line, i + 1):
            seen_heading = True
    return skip


class _Scanner:
    def __init__(self, lines: list[str], start: int) -> None:
        self.lines = lines
        skip = _skipped_lines(lines, start)
        self.idx = [i for i in range(start, len(lines)) if lines[i] and i not in skip]
        self.k = 0
        self.doubts: list[tuple[int, str]] = []
        self.elements: list[Heading | Para | Box | Table | tuple[str, int, str]] = []
        self.last_item: int | None = None  # ordinal of the last "12." item, for "12.365服务热线建设。"

    def line(self, offset: int = 0) -> str | None:
        j = self.k + offset
        return self.lines[self.idx[j]] if 0 <= j < len(self.idx) else None

    def number(self, offset: int = 0) -> int:
        return self.idx[self.k + offset] + 1

    def run(self) -> list:
        while self.k < len(self.idx):
            line = self.line()
            following = self.line(1)
            box = BOX_TITLE.match(line)
            if box and len(line) <= 60:
                self._box(box)
            elif line == "|":
                self.k += 1
            elif following == "|":
                self._flat_table()
            elif is_row_line(line) and not self._lone_row(line):
                self._row_table()
            else:
                self._plain(line)
        return self.elements

    def _lone_row(self, line: str) -> bool:
        """A line with "|" between two lines without: a numbered item or a sentence ("检索|分析|预警"), not a
        table of one row. Read as text, with a warning unless it is a numbered item."""
        before, after = self.line(-1) if self.k else None, self.line(1)
        if any(n is not None and (n == "|" or is_row_line(n)) for n in (before, after)):
            return False
        if not (match_heading(line, 0) or self._continued(line, 0)):
            self.doubts.append((self.number(), f"含“|”的一行按正文读取：{line[:20]}"))
        return True

    def _continued(self, line: str, line_no: int) -> Heading | None:
        """ "12.365服务热线建设。" right after item 11: item 12, whose text begins with digits."""
        m = _NUMBER_BEFORE_DIGITS.match(line)
        if not m or self.last_item is None or int(m.group(1)) != self.last_item + 1:
            return None
        return Heading(line_no, AR, m.group(1), int(m.group(1)), line[m.end() :].strip(), line)

    def _plain(self, line: str) -> None:
        line_no = self.number()
        heading = match_heading(line, line_no) or self._continued(line, line_no)
        if heading:
            if heading.style == AR:
                self.last_item = heading.ordinal
            self.elements.append(heading)
        elif _ODD_NUMBERING.match(line):
            self.doubts.append((line_no, f"无法识别的标题编号：{line[:20]}"))
            self.elements.append(Para(line_no, line))
        elif is_clause_line(line):
            self.elements.append(("clause", line_no, line))
        else:
            self.elements.append(Para(line_no, line))
        self.k += 1

    def _ends_box(self, line: str) -> bool:
        return bool(
            match_heading(line, 0) or BOX_TITLE.match(line) or find_trailing_clause(line) or is_row_line(line)
        )

    def _box(self, m: re.Match) -> None:
        title_line = self.line()
        box = Box(self.number(), title_line, m.group(1) or None)
        self.k += 1
        if self.line() == "|":
            self.k += 1
            while self._box_cell(box):
                pass
        else:
            self._open_box(box)
        self.elements.append(box)

    def _open_box(self, box: Box) -> None:
        """A box without borders: its lines run to the next heading, box or clause. Items the box numbers
        itself (1. 2. 3. right after its title) are its own, as long as they count on from 1."""
        expected: tuple[str, int] | None = None
        while self.k < len(self.idx):
            line = self.line()
            heading = match_heading(line, 0)
            own_item = (
                heading is not None
                and heading.style not in (CH, PCH, CHAPTER)
                and (
                    (expected is None and not box.paras and heading.ordinal == 1)
                    or (expected is not None and (heading.style, heading.ordinal) == expected)
                )
            )
            if line == "|" or (self._ends_box(line) and not own_item):
                break
            if own_item:
                expected = (heading.style, heading.ordinal + 1)
            box.paras.append(Para(self.number(), line))
            self.k += 1

    def _box_cell(self, box: Box) -> bool:
        """Read one "|"-closed cell into the box; False when the box is over."""
        j, cell = self.k, []
        while j < len(self.idx) and self.lines[self.idx[j]] != "|":
            text = self.lines[self.idx[j]]
            if cell and (BOX_TITLE.match(text) or _is_section_heading(text)):
                break
            cell.append(Para(self.idx[j] + 1, text))
            j += 1
        closed = j < len(self.idx) and self.lines[self.idx[j]] == "|"
        if not box.paras:  # the first cell is the box's content, closed or not
            box.paras.extend(cell)
            self.k = j + 1 if closed else j
            return closed
        # a further cell belongs to the box only if it is closed and does not read as plan text
        if closed and cell and not self._ends_box(cell[0].text):
            box.paras.extend(cell)
            self.k = j + 1
            return True
        return False

    def _flat_table(self) -> None:
        table = Table(self.number(), cells=[self.line()])
        self.k += 2  # the first cell and its "|"
        while self.k < len(self.idx):
            j = self.k
            cell: list[str] = []
            while j < len(self.idx) and self.lines[self.idx[j]] != "|":
                cell.append(self.lines[self.idx[j]])
                j += 1
            if (
                j >= len(self.idx)
                or len(cell) > 1
                or (cell and (len(cell[0]) > 80 or match_heading(cell[0], 0)))
            ):
                break
            table.cells.append(cell[0] if cell else "")
            self.k = j + 1
        self.elements.append(table)

    def _row_table(self) -> None:
        table = Table(self.number(), rows=[])
        while self.k < len(self.idx) and is_row_line(self.line()):
            if not _MARKDOWN_RULE.match(self.line()):
                table.rows.append(row_cells(self.line()))
                table.row_lines.append(self.number())
            self.k += 1
        self.elements.append(table)


# ---------------------------------------------------------------- building the tree


def build_layout(lines: list[str]) -> Layout:
    start = _cover_end(lines)
    scanner = _Scanner(lines, start)
    elements = scanner.run()
    root = Node(None)
    stack: list[Node] = [root]
    tables: list[tuple[Table, Node]] = []
    doubts: list[tuple[int, str]] = list(scanner.doubts)
    last: Para | Node | None = None
    for el in elements:
        if isinstance(el, Heading):
            node = _open(stack, el, doubts)
            last = node
        elif isinstance(el, Para):
            stack[-1].items.append(el)
            last = el
        elif isinstance(el, tuple):  # a clause line: it belongs to what came just before it
            _, line_no, text = el
            if isinstance(last, Para):
                last.clause_lines.append(text)
            elif isinstance(last, Node):
                last.title_clause_lines.append(text)
            else:
                para = Para(line_no, text)
                stack[-1].items.append(para)
                last = para
        elif isinstance(el, Box):
            stack[-1].items.append(el)
            last = None
        elif isinstance(el, Table):
            stack[-1].items.append(el)
            tables.append((el, stack[-1]))
            last = None
    return Layout(root, tables, start, doubts)


def _open(stack: list[Node], heading: Heading, doubts: list[tuple[int, str]]) -> Node:
    styles = [n.style for n in stack]
    if heading.style in styles:
        del stack[styles.index(heading.style) :]
    parent = stack[-1]
    siblings = [c for c in parent.children if c.style == heading.style]
    if siblings and heading.ordinal is not None and siblings[-1].heading.ordinal is not None:
        expected = siblings[-1].heading.ordinal + 1
        if heading.ordinal != expected:
            doubts.append(
                (heading.line, f"编号“{heading.number}”不连续（上一个是“{siblings[-1].heading.number}”）")
            )
    if heading.nonstandard:
        doubts.append((heading.line, f"非常规的标题编号{heading.nonstandard}：{heading.text[:20]}"))
    node = Node(heading, parent)
    parent.children.append(node)
    stack.append(node)
    return node
