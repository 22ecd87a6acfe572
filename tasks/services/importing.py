"""Persist a parsed plan document: recognise the plan, describe the revision, commit it in one transaction.

The parser (``tasks.parsing``) turns a file into frozen dataclasses; this module

1. recognises a plan already imported by its content, whatever the format (``find_existing_plan``): the same
   normalised content is "the same plan, nothing to do"; a high overlap of measure openings is a revision;
2. pairs old and new measures by text first (``imports.match.align``; the number only breaks ties) and
   describes the revision as data (``plan_diff`` → ``PlanDiff``: added, removed, changed, renumbered);
3. commits it (``import_plan``): matched measures keep their Measure and Task rows, so progress, 签收,
   extension requests and reminder history stay where they belong; removed measures are flagged, never
   deleted; an agency dropped from a measure with history is kept and flagged. Each confirmed change is a
   ``PlanRevision``. Re-running an import changes nothing.

Names are resolved against the agency catalogue; the clerk's decisions (``decisions``) map a name to an
agency, ``"create"`` (an unconfirmed agency, the unattended default), ``"ignore"``, or a ``Collective``.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from agencies.models import Agency
from agencies.resolution import AgencyMatch, AgencyResolver
from agencies.services import set_collective_members
from tasks import sortkey
from tasks.bulkwrite import blueprint, update_rows
from tasks.models import Indicator, Measure, Plan, PlanRevision, Section, Task
from tasks.parsing import ParsedMeasure, ParsedPlan, parse_bytes
from tasks.status import period_of

from .bulk_history import bulk_create_with_history, record_changed
from .imports.diff import (
    AgencyRole,
    Change,
    MeasureChange,
    MeasureSummary,
    PlanDiff,
    Renumbering,
    sorted_roles,
)
from .imports.match import (
    REVISION_OVERLAP,
    Item,
    align,
    content_fingerprint,
    jaccard,
    measure_key,
    normalise_text,
)

CREATE = "create"  # decision for an unknown name: create it as an unconfirmed agency (the unattended default)
IGNORE = "ignore"  # decision for a name: no task for it


@dataclass(frozen=True)
class Collective:
    """Decision for a name: a named collective (各区、县（市）) standing for these member agencies. The group
    agency is created or updated with its members and remembered for the jurisdiction's later plans."""

    members: tuple[Agency, ...]

    def __post_init__(self):
        object.__setattr__(self, "members", tuple(self.members))


NameDecision = Agency | str | Collective


class DecisionDataError(ValueError):
    """Decisions given as data (a JSON file) that cannot be used; the message is Chinese, for the user."""


def name_decisions_from_data(names: Mapping[str, object], *, jurisdiction: str) -> dict[str, NameDecision]:
    """The ``names`` part of the preview's decisions (``ImportDraft.decisions``) as ``import_plan`` takes them:
    ``{"区数据局": {"kind": "agency", "agency": 17}, "单位": {"kind": "ignore"},
    "各区、县（市）": {"kind": "collective", "members": [3, 4]}, "区档案馆": {"kind": "create"}}``.
    An agency may also be given by its name in the jurisdiction (handy on the command line)."""
    resolver = AgencyResolver(jurisdiction)

    def agency(ref) -> Agency:
        if isinstance(ref, int) and not isinstance(ref, bool):
            found = Agency.objects.filter(pk=ref).first()
        elif isinstance(ref, str):
            found = resolver.resolve(ref).agency
        else:
            found = None
        if found is None:
            raise DecisionDataError(f"找不到单位“{ref}”。")
        return found

    chosen: dict[str, NameDecision] = {}
    for name, data in names.items():
        kind = data.get("kind") if isinstance(data, Mapping) else data
        if kind == "agency":
            chosen[name] = agency(data.get("agency"))
        elif kind == "collective":
            chosen[name] = Collective(members=[agency(ref) for ref in data.get("members", ())])
        elif kind in (CREATE, IGNORE):
            chosen[name] = kind
        else:
            raise DecisionDataError(f"无法识别对“{name}”的处理方式:{kind}")
    return chosen


@dataclass(frozen=True)
class PlanMatch:
    """Is a parsed plan one we already have? ``kind`` "same" (identical normalised content or the very same
    file), "revision" (most measure openings shared), or None (a new plan)."""

    plan: Plan | None = None
    kind: str | None = None
    overlap: float = 0.0


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def fingerprint(parsed: ParsedPlan) -> str:
    """The plan's normalised content digest (equal for txt in any encoding, html and docx)."""
    return content_fingerprint(
        (
            (m.number, m.text, m.clause or "", m.deadline.text if m.deadline else "")
            for m in parsed.required_measures
        ),
        ((i.name, i.target or "") for i in parsed.indicators),
    )


def same_plan_query(content: str, digest: str | None) -> QuerySet[Plan]:
    """The plan with this content fingerprint, else the one imported from this very file: one query over
    both indexes (a BitmapOr on PostgreSQL), the fingerprint first."""
    lookup = Q(content_fingerprint=content)
    if digest:
        lookup |= Q(source_sha256=digest)
    return (
        Plan.objects.filter(lookup)
        .annotate(by_file=Case(When(content_fingerprint=content, then=Value(0)), default=Value(1)))
        .order_by("by_file", "pk")
    )


def shared_openings_query(keys: set[str]) -> QuerySet:
    """``(plan id, measure openings shared)`` of the five plans sharing most (``Measure.match_key`` index)."""
    return (
        Measure.objects.filter(is_removed=False, match_key__in=keys)
        .values_list("plan_id")
        .annotate(shared=Count("match_key", distinct=True))
        .order_by("-shared")[:5]
    )


def find_existing_plan(
    parsed: ParsedPlan, jurisdiction: str | None = None, digest: str | None = None, content: str | None = None
) -> PlanMatch:
    """Recognise a plan by content, never by title or 行政区划 (the same page can be detected with another one).

    Two indexed lookups, whatever the number of plans: the content fingerprint or the file digest (one query,
    the fingerprint first), then the plans sharing measure openings (``Measure.match_key``), scored by Jaccard
    overlap. ``jurisdiction`` only breaks ties between equally good candidates. bench/import_bench.py shows
    both queries' plans (EXPLAIN ANALYZE) among 1,000 plans.
    """
    same = same_plan_query(content or fingerprint(parsed), digest).first()  # content: fingerprint(parsed)
    if same is not None:
        return PlanMatch(plan=same, kind="same", overlap=1.0)
    keys = {measure_key(m.text) for m in parsed.required_measures} - {""}
    if not keys:
        return PlanMatch()
    shared = dict(shared_openings_query(keys))
    if not shared:
        return PlanMatch()
    # The candidates with their number of live openings, in one query.
    plans = Plan.objects.filter(pk__in=list(shared)).annotate(
        size=Count("measures__match_key", filter=Q(measures__is_removed=False), distinct=True)
    )
    scored = sorted(
        ((jaccard(shared[plan.pk], len(keys), plan.size or shared[plan.pk]), plan) for plan in plans),
        key=lambda pair: (-pair[0], pair[1].jurisdiction != (jurisdiction or ""), pair[1].pk),
    )
    overlap, best = scored[0]
    if overlap == 1.0 and _same_content(parsed, best, jurisdiction):
        return PlanMatch(plan=best, kind="same", overlap=1.0)
    if overlap >= REVISION_OVERLAP:
        return PlanMatch(plan=best, kind="revision", overlap=overlap)
    return PlanMatch(plan=None, kind=None, overlap=overlap)


def _same_content(parsed: ParsedPlan, plan: Plan, jurisdiction: str | None) -> bool:
    """The same measures, numbers, agencies, roles and deadlines as ``plan``, written in another format (the
    分工表 of a plan imported from its document): what the fingerprint, which hashes the clause as written,
    cannot see. Only asked when every measure opening is shared, so it costs one diff of a likely twin."""
    if len(parsed.required_measures) != plan.measures.filter(is_removed=False, is_manual=False).count():
        return False
    diff = plan_diff(parsed, plan, jurisdiction=jurisdiction)
    return diff.is_empty


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
    unchanged: bool  # the same content was imported before (any format)
    match: PlanMatch | None = None

    @property
    def task_count(self) -> int:
        return sum(len(m.matches) for m in self.measures)


# --- who gets a task: names → agencies (groups fanned out to members) ---------------------------------------


@dataclass
class _Want:
    key: int | str  # the agency's pk, or "new:<name>" for an agency the import would create
    name: str
    role: str
    agency: Agency | None = None
    collective: Agency | None = None  # the group a member's task comes through
    needs_resolution: bool = False  # a group without members holds the task itself

    def as_role(self) -> AgencyRole:
        return AgencyRole(
            name=self.name,
            role=self.role,
            is_new=self.agency is None or not self.agency.is_confirmed,
            needs_resolution=self.needs_resolution,
        )


def _looks_collective(name: str) -> bool:
    return name.startswith("各") or name.endswith(("成员单位", "有关部门", "有关单位"))


class _Assignments:
    """Resolves a measure's assignments to the agencies that get a task. With ``write`` it creates what the
    decisions ask for (unconfirmed agencies, aliases, collectives); without, it only describes (for a diff)."""

    def __init__(
        self,
        *,
        resolver: AgencyResolver,
        decisions: Mapping[str, NameDecision],
        jurisdiction: str,
        write: bool,
        result: ImportResult | None = None,
    ):
        self.resolver = resolver
        self.decisions = decisions
        self.jurisdiction = jurisdiction
        self.write = write
        self.result = result
        self.done_collectives: set[str] = set()

    def wanted(self, parsed_measure: ParsedMeasure) -> dict[int | str, _Want]:
        wanted: dict[int | str, _Want] = {}
        for assignment in parsed_measure.assignments:
            name, role = assignment.agency, assignment.role
            decision = self.decisions.get(name)
            if decision == IGNORE:
                continue
            if isinstance(decision, Collective):
                group = self._collective(name, decision)
                known = self.resolver.members_of(group) if group is not None else []
                members = list({m.pk: m for m in [*known, *decision.members]}.values())
            else:
                group = self._agency(name, decision, assignment.collective)
                if group is None:  # described only: an agency the import would create
                    is_group = assignment.collective is not None or _looks_collective(name)
                    self._add(wanted, _Want(f"new:{name}", name, role, needs_resolution=is_group))
                    continue
                members = self.resolver.members_of(group) if group.is_group else []
            if not members and group is None:  # described only: a collective to be made, without members
                self._add(wanted, _Want(f"new:{name}", name, role, needs_resolution=True))
                continue
            if not members:
                flagged = group.is_group
                self._add(wanted, _Want(group.pk, group.name, role, group, needs_resolution=flagged))
                continue
            for member in members:
                self._add(wanted, _Want(member.pk, member.name, role, member, collective=group))
        return wanted

    @staticmethod
    def _add(wanted: dict, want: _Want) -> None:
        """The same agency named twice: 牵头 wins, and a direct assignment beats one through a collective."""
        known = wanted.get(want.key)
        if known is None:
            wanted[want.key] = want
            return
        if want.role == Task.Role.LEAD:
            known.role = want.role
        if want.collective is None:
            known.collective = None

    def _agency(self, name: str, decision, collective_kind: str | None) -> Agency | None:
        if isinstance(decision, Agency):
            if self.write and name != decision.name and not decision.aliases.filter(name=name).exists():
                decision.aliases.create(name=name)  # remember the spelling for the next import
            self.resolver.add(decision)
            return decision
        match = self.resolver.resolve(name)
        if match.resolved:
            return match.agency
        if not self.write:
            return None
        is_group = collective_kind is not None or _looks_collective(name)
        agency, made = Agency.objects.get_or_create(
            jurisdiction=self.jurisdiction,
            name=name,
            defaults={
                "is_confirmed": False,
                "is_group": is_group,
                "kind": Agency.Kind.GROUP if is_group else Agency.Kind.OTHER,
            },
        )
        if made and self.result is not None:
            self.result.agencies_created.append(name)
        self.resolver.add(agency)
        return agency

    def apply_collectives(self, parsed: ParsedPlan) -> bool:
        """Write the collective decisions for names in the plan before tasks are synced (their members'
        existing tasks fan out now, so the caller reads tasks afterwards). True if any was applied."""
        named = {a.agency for m in parsed.required_measures for a in m.assignments}
        applied = False
        for name, decision in self.decisions.items():
            if isinstance(decision, Collective) and name in named:
                self._collective(name, decision)
                applied = True
        return applied

    def _collective(self, name: str, decision: Collective) -> Agency | None:
        match = self.resolver.resolve(name)
        group = match.agency if match.resolved else None
        if not self.write:
            return group
        if name in self.done_collectives:
            return group
        if group is None:
            group, _made = Agency.objects.get_or_create(
                jurisdiction=self.jurisdiction,
                name=name,
                defaults={"is_group": True, "kind": Agency.Kind.GROUP},
            )
            self.resolver.add(group)
        # Members join the group (for this and later plans) and its existing tasks fan out to them.
        set_collective_members(group=group, members=decision.members)
        self.resolver.forget_members(group)
        self.done_collectives.add(name)
        return group


# --- aligning a parse with a stored plan, and the diff ---------------------------------------------------------


@dataclass
class _Alignment:
    pairs: list[tuple[Measure, ParsedMeasure, float]]
    added: list[ParsedMeasure]
    removed: list[Measure]


def _align(parsed: ParsedPlan, plan: Plan | None) -> _Alignment:
    new = list(parsed.required_measures)
    if plan is None or plan.pk is None:
        return _Alignment(pairs=[], added=new, removed=[])
    old = list(plan.measures.filter(is_removed=False).order_by("position", "pk"))
    pairs = align([Item(m.number, m.text) for m in old], [Item(m.number, m.text) for m in new])
    paired_old = {pair.old for pair in pairs}
    paired_new = {pair.new for pair in pairs}
    return _Alignment(
        pairs=[(old[pair.old], new[pair.new], pair.score) for pair in pairs],
        added=[m for j, m in enumerate(new) if j not in paired_new],
        # measures added by hand in the admin are not in any file: never removed by an import
        removed=[m for i, m in enumerate(old) if i not in paired_old and not m.is_manual],
    )


def _deadline_label(text: str, date: datetime.date | None, ongoing: bool) -> str:
    if date and text:
        return f"{text}({date.isoformat()})"
    return text or (date.isoformat() if date else ("持续推进" if ongoing else ""))


def _parsed_deadline_label(parsed_measure: ParsedMeasure) -> str:
    deadline = parsed_measure.deadline
    if deadline is None:
        return ""
    return _deadline_label(deadline.text, deadline.date, bool(deadline.ongoing))


def _stored_deadline_label(measure: Measure) -> str:
    return _deadline_label(measure.raw_deadline, measure.deadline_date, measure.is_ongoing)


def _parsed_deadline(parsed_measure: ParsedMeasure) -> tuple:
    deadline = parsed_measure.deadline
    if deadline is None:
        return (None, False, False)
    return (deadline.date, bool(deadline.ongoing), deadline.recurrence == "yearly")


def _build_diff(
    plan: Plan | None, alignment: _Alignment, assignments: _Assignments, tasks: dict[int, list[Task]]
) -> PlanDiff:
    diff = PlanDiff(plan_id=plan.pk if plan else None, plan_title=plan.title if plan else "")
    for parsed_measure in alignment.added:
        diff.added.append(
            MeasureSummary(
                number=parsed_measure.number,
                text=parsed_measure.text,
                agencies=sorted_roles(w.as_role() for w in assignments.wanted(parsed_measure).values()),
                deadline=_parsed_deadline_label(parsed_measure),
            )
        )
    with_history = _with_history([task for m in alignment.removed for task in tasks.get(m.pk, [])])
    for measure in alignment.removed:
        diff.removed.append(
            MeasureSummary(
                number=measure.number,
                text=measure.text,
                agencies=sorted_roles(
                    AgencyRole(t.agency.name, t.role)
                    for t in tasks.get(measure.pk, [])
                    if not t.dropped_from_plan
                ),
                deadline=_stored_deadline_label(measure),
                has_history=any(t.pk in with_history for t in tasks.get(measure.pk, [])),
            )
        )
    for measure, parsed_measure, score in alignment.pairs:
        text = None
        if normalise_text(measure.text) != normalise_text(parsed_measure.text):
            text = Change(measure.text, parsed_measure.text)
        current = {t.agency_id: t for t in tasks.get(measure.pk, []) if not t.dropped_from_plan}
        wanted = assignments.wanted(parsed_measure)
        agencies = None
        if {k: w.role for k, w in wanted.items()} != {k: t.role for k, t in current.items()}:
            agencies = Change(
                sorted_roles(
                    AgencyRole(t.agency.name, t.role, needs_resolution=t.needs_resolution)
                    for t in current.values()
                ),
                sorted_roles(w.as_role() for w in wanted.values()),
            )
        deadline = None
        if (measure.deadline_date, measure.is_ongoing, measure.is_yearly) != _parsed_deadline(parsed_measure):
            deadline = Change(_stored_deadline_label(measure), _parsed_deadline_label(parsed_measure))
        if text or agencies or deadline:
            diff.changed.append(
                MeasureChange(
                    number=parsed_measure.number,
                    old_number=measure.number,
                    score=round(score, 3),
                    text=text,
                    agencies=agencies,
                    deadline=deadline,
                )
            )
        if measure.number != parsed_measure.number:
            diff.renumbered.append(Renumbering(measure.number, parsed_measure.number, parsed_measure.text))
        if not (text or agencies or deadline) and measure.number == parsed_measure.number:
            diff.unchanged_count += 1
    return diff


def _with_history(tasks: Sequence[Task]) -> set[int]:
    """The ids of those tasks that have progress, 签收, an extension request or a reminder (few queries)."""
    if not tasks:
        return set()
    ids = [t.pk for t in tasks]
    found = {t.pk for t in tasks if t.status != Task.Status.NOT_STARTED or t.acknowledged_at is not None}
    for relation in ("updates", "extension_requests", "reminder_logs"):
        found |= set(
            Task.objects.filter(pk__in=ids, **{f"{relation}__isnull": False}).values_list("pk", flat=True)
        )
    return found


def _tasks_by_measure(measures: Iterable[Measure]) -> dict[int, list[Task]]:
    tasks: dict[int, list[Task]] = defaultdict(list)
    measures = list(measures)
    if not measures:  # a new plan: not even building the query
        return tasks
    for task in Task.objects.filter(measure__in=measures).select_related("agency").order_by("pk"):
        tasks[task.measure_id].append(task)
    return tasks


def plan_diff(
    parsed: ParsedPlan,
    plan: Plan | None,
    *,
    decisions: Mapping[str, NameDecision] | None = None,
    jurisdiction: str | None = None,
) -> PlanDiff:
    """What importing ``parsed`` as a revision of ``plan`` (None: a new plan) would change. Reads only."""
    jurisdiction = (plan.jurisdiction if plan else None) or jurisdiction or parsed.jurisdiction or ""
    alignment = _align(parsed, plan)
    assignments = _Assignments(
        resolver=AgencyResolver(jurisdiction),
        decisions=decisions or {},
        jurisdiction=jurisdiction,
        write=False,
    )
    measures = [m for m, _p, _s in alignment.pairs] + alignment.removed
    return _build_diff(plan, alignment, assignments, _tasks_by_measure(measures))


# --- committing ---------------------------------------------------------------------------------------------


@dataclass
class ImportResult:
    plan: Plan
    created: bool = False
    unchanged: bool = False
    match: PlanMatch | None = None
    diff: PlanDiff | None = None
    revision: PlanRevision | None = None
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
            return f"《{self.plan.title}》与已导入的内容相同,未作改动。"
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

    def to_dict(self) -> dict:
        return {
            "plan": {"id": self.plan.pk, "title": self.plan.title, "jurisdiction": self.plan.jurisdiction},
            "created": self.created,
            "unchanged": self.unchanged,
            "match": {"kind": self.match.kind, "overlap": round(self.match.overlap, 3)}
            if self.match
            else None,
            "counts": {
                "measures_created": self.measures_created,
                "measures_updated": self.measures_updated,
                "measures_removed": self.measures_removed,
                "tasks_created": self.tasks_created,
                "tasks_updated": self.tasks_updated,
                "tasks_removed": self.tasks_removed,
            },
            "agencies_created": self.agencies_created,
            "diff": self.diff.to_dict() if self.diff else None,
            "revision": self.revision.number if self.revision and self.revision.pk else None,
            "warnings": self.warnings,
        }


class _DryRun(Exception):
    def __init__(self, result: ImportResult):
        self.result = result


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
    existing = find_existing_plan(parsed, jurisdiction=jurisdiction, digest=digest)
    return ImportPreview(
        plan=parsed,
        jurisdiction=jurisdiction,
        measures=measures,
        unresolved=unresolved,
        existing_plan=existing.plan,
        unchanged=existing.kind == "same",
        match=existing,
    )


class ImportBatch:
    """Several imports in a row (a folder of plans, the seed plans, a benchmark): each 行政区划's agency
    catalogue is loaded once for the batch instead of once per plan (``AgencyResolver``, two queries). Agencies
    an import creates are added to it as they are made; an import that fails or is a dry run rolls its writes
    back, so the batch then forgets what it had loaded and loads it again for the next plan."""

    def __init__(self) -> None:
        self._resolvers: dict[str, AgencyResolver] = {}

    def resolver(self, jurisdiction: str) -> AgencyResolver:
        found = self._resolvers.get(jurisdiction)
        if found is None:
            found = self._resolvers[jurisdiction] = AgencyResolver(jurisdiction)
        return found

    def forget(self) -> None:
        self._resolvers.clear()


def import_plan(
    *,
    parsed: ParsedPlan,
    data: bytes | None = None,
    source_name: str = "",
    jurisdiction: str | None = None,
    decisions: Mapping[str, NameDecision] | None = None,
    user=None,
    dry_run: bool = False,
    today: datetime.date | None = None,
    revision_of: Plan | None = None,
    new_plan: bool = False,
    source_parsed: ParsedPlan | None = None,
    corrections: int | None = None,
    uploaded_at: datetime.datetime | None = None,
    batch: ImportBatch | None = None,
) -> ImportResult:
    """Write the parse in one transaction and return what changed (``result.diff``).

    ``decisions`` maps a name to an Agency, ``CREATE`` (the default), ``IGNORE`` or a ``Collective``.
    ``revision_of`` / ``new_plan`` are the clerk's answer to "a revision of 《…》 or a new plan"; with neither,
    the plan is recognised by content (``find_existing_plan``): the same content changes nothing, a high
    overlap revises that plan. ``source_parsed`` is the parse before the clerk's edits (its fingerprint is what
    recognises the file next time; defaults to ``parsed``). ``corrections`` and ``uploaded_at`` are recorded on
    the revision. With ``dry_run`` everything is computed and rolled back. ``batch`` shares the agency
    catalogue between the imports of one batch (``ImportBatch``).
    """
    if revision_of is not None and new_plan:
        raise ValueError("revision_of and new_plan exclude each other")
    parsed_content = fingerprint(parsed)
    content = parsed_content if source_parsed is None else fingerprint(source_parsed)
    try:
        with transaction.atomic():
            result = _import(
                parsed=parsed,
                data=data,
                source_name=source_name,
                jurisdiction=jurisdiction or parsed.jurisdiction or "",
                decisions=decisions or {},
                user=user if user is not None and user.is_authenticated else None,
                today=today or timezone.localdate(),
                dry_run=dry_run,
                revision_of=revision_of,
                new_plan=new_plan,
                content=content,
                parsed_content=parsed_content,
                corrections=corrections,
                uploaded_at=uploaded_at,
                batch=None if dry_run else batch,
            )
            if dry_run:
                raise _DryRun(result)
            return result
    except _DryRun as rolled_back:
        return rolled_back.result
    except BaseException:
        if batch is not None:  # agencies it created were rolled back
            batch.forget()
        raise


def _import(
    *,
    parsed,
    data,
    source_name,
    jurisdiction,
    decisions,
    user,
    today,
    dry_run,
    revision_of,
    new_plan,
    content,
    parsed_content,
    corrections,
    uploaded_at,
    batch,
) -> ImportResult:
    digest = sha256(data) if data is not None else None
    if new_plan:
        match, plan = PlanMatch(), None
    elif revision_of is not None:
        match, plan = PlanMatch(plan=revision_of, kind="revision"), revision_of
    else:
        match = find_existing_plan(parsed, jurisdiction=jurisdiction, digest=digest, content=parsed_content)
        if match.kind == "same":
            empty = PlanDiff(plan_id=match.plan.pk, plan_title=match.plan.title)
            return ImportResult(plan=match.plan, unchanged=True, match=match, diff=empty)
        plan = match.plan

    created = plan is None
    if created:
        plan = Plan(title=parsed.title, jurisdiction=jurisdiction)
    else:
        plan = Plan.objects.select_for_update().get(pk=plan.pk)  # one revision of a plan at a time
        jurisdiction = plan.jurisdiction  # names resolve in the plan's own 行政区划
    result = ImportResult(plan=plan, created=created, match=match, warnings=list(parsed.warnings))
    resolver = batch.resolver(jurisdiction) if batch is not None else AgencyResolver(jurisdiction)

    alignment = _align(parsed, None if created else plan)
    tasks = _tasks_by_measure([m for m, _p, _s in alignment.pairs] + alignment.removed)
    describe = _Assignments(resolver=resolver, decisions=decisions, jurisdiction=jurisdiction, write=False)
    result.diff = _build_diff(None if created else plan, alignment, describe, tasks)

    now = timezone.now()
    plan_changed = _update_plan_fields(plan, parsed)
    if created:  # one INSERT with what the import records about its source (a revision records it last)
        _record_source(plan, content, source_name, digest, data, now=now, user=user, dry_run=dry_run)
        plan.save()
    elif plan_changed:
        plan.save()
    assign = _Assignments(
        resolver=resolver, decisions=decisions, jurisdiction=jurisdiction, write=True, result=result
    )
    if assign.apply_collectives(parsed):  # members got the groups' existing tasks: read them again
        tasks = _tasks_by_measure([m for m, _p, _s in alignment.pairs])

    # Removed measures first, then numbers moved through a temporary value: a live number is unique per plan.
    if alignment.removed:
        result.measures_removed = Measure.objects.filter(pk__in=[m.pk for m in alignment.removed]).update(
            is_removed=True, updated_at=now
        )
    moving = [m.pk for m, p, _s in alignment.pairs if m.number != p.number]
    if moving:
        Measure.objects.filter(pk__in=moving).update(number=Concat(Value("#"), Cast("pk", CharField())))

    sections = _SectionTree(plan, new=created)
    updated: dict[tuple[str, ...], list[Measure]] = defaultdict(list)  # by the fields that changed
    for measure, parsed_measure, _score in alignment.pairs:
        fields = _measure_fields(parsed_measure, sections.section_for(parsed_measure.path))
        for name in ("text", "raw_clause", "raw_deadline"):  # the same words in another format: no change
            if normalise_text(getattr(measure, name)) == normalise_text(fields[name]):
                del fields[name]
        fields["match_key"] = measure_key(fields.get("text", measure.text))
        section = fields.pop("section")  # compared by id: reading measure.section would cost a query each
        fields["section_id"] = section.pk if section else None
        changed = {name: value for name, value in fields.items() if getattr(measure, name) != value}
        if changed:
            for name, value in changed.items():
                setattr(measure, name, value)
            measure.updated_at = now
            updated[(*sorted(changed), "updated_at")].append(measure)
    _write_measure_changes(updated)
    result.measures_updated = result.diff.change_count - len(alignment.added) - len(alignment.removed)
    new = [
        (Measure(plan=plan, **_measure_fields(p, sections.section_for(p.path))), p) for p in alignment.added
    ]
    bulk_create_with_history([m for m, _p in new], Measure, batch_size=500, user=user)
    result.measures_created = len(new)
    if result.measures_removed:
        result.warnings.append(
            f"新版文件中已没有 {result.measures_removed} 条原有措施,已标记为“已移除”,其任务和进展保留。"
        )

    writes = _TaskWrites()
    for measure, parsed_measure in [(m, p) for m, p, _s in alignment.pairs] + new:
        _sync_tasks(
            measure,
            parsed_measure,
            plan,
            resolver,
            decisions,
            today,
            result,
            current={t.agency_id: t for t in tasks.get(measure.pk, [])},
            writes=writes,
            assignments=assign,
        )
    writes.write(result, user=user, now=now)
    indicators_changed = _sync_indicators(plan, parsed, new=created)

    if not created and not (
        plan_changed
        or indicators_changed
        or not result.diff.is_empty
        or result.tasks_created
        or result.tasks_updated
        or result.tasks_removed
    ):
        result.unchanged = True
        if plan.content_fingerprint != content:  # keep the index right (a plan imported before it existed)
            Plan.objects.filter(pk=plan.pk).update(content_fingerprint=content)
        return result

    if not created:
        _record_source(plan, content, source_name, digest, data, now=now, user=user, dry_run=dry_run)
        plan.save()
    if created:
        number = 1
    else:
        number = (plan.revisions.order_by("-number").values_list("number", flat=True).first() or 0) + 1
    result.revision = PlanRevision.objects.create(
        plan=plan,
        number=number,
        kind=PlanRevision.Kind.CREATED if created else PlanRevision.Kind.REVISED,
        file=plan.source_file.name if data is not None and not dry_run else "",
        original_name=source_name,
        sha256=digest or "",
        created_at=now,
        created_by=user,
        uploaded_at=uploaded_at,
        corrections=corrections,
        diff=result.diff.to_dict(),
    )
    return result


def _write_measure_changes(updated: Mapping[tuple[str, ...], list[Measure]]) -> None:
    """One UPDATE per set of changed fields, whatever the number of measures (each row its own values:
    tasks/bulkwrite.py), their "~" history rows in one more, and one refresh of the sort keys of the tasks of
    the measures that moved (``MeasureQuerySet.update`` would refresh them measure by measure)."""
    for fields, measures in updated.items():
        update_rows(Measure, measures, fields)
    changed = [m for measures in updated.values() for m in measures]
    record_changed(Measure, changed)
    moved = [m.pk for fields, measures in updated.items() if "position" in fields for m in measures]
    if moved:
        sortkey.refresh(Task.objects.filter(measure_id__in=moved))


def _record_source(plan: Plan, content, source_name, digest, data, *, now, user, dry_run) -> None:
    """Set what the plan records about the file it was last imported from (saved by the caller)."""
    plan.content_fingerprint = content
    plan.source_name = source_name or plan.source_name
    plan.source_sha256 = digest or plan.source_sha256
    plan.imported_at = now
    plan.imported_by = user or plan.imported_by
    if data is not None and not dry_run:
        plan.source_file.save(Path(source_name or "plan.txt").name, ContentFile(data), save=False)


def _update_plan_fields(plan: Plan, parsed: ParsedPlan) -> bool:
    wanted = {
        "title": parsed.title or plan.title,
        "doc_number": parsed.doc_number or plan.doc_number,
        "issuer": parsed.issuer or plan.issuer,
    }
    if parsed.period:
        wanted["period_start"], wanted["period_end"] = parsed.period
    changed = False
    for name, value in wanted.items():
        if getattr(plan, name) != value:
            setattr(plan, name, value)
            changed = True
    return changed


def _sync_indicators(plan: Plan, parsed: ParsedPlan, *, new: bool = False) -> int:
    existing = {i.name: i for i in plan.indicators.all()} if plan.pk and not new else {}
    changed = 0
    for position, parsed_indicator in enumerate(parsed.indicators, start=1):
        values = {
            "category": parsed_indicator.category or "",
            "unit": parsed_indicator.unit or "",
            "baseline": parsed_indicator.baseline or "",
            "baseline_year": parsed_indicator.baseline_year,
            "target": parsed_indicator.target or "",
            "target_year": parsed_indicator.target_year,
            "attribute": parsed_indicator.attribute or "",
            "position": position,
        }
        indicator = existing.get(parsed_indicator.name)
        if indicator is None:
            Indicator.objects.create(plan=plan, name=parsed_indicator.name, **values)
            changed += 1
        elif any(getattr(indicator, name) != value for name, value in values.items()):
            for name, value in values.items():
                setattr(indicator, name, value)
            indicator.save()
            changed += 1
    return changed


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
        "match_key": measure_key(parsed_measure.text),
    }


@dataclass
class _TaskWrites:
    """What syncing the measures' tasks writes, gathered so that it is written in a few statements whatever the
    number of measures: new tasks (one bulk insert), changed tasks (one UPDATE per set of changed fields), and
    tasks whose agency is no longer listed (kept and flagged when they have history, else deleted)."""

    created: list[Task] = field(default_factory=list)
    changed: dict[tuple[str, ...], list[Task]] = field(default_factory=lambda: defaultdict(list))
    gone: list[tuple[Measure, Task]] = field(default_factory=list)

    def write(self, result: ImportResult, *, user=None, now: datetime.datetime | None = None) -> None:
        now = now or timezone.now()
        self._drop_or_delete(result, now)
        for fields, tasks in self.changed.items():
            for task in tasks:
                task.updated_at = now
            update_rows(Task, tasks, fields)
        changed = [task for tasks in self.changed.values() for task in tasks]
        record_changed(Task, changed)  # what each task.save() wrote, for all of them at once
        recast = [task.pk for fields, tasks in self.changed.items() if "role" in fields for task in tasks]
        if recast:  # the role is part of the sort key
            sortkey.refresh(Task.objects.filter(pk__in=recast))
        bulk_create_with_history(self.created, Task, batch_size=500, user=user)
        self.created, self.changed, self.gone = [], defaultdict(list), []

    def _drop_or_delete(self, result: ImportResult, now: datetime.datetime) -> None:
        if not self.gone:
            return
        with_history = _with_history([task for _measure, task in self.gone])
        dropped = [(measure, task) for measure, task in self.gone if task.pk in with_history]
        for measure, task in dropped:
            task.dropped_from_plan = True
            task.updated_at = now
            result.warnings.append(
                f"措施 {measure.number}:新版文件不再列出“{task.agency.name}”,其任务已有进展,予以保留并标记。"
            )
        update_rows(Task, [task for _measure, task in dropped], ["dropped_from_plan", "updated_at"])
        record_changed(Task, [task for _measure, task in dropped])
        result.tasks_updated += len(dropped)
        deleted = [task.pk for _measure, task in self.gone if task.pk not in with_history]
        if deleted:  # one collection for all (simple-history's "-" rows come from the delete signals)
            Task.objects.filter(pk__in=deleted).delete()
            result.tasks_removed += len(deleted)


_TASK_CHANGES = (
    "role",
    "is_ongoing",
    "due_date_inferred",
    "collective_id",
    "needs_resolution",
    "dropped_from_plan",
    "due_date",
    "next_report_due",
)


def _sync_tasks(
    measure,
    parsed_measure,
    plan,
    resolver,
    decisions,
    today,
    result,
    *,
    current=None,
    writes: _TaskWrites | None = None,
    assignments: _Assignments | None = None,
):
    """Make the measure's tasks match the parsed assignments, keeping every task row that stays.

    What changes is gathered in ``writes`` for the caller to write for all measures at once, or written here
    when none is given. A task whose agency is no longer listed is deleted if it has no history, else kept and
    flagged ``dropped_from_plan``.
    """
    assignments = assignments or _Assignments(
        resolver=resolver, decisions=decisions, jurisdiction=plan.jurisdiction, write=True, result=result
    )
    deadline = parsed_measure.deadline
    ongoing = bool(deadline and deadline.ongoing)
    due_date = deadline.date if deadline and deadline.date else None
    inferred = not ongoing and due_date is None and plan.period_end_date is not None
    if inferred:
        due_date = plan.period_end_date
    next_report_due = (
        period_of(today, plan.reporting_cycle).report_deadline(plan.report_due_day) if ongoing else None
    )

    wanted = assignments.wanted(parsed_measure)
    new_task = blueprint(Task)  # many new tasks per import: built positionally (tasks/bulkwrite.py)
    if current is None:
        current = {task.agency_id: task for task in measure.tasks.select_related("agency")}
    own = writes is None
    if own:
        writes = _TaskWrites()
    for agency_id, want in wanted.items():
        task = current.get(agency_id)
        if task is None:
            writes.created.append(
                new_task(
                    {"measure": measure, "agency": want.agency, "collective": want.collective},
                    role=want.role,
                    needs_resolution=want.needs_resolution,
                    due_date=None if ongoing else due_date,
                    due_date_inferred=inferred,
                    is_ongoing=ongoing,
                    next_report_due=next_report_due,
                )
            )
            result.tasks_created += 1
            continue
        changes = {
            "role": want.role,
            "is_ongoing": ongoing,
            "due_date_inferred": inferred,
            "collective_id": want.collective.pk if want.collective else None,
            "needs_resolution": want.needs_resolution,
            "dropped_from_plan": False,
        }
        if task.original_due_date is None:  # an approved extension keeps its own due date
            changes["due_date"] = None if ongoing else due_date
        if ongoing and task.next_report_due is None:
            changes["next_report_due"] = next_report_due
        changed = [name for name in _TASK_CHANGES if name in changes and getattr(task, name) != changes[name]]
        if changed:
            for name in changed:
                setattr(task, name, changes[name])
            writes.changed[(*changed, "updated_at")].append(task)
            result.tasks_updated += 1

    for agency_id, task in current.items():
        if agency_id not in wanted and not task.dropped_from_plan:
            writes.gone.append((measure, task))
    if own:
        writes.write(result)


class _SectionTree:
    """Get-or-create sections by their heading chain, caching what this import has seen."""

    def __init__(self, plan: Plan, *, new: bool = False):
        self.plan = plan
        self.cache: dict[tuple[str, ...], Section] = {}
        for section in [] if new else plan.sections.select_related("parent"):  # a new plan has none yet
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


def import_file(path: Path, *, jurisdiction: str | None = None, user=None, dry_run: bool = False, **options):
    """Parse and import one file unattended (``options`` as for ``import_plan``)."""
    data = Path(path).read_bytes()
    parsed = parse_bytes(data, Path(path).name)
    return import_plan(
        parsed=parsed,
        data=data,
        source_name=Path(path).name,
        jurisdiction=jurisdiction,
        user=user,
        dry_run=dry_run,
        **options,
    )


def import_seed_files(paths: Iterable[Path]) -> Iterator[str]:
    """Import each seed document (used by ``make run``); yields one line per file."""
    batch = ImportBatch()
    for path in paths:
        result = import_file(path, batch=batch)
        yield f"{path.name}: {result.summary()}"
