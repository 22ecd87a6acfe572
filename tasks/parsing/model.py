"""What a parse produces: frozen dataclasses and their JSON contract.

The contract (``ParsedPlan.to_contract()``) is what ``python -m tasks.parsing FILE --json`` prints and what the
import service stores; keep its keys stable.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

ROLES = ("lead", "support", "responsible")


class ParseError(Exception):
    """The file cannot be read, or holds no measure. The message is one line of Chinese for the user."""


COLLECTIVE_KINDS = ("named", "vague")


@dataclass(frozen=True, slots=True)
class Assignment:
    agency: str
    role: str  # one of ROLES
    # A collective subject is one assignment naming a class of bodies: "named" when the class is fixed
    # (各区、县（市）, 各成员单位 — mapped once to member agencies), "vague" when it must be resolved per measure
    # (有关部门, 各有关单位). None for a single agency.
    collective: str | None = None

    def to_contract(self) -> dict[str, Any]:
        contract: dict[str, Any] = {"agency": self.agency, "role": self.role}
        if self.collective:
            contract["collective"] = self.collective  # an extra key; the contract's keys stay as they are
        return contract


@dataclass(frozen=True, slots=True)
class Deadline:
    text: str
    date: datetime.date | None
    ongoing: bool = False
    recurrence: str | None = None  # "yearly" or None

    def to_contract(self) -> dict[str, Any]:
        contract: dict[str, Any] = {
            "text": self.text,
            "date": self.date.isoformat() if self.date else None,
            "ongoing": self.ongoing,
        }
        if self.recurrence:
            contract["recurrence"] = self.recurrence  # an extra key ("yearly" for 每年); the contract's stay
        return contract


@dataclass(frozen=True, slots=True)
class ParsedMeasure:
    number: str
    path: tuple[str, ...]
    text: str
    clause: str | None
    assignments: tuple[Assignment, ...]
    deadline: Deadline | None
    line: int
    optional: bool = False
    # "X、Y等部门": the list names X and Y and others besides (the trailing 等 is dropped from the names).
    and_others: bool = False

    def to_contract(self) -> dict[str, Any]:
        contract = {
            "number": self.number,
            "path": list(self.path),
            "text": self.text,
            "assignments": [a.to_contract() for a in self.assignments],
            "deadline": self.deadline.to_contract() if self.deadline else None,
        }
        if self.and_others:
            contract["and_others"] = True
        return contract


@dataclass(frozen=True, slots=True)
class ParsedIndicator:
    category: str | None
    name: str
    unit: str | None
    baseline: str | None
    baseline_year: int | None
    target: str | None
    target_year: int | None
    attribute: str | None

    def to_contract(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "name": self.name,
            "unit": self.unit,
            "baseline": self.baseline,
            "baseline_year": self.baseline_year,
            "target": self.target,
            "target_year": self.target_year,
            "attribute": self.attribute,
        }


@dataclass(frozen=True, slots=True)
class ParsedPlan:
    title: str
    doc_number: str | None
    issuer: str | None
    jurisdiction: str | None
    period: tuple[int, int] | None
    measures: tuple[ParsedMeasure, ...]
    indicators: tuple[ParsedIndicator, ...]
    warnings: tuple[str, ...]
    encoding: str

    @property
    def required_measures(self) -> tuple[ParsedMeasure, ...]:
        return tuple(m for m in self.measures if not m.optional)

    def to_contract(self, *, include_optional: bool = False) -> dict[str, Any]:
        """The JSON contract. Optional measures (专栏 contents, 保障措施 without a clause) are left out
        unless asked for: they are not numbered work items of the plan and have nobody assigned."""
        measures = self.measures if include_optional else self.required_measures
        return {
            "plan": {
                "title": self.title,
                "doc_number": self.doc_number,
                "issuer": self.issuer,
                "period": list(self.period) if self.period else None,
            },
            "measures": [m.to_contract() for m in measures],
            "indicators": [i.to_contract() for i in self.indicators],
            "warnings": list(self.warnings),
        }
