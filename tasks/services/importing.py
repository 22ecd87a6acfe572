"""Persist a parsed plan document: one transaction, idempotent, amendments update in place.

The parser (``tasks.parsing``) turns a file into frozen dataclasses; this module resolves agency names against
the catalogue, and writes Plan → Section → Measure → Task and indicators. Re-importing the same file changes
nothing; an amended file updates measures matched by number (then by text), keeps every task's progress and
flags measures that disappeared instead of deleting them.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

from agencies.models import Agency
from agencies.resolution import AgencyMatch, AgencyResolver
from tasks.models import Indicator, Measure, Plan, Section, Task
from tasks.parsing import ParsedMeasure, ParsedPlan, parse_bytes
from tasks.status import period_of

CREATE = "create"  # decision for an unknown name: create it as an unconfirmed agency


@dataclass
class PreviewMeasure:
    measure: ParsedMeasure
    matches: list[tuple[str, AgencyMatch]]  # (role, match) per assignment


@dataclass
class ImportPreview:
    plan: ParsedPlan
    jurisdiction: str
    measures: list[PreviewMeasure]
    unresolved: list[AgencyMatch]  # unknown or ambiguous names, each once, in document order
    existing_plan: Plan | None
    unchanged: bool  # the very same file was imported before

    @property
    def task_count(self) -> int:
        return sum(len(m.matches) for m in self.measures)


@dataclass
class ImportResult:
    plan: Plan
    created: bool = False
    unchanged: bool = False
    measures_created: int = 0
    measures_updated: int = 0
    measures_removed: int = 0
    tasks_created: int = 0
    tasks_updated: int = 0
    tasks_removed: int = 0
    agencies_created: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def summary(self) -> str:
        if self.unchanged:
            return f"《{self.plan.title}》与已导入的文件相同,未作改动。"
        verb = "已导入" if self.created else "已更新"
        parts = [
            f"{verb}《{self.plan.title}》:新增措施 {self.measures_created} 条",
            f"更新 {self.measures_updated} 条",
            f"标记移除 {self.measures_removed} 条",
            f"新增任务 {self.tasks_created} 项",
            f"更新任务 {self.tasks_updated} 项",
        ]
        if self.tasks_removed:
            parts.append(f"撤销未开展的任务 {self.tasks_removed} 项")
        if self.agencies_created:
            parts.append(f"新建未确认单位 {len(self.agencies_created)} 个")
        return ",".join(parts) + "。"


class _DryRun(Exception):
    def __init__(self, result: ImportResult):
        self.result = result


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def find_existing_plan(parsed: ParsedPlan, jurisdiction: str, digest: str | None) -> Plan | None:
    if digest:
        same_file = Plan.objects.filter(source_sha256=digest).first()
        if same_file:
            return same_file
    return Plan.objects.filter(title=parsed.title, jurisdiction=jurisdiction).order_by("pk").first()


def build_preview(
    parsed: ParsedPlan, *, jurisdiction: str | None = None, digest: str | None = None
) -> ImportPreview:
    jurisdiction = jurisdiction or parsed.jurisdiction or ""
    resolver = AgencyResolver(jurisdiction)
    measures, unresolved, seen = [], [], set()
    for parsed_measure in parsed.required_measures:
        matches = []
        for assignment in parsed_measure.assignments:
            match = resolver.resolve(assignment.agency)
            matches.append((assignment.role, match))
            if not match.resolved and match.name not in seen:
                seen.add(match.name)
                unresolved.append(match)
        measures.append(PreviewMeasure(parsed_measure, matches))
    existing = find_existing_plan(parsed, jurisdiction, digest)
    return ImportPreview(
        plan=parsed,
        jurisdiction=jurisdiction,
        measures=measures,
        unresolved=unresolved,
        existing_plan=existing,
        unchanged=bool(existing and digest and existing.source_sha256 == digest),
    )


def import_plan(
    *,
    parsed: ParsedPlan,
    data: bytes | None = None,
    source_name: str = "",
    jurisdiction: str | None = None,
    decisions: Mapping[str, Agency | str] | None = None,
    user=None,
    dry_run: bool = False,
    today: datetime.date | None = None,
) -> ImportResult:
    """Write the parse in one transaction. ``decisions`` maps an unresolved name to an Agency or ``CREATE``
    (the default for names without a decision). With ``dry_run`` everything is computed and rolled back."""
    try:
        with transaction.atomic():
            result = _import(
                parsed=parsed,
                data=data,
                source_name=source_name,
                jurisdiction=jurisdiction or parsed.jurisdiction or "",
                decisions=decisions or {},
                user=user,
                today=today or timezone.localdate(),
                dry_run=dry_run,
            )
            if dry_run:
                raise _DryRun(result)
            return result
    except _DryRun as rolled_back:
        return rolled_back.result


def _import(*, parsed, data, source_name, jurisdiction, decisions, user, today, dry_run) -> ImportResult:
    digest = sha256(data) if data is not None else None
    plan = find_existing_plan(parsed, jurisdiction, digest)
    if plan and digest and plan.source_sha256 == digest:
        return ImportResult(plan=plan, unchanged=True)

    created = plan is None
    if created:
        plan = Plan(title=parsed.title, jurisdiction=jurisdiction)
    plan.doc_number = parsed.doc_number or plan.doc_number
    plan.issuer = parsed.issuer or plan.issuer
    if parsed.period:
        plan.period_start, plan.period_end = parsed.period
    plan.source_name = source_name or plan.source_name
    plan.source_sha256 = digest or plan.source_sha256
    plan.imported_at = timezone.now()
    plan.imported_by = user if user and user.is_authenticated else plan.imported_by
    plan.save()
    if data is not None and not dry_run:
        plan.source_file.save(Path(source_name or "plan.txt").name, ContentFile(data), save=True)

    result = ImportResult(plan=plan, created=created, warnings=list(parsed.warnings))
    resolver = AgencyResolver(jurisdiction)
    sections = _SectionTree(plan)
    existing = {m.number: m for m in plan.measures.all()}
    by_text = {m.text: m for m in existing.values()}
    kept: set[int] = set()

    matched: list[tuple[Measure, ParsedMeasure]] = []
    new: list[tuple[Measure, ParsedMeasure]] = []
    for parsed_measure in parsed.required_measures:
        measure = existing.get(parsed_measure.number)
        if measure is None:
            measure = by_text.get(parsed_measure.text)
            if measure is not None and measure.pk in kept:
                measure = None
        fields = _measure_fields(parsed_measure, sections.section_for(parsed_measure.path))
        if measure is None:
            new.append((Measure(plan=plan, **fields), parsed_measure))
            continue
        if any(getattr(measure, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(measure, name, value)
            measure.save()
            result.measures_updated += 1
        kept.add(measure.pk)
        matched.append((measure, parsed_measure))
    # A new plan's measures and tasks go in with a few bulk inserts (and their history rows).
    bulk_create_with_history([measure for measure, _ in new], Measure, batch_size=500)
    result.measures_created = len(new)
    kept |= {measure.pk for measure, _ in new}

    current: dict[int, dict[int, Task]] = defaultdict(dict)
    for task in Task.objects.filter(measure__in=[m for m, _ in matched]):
        current[task.measure_id][task.agency_id] = task
    pending: list[Task] = []
    for measure, parsed_measure in matched + new:
        _sync_tasks(
            measure,
            parsed_measure,
            plan,
            resolver,
            decisions,
            today,
            result,
            current=current[measure.pk],
            pending=pending,
        )
    bulk_create_with_history(pending, Task, batch_size=500)

    vanished = plan.measures.exclude(pk__in=kept).filter(is_removed=False, is_manual=False)
    result.measures_removed = vanished.update(is_removed=True, updated_at=timezone.now())
    if result.measures_removed:
        result.warnings.append(
            f"新版文件中已没有 {result.measures_removed} 条原有措施,已标记为“已移除”,其任务和进展保留。"
        )

    for position, parsed_indicator in enumerate(parsed.indicators, start=1):
        Indicator.objects.update_or_create(
            plan=plan,
            name=parsed_indicator.name,
            defaults={
                "category": parsed_indicator.category or "",
                "unit": parsed_indicator.unit or "",
                "baseline": parsed_indicator.baseline or "",
                "baseline_year": parsed_indicator.baseline_year,
                "target": parsed_indicator.target or "",
                "target_year": parsed_indicator.target_year,
                "attribute": parsed_indicator.attribute or "",
                "position": position,
            },
        )
    return result


def _measure_fields(parsed_measure: ParsedMeasure, section: Section | None) -> dict:
    deadline = parsed_measure.deadline
    return {
        "number": parsed_measure.number,
        "section": section,
        "text": parsed_measure.text,
        "position": parsed_measure.line,
        "raw_clause": parsed_measure.clause or "",
        "raw_deadline": deadline.text if deadline else "",
        "deadline_date": deadline.date if deadline else None,
        "is_ongoing": bool(deadline and deadline.ongoing),
        "is_yearly": bool(deadline and deadline.recurrence == "yearly"),
        "is_removed": False,
    }


def _resolve(
    name: str, resolver: AgencyResolver, decisions, jurisdiction: str, result: ImportResult
) -> Agency:
    decision = decisions.get(name)
    if isinstance(decision, Agency):
        if name != decision.name and not decision.aliases.filter(name=name).exists():
            decision.aliases.create(name=name)  # remember the spelling for the next import
        resolver.add(decision)
        return decision
    match = resolver.resolve(name)
    if match.resolved:
        return match.agency
    agency, made = Agency.objects.get_or_create(
        jurisdiction=jurisdiction,
        name=name,
        defaults={
            "is_confirmed": False,
            "is_group": name.startswith("各") or name.endswith("成员单位"),
            "kind": Agency.Kind.GROUP
            if name.startswith("各") or name.endswith("成员单位")
            else Agency.Kind.OTHER,
        },
    )
    if made:
        result.agencies_created.append(name)
    resolver.add(agency)
    return agency


def _sync_tasks(
    measure, parsed_measure, plan, resolver, decisions, today, result, *, current=None, pending=None
):
    """Make the measure's tasks match the parsed assignments. New tasks are appended to ``pending`` for the
    caller to bulk-insert, or inserted here when no list is given; tasks with progress are never dropped."""
    deadline = parsed_measure.deadline
    ongoing = bool(deadline and deadline.ongoing)
    due_date = deadline.date if deadline and deadline.date else None
    inferred = not ongoing and due_date is None and plan.period_end_date is not None
    if inferred:
        due_date = plan.period_end_date
    next_report_due = (
        period_of(today, plan.reporting_cycle).report_deadline(plan.report_due_day) if ongoing else None
    )

    wanted: dict[int, tuple[Agency, str]] = {}
    for assignment in parsed_measure.assignments:
        agency = _resolve(assignment.agency, resolver, decisions, plan.jurisdiction, result)
        # A group whose members are known stands for its members; otherwise the group itself is assigned.
        targets = resolver.members_of(agency) if agency.is_group else []
        for target in targets or [agency]:
            if target.pk not in wanted or assignment.role == Task.Role.LEAD:
                wanted[target.pk] = (target, assignment.role)

    if current is None:
        current = {task.agency_id: task for task in measure.tasks.all()}
    created: list[Task] = []
    for agency_id, (agency, role) in wanted.items():
        task = current.get(agency_id)
        if task is None:
            created.append(
                Task(
                    measure=measure,
                    agency=agency,
                    role=role,
                    due_date=None if ongoing else due_date,
                    due_date_inferred=inferred,
                    is_ongoing=ongoing,
                    next_report_due=next_report_due,
                )
            )
            result.tasks_created += 1
            continue
        changes = {"role": role, "is_ongoing": ongoing, "due_date_inferred": inferred}
        if task.original_due_date is None:  # an approved extension keeps its own due date
            changes["due_date"] = None if ongoing else due_date
        if ongoing and task.next_report_due is None:
            changes["next_report_due"] = next_report_due
        if any(getattr(task, name) != value for name, value in changes.items()):
            for name, value in changes.items():
                setattr(task, name, value)
            task.save()
            result.tasks_updated += 1

    for agency_id, task in current.items():
        if agency_id in wanted:
            continue
        if task.updates.exists() or task.status != Task.Status.NOT_STARTED:
            result.warnings.append(
                f"措施 {measure.number}:新版文件不再列出“{task.agency}”,其任务已有进展,予以保留。"
            )
        else:
            task.delete()
            result.tasks_removed += 1
    if pending is None:
        bulk_create_with_history(created, Task)
    else:
        pending.extend(created)


class _SectionTree:
    """Get-or-create sections by their heading chain, caching what this import has seen."""

    def __init__(self, plan: Plan):
        self.plan = plan
        self.cache: dict[tuple[str, ...], Section] = {}
        for section in plan.sections.select_related("parent"):
            self.cache.setdefault(tuple(section.path), section)
        self.position = max((s.position for s in self.cache.values()), default=0)

    def section_for(self, path: Iterable[str]) -> Section | None:
        path = tuple(path)
        if not path:
            return None
        if path not in self.cache:
            parent = self.section_for(path[:-1])
            self.position += 1
            self.cache[path] = Section.objects.create(
                plan=self.plan, parent=parent, heading=path[-1][:500], level=len(path), position=self.position
            )
        return self.cache[path]


def import_file(
    path: Path, *, jurisdiction: str | None = None, user=None, dry_run: bool = False
) -> ImportResult:
    data = Path(path).read_bytes()
    parsed = parse_bytes(data, Path(path).name)
    return import_plan(
        parsed=parsed,
        data=data,
        source_name=Path(path).name,
        jurisdiction=jurisdiction,
        user=user,
        dry_run=dry_run,
    )


def import_seed_files(paths: Iterable[Path]) -> Iterator[str]:
    """Import each seed document (used by ``make run``); yields one line per file."""
    for path in paths:
        result = import_file(path)
        yield f"{path.name}: {result.summary()}"
