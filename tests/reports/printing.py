"""What a printed page looks like: LibreOffice converts, poppler reads back (pages, words and their boxes,
fonts) and renders PNGs kept under var/test-artifacts/ for people to look at."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
POPPLER = shutil.which("pdftotext") and shutil.which("pdftoppm")
ARTIFACTS = Path(settings.VAR_DIR) / "test-artifacts"

needs_office = [
    pytest.mark.slow,
    pytest.mark.skipif(
        (LIBREOFFICE is None or not POPPLER) and not os.environ.get("CI"),
        reason="LibreOffice and poppler-utils are not installed (.ci/run installs them)",
    ),
]


def convert(source: Path, fmt: str, tmp_path: Path) -> Path:
    assert LIBREOFFICE, "CI must have LibreOffice (.ci/run installs libreoffice-calc-nogui/-writer-nogui)"
    profile = tmp_path / "lo-profile"  # a private profile: parallel runs and a desktop session don't collide
    outdir = tmp_path / fmt
    result = subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    target = outdir / f"{source.stem}.{fmt}"
    assert result.returncode == 0 and target.exists(), result.stdout + result.stderr
    return target


@dataclass(frozen=True)
class Word:
    page: int
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Word) -> bool:
        """Printed over each other. Consecutive lines of one paragraph share up to a point of their boxes
        (the font's ascent and descent exceed the line spacing), so a clash needs a third of the height."""
        height = min(self.y1 - self.y0, other.y1 - other.y0)
        return (
            self.page == other.page
            and min(self.x1, other.x1) - max(self.x0, other.x0) > 1.0
            and min(self.y1, other.y1) - max(self.y0, other.y0) > height / 3
        )


@dataclass(frozen=True)
class PageBox:
    width: float
    height: float


def words(pdf: Path) -> tuple[list[PageBox], list[Word]]:
    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    pages: list[PageBox] = []
    found: list[Word] = []
    for chunk in re.split(r"(?=<page )", out)[1:]:
        size = re.match(r'<page width="([\d.]+)" height="([\d.]+)"', chunk)
        pages.append(PageBox(float(size.group(1)), float(size.group(2))))
        for x0, y0, x1, y1, text in re.findall(
            r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>', chunk
        ):
            found.append(Word(len(pages), html.unescape(text), float(x0), float(y0), float(x1), float(y1)))
    return pages, found


def overlapping(found: list[Word]) -> list[tuple[Word, Word]]:
    """Pairs of word boxes that print over each other (sweep by page and top edge)."""
    clashes = []
    ordered = sorted(found, key=lambda w: (w.page, w.y0))
    for i, word in enumerate(ordered):
        for other in ordered[i + 1 :]:
            if other.page != word.page or other.y0 >= word.y1:
                break
            if word.overlaps(other):
                clashes.append((word, other))
    return clashes


def page_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-f", str(page), "-l", str(page), str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout


def fonts(pdf: Path) -> str:
    return subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout


def render(pdf: Path, name: str, *, dpi: int = 60) -> list[Path]:
    """Every page as a PNG under var/test-artifacts/<name>-N.png (older renders of that name removed)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(
        ["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(ARTIFACTS / name)], check=True, timeout=120
    )
    shutil.copy(pdf, ARTIFACTS / f"{name}.pdf")
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))
