"""The import preview as pure functions of (parse, decisions, catalogue): no ORM, no settings, no clock.

An ``ImportDraft`` stores the clerk's decisions as JSON (``ImportDraft.decisions``)::

    {
      "plan": {"jurisdiction": "东丽区", "period": [2024, 2025], "title": "…", "match": "revision" | "new"},
      "names": {"区数据局": {"kind": "agency", "agency": 17}, "单位": {"kind": "ignore"},
                "各区、县（市）": {"kind": "collective", "members": [3, 4, 5]}, "区档案馆": {"kind": "create"}},
      "measures": {"<line>": {"number": "3", "text": "…", "include": false,
                              "deadline": {"kind": "date" | "ongoing" | "yearly" | "none", "date": "2026-06-30"},
                              "assignments": [{"agency": "区科技局", "role": "lead"}, …]}},
      "log": [{"kind": "suggestion" | "correction", "target": "name:区数据局", "at": "2026-12-02T06:00:00+00:00"}]
    }

A measure is keyed by its line in the document (stable across re-parses of the same file; numbers can be
edited and are not always unique). ``log`` counts the clerk's work: accepting the system's suggestion is a
"suggestion", any other saved decision a "correction" (choosing a collective's members counts as one).

``build_grid`` makes the page's model; ``apply_decisions`` gives the edited ``ParsedPlan`` and the name
decisions to hand to the import service at confirmation.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from agencies.suggest import (
    SUGGEST_SCORE,
    Catalogue,
    Suggestion,
    is_fragment,
    looks_collective,
    names_places,
)
from tasks.parsing.model import ROLES, Assignment, Deadline, ParsedMeasure, ParsedPlan

NAME_KINDS = ("agency", "create", "ignore", "collective")
DEADLINE_KINDS = ("date", "ongoing", "yearly", "none")
MATCH_CHOICES = ("revision", "new")
_YEAR = re.compile(r"(20\d\d)")
_TARGET_YEAR = re.compile(r"到(20\d\d)年")


class DecisionError(ValueError):
    """A decision that cannot be applied (unknown measure, bad date…). The message is Chinese, for the clerk."""


@dataclass(frozen=True, slots=True)
class NameDecision:
    """What to do with a name the catalogue does not know: map it to an agency, create it as an unconfirmed
    agency, ignore it (a fragment), or treat it as a collective of member agencies."""

    kind: str  # one of NAME_KINDS
    agency: int | None = None
    members: tuple[int, ...] = ()

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> NameDecision:
        kind = data.get("kind")
        if kind not in NAME_KINDS:
            raise DecisionError(f"无法识别的单位处理方式:{kind}")
        if kind == "agency":
            if not isinstance(data.get("agency"), int):
                raise DecisionError("请选择要对应的单位。")
            return cls(kind, agency=data["agency"])
        if kind == "collective":
            members = tuple(sorted({int(pk) for pk in data.get("members", ())}))
            return cls(kind, members=members)
        return cls(kind)

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "agency":
            data["agency"] = self.agency
        if self.kind == "collective":
            data["members"] = list(self.members)
        return data


@dataclass(frozen=True, slots=True)
class Chip:
    """One agency of a measure as shown in the grid."""

    name: str
    role: str
    label: str  # what the agency will be: the catalogue name, the name itself, or its members
    state: str  # known | decided | pending | ignored | collective | create
    collective: str | None = None
    members: tuple[str, ...] = ()  # a collective's member agencies, as decided in the names panel


@dataclass(frozen=True, slots=True)
class Row:
    key: str
    number: str
    text: str
    section: str
    chips: tuple[Chip, ...]
    deadline_kind: str  # one of DEADLINE_KINDS
    deadline_date: datetime.date | None
    deadline_text: str  # as written in the document, or the clerk's choice
    inferred_date: datetime.date | None  # 按计划期末 when the plan has a period and the measure no deadline
    included: bool
    edited: bool
    and_others: bool

    @property
    def summary(self) -> str:
        head = self.text.split("。", 1)[0]
        return head if len(head) <= 60 else head[:59] + "…"

    @property
    def needs_attention(self) -> bool:
        """No agency, or a name still waiting for a decision."""
        return self.included and (not self.chips or any(c.state == "pending" for c in self.chips))


@dataclass(frozen=True, slots=True)
class NameRow:
    name: str
    measures: int  # how many measures name it
    collective: str | None  # "named" | "vague" | None (as the parser marked it)
    suggestions: tuple[Suggestion, ...]
    suggested: NameDecision | None  # None: two catalogue agencies fit equally well, the clerk chooses
    decision: NameDecision | None

    @property
    def decided(self) -> bool:
        return self.decision is not None

    @property
    def current(self) -> NameDecision | None:
        return self.decision or self.suggested


@dataclass(frozen=True, slots=True)
class PlanFields:
    title: str
    doc_number: str
    issuer: str
    jurisdiction: str
    period: tuple[int, int] | None
    period_from_document: bool
    suggested_period: tuple[int, int] | None
    needs_period: bool  # some included measure has no deadline: 按计划期末 needs a period

    @property
    def period_shown(self) -> tuple[int, int] | tuple[str, str]:
        """What the period inputs show: the period, else the suggestion, else nothing."""
        return self.period or self.suggested_period or ("", "")

    @property
    def period_end_date(self) -> datetime.date | None:
        return datetime.date(self.period[1], 12, 31) if self.period else None


@dataclass(frozen=True, slots=True)
class Preview:
    plan: PlanFields
    rows: tuple[Row, ...]
    names: tuple[NameRow, ...]
    remaining: tuple[str, ...]  # what still needs a decision: "period", "match", "name:<name>"
    match_kind: str | None  # "same" | "revision" when an existing plan was found
    match_choice: str | None  # the clerk's answer: "revision" | "new"
    corrections: int
    suggestions: int

    @property
    def remaining_count(self) -> int:
        return len(self.remaining)

    @property
    def pending_names(self) -> list[NameRow]:
        return [n for n in self.names if not n.decided]

    @property
    def decided_names(self) -> list[NameRow]:
        return [n for n in self.names if n.decided]

    @property
    def included_rows(self) -> int:
        return sum(1 for r in self.rows if r.included)

    @property
    def excluded_rows(self) -> int:
        return len(self.rows) - self.included_rows

    @property
    def task_count(self) -> int:
        return sum(sum(1 for c in r.chips if c.state != "ignored") for r in self.rows if r.included)


# --- reading the decisions -------------------------------------------------------------------------------


def measure_key(measure: ParsedMeasure) -> str:
    return str(measure.line)


def name_decisions(decisions: Mapping[str, Any]) -> dict[str, NameDecision]:
    return {name: NameDecision.from_data(data) for name, data in decisions.get("names", {}).items()}


def plan_period(parsed: ParsedPlan, decisions: Mapping[str, Any]) -> tuple[int, int] | None:
    period = decisions.get("plan", {}).get("period")
    return (int(period[0]), int(period[1])) if period else parsed.period


def _deadline_of(measure: ParsedMeasure, edit: Mapping[str, Any]) -> Deadline | None:
    chosen = edit.get("deadline")
    if chosen is None:
        return measure.deadline
    kind = chosen["kind"]
    if kind == "date":
        date = datetime.date.fromisoformat(chosen["date"])
        return Deadline(text=f"{date.year}年{date.month}月{date.day}日前", date=date)
    if kind == "ongoing":
        return Deadline(text="持续推进", date=None, ongoing=True)
    if kind == "yearly":
        return Deadline(text="每年", date=None, ongoing=True, recurrence="yearly")  # as the parser reads 每年
    return None


def deadline_kind(deadline: Deadline | None) -> str:
    if deadline is None:
        return "none"
    if deadline.recurrence == "yearly":
        return "yearly"
    if deadline.ongoing:
        return "ongoing"
    return "date" if deadline.date else "none"


def edited_measure(measure: ParsedMeasure, edit: Mapping[str, Any]) -> ParsedMeasure:
    """The measure with the clerk's edits (number, text, agencies and roles, deadline) applied."""
    if not edit:
        return measure
    assignments = measure.assignments
    if "assignments" in edit:
        collectives = {a.agency: a.collective for a in measure.assignments}
        assignments = tuple(
            Assignment(a["agency"], a["role"], a.get("collective", collectives.get(a["agency"])))
            for a in edit["assignments"]
        )
    return dataclasses.replace(
        measure,
        number=edit.get("number", measure.number),
        text=edit.get("text", measure.text),
        assignments=assignments,
        deadline=_deadline_of(measure, edit),
    )


def _edited_measures(parsed: ParsedPlan, decisions: Mapping[str, Any]) -> list[tuple[ParsedMeasure, bool]]:
    edits = decisions.get("measures", {})
    return [
        (edited_measure(m, edits.get(measure_key(m), {})), edits.get(measure_key(m), {}).get("include", True))
        for m in parsed.required_measures
    ]


def apply_decisions(
    parsed: ParsedPlan, decisions: Mapping[str, Any]
) -> tuple[ParsedPlan, dict[str, NameDecision]]:
    """The plan as the clerk confirmed it, and the decision for each name decided in the preview.

    Measure edits are applied, excluded measures dropped, ignored names removed from every measure, and the
    plan's title, period and 行政区划 set. Optional measures (not numbered work items) stay as parsed."""
    names = name_decisions(decisions)
    ignored = {name for name, d in names.items() if d.kind == "ignore"}
    kept = []
    for measure, included in _edited_measures(parsed, decisions):
        if not included:
            continue
        if ignored & {a.agency for a in measure.assignments}:
            measure = dataclasses.replace(
                measure, assignments=tuple(a for a in measure.assignments if a.agency not in ignored)
            )
        kept.append(measure)
    kept_lines = {m.line for m in kept}
    optional = [m for m in parsed.measures if m.optional and m.line not in kept_lines]
    measures = tuple(sorted([*kept, *optional], key=lambda m: m.line))
    plan = decisions.get("plan", {})
    edited = dataclasses.replace(
        parsed,
        title=plan.get("title") or parsed.title,
        jurisdiction=plan.get("jurisdiction", parsed.jurisdiction) or parsed.jurisdiction,
        period=plan_period(parsed, decisions),
        measures=measures,
    )
    return edited, {name: d for name, d in names.items() if d.kind != "ignore"}


def excluded_measures(parsed: ParsedPlan, decisions: Mapping[str, Any]) -> list[dict[str, str]]:
    """Number and text of each measure the clerk left out (kept for the plan's to-do list)."""
    return [
        {"number": m.number, "text": m.text}
        for m, included in _edited_measures(parsed, decisions)
        if not included
    ]


# --- suggestions -----------------------------------------------------------------------------------------


def suggest_name(
    name: str, collective: str | None, catalogue: Catalogue
) -> tuple[NameDecision | None, list[Suggestion]]:
    """The decision proposed for an unknown name, and the ranked catalogue matches shown with it. None when
    two agencies fit equally well: like the resolver, the preview never guesses between two."""
    ranked = catalogue.rank(name)
    if is_fragment(name) and collective is None:
        return NameDecision("ignore"), ranked
    if ranked and ranked[0].score >= SUGGEST_SCORE and not (collective and not ranked[0].entry.is_group):
        if len(ranked) > 1 and ranked[1].score == ranked[0].score:
            return None, ranked
        return NameDecision("agency", agency=ranked[0].entry.pk), ranked
    if (collective == "named" or (collective is None and looks_collective(name))) and names_places(name):
        # Only a real choice of places is proposed: one known government would silently stand for all of them.
        governments = catalogue.place_governments()
        if len(governments) >= 2:
            return NameDecision("collective", members=tuple(sorted(e.pk for e in governments))), ranked
    return NameDecision("create"), ranked


def suggest_period(parsed: ParsedPlan) -> tuple[int, int] | None:
    """A period for a plan that states none: the years in its title, else the years of its deadlines."""
    years = sorted({int(y) for y in _YEAR.findall(parsed.title)})
    if not years:
        years = sorted(
            {m.deadline.date.year for m in parsed.required_measures if m.deadline and m.deadline.date}
        )
    return (years[0], years[-1]) if years else None


# --- the grid --------------------------------------------------------------------------------------------


def build_grid(
    parsed: ParsedPlan,
    decisions: Mapping[str, Any],
    catalogue: Catalogue,
    *,
    match_kind: str | None = None,
) -> Preview:
    """Everything the preview page shows. ``match_kind`` says whether an existing plan was found for this
    document ("same" or "revision"); then the clerk must say whether this is its revision or a new plan."""
    decided = name_decisions(decisions)
    plan_data = decisions.get("plan", {})
    period = plan_period(parsed, decisions)
    measures = _edited_measures(parsed, decisions)
    edits = decisions.get("measures", {})

    # Unknown names, each once, in document order (a name added by the clerk counts too).
    resolutions: dict[str, Any] = {}
    counts: dict[str, int] = {}
    collective_of: dict[str, str | None] = {}
    for measure, _included in measures:
        for assignment in measure.assignments:
            if assignment.agency not in resolutions:
                resolutions[assignment.agency] = catalogue.resolve(assignment.agency)
                collective_of[assignment.agency] = assignment.collective
            counts[assignment.agency] = counts.get(assignment.agency, 0) + 1
    names = []
    for name, resolution in resolutions.items():
        if resolution.resolved and name not in decided:
            continue
        suggested, ranked = suggest_name(name, collective_of[name], catalogue)
        names.append(
            NameRow(name, counts[name], collective_of[name], tuple(ranked), suggested, decided.get(name))
        )
    by_name = {n.name: n for n in names}

    rows = []
    needs_period = False
    for measure, included in measures:
        chips = tuple(
            _chip(a, resolutions[a.agency], by_name.get(a.agency), catalogue) for a in measure.assignments
        )
        kind = deadline_kind(measure.deadline)
        if included and kind in ("none", "yearly") and not (measure.deadline and measure.deadline.date):
            needs_period = needs_period or kind == "none"
        rows.append(
            Row(
                key=measure_key(measure),
                number=measure.number,
                text=measure.text,
                section=measure.path[-1] if measure.path else "",
                chips=chips,
                deadline_kind=kind,
                deadline_date=measure.deadline.date if measure.deadline else None,
                deadline_text=measure.deadline.text if measure.deadline else "",
                inferred_date=datetime.date(period[1], 12, 31) if period and kind == "none" else None,
                included=included,
                edited=bool(edits.get(measure_key(measure))),
                and_others=measure.and_others,
            )
        )

    fields = PlanFields(
        title=plan_data.get("title") or parsed.title,
        doc_number=parsed.doc_number or "",
        issuer=parsed.issuer or "",
        jurisdiction=plan_data.get("jurisdiction", parsed.jurisdiction or "") or "",
        period=period,
        period_from_document=parsed.period is not None and "period" not in plan_data,
        suggested_period=None if parsed.period else suggest_period(parsed),
        needs_period=needs_period,
    )
    remaining = []
    if match_kind and plan_data.get("match") not in MATCH_CHOICES:
        remaining.append("match")
    if needs_period and period is None:
        remaining.append("period")
    remaining += [f"name:{n.name}" for n in names if not n.decided]
    log = decisions.get("log", [])
    return Preview(
        plan=fields,
        rows=tuple(rows),
        names=tuple(names),
        remaining=tuple(remaining),
        match_kind=match_kind,
        match_choice=plan_data.get("match"),
        corrections=sum(1 for entry in log if entry["kind"] == "correction"),
        suggestions=sum(1 for entry in log if entry["kind"] == "suggestion"),
    )


def _chip(assignment: Assignment, resolution, name_row: NameRow | None, catalogue: Catalogue) -> Chip:
    if name_row is None:
        return Chip(assignment.agency, assignment.role, resolution.entry.name, "known", assignment.collective)
    decision = name_row.decision
    if decision is None:
        return Chip(assignment.agency, assignment.role, assignment.agency, "pending", assignment.collective)
    if decision.kind == "agency":
        entry = catalogue.get(decision.agency)
        label = entry.name if entry else assignment.agency
        return Chip(assignment.agency, assignment.role, label, "decided", assignment.collective)
    if decision.kind == "collective":
        members = [catalogue.get(pk) for pk in decision.members]
        names = tuple(m.name for m in members if m)
        return Chip(
            assignment.agency, assignment.role, assignment.agency, "collective", assignment.collective, names
        )
    state = "ignored" if decision.kind == "ignore" else "create"
    return Chip(assignment.agency, assignment.role, assignment.agency, state, assignment.collective)


# --- changing the decisions (each returns a new dict; ``now`` is passed in) ------------------------------


def _logged(decisions: Mapping[str, Any], target: str, *, suggested: bool, now: datetime.datetime) -> dict:
    entry = {"kind": "suggestion" if suggested else "correction", "target": target, "at": now.isoformat()}
    return {**decisions, "log": [*decisions.get("log", []), entry]}


def decide_name(
    decisions: Mapping[str, Any],
    *,
    name: str,
    decision: NameDecision,
    suggested: NameDecision | None,
    now: datetime.datetime,
) -> dict:
    if decision.kind == "collective" and not decision.members:
        raise DecisionError(f"请为“{name}”选择至少一个成员单位。")
    names = {**decisions.get("names", {}), name: decision.to_data()}
    return _logged({**decisions, "names": names}, f"name:{name}", suggested=decision == suggested, now=now)


def accept_suggestions(decisions: Mapping[str, Any], preview: Preview, *, now: datetime.datetime) -> dict:
    """Take every pending suggestion: the plan's revision match, its period, each unknown name."""
    decisions = dict(decisions)
    if "match" in preview.remaining:
        decisions = set_plan(decisions, match="revision", suggested=True, now=now)
    if "period" in preview.remaining and preview.plan.suggested_period:
        decisions = set_plan(decisions, period=preview.plan.suggested_period, suggested=True, now=now)
    for row in preview.pending_names:
        if row.suggested is None:
            continue
        decisions = decide_name(
            decisions, name=row.name, decision=row.suggested, suggested=row.suggested, now=now
        )
    return decisions


def set_plan(
    decisions: Mapping[str, Any],
    *,
    now: datetime.datetime,
    suggested: bool = False,
    title: str | None = None,
    jurisdiction: str | None = None,
    period: tuple[int, int] | None = None,
    match: str | None = None,
) -> dict:
    plan = dict(decisions.get("plan", {}))
    changes = {}
    if title is not None:
        if not title.strip() or len(title.strip()) > 300:
            raise DecisionError("计划名称不能为空,最多 300 字。")
        changes["title"] = title.strip()
    if jurisdiction is not None:
        if len(jurisdiction.strip()) > 50:
            raise DecisionError("行政区划最多 50 字。")
        changes["jurisdiction"] = jurisdiction.strip()
    if period is not None:
        start, end = period
        if not (1949 < start <= end < 2200):
            raise DecisionError("计划期限应为起止年份,如 2024—2025,且截止年份不早于起始年份。")
        changes["period"] = [start, end]
    if match is not None:
        if match not in MATCH_CHOICES:
            raise DecisionError("请说明这是原计划的修订版,还是一份新计划。")
        changes["match"] = match
    changed = {k: v for k, v in changes.items() if plan.get(k) != v}
    if not changed:
        return dict(decisions)
    plan.update(changed)
    target = "plan:" + ",".join(sorted(changed))
    return _logged({**decisions, "plan": plan}, target, suggested=suggested, now=now)


def edit_measure(
    decisions: Mapping[str, Any],
    parsed: ParsedPlan,
    *,
    key: str,
    now: datetime.datetime,
    number: str | None = None,
    text: str | None = None,
    include: bool | None = None,
    deadline: Mapping[str, Any] | None = None,
    assignments: list[Mapping[str, Any]] | None = None,
) -> dict:
    """Save the clerk's edit of one measure: one correction, or nothing when nothing changed."""
    original = next((m for m in parsed.required_measures if measure_key(m) == key), None)
    if original is None:
        raise DecisionError("找不到这条措施,请刷新预览后重试。")
    edits = dict(decisions.get("measures", {}))
    edit = dict(edits.get(key, {}))
    current = edited_measure(original, edit)
    if number is not None and number.strip() != current.number:
        if not number.strip():
            raise DecisionError("序号不能为空。")
        taken = {
            m.number
            for m, included in _edited_measures(parsed, decisions)
            if included and m.line != original.line
        }
        if number.strip()[:30] in taken:
            raise DecisionError(f"序号“{number.strip()}”已被另一条措施使用,同一计划中的序号不能重复。")
        edit["number"] = number.strip()[:30]
    if text is not None and text.strip() != current.text:
        if not text.strip():
            raise DecisionError("任务内容不能为空;不需要这条措施时请选择“不导入”。")
        edit["text"] = text.strip()
    if include is not None and include != edit.get("include", True):
        edit["include"] = include
    if deadline is not None:
        chosen = _clean_deadline(deadline)
        if chosen != _deadline_data(current.deadline):
            edit["deadline"] = chosen
    if assignments is not None:
        cleaned = _clean_assignments(assignments)
        if cleaned != [{"agency": a.agency, "role": a.role} for a in current.assignments]:
            edit["assignments"] = cleaned
    if edit == edits.get(key, {}):
        return dict(decisions)
    edits[key] = edit
    return _logged({**decisions, "measures": edits}, f"measure:{key}", suggested=False, now=now)


def _deadline_data(deadline: Deadline | None) -> dict[str, str]:
    kind = deadline_kind(deadline)
    return {"kind": kind, "date": deadline.date.isoformat()} if kind == "date" else {"kind": kind}


def _clean_deadline(deadline: Mapping[str, Any]) -> dict[str, str]:
    kind = deadline.get("kind")
    if kind not in DEADLINE_KINDS:
        raise DecisionError("请选择完成时限:具体日期、持续推进、每年或未写明。")
    if kind != "date":
        return {"kind": kind}
    try:
        date = datetime.date.fromisoformat(str(deadline.get("date", "")))
    except ValueError:
        raise DecisionError("请填写有效的日期,如 2026-06-30。") from None
    return {"kind": "date", "date": date.isoformat()}


def _clean_assignments(assignments: list[Mapping[str, Any]]) -> list[dict[str, str]]:
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for assignment in assignments:
        name = str(assignment.get("agency", "")).strip()
        role = assignment.get("role")
        if not name:
            continue
        if role not in ROLES:
            raise DecisionError("角色应为牵头、配合或负责。")
        if len(name) > 100:
            raise DecisionError("单位名称过长(最多 100 字)。")
        if name in seen:
            continue
        seen.add(name)
        cleaned.append({"agency": name, "role": role})
    return cleaned


def tally(decisions: Mapping[str, Any]) -> dict[str, int]:
    """How much work the clerk did: corrections and accepted suggestions, from the log."""
    log = decisions.get("log", [])
    return {
        "corrections": sum(1 for e in log if e["kind"] == "correction"),
        "suggestions": sum(1 for e in log if e["kind"] == "suggestion"),
    }
