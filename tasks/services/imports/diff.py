"""A revision described as data: what a new version of a plan adds, removes, changes and renumbers.

The same ``PlanDiff`` is shown by the preview (``admin/tasks/import_diff.html``), printed by ``import_plan``
(Chinese text or ``--json``) and stored on each ``PlanRevision``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .match import SAME_TEXT

ROLE_LABELS = {"lead": "牵头", "support": "配合", "responsible": "负责"}
ROLE_ORDER = {"lead": 0, "responsible": 1, "support": 2}


@dataclass(frozen=True)
class AgencyRole:
    name: str
    role: str  # lead | support | responsible
    is_new: bool = False  # not in the catalogue yet: the import creates it (unconfirmed)
    needs_resolution: bool = False  # a collective without members: one flagged task, nobody to tell

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    def __str__(self) -> str:
        return f"{self.name}({self.role_label})"


def sorted_roles(roles) -> list[AgencyRole]:
    return sorted(roles, key=lambda a: (ROLE_ORDER.get(a.role, 9), a.name))


@dataclass(frozen=True)
class Change:
    before: Any
    after: Any


@dataclass(frozen=True)
class MeasureSummary:
    number: str
    text: str
    agencies: list[AgencyRole] = field(default_factory=list)
    deadline: str = ""
    has_history: bool = False  # removed measures: progress, 签收 … that stay with it


@dataclass(frozen=True)
class MeasureChange:
    number: str  # the number in the new file
    old_number: str
    score: float  # similarity of the texts that paired the two versions (1.0 = same wording)
    text: Change | None = None
    agencies: Change | None = None  # lists of AgencyRole
    deadline: Change | None = None

    @property
    def reworded(self) -> bool:
        """Paired on a loose similarity (0.6–0.9): worth a second look."""
        return self.score < SAME_TEXT


@dataclass(frozen=True)
class Renumbering:
    old_number: str
    number: str
    text: str


@dataclass
class PlanDiff:
    plan_id: int | None = None  # the plan revised; None for a new plan
    plan_title: str = ""
    added: list[MeasureSummary] = field(default_factory=list)
    removed: list[MeasureSummary] = field(default_factory=list)
    changed: list[MeasureChange] = field(default_factory=list)
    renumbered: list[Renumbering] = field(default_factory=list)
    unchanged_count: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.renumbered)

    @property
    def change_count(self) -> int:
        """Measures touched: added, removed, changed or renumbered (a changed and renumbered one counts once)."""
        moved = {r.number for r in self.renumbered} - {c.number for c in self.changed}
        return len(self.added) + len(self.removed) + len(self.changed) + len(moved)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able, for ``--json``, the stored revision history and the preview (written out by hand:
        ``dataclasses.asdict`` deep-copies and is slow on a 500-item plan)."""
        return {
            "plan_id": self.plan_id,
            "plan_title": self.plan_title,
            "added": [_measure(m) for m in self.added],
            "removed": [_measure(m) for m in self.removed],
            "changed": [
                {
                    "number": c.number,
                    "old_number": c.old_number,
                    "score": c.score,
                    "text": _change(c.text),
                    "agencies": _change(c.agencies, lambda roles: [_role(r) for r in roles]),
                    "deadline": _change(c.deadline),
                    "reworded": c.reworded,
                }
                for c in self.changed
            ],
            "renumbered": [
                {"old_number": r.old_number, "number": r.number, "text": r.text} for r in self.renumbered
            ],
            "unchanged_count": self.unchanged_count,
            "is_empty": self.is_empty,
        }

    def summary(self) -> str:
        if self.is_empty:
            return f"与《{self.plan_title}》相比没有变化。" if self.plan_id else "没有措施。"
        return (
            f"新增 {len(self.added)} 条,移除 {len(self.removed)} 条,修改 {len(self.changed)} 条,"
            f"重新编号 {len(self.renumbered)} 条,未变 {self.unchanged_count} 条。"
        )

    def lines(self) -> list[str]:
        """The diff as Chinese text, one line each (the CLI prints these)."""
        out = [self.summary()]
        for measure in self.added:
            out.append(f"+ 新增 {measure.number}. {_short(measure.text)}")
            if measure.agencies:
                out.append(f"    单位:{_roles(measure.agencies)}")
            if measure.deadline:
                out.append(f"    时限:{measure.deadline}")
        for measure in self.removed:
            kept = "(已有进展,保留记录)" if measure.has_history else ""
            out.append(f"- 移除 {measure.number}. {_short(measure.text)}{kept}")
        for change in self.changed:
            numbers = (
                f"{change.old_number} → {change.number}"
                if change.old_number != change.number
                else change.number
            )
            out.append(f"~ 修改 {numbers}. 相似度 {change.score:.0%}")
            if change.text:
                out.append(f"    内容:{_short(change.text.before)} → {_short(change.text.after)}")
            if change.agencies:
                out.append(f"    单位:{_roles(change.agencies.before)} → {_roles(change.agencies.after)}")
            if change.deadline:
                out.append(f"    时限:{change.deadline.before or '—'} → {change.deadline.after or '—'}")
        for renumbering in self.renumbered:
            out.append(f"# 编号 {renumbering.old_number} → {renumbering.number}. {_short(renumbering.text)}")
        return out


def _role(role: AgencyRole) -> dict[str, Any]:
    return {
        "name": role.name,
        "role": role.role,
        "is_new": role.is_new,
        "needs_resolution": role.needs_resolution,
    }


def _measure(measure: MeasureSummary) -> dict[str, Any]:
    return {
        "number": measure.number,
        "text": measure.text,
        "agencies": [_role(r) for r in measure.agencies],
        "deadline": measure.deadline,
        "has_history": measure.has_history,
    }


def _change(change: Change | None, convert=lambda value: value) -> dict[str, Any] | None:
    return {"before": convert(change.before), "after": convert(change.after)} if change else None


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _roles(roles: list[AgencyRole]) -> str:
    return "、".join(str(role) for role in roles) or "—"
