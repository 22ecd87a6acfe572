"""The Django side of the import preview: load a draft's parse, look the plan up, confirm, and the to-do list.

The preview itself is pure (``tasks/services/drafts.py``); this module reads the draft's file, the catalogue and
existing plans, and at confirmation hands the edited parse and the name decisions to ``importing.import_plan``.
"""

from __future__ import annotations

import datetime
import functools
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from agencies.models import Agency, BureauProfile
from agencies.suggest import Catalogue, load_catalogue
from tasks.models import ImportDraft, Measure, Plan, Task
from tasks.parsing import ParsedPlan, parse_bytes
from tasks.services import drafts, importing

logger = logging.getLogger(__name__)

DRAFT_LIFETIME = datetime.timedelta(days=30)  # an open draft untouched this long is purged
# The import service recognises plans by content and takes revision_of/new_plan (the importer's branch); the
# fallbacks below keep the preview working on the service without it. Remove them once merged.


def default_jurisdiction(user) -> str:
    """The bureau's own 行政区划: the user's setting, else the installation's."""
    profile = BureauProfile.objects.filter(user=user).first() if user.is_authenticated else None
    return (profile.jurisdiction if profile else "") or settings.IPPLAN_JURISDICTION


def open_drafts(user):
    return ImportDraft.objects.filter(uploaded_by=user, confirmed_at__isnull=True).order_by("-updated_at")


def purge_stale_drafts(now: datetime.datetime | None = None) -> int:
    """Delete open drafts nobody touched for 30 days (and their files). Confirmed drafts are the import record."""
    stale = ImportDraft.objects.filter(
        confirmed_at__isnull=True, updated_at__lt=(now or timezone.now()) - DRAFT_LIFETIME
    )
    count = 0
    for draft in stale:
        draft.file.delete(save=False)
        draft.delete()
        count += 1
    return count


def draft_parse(draft: ImportDraft) -> ParsedPlan:
    """The draft's parse: the parser is deterministic, so it is re-run and kept for the last few drafts."""
    return _parse(draft.sha256, draft.original_name, draft.file.name)


@functools.lru_cache(maxsize=8)  # thread-safe; a parse is immutable (frozen dataclasses)
def _parse(digest: str, original_name: str, stored_name: str) -> ParsedPlan:
    with ImportDraft.file.field.storage.open(stored_name, "rb") as handle:
        return parse_bytes(handle.read(), original_name)


def plan_jurisdiction(draft: ImportDraft, parsed: ParsedPlan) -> str:
    return (
        draft.decisions.get("plan", {}).get("jurisdiction") or draft.jurisdiction or parsed.jurisdiction or ""
    )


@dataclass
class PlanLookup:
    """Is this a plan we already have? (Wired to ``importing.find_existing_plan``; see ``lookup_plan``.)"""

    plan: Plan | None = None
    kind: str | None = None  # "same" | "revision" | None


def lookup_plan(parsed: ParsedPlan, *, jurisdiction: str, digest: str) -> PlanLookup:
    """The one place the preview asks the import service whether this plan exists already (by content)."""
    match = importing.find_existing_plan(parsed, jurisdiction=jurisdiction, digest=digest)
    return PlanLookup(match.plan, match.kind if match.plan else None)


def plan_diff(view: DraftView):
    """What confirming would change in the matched plan (None without a match)."""
    if view.lookup.plan is None or view.preview.match_choice == "new":
        return None
    edited, names = drafts.apply_decisions(view.parsed, view.decisions)
    edited, chosen = import_decisions(edited, names)
    return importing.plan_diff(
        edited, view.lookup.plan, decisions=chosen, jurisdiction=view.preview.plan.jurisdiction
    )


@dataclass
class DraftView:
    draft: ImportDraft
    parsed: ParsedPlan
    catalogue: Catalogue
    lookup: PlanLookup
    preview: drafts.Preview
    decisions: dict  # the draft's decisions with the plan's 行政区划 filled in


def load(draft: ImportDraft) -> DraftView:
    parsed = draft_parse(draft)
    jurisdiction = plan_jurisdiction(draft, parsed)
    catalogue = load_catalogue(jurisdiction)
    lookup = lookup_plan(parsed, jurisdiction=jurisdiction, digest=draft.sha256)
    decisions = {**draft.decisions, "plan": {"jurisdiction": jurisdiction, **draft.decisions.get("plan", {})}}
    preview = drafts.build_grid(parsed, decisions, catalogue, match_kind=lookup.kind)
    return DraftView(draft, parsed, catalogue, lookup, preview, decisions)


def import_decisions(
    parsed: ParsedPlan, names: dict[str, drafts.NameDecision]
) -> tuple[ParsedPlan, dict[str, Agency | str]]:
    """Turn the preview's name decisions into what ``import_plan`` takes: an Agency, "create", or a
    ``Collective`` of member agencies (ignored names were already dropped by ``drafts.apply_decisions``)."""
    ids = {d.agency for d in names.values() if d.kind == "agency"}
    ids |= {pk for d in names.values() if d.kind == "collective" for pk in d.members}
    agencies = Agency.objects.in_bulk(ids)
    chosen: dict[str, Agency | str] = {}
    for name, decision in names.items():
        if decision.kind == "agency":
            if decision.agency not in agencies:
                raise drafts.DecisionError(f"“{name}”对应的单位已被删除,请重新选择。")
            chosen[name] = agencies[decision.agency]
        elif decision.kind == "collective":
            members = [agencies[pk] for pk in decision.members if pk in agencies]
            chosen[name] = importing.Collective(members=tuple(members))
        else:
            chosen[name] = importing.CREATE
    return parsed, chosen


def confirm(view: DraftView, *, user, now: datetime.datetime | None = None) -> importing.ImportResult:
    """Import the plan as the clerk left it, in one transaction, and keep the draft as the import's record."""
    draft, preview = view.draft, view.preview
    if preview.remaining:
        raise drafts.DecisionError(f"还有 {preview.remaining_count} 项需要决定,请先处理后再确认。")
    now = now or timezone.now()
    decisions = view.decisions
    edited, names = drafts.apply_decisions(view.parsed, decisions)
    with draft.file.open("rb") as handle:
        data = handle.read()
    with transaction.atomic():
        edited, chosen = import_decisions(edited, names)
        tally = drafts.tally(decisions)
        result = _run_import(view, edited=edited, data=data, decisions=chosen, user=user, corrections=tally)
        draft.decisions = {
            **decisions,
            "excluded": drafts.excluded_measures(view.parsed, decisions),
            "result": {**tally, "minutes": round((now - draft.uploaded_at).total_seconds() / 60, 1)},
        }
        draft.plan = result.plan
        draft.confirmed_at = now
        draft.save(update_fields=["decisions", "plan", "confirmed_at", "updated_at"])
    logger.info(
        "import confirmed: plan %s, %s corrections, %s suggestions, %.1f minutes",
        result.plan.pk,
        tally["corrections"],
        tally["suggestions"],
        draft.decisions["result"]["minutes"],
    )
    return result


def _run_import(view: DraftView, *, edited: ParsedPlan, data: bytes, decisions, user, corrections):
    """The one call into the import service."""
    choice = view.preview.match_choice
    return importing.import_plan(
        parsed=edited,
        data=data,
        source_name=view.draft.original_name,
        jurisdiction=view.preview.plan.jurisdiction,
        decisions=decisions,
        user=user,
        revision_of=view.lookup.plan if view.lookup.plan and choice == "revision" else None,
        new_plan=bool(view.lookup.plan) and choice == "new",
        source_parsed=view.parsed,
        corrections=corrections["corrections"],
        uploaded_at=view.draft.uploaded_at,
    )


# --- the to-do list after import -------------------------------------------------------------------------


@dataclass
class TodoList:
    plan: Plan | None
    unconfirmed: list[Agency] = field(default_factory=list)
    unreachable: list[Agency] = field(default_factory=list)  # no liaison, or no liaison with an email
    empty_collectives: list[Agency] = field(default_factory=list)
    undated: list[Task] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)  # {"plan", "number", "text"}

    @property
    def count(self) -> int:
        return sum(
            len(x)
            for x in (self.unconfirmed, self.unreachable, self.empty_collectives, self.undated, self.excluded)
        )


def todo_list(plan: Plan | None = None) -> TodoList:
    """What the lead bureau still has to do after importing ``plan`` (or every active plan)."""
    tasks = Task.objects.filter(measure__is_removed=False)
    measures = Measure.objects.filter(is_removed=False)
    if plan is not None:
        tasks = tasks.filter(measure__plan=plan)
        measures = measures.filter(plan=plan)
    else:
        tasks = tasks.filter(measure__plan__is_active=True)
    agencies = Agency.objects.filter(tasks__in=tasks).distinct().order_by("name")
    todo = TodoList(plan)
    todo.unconfirmed = list(agencies.filter(is_confirmed=False))
    todo.empty_collectives = list(
        agencies.filter(is_group=True).annotate(n=Count("members")).filter(n=0).order_by("name")
    )
    grouped = {a.pk for a in todo.empty_collectives}
    todo.unreachable = [
        a
        for a in agencies.filter(is_group=False)
        .annotate(reachable=Count("liaisons", filter=~Q(liaisons__email="")))
        .filter(reachable=0)
        if a.pk not in grouped
    ]
    todo.undated = list(
        tasks.filter(due_date__isnull=True, is_ongoing=False)
        .select_related("measure", "measure__plan", "agency")
        .order_by("measure__plan", "measure__position")[:500]
    )
    records = ImportDraft.objects.filter(confirmed_at__isnull=False).select_related("plan")
    records = records.filter(plan=plan) if plan is not None else records.filter(plan__is_active=True)
    live = set(measures.values_list("plan_id", "number"))
    for record in records.order_by("-confirmed_at"):
        for item in record.decisions.get("excluded", []):
            entry = {"plan": record.plan, "number": item["number"], "text": item["text"]}
            if (record.plan_id, item["number"]) not in live and entry not in todo.excluded:
                todo.excluded.append(entry)
    return todo
