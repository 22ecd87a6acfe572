"""Parser of Chinese government plan documents (推进计划, 实施方案, 任务措施, 意见) into measures.

Pure Python: no Django, no settings, no clock. Text in, frozen dataclasses out.

    plan = parse_file(path, known_agencies=None)
    plan = parse_bytes(data, filename, known_agencies=None)
    plan = parse_text(text, known_agencies=None)
    plan.to_contract()  # the JSON contract printed by `python -m tasks.parsing FILE --json`
"""

from .agencies import collective_kind, split_agencies
from .api import parse_bytes, parse_file, parse_text
from .clauses import assignments_from_lists, parse_clause
from .deadlines import parse_deadline
from .model import Assignment, Deadline, ParsedIndicator, ParsedMeasure, ParsedPlan, ParseError

__all__ = [
    "Assignment",
    "Deadline",
    "ParseError",
    "ParsedIndicator",
    "ParsedMeasure",
    "ParsedPlan",
    "assignments_from_lists",
    "collective_kind",
    "parse_bytes",
    "parse_clause",
    "parse_deadline",
    "parse_file",
    "parse_text",
    "split_agencies",
]
