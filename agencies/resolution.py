"""Match agency names as written in a document to the catalogue, without ever guessing between two.

Order: exact name, alias, then normalised forms — full-width punctuation, the jurisdiction prefix added or
dropped (江津区市场监管局 ↔ 区市场监管局), a parenthesised alias (市市场监管局(市知识产权局) → either part), and
the level of the plan (东丽区金融局 ↔ 区金融局 for a district plan). A name that normalises to two agencies is
ambiguous and left to the lead bureau.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field

from .models import Agency, AgencyAlias

_FULL_TO_HALF = str.maketrans("（）〔〕【】　，；：", "()()[] ,;:")
_EDGE_PUNCTUATION = "、,;:。 "
_PAREN = re.compile(r"^(?P<outer>[^()]+)\((?P<inner>[^()]+)\)$")
_TRAILING = re.compile(r"(等|按职责分工负责|按职责分工|负责|牵头)+$")


def normalise(name: str) -> str:
    return _TRAILING.sub("", re.sub(r"\s+", "", name.translate(_FULL_TO_HALF))).strip(_EDGE_PUNCTUATION)


def level_char(jurisdiction: str) -> str:
    """The one-character level prefix a document of this jurisdiction uses: 东丽区 → 区, 亳州市 → 市."""
    return jurisdiction[-1:] if jurisdiction and jurisdiction[-1] in "省市区县州盟旗镇" else ""


def variants(name: str, jurisdiction: str) -> set[str]:
    """Spellings that denote the same agency within ``jurisdiction``."""
    base = normalise(name)
    forms = {base}
    match = _PAREN.match(base)
    if match:
        forms |= {match["outer"], match["inner"]}
    level = level_char(jurisdiction)
    for form in list(forms):
        if jurisdiction and form.startswith(jurisdiction) and len(form) > len(jurisdiction):
            rest = form[len(jurisdiction) :]
            forms |= {rest, level + rest} if level and not rest.startswith(level) else {rest}
        elif level and form.startswith(level) and jurisdiction:
            forms.add(jurisdiction + form[len(level) :])
    return {f for f in forms if f}


@dataclass
class AgencyMatch:
    name: str
    agency: Agency | None = None
    how: str = "unknown"  # exact | alias | normalised | ambiguous | unknown
    candidates: list[Agency] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.agency is not None


class AgencyResolver:
    """Loads one jurisdiction's catalogue once (two queries) and resolves names in memory."""

    def __init__(self, jurisdiction: str):
        self.jurisdiction = jurisdiction or ""
        scope = Agency.objects.filter(jurisdiction__in={self.jurisdiction, ""})
        self.agencies = {a.pk: a for a in scope}
        self.by_name: dict[str, set[int]] = defaultdict(set)
        self.by_alias: dict[str, set[int]] = defaultdict(set)
        self.by_variant: dict[str, set[int]] = defaultdict(set)
        self._members: dict[int, list[Agency]] = {}
        for agency in self.agencies.values():
            self._index(agency.pk, agency.name, self.by_name)
        for alias in AgencyAlias.objects.filter(agency_id__in=self.agencies):
            self._index(alias.agency_id, alias.name, self.by_alias)

    def _index(self, pk: int, name: str, table: dict[str, set[int]]) -> None:
        table[name].add(pk)
        for form in variants(name, self.jurisdiction):
            self.by_variant[form].add(pk)

    def members_of(self, group: Agency) -> list[Agency]:
        """A group's member agencies, loaded once per group."""
        if group.pk not in self._members:
            self._members[group.pk] = list(group.members.all())
        return self._members[group.pk]

    def forget_members(self, group: Agency) -> None:
        """The group's members changed: load them again when next asked."""
        self._members.pop(group.pk, None)

    def add(self, agency: Agency) -> None:
        """Make an agency created during an import resolvable for the rest of it."""
        self.agencies[agency.pk] = agency
        self._index(agency.pk, agency.name, self.by_name)

    def resolve(self, name: str) -> AgencyMatch:
        for how, table, key in (("exact", self.by_name, name), ("alias", self.by_alias, name)):
            found = table.get(key, set())
            if len(found) == 1:
                return AgencyMatch(name, self.agencies[next(iter(found))], how)
        found: set[int] = set()
        for form in variants(name, self.jurisdiction):
            found |= self.by_variant.get(form, set())
        candidates = sorted((self.agencies[pk] for pk in found), key=lambda a: a.name)
        if len(candidates) == 1:
            return AgencyMatch(name, candidates[0], "normalised", candidates)
        return AgencyMatch(name, None, "ambiguous" if candidates else "unknown", candidates)
