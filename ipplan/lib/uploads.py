"""The one safety gate every incoming file passes: size, kind by content, zip bombs, and a time-limited parse.

Entry points and the call each makes:

- web uploads: ``SizeLimitUploadHandler`` (first in ``FILE_UPLOAD_HANDLERS``) counts each file's bytes while
  the request streams in and keeps none past ``MAX_UPLOAD_BYTES``; ``check_uploaded_file`` then refuses it
  by its size before reading, and checks the rest (admin plan upload, progress attachments);
- django-import-export pages: ``GatedImportForm`` (the admin's ``import_form_class``);
- ``manage.py import_plan`` / ``parse_plan``: ``check_path``, which stats the file before reading it;
- parsing: ``parse_in_sandbox``, in a child process with ``PARSE_TIMEOUT_SECONDS`` and ``PARSE_MAX_MEMORY_MB``.

Every refusal is an ``UploadRefused`` (a ``ValidationError``) with one Chinese sentence that names the limit.
"""

from __future__ import annotations

import codecs
import io
import logging
import re
import struct
import zipfile
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path, PurePath

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile, UploadedFile
from django.core.files.uploadhandler import FileUploadHandler
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.forms import ImportForm

from . import sandbox

logger = logging.getLogger(__name__)

MAX_ZIP_MEMBERS = 2000
MEMBER_RATIO_FLOOR = 1024 * 1024  # a member smaller than this may compress as well as it likes
INFLATE_CHUNK = 1024 * 1024

# What each entry point accepts. Kinds are named by content (``sniff``), never by the file name.
PLAN_KINDS = frozenset({"text", "html", "docx", "xlsx", "xls"})

KIND_LABELS = {
    "text": gettext_lazy("文本(.txt/.csv)"),
    "html": gettext_lazy("网页(.html)"),
    "docx": gettext_lazy("Word 文档(.docx)"),
    "xlsx": gettext_lazy("Excel 表格(.xlsx)"),
    "xls": gettext_lazy("Excel 97-2003 表格(.xls)"),
    "doc": gettext_lazy("Word 97-2003 文档(.doc)"),
    "ppt": gettext_lazy("PowerPoint 97-2003 演示文稿(.ppt)"),
    "pptx": gettext_lazy("PowerPoint 演示文稿(.pptx)"),
    "ods": gettext_lazy("OpenDocument 表格(.ods)"),
    "odt": gettext_lazy("OpenDocument 文档(.odt)"),
    "ole": gettext_lazy("旧版 Office 文件"),
    "zip": gettext_lazy("压缩包"),
    "archive": gettext_lazy("压缩包"),
    "pdf": gettext_lazy("PDF"),
    "image": gettext_lazy("图片"),
    "rtf": gettext_lazy("RTF 文档"),
    "executable": gettext_lazy("可执行程序"),
    "binary": gettext_lazy("无法识别的二进制数据"),
}
# The suffix the parser is given, so it reads the file as what it is (a .doc renamed .xls stays a .doc).
KIND_SUFFIXES = {
    "docx": ".docx",
    "xlsx": ".xlsx",
    "xls": ".xls",
    "doc": ".doc",
    "html": ".html",
    "ods": ".ods",
}
TEXT_SUFFIXES = {".txt", ".text", ".csv", ".tsv", ".md"}
SAVE_AS = {  # kind: (the kind to save it as, how)
    "doc": ("docx", gettext_lazy("可在 Word 或 WPS 中另存为 .docx 后上传。")),
    "xls": ("xlsx", gettext_lazy("可在 Excel 或 WPS 中另存为 .xlsx 后上传。")),
}

ZIP_MARKERS = {  # a member that only that kind of package has
    "word/document.xml": "docx",
    "xl/workbook.xml": "xlsx",
    "ppt/presentation.xml": "pptx",
}
ODF_MIMETYPES = {
    b"application/vnd.oasis.opendocument.spreadsheet": "ods",
    b"application/vnd.oasis.opendocument.text": "odt",
}
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_STREAMS = {  # directory entry names that tell the OLE2 (legacy Office) kinds apart
    "WordDocument": "doc",
    "Workbook": "xls",
    "Book": "xls",  # Excel 5/95
    "PowerPoint Document": "ppt",
    "EncryptedPackage": "encrypted",  # a password-protected .docx/.xlsx
}
MAGIC = [  # (prefix, kind), checked before anything else
    (b"%PDF", "pdf"),
    (b"\x89PNG", "image"),
    (b"\xff\xd8\xff", "image"),
    (b"GIF8", "image"),
    (b"\x7fELF", "executable"),
    (b"\xfe\xed\xfa\xce", "executable"),
    (b"\xfe\xed\xfa\xcf", "executable"),
    (b"\xce\xfa\xed\xfe", "executable"),
    (b"\xcf\xfa\xed\xfe", "executable"),
    (b"\xca\xfe\xba\xbe", "executable"),
    (b"Rar!\x1a\x07", "archive"),
    (b"7z\xbc\xaf\x27\x1c", "archive"),
    (b"\x1f\x8b", "archive"),
    (b"\xfd7zXZ\x00", "archive"),
    (b"{\\rtf", "rtf"),
]
_HTML = re.compile(r"<(?:!doctype html|html|body|head|meta|div|p|table|tr|td)[\s>/]")
_TEXT_BOMS = [
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
]


class UploadRefused(ValidationError):
    """A file the gate refuses; ``message`` is one Chinese sentence for the user."""


# Limits ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_unzipped: int
    max_ratio: int
    parse_seconds: float
    parse_memory_mb: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            max_bytes=settings.MAX_UPLOAD_BYTES,
            max_unzipped=settings.MAX_UNZIPPED_BYTES,
            max_ratio=settings.MAX_ZIP_RATIO,
            parse_seconds=settings.PARSE_TIMEOUT_SECONDS,
            parse_memory_mb=settings.PARSE_MAX_MEMORY_MB,
        )


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def too_large_message(limits: Limits | None = None) -> str:
    limits = limits or Limits.from_settings()
    return _("文件超过 %(limit)s MB 上限。") % {"limit": _mb(limits.max_bytes)}


# Sniffing --------------------------------------------------------------------------------------------


def sniff(data: bytes) -> str:
    """The kind of a file from its bytes alone: a key of ``KIND_LABELS`` (or 'encrypted')."""
    for prefix, kind in MAGIC:
        if data.startswith(prefix):
            return kind
    if data.startswith(b"MZ") and b"\x00" in data[2:64]:
        return "executable"
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if data.startswith(OLE_SIGNATURE):
        names = ole_stream_names(data)
        for name, kind in OLE_STREAMS.items():
            if name in names:
                return kind
        return "ole"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image"
    encoding = text_encoding(data)
    if encoding is None:
        return "binary"
    readable = "gb18030" if encoding == "unknown" else encoding.removesuffix("-sig")
    text = data[:8192].decode(readable, errors="replace").lower()
    return "html" if _HTML.search(text) else "text"


def text_encoding(data: bytes) -> str | None:
    """The encoding a text file is plausibly in (UTF-16 with or without BOM included), or None for binary."""
    head = data[:65536]
    for bom, name in _TEXT_BOMS:
        if head.startswith(bom):
            return name
    if b"\x00" in head:
        return _utf16_without_bom(head)
    controls = sum(head.count(bytes([c])) for c in range(32) if c not in (9, 10, 12, 13, 26, 27))
    if controls > len(head) * 0.01:
        return None
    for name in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(name)().decode(head, final=len(data) <= len(head))
            return name
        except UnicodeDecodeError:
            continue
    return "unknown"  # no control characters: text in an encoding the parser's detector may still find


def _utf16_without_bom(head: bytes) -> str | None:
    """UTF-16 puts the NUL byte of each ASCII character (newlines, digits) on one side of the pair: try that
    byte order first; the decoding must then read as text (binary data decodes to controls and rare signs)."""
    head = head[: len(head) // 2 * 2]
    even, odd = head[0::2].count(0), head[1::2].count(0)
    for name in ("utf-16-le", "utf-16-be") if odd >= even else ("utf-16-be", "utf-16-le"):
        text = head.decode(name, errors="replace")
        plausible = sum(
            1
            for ch in text
            if ch in "\t\n\r"
            or " " <= ch <= "~"
            or "\u4e00" <= ch <= "\u9fff"
            or "\u3000" <= ch <= "\u303f"
            or "\uff00" <= ch <= "\uffef"
            or "\u2010" <= ch <= "\u2027"
            or "\u2460" <= ch <= "\u24ff"
        )
        if plausible >= 0.9 * len(text):
            return name
    return None


def ole_stream_names(data: bytes) -> set[str]:
    """Names in the directory of an OLE2 compound file (legacy .doc/.xls/.ppt), read from the header and FAT.

    Damaged or hostile structures give an empty or partial set, never an exception or a long loop.
    """
    if len(data) < 512 or not data.startswith(OLE_SIGNATURE):
        return set()
    shift = struct.unpack_from("<H", data, 30)[0]
    if shift not in (9, 12):
        return set()
    size = 1 << shift
    sectors = max((len(data) - size) // size, 0)

    def sector(number: int) -> bytes:  # sector 0 follows the header, which fills the first sector
        start = (number + 1) * size
        return data[start : start + size]

    # The FAT's own sectors: 109 listed in the header, the rest in a chain of DIFAT sectors.
    fat_sectors = [n for n in struct.unpack_from("<109I", data, 76) if n < sectors]
    difat, seen = struct.unpack_from("<I", data, 68)[0], set()
    while difat < sectors and difat not in seen and len(seen) < sectors:
        seen.add(difat)
        block = sector(difat)
        if len(block) < size:
            break
        entries = struct.unpack_from(f"<{size // 4}I", block)
        fat_sectors.extend(n for n in entries[:-1] if n < sectors)
        difat = entries[-1]
    fat: list[int] = []
    for number in fat_sectors:
        block = sector(number)
        if len(block) == size:
            fat.extend(struct.unpack_from(f"<{size // 4}I", block))

    names: set[str] = set()
    current, visited = struct.unpack_from("<I", data, 48)[0], set()
    while current < sectors and current not in visited:
        visited.add(current)
        block = sector(current)
        for offset in range(0, len(block) - 127, 128):
            length = struct.unpack_from("<H", block, offset + 64)[0]
            kind = block[offset + 66]
            if kind in (1, 2, 5) and 2 <= length <= 64:
                names.add(block[offset : offset + length - 2].decode("utf-16-le", errors="replace"))
        current = fat[current] if current < len(fat) else sectors
    return names


# Zip packages (.docx, .xlsx, .ods) ---------------------------------------------------------------------


def _zip_kind(data: bytes) -> str:
    if _zip_entry_count(data) > MAX_ZIP_MEMBERS:
        return "zip"  # not indexed at all: check_zip refuses it
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                mimetype = (
                    archive.read("mimetype")[:100] if archive.getinfo("mimetype").file_size < 100 else b""
                )
                return ODF_MIMETYPES.get(mimetype.strip(), "zip")
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, RuntimeError, zlib.error):
        return "zip"  # check_zip says what is wrong with it
    for marker, kind in ZIP_MARKERS.items():
        if marker in names:
            return kind
    return "zip"


def _zip_entry_count(data: bytes) -> int:
    """Entries announced by the end-of-central-directory record, read before zipfile builds its index."""
    end = data.rfind(b"PK\x05\x06", max(0, len(data) - 65557))
    if end < 0 or end + 22 > len(data):
        return 0
    count = struct.unpack_from("<H", data, end + 10)[0]
    return count if count != 0xFFFF else MAX_ZIP_MEMBERS + 1  # ZIP64: no office file this size needs it


def _bomb(message: str) -> UploadRefused:
    return UploadRefused(message + _("可能是恶意文件(压缩炸弹),已拒绝。"))


def check_zip(data: bytes, limits: Limits | None = None) -> None:
    """Refuse zip bombs from the central directory, then inflate each member counting its real bytes.

    The declared sizes are checked first (total, and the ratio to the file's size), which refuses an ordinary
    bomb without decompressing anything. Declared sizes can lie, so each member's deflate stream is then
    inflated in bounded chunks and counted: a member that yields more than it declared is refused as soon as
    it does, whatever a later reader (zipfile, calamine) would have made of it.
    """
    limits = limits or Limits.from_settings()
    count = _zip_entry_count(data)
    if count > MAX_ZIP_MEMBERS:
        raise _bomb(_("压缩包内的部件超过 %(limit)d 个上限,") % {"limit": MAX_ZIP_MEMBERS})
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise UploadRefused(_("文件已损坏,无法打开。")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise _bomb(_("压缩包内的部件超过 %(limit)d 个上限,") % {"limit": MAX_ZIP_MEMBERS})
    if any(member.flag_bits & 0x1 for member in members):
        raise UploadRefused(_("文件已加密(设有打开密码),请取消密码后再上传。"))
    declared = sum(member.file_size for member in members)
    unzipped_message = _("压缩包解压后超过 %(limit)s MB 上限,") % {"limit": _mb(limits.max_unzipped)}
    ratio_message = _("压缩包的压缩比超过 %(limit)d 倍上限,") % {"limit": limits.max_ratio}
    if declared > limits.max_unzipped:
        raise _bomb(unzipped_message)
    if declared > limits.max_ratio * len(data) or any(
        member.file_size > MEMBER_RATIO_FLOOR
        and member.file_size > limits.max_ratio * max(member.compress_size, 1)
        for member in members
    ):
        raise _bomb(ratio_message)
    total = 0
    for member in members:
        real = _inflated_size(data, member, cap=member.file_size)
        if real is not None and real > member.file_size:
            raise _bomb(_("压缩包内的文件比它声明的大,"))
        if real != member.file_size:
            raise UploadRefused(_("文件已损坏,无法打开。"))
        total += real
        if total > limits.max_unzipped:
            raise _bomb(unzipped_message)


def _inflated_size(data: bytes, member: zipfile.ZipInfo, *, cap: int) -> int | None:
    """Bytes the member really inflates to, counted up to ``cap + 1``; None when it cannot be read."""
    offset = member.header_offset
    if data[offset : offset + 4] != b"PK\x03\x04" or offset + 30 > len(data):
        return None
    name_length, extra_length = struct.unpack_from("<HH", data, offset + 26)
    start = offset + 30 + name_length + extra_length
    compressed = memoryview(data)[start : start + member.compress_size]
    if member.compress_type == zipfile.ZIP_STORED:
        return len(compressed)
    if member.compress_type != zipfile.ZIP_DEFLATED:
        return None  # office files use deflate; anything else is not one
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced = 0
    try:
        pending = compressed
        while pending and not inflater.eof:
            produced += len(inflater.decompress(pending, INFLATE_CHUNK))
            if produced > cap:
                return produced
            pending = inflater.unconsumed_tail
            if not pending and not inflater.eof:
                produced += len(inflater.flush())
                break
    except zlib.error:
        return None
    return produced


# The gate --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckedUpload:
    """A file that passed the gate: its bytes, its kind by content, and the name the user gave it."""

    name: str
    data: bytes
    kind: str

    @property
    def parse_name(self) -> str:
        """The name with the suffix of what the file really is, for readers that go by the suffix."""
        path = PurePath(self.name or "upload")
        suffix = KIND_SUFFIXES.get(self.kind)
        if suffix is None and self.kind == "text":
            suffix = path.suffix.lower() if path.suffix.lower() in TEXT_SUFFIXES else ".txt"
        if suffix is None:
            return path.name
        return (path.stem or "upload") + suffix


def check_upload(data: bytes, *, allowed: Collection[str], limits: Limits | None = None) -> str:
    """Return the kind of ``data`` by content, or raise ``UploadRefused`` with a Chinese message."""
    limits = limits or Limits.from_settings()
    if not data:
        raise UploadRefused(_("文件是空的。"))
    if len(data) > limits.max_bytes:
        raise UploadRefused(too_large_message(limits))
    kind = sniff(data)
    if kind == "encrypted":
        raise UploadRefused(_("文件已加密(设有打开密码),请取消密码后再上传。"))
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        check_zip(data, limits)
    if kind not in allowed:
        raise UploadRefused(unsupported_message(kind, allowed))
    return kind


def unsupported_message(kind: str, allowed: Collection[str]) -> str:
    kinds = "、".join(str(KIND_LABELS[k]) for k in KIND_LABELS if k in allowed)
    message = _("不支持的文件类型:文件内容是%(actual)s,请上传 %(kinds)s。") % {
        "actual": str(KIND_LABELS.get(kind, KIND_LABELS["binary"])),
        "kinds": kinds,
    }
    target, hint = SAVE_AS.get(kind, (None, ""))
    return message + str(hint) if target in allowed else message


def check_uploaded_file(
    upload: UploadedFile, *, allowed: Collection[str], limits: Limits | None = None
) -> CheckedUpload:
    """Gate an uploaded file: its size (counted while it streamed in) before a byte is read, then its content."""
    limits = limits or Limits.from_settings()
    if upload.size is not None and upload.size > limits.max_bytes:
        raise UploadRefused(too_large_message(limits))
    upload.seek(0)
    data = upload.read(min(upload.size or limits.max_bytes, limits.max_bytes) + 1)  # read(n) allocates n
    upload.seek(0)
    kind = check_upload(data, allowed=allowed, limits=limits)
    return CheckedUpload(name=upload.name or "", data=data, kind=kind)


def check_path(path: str | Path, *, allowed: Collection[str], limits: Limits | None = None) -> CheckedUpload:
    """Gate a file on disk (the command-line imports): its size from the file system, then its content."""
    limits = limits or Limits.from_settings()
    path = Path(path)
    try:
        if not path.is_file():
            raise UploadRefused(_("文件不存在:%(path)s") % {"path": path})
        size = path.stat().st_size
        if size > limits.max_bytes:
            raise UploadRefused(too_large_message(limits))
        with path.open("rb") as handle:
            data = handle.read(size + 1)  # read(n) allocates n bytes: ask for what is there
            if len(data) > size:  # it grew meanwhile: read on, still bounded
                data += handle.read(limits.max_bytes + 1 - len(data))
    except OSError as exc:
        raise UploadRefused(
            _("无法读取文件 %(path)s:%(reason)s") % {"path": path, "reason": exc.strerror or exc}
        ) from None
    kind = check_upload(data, allowed=allowed, limits=limits)
    return CheckedUpload(name=path.name, data=data, kind=kind)


# Parsing under limits ----------------------------------------------------------------------------------

# The parse function the child runs, by reference (tests point it at a slower one).
PARSE_FUNCTION = "tasks.parsing.parse_bytes"


def parse_in_sandbox(
    checked: CheckedUpload, *, known_agencies: Collection[str] | None = None, limits: Limits | None = None
):
    """``tasks.parsing.parse_bytes`` of a checked file, in a child process killed past the time limit.

    Returns the ``ParsedPlan``; a parse error, the time limit, the memory limit or a crash of the child all
    become an ``UploadRefused`` with a Chinese message (the crash is logged).
    """
    from tasks.parsing import ParseError

    limits = limits or Limits.from_settings()
    known = sorted(known_agencies) if known_agencies is not None else None
    try:
        return sandbox.run_limited(
            sandbox.call_by_name,
            PARSE_FUNCTION,
            checked.data,
            checked.parse_name,
            known,
            timeout=limits.parse_seconds,
            memory_bytes=limits.parse_memory_mb * 1024 * 1024 if limits.parse_memory_mb else None,
        )
    except ParseError as exc:
        raise UploadRefused(" ".join(str(exc).split()) or _("无法读取文件。")) from None
    except sandbox.LimitExceeded as exc:
        if exc.what == "time":
            raise UploadRefused(
                _("解析超过 %(limit)s 秒,已停止。文件可能过于复杂或已损坏。") % {"limit": f"{exc.limit:g}"}
            ) from None
        raise UploadRefused(
            _("解析占用内存超过 %(limit)d MB 上限,已停止。") % {"limit": limits.parse_memory_mb}
        ) from None
    except Exception:
        logger.exception("parsing %s failed in the sandbox", checked.name)
        raise UploadRefused(_("无法读取文件:文件已损坏或格式不受支持。")) from None


# Web uploads: size counted while streaming -------------------------------------------------------------


class OversizedUpload(UploadedFile):
    """Stands in for a file that went past the limit: no content kept, ``size`` is what was received."""

    def __init__(self, name: str, content_type: str | None, size: int):
        super().__init__(io.BytesIO(b""), name, content_type, size)


class SizeLimitUploadHandler(FileUploadHandler):
    """First of ``FILE_UPLOAD_HANDLERS``: passes a file's chunks on to the memory / temporary-file handlers up
    to ``MAX_UPLOAD_BYTES``, then only counts the rest. The oversized file reaches the form as an
    ``OversizedUpload`` whose size the gate refuses with the limit in the message; no more than the limit
    is ever kept, in memory or on disk."""

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0
        self.limit = settings.MAX_UPLOAD_BYTES

    def receive_data_chunk(self, raw_data: bytes, start: int):
        self.received += len(raw_data)
        return raw_data if self.received <= self.limit else None

    def file_complete(self, file_size: int):
        if self.received <= self.limit:
            return None  # the next handler completes the file as usual
        for handler in self.request.upload_handlers:  # drop what the next handlers kept of it
            partial = getattr(handler, "file", None)
            if handler is not self and partial is not None and hasattr(partial, "close"):
                partial.close()
        return OversizedUpload(self.file_name, self.content_type, self.received)


# django-import-export pages ------------------------------------------------------------------------------

IMPORT_FORMAT_KINDS = {
    "csv": {"text"},
    "tsv": {"text"},
    "json": {"text"},
    "yaml": {"text"},
    "html": {"html"},
    "xlsx": {"xlsx"},
    "xls": {"xls"},
    "ods": {"ods"},
}


class GatedImportForm(ImportForm):
    """import-export's upload form, through the gate: the file must be what the chosen format says, text
    files are handed on as UTF-8 whatever they were written in (GBK, UTF-16 with or without BOM)."""

    def __init__(self, formats, resources, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.import_formats = formats

    def clean(self):
        cleaned = super().clean()
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is None or chosen in (None, ""):
            return cleaned
        title = self.import_formats[int(chosen)]().get_title().lower()
        allowed = IMPORT_FORMAT_KINDS.get(title, set())
        try:
            checked = check_uploaded_file(upload, allowed=allowed)
        except UploadRefused as refusal:
            raise forms.ValidationError({"import_file": refusal.messages}) from None
        if checked.kind in ("text", "html"):
            from tasks.parsing.reader import decode_bytes

            text, _encoding = decode_bytes(checked.data)
            cleaned["import_file"] = SimpleUploadedFile(
                upload.name, text.encode("utf-8"), content_type=upload.content_type
            )
        return cleaned
