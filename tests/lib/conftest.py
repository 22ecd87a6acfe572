"""Hostile and awkward files for the upload gate, generated (nothing big is committed).

- ``zip_bomb(kind)``: a .docx / .xlsx whose one member is 128 MB of zeros, compressed to about 600 KB;
- ``lying_bomb(kind)``: the same, with sizes in the zip headers rewritten to claim a few KB;
- ``ole_file({...})``: a minimal OLE2 compound file (legacy Office) holding streams of the given names;
- ``office_97``: a real .doc and .xls written by LibreOffice (slow; skipped without LibreOffice).
"""

from __future__ import annotations

import io
import shutil
import struct
import subprocess
import zipfile

import pytest

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
CONTENT_TYPES = (
    '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'
)
BIG_MEMBER = {"docx": "word/document.xml", "xlsx": "xl/worksheets/sheet1.xml"}
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48 + b"PE\x00\x00" * 64

PLAN_TEXT = (
    "东丽区知识产权工作要点\n"
    "一、重点任务\n"
    "1.建立专利快速预审机制。(区市场监管局牵头,区科技局配合;2024年12月底前)\n"
    "2.开展知识产权质押融资。(区金融局负责;持续推进)\n"
)


def _package(kind: str, archive: zipfile.ZipFile) -> None:
    archive.writestr("[Content_Types].xml", CONTENT_TYPES)
    if kind == "xlsx":
        archive.writestr("xl/workbook.xml", "<workbook/>")


def zip_bomb(kind: str, megabytes: int = 128) -> bytes:
    """A .docx or .xlsx with one member of ``megabytes`` MB of zeros (ratio about 1000)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        _package(kind, archive)
        chunk = b"\x00" * (1024 * 1024)
        with archive.open(BIG_MEMBER[kind], "w") as member:
            for _ in range(megabytes):
                member.write(chunk)
    return buffer.getvalue()


def lying_bomb(kind: str, megabytes: int = 128, claimed: int = 4096) -> bytes:
    """A bomb whose local and central headers claim ``claimed`` bytes for the big member."""
    data = bytearray(zip_bomb(kind, megabytes))
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as archive:
        info = archive.getinfo(BIG_MEMBER[kind])
    struct.pack_into("<I", data, info.header_offset + 22, claimed)  # local header: uncompressed size
    position = data.find(b"PK\x01\x02")
    while position >= 0:
        name_length = struct.unpack_from("<H", data, position + 28)[0]
        if data[position + 46 : position + 46 + name_length].decode() == BIG_MEMBER[kind]:
            struct.pack_into("<I", data, position + 24, claimed)  # central directory: uncompressed size
        position = data.find(b"PK\x01\x02", position + 4)
    return bytes(data)


def ole_file(streams: dict[str, bytes]) -> bytes:
    """A minimal, well-formed OLE2 compound file (512-byte sectors) with the given top-level streams.

    Layout: sector 0 is the FAT, sectors 1.. the directory (4 entries each), then each stream's data padded to
    whole sectors (no mini stream, which readers accept for streams of 4096 bytes or more).
    """
    names = list(streams)
    entries = ["Root Entry", *names]
    directory_sectors = -(-len(entries) // 4)
    fat = [0xFFFFFFFD]  # sector 0: FAT
    fat += [i + 2 if i + 1 < directory_sectors else 0xFFFFFFFE for i in range(directory_sectors)]
    body = b""
    starts = []
    for name in names:
        data = streams[name].ljust(4096, b"\x00")
        count = -(-len(data) // 512)
        first = len(fat)
        starts.append(first)
        fat += [first + i + 1 for i in range(count - 1)] + [0xFFFFFFFE]
        body += data.ljust(count * 512, b"\x00")
    fat += [0xFFFFFFFF] * (128 - len(fat))
    assert len(fat) == 128, "one FAT sector is enough for these test files"

    def entry(name: str, kind: int, child: int, right: int, start: int, size: int) -> bytes:
        encoded = name.encode("utf-16-le") + b"\x00\x00"
        raw = encoded.ljust(64, b"\x00") + struct.pack("<HBB", len(encoded), kind, 1)
        raw += struct.pack("<III", 0xFFFFFFFF, right, child) + b"\x00" * 16 + b"\x00" * 4 + b"\x00" * 16
        raw += struct.pack("<IIi", start, size, 0)
        return raw

    directory = entry("Root Entry", 5, 1 if names else 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFE, 0)
    for index, name in enumerate(names):
        right = index + 2 if index + 1 < len(names) else 0xFFFFFFFF
        directory += entry(name, 2, 0xFFFFFFFF, right, starts[index], len(streams[name].ljust(4096, b"\x00")))
    directory = directory.ljust(directory_sectors * 512, b"\x00")

    header = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 16
    header += struct.pack("<HHHHH", 0x3E, 3, 0xFFFE, 9, 6) + b"\x00" * 6
    header += struct.pack("<IIIIIIIII", 0, 1, 1, 0, 4096, 0xFFFFFFFE, 0, 0xFFFFFFFE, 0)
    header += struct.pack("<I", 0) + struct.pack("<I", 0xFFFFFFFF) * 108
    assert len(header) == 512
    return header + struct.pack("<128I", *fat) + directory + body


@pytest.fixture(scope="session")
def bombs():
    """Generated once per session: {'docx': ..., 'xlsx': ..., 'lying docx': ...}."""
    return {
        "docx": zip_bomb("docx"),
        "xlsx": zip_bomb("xlsx"),
        "lying docx": lying_bomb("docx"),
        "lying xlsx": lying_bomb("xlsx"),
    }


@pytest.fixture(scope="session")
def office_97(tmp_path_factory):
    """A real Word 97 .doc and Excel 97 .xls, converted by LibreOffice from a .docx and an .xlsx."""
    if LIBREOFFICE is None:
        pytest.skip("LibreOffice is not installed")
    import docx
    import openpyxl

    folder = tmp_path_factory.mktemp("office97")
    document = docx.Document()
    for line in PLAN_TEXT.splitlines():
        document.add_paragraph(line)
    document.save(folder / "plan.docx")
    book = openpyxl.Workbook()
    book.active.append(["序号", "重点任务", "牵头单位", "完成时限"])
    book.active.append([1, "建立专利快速预审机制", "区市场监管局", "2024年12月底前"])
    book.save(folder / "table.xlsx")
    for source, target in (("plan.docx", "doc"), ("table.xlsx", "xls")):
        subprocess.run(
            [LIBREOFFICE, "--headless", f"-env:UserInstallation=file://{folder}/profile"]
            + ["--convert-to", target, "--outdir", str(folder), str(folder / source)],
            check=True,
            capture_output=True,
            timeout=180,
        )
    return {"doc": (folder / "plan.doc").read_bytes(), "xls": (folder / "table.xls").read_bytes()}
