"""Checks on uploaded files by their content, not their name: size, kind, and zip bombs."""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

MAX_UNZIPPED_BYTES = 64 * 1024 * 1024
MAX_ZIP_RATIO = 120  # real .docx/.xlsx compress XML about 5–20×; bombs compress thousands of times
MAX_ZIP_MEMBERS = 2000

ZIP_KINDS = {"docx": "word/document.xml", "xlsx": "xl/workbook.xml"}


def sniff(data: bytes) -> str:
    """'docx', 'xlsx', 'zip', 'pdf', 'image', 'binary', 'html' or 'text' — from the bytes alone."""
    if data.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except zipfile.BadZipFile:
            return "binary"
        for kind, marker in ZIP_KINDS.items():
            if marker in names:
                return kind
        return "zip"
    if data.startswith(b"%PDF"):
        return "pdf"
    if data[:8].startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "image"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "binary"  # legacy .doc/.xls (OLE2): ask for .docx/.xlsx
    head = data[:4096]
    if not (head.startswith((b"\xff\xfe", b"\xfe\xff"))) and b"\x00" in head:
        return "binary"
    lowered = head.lower()
    if b"<html" in lowered or b"<!doctype html" in lowered or b"<body" in lowered or b"<p" in lowered:
        return "html"
    return "text"


def check_zip(data: bytes) -> None:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except zipfile.BadZipFile:
        raise ValidationError(_("文件已损坏,无法打开。")) from None
    if len(members) > MAX_ZIP_MEMBERS:
        raise ValidationError(_("文件结构异常(包含的部件过多),已拒绝。"))
    total = sum(member.file_size for member in members)
    if total > MAX_UNZIPPED_BYTES or total > MAX_ZIP_RATIO * max(len(data), 1):
        raise ValidationError(_("文件解压后体积异常(疑似压缩炸弹),已拒绝。"))


def check_upload(data: bytes, *, allowed: set[str]) -> str:
    """Return the sniffed kind, or raise a ValidationError with a Chinese message."""
    if not data:
        raise ValidationError(_("文件是空的。"))
    if len(data) > settings.MAX_UPLOAD_BYTES:
        limit = settings.MAX_UPLOAD_BYTES // (1024 * 1024)
        raise ValidationError(_("文件超过 %(limit)d MB 上限。") % {"limit": limit})
    kind = sniff(data)
    if kind in {"docx", "xlsx", "zip"}:
        check_zip(data)
    if kind not in allowed:
        raise ValidationError(
            _("不支持的文件类型,请上传 %(kinds)s 文件。") % {"kinds": "、".join(sorted(allowed))}
        )
    return kind
