"""The agency catalogue as plain data, and ranked suggestions for names it does not know.

``Catalogue`` is loaded once per preview (``load_catalogue``: three queries) and then answers in memory, so the
import preview stays a pure function of (parse, decisions, catalogue). It resolves names exactly as
``AgencyResolver`` does at import time (same scope, same order: exact name, alias, normalised forms, never
guessing between two), and ranks the best matches for a name it cannot resolve: an alias, the name without its
市/区 prefix, the 简称, then edit distance.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from .resolution import level_char, normalise, variants

SUGGEST_SCORE = 80  # a match at least this good is proposed as the decision; below, it is only listed
LIST_SCORE = 55  # matches below this are not worth showing
# Names that are only a fragment of a split (单位, 县) are never an agency on their own.
_FRAGMENT = re.compile(r"^(各|有关)?(单位|部门|县|区|市|镇|街道|乡|政府|人民政府|等)$")
_COLLECTIVE = re.compile(r"^各|成员单位$|^有关")
_PLACE = re.compile(r"(区|县|市|镇|街道|乡)")


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    pk: int
    name: str
    jurisdiction: str = ""
    short_name: str = ""
    kind: str = "department"
    is_group: bool = False
    is_confirmed: bool = True
    aliases: tuple[str, ...] = ()
    members: tuple[int, ...] = ()

    def __str__(self) -> str:
        if self.jurisdiction and not self.name.startswith(self.jurisdiction):
            return f"{self.name}({self.jurisdiction})"
        return self.name


@dataclass(frozen=True, slots=True)
class Suggestion:
    entry: CatalogueEntry
    score: int  # 0–100
    why: str  # 别名 | 去掉前缀 | 简称 | 名称相近 | 规范化


@dataclass(frozen=True, slots=True)
class Resolution:
    name: str
    entry: CatalogueEntry | None
    candidates: tuple[CatalogueEntry, ...] = ()

    @property
    def resolved(self) -> bool:
        return self.entry is not None


@dataclass
class Catalogue:
    """One jurisdiction's agencies (plus those without a jurisdiction), indexed for resolving and ranking."""

    jurisdiction: str
    entries: dict[int, CatalogueEntry]
    by_name: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_alias: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    by_variant: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    stripped: dict[int, set[str]] = field(default_factory=dict)  # each entry's names without their prefix

    @classmethod
    def build(cls, jurisdiction: str, entries: Iterable[CatalogueEntry]) -> Catalogue:
        jurisdiction = jurisdiction or ""
        scoped = {e.pk: e for e in entries if e.jurisdiction in {jurisdiction, ""}}
        catalogue = cls(jurisdiction, scoped)
        for entry in scoped.values():
            catalogue._index(entry.pk, entry.name, catalogue.by_name)
        for entry in scoped.values():
            for alias in entry.aliases:
                catalogue._index(entry.pk, alias, catalogue.by_alias)
        catalogue.stripped = {
            pk: {_strip(form, jurisdiction) for form in (e.name, *e.aliases) if form}
            for pk, e in scoped.items()
        }
        return catalogue

    def _index(self, pk: int, name: str, table: dict[str, set[int]]) -> None:
        table[name].add(pk)
        for form in variants(name, self.jurisdiction):
            self.by_variant[form].add(pk)

    def sorted_entries(self) -> list[CatalogueEntry]:
        return sorted(self.entries.values(), key=lambda e: (e.kind == "group", e.name))

    def get(self, pk: int | None) -> CatalogueEntry | None:
        return self.entries.get(pk) if pk is not None else None

    def resolve(self, name: str) -> Resolution:
        """The same answer ``AgencyResolver.resolve`` gives at import time."""
        for table in (self.by_name, self.by_alias):
            found = table.get(name, set())
            if len(found) == 1:
                return Resolution(name, self.entries[next(iter(found))])
        found: set[int] = set()
        for form in variants(name, self.jurisdiction):
            found |= self.by_variant.get(form, set())
        candidates = tuple(sorted((self.entries[pk] for pk in found), key=lambda e: e.name))
        if len(candidates) == 1:
            return Resolution(name, candidates[0], candidates)
        return Resolution(name, None, candidates)

    def rank(self, name: str, *, limit: int = 5) -> list[Suggestion]:
        """The best catalogue matches for a name, best first."""
        base = normalise(name)
        stripped = _strip(base, self.jurisdiction)
        ambiguous = {e.pk for e in self.resolve(name).candidates}
        scored: list[Suggestion] = []
        for pk, entry in self.entries.items():
            if pk in ambiguous:
                scored.append(Suggestion(entry, 90, "规范化"))
            elif base in {normalise(a) for a in entry.aliases}:
                scored.append(Suggestion(entry, 100, "别名"))
            elif stripped and stripped in self.stripped[pk]:
                scored.append(Suggestion(entry, 95, "去掉前缀"))
            elif entry.short_name and entry.short_name in {base, stripped}:
                scored.append(Suggestion(entry, 90, "简称"))
            else:
                ratio = max(fuzz.ratio(stripped, form) for form in self.stripped[pk])
                # An abbreviation keeps the full name's characters in order (人社局 ← 人力社保局, 金融局 ←
                # 金融工作局): a strong hint where plain edit distance is weak for short Chinese names.
                abbreviated = any(_abbreviates(stripped, form) for form in self.stripped[pk])
                score = int(80 + ratio / 20) if abbreviated else int(ratio * 0.85)
                if score >= LIST_SCORE:
                    scored.append(Suggestion(entry, score, "名称相近"))
        scored.sort(key=lambda s: (-s.score, s.entry.name))
        return scored[:limit]

    def place_governments(self) -> list[CatalogueEntry]:
        """The district, county and town governments: the usual members of 各区、县（市） and the like."""
        return [e for e in self.sorted_entries() if e.kind == "government"]


def is_fragment(name: str) -> bool:
    return bool(_FRAGMENT.match(normalise(name)))


def looks_collective(name: str) -> bool:
    return bool(_COLLECTIVE.search(normalise(name)))


def names_places(name: str) -> bool:
    """各区、县（市）, 各县（市、区）人民政府: a collective of place governments rather than of departments."""
    return bool(_PLACE.search(normalise(name).removeprefix("各")[:4]))


def _abbreviates(one: str, other: str) -> bool:
    """One name is the other with characters left out (either way round), ending alike (金融局 / 金融工作局),
    or the start of it (合作交流办 / 合作交流办公室)."""
    short, long = sorted((one, other), key=len)
    if len(short) < 2 or short == long:
        return False
    if len(short) >= 4 and long.startswith(short):  # 合作交流办 / 合作交流办公室
        return True
    if short[-1] != long[-1]:
        return False
    rest = iter(long)
    return all(char in rest for char in short)


def _strip(name: str, jurisdiction: str) -> str:
    """The name without its jurisdiction or its one-character level prefix: 东丽区科技局 / 区科技局 → 科技局."""
    name = normalise(name)
    if jurisdiction and name.startswith(jurisdiction) and len(name) > len(jurisdiction):
        return name[len(jurisdiction) :]
    level = level_char(jurisdiction) or "市区县"
    if len(name) > 2 and name[0] in level:
        return name[1:]
    return name


def load_catalogue(jurisdiction: str) -> Catalogue:
    """Read the catalogue of one jurisdiction into memory (three queries)."""
    from .models import Agency, AgencyAlias

    jurisdiction = jurisdiction or ""
    agencies = list(Agency.objects.filter(jurisdiction__in={jurisdiction, ""}))
    aliases: dict[int, list[str]] = defaultdict(list)
    for agency_id, alias in AgencyAlias.objects.filter(agency__in=agencies).values_list("agency_id", "name"):
        aliases[agency_id].append(alias)
    members: dict[int, list[int]] = defaultdict(list)
    through = Agency.members.through
    for group_id, member_id in through.objects.filter(from_agency__in=agencies).values_list(
        "from_agency_id", "to_agency_id"
    ):
        members[group_id].append(member_id)
    return Catalogue.build(
        jurisdiction,
        (
            CatalogueEntry(
                pk=a.pk,
                name=a.name,
                jurisdiction=a.jurisdiction,
                short_name=a.short_name,
                kind=a.kind,
                is_group=a.is_group,
                is_confirmed=a.is_confirmed,
                aliases=tuple(aliases[a.pk]),
                members=tuple(members[a.pk]),
            )
            for a in agencies
        ),
    )
