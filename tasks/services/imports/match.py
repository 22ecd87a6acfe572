"""Recognise a plan by its content and align old and new measures by text (pure Python, no Django).

Text is compared normalised: NFKC, without a leading item number, without punctuation or whitespace, so the
same document read from txt (any encoding), html or docx compares equal. Measures are paired one to one,
greedily by fuzzy similarity above a threshold; the printed number only breaks ties, so renumbering never
moves a measure's history onto another measure.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

MATCH_THRESHOLD = 0.6  # below: no pairing (added / removed)
SAME_TEXT = 0.9  # at or above: the same wording, give or take a typo
KEY_LENGTH = 20  # characters of normalised text that make a measure's opening (its index key)
REVISION_OVERLAP = 0.6  # Jaccard of measure openings above which a plan is a revision of another

# A number printed before the text: "1." "12、" "(三)" "（3）" "第五条". Digits that belong to the text
# ("365服务热线") have no delimiter after them and stay.
_LEADING_NUMBER = re.compile(
    r"^\s*(?:[(（]\s*[0-9一二三四五六七八九十百零〇]+\s*[)）]|[0-9一二三四五六七八九十百零〇]+\s*[、.．]"
    r"|第[0-9一二三四五六七八九十百零〇]+[条项])\s*"
)
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_text(text: str | None) -> str:
    """Text as compared: NFKC, no leading number, no punctuation or whitespace."""
    if not text:
        return ""
    text = unicodedata.normalize("NFKC", text)
    text = _LEADING_NUMBER.sub("", text, count=1)
    return _NOT_WORD.sub("", text)


def measure_key(text: str | None) -> str:
    """A measure's opening, the key of the index that finds plans sharing measures."""
    return normalise_text(text)[:KEY_LENGTH]


def content_fingerprint(measures: Iterable[Sequence[str]], indicators: Iterable[Sequence[str]] = ()) -> str:
    """A digest of a plan's normalised content: per measure (number, text, clause, deadline text) and per
    indicator (name, target). Equal for the same document in any format."""
    content = {
        "measures": [[normalise_text(part) for part in measure] for measure in measures],
        "indicators": sorted([normalise_text(part) for part in indicator] for indicator in indicators),
    }
    return hashlib.sha256(json.dumps(content, ensure_ascii=False).encode()).hexdigest()


def jaccard(shared: int, left: int, right: int) -> float:
    union = left + right - shared
    return shared / union if union else 0.0


@dataclass(frozen=True)
class Item:
    """What alignment needs of a measure: its printed number and its text."""

    number: str
    text: str


@dataclass(frozen=True)
class Pair:
    old: int  # index into the old items
    new: int  # index into the new items
    score: float  # 0..1 similarity of normalised texts


def align(old: Sequence[Item], new: Sequence[Item], *, threshold: float = MATCH_THRESHOLD) -> list[Pair]:
    """Pair old and new measures one to one by text similarity (greedy, best score first).

    Identical normalised texts pair first without fuzzy scoring (a revision keeps most measures as they were);
    the rest are scored pairwise. Among equal scores, the same printed number wins, then the nearer position.
    """
    old_texts = [normalise_text(item.text) for item in old]
    new_texts = [normalise_text(item.text) for item in new]
    by_text: dict[str, list[int]] = defaultdict(list)
    for index, text in enumerate(old_texts):
        by_text[text].append(index)
    exact = [
        _candidate(1.0, old, new, i, j) for j, text in enumerate(new_texts) for i in by_text.get(text, ())
    ]
    pairs = _greedy(exact, set(), set())
    taken_old = {pair.old for pair in pairs}
    taken_new = {pair.new for pair in pairs}
    rest_old = {i: old_texts[i] for i in range(len(old)) if i not in taken_old}
    fuzzy = []
    if rest_old:
        for j in range(len(new)):
            if j in taken_new:
                continue
            found = process.extract(
                new_texts[j], rest_old, scorer=fuzz.ratio, score_cutoff=threshold * 100, limit=None
            )
            fuzzy += [_candidate(score / 100, old, new, i, j) for _text, score, i in found]
    pairs += _greedy(fuzzy, taken_old, taken_new)
    pairs.sort(key=lambda p: p.new)
    return pairs


def _greedy(candidates: list[tuple], taken_old: set[int], taken_new: set[int]) -> list[Pair]:
    candidates.sort(key=lambda c: (-c[0], not c[1], c[2], c[3], c[4]))
    pairs = []
    for score, _same_number, _distance, i, j in candidates:
        if i in taken_old or j in taken_new:
            continue
        taken_old.add(i)
        taken_new.add(j)
        pairs.append(Pair(old=i, new=j, score=score))
    return pairs


def _candidate(score: float, old, new, i: int, j: int) -> tuple[float, bool, int, int, int]:
    return (score, old[i].number == new[j].number, abs(i - j), i, j)
