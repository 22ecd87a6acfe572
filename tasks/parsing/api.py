"""The parse pipeline: clean lines -> layout tree -> indicators, metadata -> measures."""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from pathlib import Path

from .clauses import FIRST_LEADS, reset_cache
from .indicators import indicators_from_cells, indicators_from_rows, indicators_from_target_list
from .layout import Layout, build_layout
from .measures import Extractor
from .metadata import read_metadata
from .model import ParsedIndicator, ParsedPlan, ParseError
from .reader import bytes_to_text, clean_lines, sniff_kind
from .tables import parse_docx_table, parse_table_bytes, table_kind

_GOAL_YEAR = re.compile(r"(?:到|至|截至)\s*((?:19|20)\d{2})\s*年")
MAX_BYTES = 50 * 1024 * 1024
logger = logging.getLogger(__name__)


def parse_file(path: str | Path, known_agencies: Collection[str] | None = None) -> ParsedPlan:
    """Parse a plan from disk: a document (.txt, .html, .docx) or a 任务分工表 (.xlsx, .xls, .ods, .csv)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise ParseError("无法读取文件：文件不存在") from exc
    except IsADirectoryError as exc:
        raise ParseError("无法读取文件：这是一个文件夹") from exc
    except PermissionError as exc:
        raise ParseError("无法读取文件：没有读取权限") from exc
    except OSError as exc:
        raise ParseError("无法读取文件：读取失败") from exc
    return parse_bytes(data, path.name, known_agencies)


def parse_bytes(data: bytes, filename: str, known_agencies: Collection[str] | None = None) -> ParsedPlan:
    """Parse an uploaded file; its suffix decides txt/html/docx or a spreadsheet, an unknown suffix is sniffed.

    Spreadsheets and CSV files, and Word files that hold nothing but a 任务分工表, go to the table reader
    (``tables.py``); everything else to the document reader. Both give the same ``ParsedPlan``."""
    if not data:
        raise ParseError("无法读取文件：文件是空的")
    if len(data) > MAX_BYTES:
        raise ParseError("无法读取文件：文件太大")
    try:
        kind = table_kind(data, filename)
        if kind is not None:
            return parse_table_bytes(data, filename, kind, known_agencies)
        if sniff_kind(data, filename) == "docx":
            table = parse_docx_table(data, filename, known_agencies)
            if table is not None:
                return table
        text, encoding = bytes_to_text(data, filename)
    except ParseError:
        raise
    except Exception as exc:  # a reader library failing on a damaged file is still "cannot read"
        logger.warning("reading %s failed", filename, exc_info=True)
        raise ParseError("无法读取文件：文件已损坏或格式不受支持") from exc
    return _parse(text, known_agencies, encoding)


def parse_text(text: str, known_agencies: Collection[str] | None = None) -> ParsedPlan:
    """Parse text already decoded (a .txt file's content, or text pasted by a user)."""
    return _parse(text, known_agencies, "unicode")


def _parse(text: str, known_agencies: Collection[str] | None, encoding: str) -> ParsedPlan:
    if not text or not text.strip():
        raise ParseError("文件中没有识别到任何任务措施")
    reset_cache()
    lines = clean_lines(text)
    layout = build_layout(lines)
    goal_text = _goal_paragraphs(layout)
    indicators = _table_indicators(layout)
    if not indicators:
        for paragraph in goal_text:
            indicators.extend(indicators_from_target_list(paragraph))
    goal_years = [int(m.group(1)) for p in goal_text for m in _GOAL_YEAR.finditer(p)]
    baseline_year = next((i.baseline_year for i in indicators if i.baseline_year), None)
    target_year = next((i.target_year for i in indicators if i.target_year), None)
    meta = read_metadata(lines, layout.body_start, goal_years, baseline_year, target_year)

    extractor = Extractor(meta.period, known_agencies, convention_from=_first_leads_from(lines))
    extractor.walk(layout.root)
    measures = extractor.measures()
    if not any(not m.optional for m in measures):
        raise ParseError("文件中没有识别到任何任务措施")
    doubts = sorted(set(layout.doubts + extractor.doubts))
    warnings = tuple(f"第{line}行：{message}" for line, message in doubts)
    return ParsedPlan(
        title=meta.title,
        doc_number=meta.doc_number,
        issuer=meta.issuer,
        jurisdiction=meta.jurisdiction,
        period=meta.period,
        measures=tuple(measures),
        indicators=tuple(indicators),
        warnings=warnings,
        encoding=encoding,
    )


def _first_leads_from(lines: list[str]) -> int | None:
    """Line number of a statement that the first listed agency leads "from here on" (下同, 以下各项…)."""
    for number, line in enumerate(lines, 1):
        if "第一" in line or "首位" in line:
            m = FIRST_LEADS.search(line)
            if m and ("下同" in line or "以下" in line[: m.start()] or "各项" in line[: m.start()]):
                return number
    return None


def _goal_paragraphs(layout: Layout) -> list[str]:
    probe = Extractor(None)
    probe.collect_goals(layout.root)
    return probe.goal_paragraphs


def _table_indicators(layout: Layout) -> list[ParsedIndicator]:
    found: list[ParsedIndicator] = []
    for table, _node in layout.tables:
        if table.cells is not None:
            found.extend(indicators_from_cells(table.cells))
        elif table.rows:
            found.extend(indicators_from_rows(table.rows))
    return found
