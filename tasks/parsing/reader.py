"""Bytes in, clean text lines out: encoding detection, HTML and .docx flattening, web-debris repair.

Text files keep one output line per input line, so a measure's line number points into the original file.
HTML and .docx are flattened to text first; their line numbers point into that flattened text.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import zipfile
from pathlib import PurePath

from .model import ParseError

TEXT_SUFFIXES = {".txt", ".text", ".md", ".csv"}
HTML_SUFFIXES = {".html", ".htm", ".shtml", ".xhtml", ".jsp", ".asp", ".aspx", ".php"}
DOCX_SUFFIXES = {".docx"}
UNSUPPORTED_SUFFIXES = {".doc", ".pdf", ".wps", ".ppt", ".pptx", ".rtf", ".odt"}  # spreadsheets: tables.py

# Full-width ASCII (！ … ～) and the ideographic space become their half-width forms, so that
# "（A负责；持续推进）" and "(A负责;持续推进)" parse the same way. 〔〕《》“”、。 are kept: they carry meaning.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH.update(
    {
        0x3000: 0x20,
        0x00A0: 0x20,
        0x2002: 0x20,
        0x2003: 0x20,
        0x2009: 0x20,
        0x200B: None,
        0x200C: None,
        0x200D: None,
        0xFEFF: None,
        0x2028: 0x20,
        0x2029: 0x20,
    }
)

_NEEDS_WIDTH = re.compile("[" + "".join(re.escape(chr(cp)) for cp in sorted(_WIDTH)) + "]")
_WIDTH_CHARS = {chr(cp): (chr(to) if to is not None else "") for cp, to in _WIDTH.items()}
_ENTITY_HINT = re.compile(r"&#?\w{1,8};|[a-z]{2,6};")

# Entities whose '&' was eaten together with the previous character by a broken web copy: "?ldquo;".
_ENTITY_CHARS = {
    "ldquo": "“",
    "rdquo": "”",
    "lsquo": "‘",
    "rsquo": "’",
    "lt": "<",
    "gt": ">",
    "nbsp": " ",
    "amp": "&",
    "quot": '"',
    "mdash": "—",
    "ndash": "–",
    "hellip": "…",
    "middot": "·",
    "bull": "•",
    "times": "×",
    "deg": "°",
    "permil": "‰",
}
_DAMAGED_ENTITY = re.compile(r"[?？](" + "|".join(_ENTITY_CHARS) + r");")
_BARE_QUOTE_ENTITY = re.compile(r"(?<![&?？a-z])([lr]dquo|[lr]squo);")
# "十四?rdquo;" lost the 五 of 十四五 (five-year plans are the genre's calendar).
_FIVE_YEAR_DAMAGE = re.compile(r"十([一二三四])[?？](?=rdquo;)")
_HTML_TAG = re.compile(
    r"</?(?:p|br|span|div|font|strong|b|i|u|em|a|td|tr|th|table|tbody|li|ul|ol|h[1-6]|img|o:p)"
    r"(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
# A paragraph end whose "<" was swallowed: "活劚/p>" is "活力</p>" (the code point before was shifted by one).
_BROKEN_P_END = re.compile(r"(.?)(?<!<)/p>")
_SHIFTED_PUNCT = {"、": "。", "(": ")", "9": ":", "（": "）", "９": "："}
_INTACT_PUNCT = set(_SHIFTED_PUNCT.values())
_HTML_SNIFF = re.compile(rb"<(?:!doctype html|html|body|head|meta|div|p|table)[\s>]")
_SPACES = re.compile(r"\s+")
_ANGLE = re.compile(r"[<>〈〉]")
_DAMAGED_LDQUO = re.compile(r"[?？]ldquo;")
_SAVED_PAGE = re.compile(r"^\s*(?:<!doctype\s+html|<html[\s>])", re.IGNORECASE)
_BOX_TITLE = re.compile(r"^\s*(?:专栏|专 栏)")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------- decoding


def _printable_ratio(text: str) -> float:
    """Share of characters a Chinese plan plausibly contains; low for a wrong decoding."""
    if not text:
        return 0.0
    good = 0
    for ch in text:
        cp = ord(ch)
        if (
            0x4E00 <= cp <= 0x9FFF
            or 0x20 <= cp < 0x7F
            or ch in "\n\r\t"
            or 0x3000 <= cp <= 0x303F
            or 0xFF00 <= cp <= 0xFFEF
            or 0x2010 <= cp <= 0x2027
            or 0x2460 <= cp <= 0x24FF
        ):
            good += 1
    return good / len(text)


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a text file: BOM, then strict UTF-8, UTF-16 (NUL bytes), GB18030, charset-normalizer."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace"), "utf-8-sig"
    for bom, name in (
        (b"\xff\xfe\x00\x00", "utf-32-le"),
        (b"\x00\x00\xfe\xff", "utf-32-be"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if data.startswith(bom):
            return data[len(bom) :].decode(name, errors="replace"), name.rsplit("-", 1)[0]
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if b"\x00" in data:
        guess = _guess_utf16(data)
        if guess:
            return guess
    try:
        text = data.decode("gb18030")
        if _printable_ratio(text) > 0.9:
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    return _normalizer_decode(data)


def _guess_utf16(data: bytes) -> tuple[str, str] | None:
    # ASCII characters (newlines, digits) put their NUL byte on the odd index in little-endian.
    even = data[0::2].count(0)
    odd = data[1::2].count(0)
    order = ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le")
    for name in order:
        text = data.decode(name, errors="replace")
        if _printable_ratio(text) > 0.85:
            return text, "utf-16"
    return None


def _normalizer_decode(data: bytes) -> tuple[str, str]:
    try:
        from charset_normalizer import from_bytes
    except ImportError as exc:  # pragma: no cover - dependency of the project
        raise ParseError("无法读取文件：无法识别文本编码") from exc
    best = from_bytes(data).best()
    if best is not None:
        text = str(best)
        if _printable_ratio(text) > 0.8:
            return text, best.encoding
    raise ParseError("无法读取文件：无法识别文本编码")


# ---------------------------------------------------------------- formats


def sniff_kind(data: bytes, filename: str) -> str:
    """'txt', 'html' or 'docx' from the file name, or from the content when the name does not tell."""
    suffix = PurePath(filename or "").suffix.lower()
    if suffix in UNSUPPORTED_SUFFIXES:
        raise ParseError(f"无法读取文件：不支持的格式（{suffix}）")
    if suffix in DOCX_SUFFIXES:
        return "docx"
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in TEXT_SUFFIXES:
        return "txt"
    if data[:4] == b"PK\x03\x04":
        return "docx"
    if data[:2] == b"\xd0\xcf" or data[:5] == b"%PDF-":
        raise ParseError("无法读取文件：不支持的格式")
    head = data[:4096].lower()
    if _HTML_SNIFF.search(head) or b"\x00<\x00h" in head:
        return "html"
    return "txt"


def bytes_to_text(data: bytes, filename: str) -> tuple[str, str]:
    """Raw text of a file (before line cleanup) and the encoding it had."""
    kind = sniff_kind(data, filename)
    if kind == "docx":
        return docx_to_text(data), "docx"
    text, encoding = decode_bytes(data)
    if kind == "html" or _SAVED_PAGE.match(text[:300]):  # a page saved under a .txt name is still a page
        return html_to_text(text), encoding
    return text, encoding


_BLOCK_TAGS = {
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "form",
    "center",
    "hr",
    "tbody",
    "thead",
    "caption",
    "address",
    "figure",
    "main",
    "aside",
}
_DROP_TAGS = {
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "embed",
    "svg",
    "canvas",
    "template",
    "select",
    "button",
    "input",
    "textarea",
    "nav",
    "head",
}


def html_to_text(markup: str) -> str:
    """Flatten a saved government page: one line per block, tables as in table_lines()."""
    try:
        from bs4 import BeautifulSoup
    except ImportError as exc:  # pragma: no cover
        raise ParseError("无法读取文件：缺少 HTML 解析组件") from exc
    try:
        soup = BeautifulSoup(markup, "lxml")
    except Exception:  # lxml missing or choking: the stdlib parser is slower but always there
        soup = BeautifulSoup(markup, "html.parser")
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    out: list[str] = []
    _walk_html(soup, out)
    return "\n".join(line for line in "".join(out).split("\n"))


def _walk_html(node, out: list[str]) -> None:
    from bs4 import NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    for child in node.children:
        if isinstance(child, (Comment, Doctype, ProcessingInstruction)):
            continue
        if isinstance(child, NavigableString):
            out.append(_SPACES.sub(" ", str(child)))
            continue
        if not isinstance(child, Tag):
            continue
        name = child.name.lower()
        if name == "table":
            if child.find("table") is not None:  # a page-layout table around the article: read it as flow
                for cell in child.find_all(["td", "th"]):
                    if cell.find_parent("table") is child:
                        out.append("\n")
                        _walk_html(cell, out)
                        out.append("\n")
                continue
            rows = []
            for tr in child.find_all("tr"):
                if tr.find_parent("table") is not child:
                    continue
                cells = [_cell_paragraphs_html(td) for td in tr.find_all(["td", "th"], recursive=False)]
                rows.append(cells)
            out.append("\n" + "\n".join(table_lines(rows)) + "\n")
            continue
        if name == "br":
            out.append("\n")
            continue
        block = name in _BLOCK_TAGS
        if block:
            out.append("\n")
        _walk_html(child, out)
        if block:
            out.append("\n")


def _cell_paragraphs_html(td) -> list[str]:
    parts: list[str] = []
    _walk_html(td, parts)
    return [p.strip() for p in "".join(parts).split("\n") if p.strip()]


def table_lines(rows: list[list[list[str]]]) -> list[str]:
    """Render a table (rows of cells of paragraphs) as text lines.

    A one-column table is a box (专栏): each cell's paragraphs, each cell closed by a "|" line, as web copies
    of such boxes read. Wider tables keep one row per line, cells joined by " | ".
    """
    rows = [r for r in rows if any(any(p for p in c) for c in r)]
    if not rows:
        return []
    width = max(len(r) for r in rows)
    lines: list[str] = []
    if width == 1 and _BOX_TITLE.match(" ".join(rows[0][0])):
        for row in rows:
            lines.extend(p for p in row[0])
            lines.append("|")
        return lines
    if width == 1 or _is_layout(rows):  # text laid out in a table, not tabular data: plain paragraphs
        return [p for row in rows for cell in row for p in cell]
    for row in rows:
        lines.append("| " + " | ".join(" ".join(c).replace("|", "/") for c in row) + " |")
    return lines


def _is_layout(rows: list[list[list[str]]]) -> bool:
    """A table holding running text (an article in a page grid) rather than rows of data."""
    from .indicators import read_header
    from .tasktables import read_task_header

    for row in rows[:3]:
        heads = [" ".join(c) for c in row]
        if read_header(heads) or read_task_header(heads):
            return False
    return any(len(cell) > 3 or sum(map(len, cell)) > 600 for row in rows for cell in row)


def docx_to_text(data: bytes) -> str:
    """Paragraphs and tables of a .docx, in document order."""
    try:
        from docx import Document
        from docx.table import Table
        from docx.text.paragraph import Paragraph
    except ImportError as exc:  # pragma: no cover
        raise ParseError("无法读取文件：缺少 Word 解析组件") from exc
    try:
        document = Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise ParseError("无法读取文件：不是有效的 Word (.docx) 文件") from exc
    except Exception as exc:  # python-docx raises assorted errors on damaged packages
        raise ParseError("无法读取文件：Word 文件已损坏") from exc
    lines: list[str] = []
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            lines.append(Paragraph(child, document).text)
        elif tag == "tbl":
            table = Table(child, document)
            rows = []
            for row in table.rows:
                cells, seen = [], set()
                for cell in row.cells:
                    if id(cell._tc) in seen:  # a horizontally merged cell is listed once per grid column
                        continue
                    seen.add(id(cell._tc))
                    cells.append([p.text.strip() for p in cell.paragraphs if p.text.strip()])
                rows.append(cells)
            lines.append("")
            lines.extend(table_lines(rows))
            lines.append("")
    return "\n".join(lines)


# ---------------------------------------------------------------- line cleanup


def _fix_entities(line: str) -> str:
    if "&" in line:
        line = html.unescape(html.unescape(line)) if "&amp;" in line else html.unescape(line)
    if ";" not in line:
        return line
    line = _FIVE_YEAR_DAMAGE.sub(r"十\1五", line)
    if "ldquo;" in line and "》" in line:
        line = _restore_book_title_opening(line)
    line = _DAMAGED_ENTITY.sub(lambda m: _ENTITY_CHARS[m.group(1)], line)
    return _BARE_QUOTE_ENTITY.sub(lambda m: _ENTITY_CHARS[m.group(1)], line)


def _restore_book_title_opening(line: str) -> str:
    """'落实?ldquo;十四五”…规划》' lost a 《 before the quote: a later 》 with no 《 before it tells."""

    def repl(m: re.Match) -> str:
        rest = line[m.end() :]
        close = rest.find("》")
        opened = rest.find("《")
        between = rest[:close]
        if close != -1 and (opened == -1 or opened > close) and not _ANGLE.search(between):
            return "《“"
        return m.group(0)

    return _DAMAGED_LDQUO.sub(repl, line)


def _shift_mode(text: str) -> bool:
    """Does this copy shift the character before a swallowed '<' by one code point?

    Broken copies end paragraphs in '、/p>' for '。</p>' and '(/p>' for '）</p>'. When shifted forms outnumber
    intact ones, every character before '/p>' is shifted back; otherwise the debris is only removed.
    """
    shifted = intact = 0
    for m in _BROKEN_P_END.finditer(text):
        ch = m.group(1)
        if ch in _SHIFTED_PUNCT:
            shifted += 1
        elif ch in _INTACT_PUNCT:
            intact += 1
    return shifted > 0 and shifted >= intact


def _fix_p_end(line: str, shift: bool) -> str:
    def repl(m: re.Match) -> str:
        ch = m.group(1)
        if not shift or not ch:
            return ch
        if ch in "?？":  # the character itself was lost
            return ""
        if ch in _SHIFTED_PUNCT:
            return _SHIFTED_PUNCT[ch]
        cp = ord(ch)
        return chr(cp + 1) if cp > 0x7F or ch.isdigit() else ch

    return _BROKEN_P_END.sub(repl, line)


def _normalize_text(text: str) -> str:
    if _CONTROL.search(text):
        text = _CONTROL.sub("", text)
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    return normalize_width(text)


def clean_line(line: str, shift: bool = False) -> str:
    """Repair one line: width, entities eaten by a broken copy, '/p>' debris, stray tags."""
    return _repair(_normalize_text(line), shift)


def _repair(line: str, shift: bool) -> str:
    if "&" in line or (";" in line and _ENTITY_HINT.search(line)):
        line = _fix_entities(line)
    if "/p>" in line:
        line = _fix_p_end(line, shift)
    if "<" in line:
        line = _HTML_TAG.sub("", line)
    return line.strip()


def clean_lines(text: str) -> list[str]:
    """Split into lines (one per input line) and repair each; blank lines stay, as ''."""
    text = _normalize_text(text.replace("\r\n", "\n").replace("\r", "\n"))
    shift = "/p>" in text and _shift_mode(text)
    return [_repair(line, shift) for line in text.split("\n")]


def normalize_width(text: str) -> str:
    """Half-width punctuation, as the parser sees it (used for clause and deadline snippets)."""
    if not _NEEDS_WIDTH.search(text):
        return text
    return _NEEDS_WIDTH.sub(lambda m: _WIDTH_CHARS[m.group()], text)
