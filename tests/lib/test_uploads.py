"""The upload gate's parts: sniffing by content, the OLE2 directory reader, the zip-bomb guard, the streaming
size limit and the time- and memory-limited parse."""

from __future__ import annotations

import io
import random
import resource
import struct
import time
import tracemalloc
import zipfile

import pytest
from django.core.files.uploadhandler import MemoryFileUploadHandler, TemporaryFileUploadHandler
from django.http.multipartparser import MultiPartParser
from django.test import RequestFactory
from hypothesis import given, settings
from hypothesis import strategies as st

from ipplan.lib import sandbox, uploads
from ipplan.lib.uploads import CheckedUpload, UploadRefused, check_upload, check_zip, sniff
from tasks.parsing import parse_bytes

from .conftest import EXECUTABLE, PLAN_TEXT, ole_file, zip_bomb

LIMITS = uploads.Limits(
    max_bytes=10 * 1024 * 1024,
    max_unzipped=100 * 1024 * 1024,
    max_ratio=100,
    parse_seconds=30,
    parse_memory_mb=1024,
)


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    for line in PLAN_TEXT.splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["序号", "重点任务", "牵头单位", "完成时限"])
    for number in range(1, 200):
        book.active.append([number, f"第{number}项任务", "区市场监管局", "2024年12月底前"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# Sniffing --------------------------------------------------------------------------------------------


def test_office_packages_are_told_apart_by_their_members():
    assert sniff(docx_bytes()) == "docx"
    assert sniff(xlsx_bytes()) == "xlsx"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("报告.txt", "不是 Office 文件")
    assert sniff(buffer.getvalue()) == "zip"


def test_legacy_office_files_are_told_apart_by_their_ole_directory():
    assert sniff(ole_file({"WordDocument": b"\xec\xa5", "1Table": b""})) == "doc"
    assert sniff(ole_file({"Workbook": b"\x09\x08"})) == "xls"
    assert sniff(ole_file({"Book": b"\x09\x08"})) == "xls"
    assert sniff(ole_file({"PowerPoint Document": b""})) == "ppt"
    assert sniff(ole_file({"Thumbnail": b""})) == "ole"
    encrypted = ole_file({"EncryptionInfo": b"", "EncryptedPackage": b""})
    with pytest.raises(UploadRefused, match="已加密"):
        check_upload(encrypted, allowed={"xlsx"}, limits=LIMITS)


@pytest.mark.slow
def test_real_word_97_and_excel_97_files_are_recognised(office_97):
    assert sniff(office_97["doc"]) == "doc" and "WordDocument" in uploads.ole_stream_names(office_97["doc"])
    assert sniff(office_97["xls"]) == "xls" and "Workbook" in uploads.ole_stream_names(office_97["xls"])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5000), st.integers(0, 255)), max_size=40))
def test_the_ole_reader_survives_damaged_files(damage):
    data = bytearray(ole_file({"WordDocument": b"x" * 9000, "1Table": b"y" * 5000}))
    for position, value in damage:
        if position < len(data):
            data[position] = value
    start = time.perf_counter()
    names = uploads.ole_stream_names(bytes(data))
    assert isinstance(names, set) and time.perf_counter() - start < 0.5


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_is_text(encoding):
    data = PLAN_TEXT.encode(encoding)
    assert not data.startswith((b"\xff\xfe", b"\xfe\xff"))
    assert sniff(data) == "text"
    page = "<html><body><p>东丽区知识产权工作要点</p></body></html>".encode(encoding)
    assert sniff(page) == "html"
    assert parse_bytes(data, "要点.txt").measures[0].number == "1", "the parser reads what the gate lets in"


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (PLAN_TEXT.encode("gbk"), "text"),
        (PLAN_TEXT.encode("utf-8-sig"), "text"),
        ("<!DOCTYPE html><html><body>一、重点任务</body></html>".encode(), "html"),
        (EXECUTABLE, "executable"),
        (b"\x7fELF\x02\x01\x01" + b"\x00" * 60, "executable"),
        (b"Rar!\x1a\x07\x01\x00" + b"\x00" * 40, "archive"),
        (b"\x00\x01\x02\x03" * 100, "binary"),
        (bytes(range(256)) * 20, "binary"),
        (b"%PDF-1.7\n", "pdf"),
        (b"plan \x80\x80 \xff text\n" * 20, "text"),  # neither UTF-8 nor GB18030, but no control bytes
    ],
)
def test_kinds_come_from_the_bytes(data, kind):
    assert sniff(data) == kind


def test_the_parser_is_given_the_name_of_what_the_file_is():
    assert CheckedUpload("分工表.doc", b"", "xls").parse_name == "分工表.xls"
    assert CheckedUpload("要点.xls", b"", "html").parse_name == "要点.html"
    assert CheckedUpload("要点.csv", b"", "text").parse_name == "要点.csv"
    assert CheckedUpload("要点.docx", b"", "text").parse_name == "要点.txt"


def test_refusals_name_what_the_file_is_and_what_is_accepted():
    with pytest.raises(UploadRefused) as refusal:
        check_upload(ole_file({"WordDocument": b""}), allowed=uploads.PLAN_KINDS, limits=LIMITS)
    message = refusal.value.message
    assert "文件内容是Word 97-2003 文档(.doc)" in message and "Word 文档(.docx)" in message
    assert "另存为 .docx" in message
    with pytest.raises(UploadRefused, match="文件是空的"):
        check_upload(b"", allowed=uploads.PLAN_KINDS, limits=LIMITS)


# Zip bombs -------------------------------------------------------------------------------------------


def test_real_office_files_pass_the_zip_guard():
    for data in (docx_bytes(), xlsx_bytes()):
        check_zip(data, LIMITS)


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_bomb_is_refused_from_its_directory_in_milliseconds(bombs, kind):
    start = time.perf_counter()
    with pytest.raises(UploadRefused, match="压缩包解压后超过 100 MB 上限"):
        check_zip(bombs[kind], LIMITS)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_bomb_with_lying_headers_is_caught_by_counting_what_it_inflates_to(bombs, kind):
    data = bombs[f"lying {kind}"]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert sum(i.file_size for i in archive.infolist()) < 10_000, "the headers claim a few KB"
    tracemalloc.start()
    try:
        with pytest.raises(UploadRefused, match="比它声明的大"):
            check_zip(data, LIMITS)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024, "inflated in bounded chunks, never the whole member"


def test_limits_come_from_settings(settings):
    settings.MAX_UNZIPPED_BYTES = 10 * 1024 * 1024
    settings.MAX_ZIP_RATIO = 1000
    with pytest.raises(UploadRefused, match="压缩包解压后超过 10 MB 上限"):
        check_upload(zip_bomb("docx", megabytes=20), allowed={"docx"})
    settings.MAX_UNZIPPED_BYTES = 100 * 1024 * 1024
    settings.MAX_ZIP_RATIO = 20
    with pytest.raises(UploadRefused, match="压缩比超过 20 倍上限"):
        check_upload(zip_bomb("docx", megabytes=3), allowed={"docx"})


def test_too_many_members_are_refused_before_zipfile_indexes_them():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(uploads.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"word/part{number}.xml", "")
    with pytest.raises(UploadRefused, match="部件超过 2000 个上限"):
        check_zip(buffer.getvalue(), LIMITS)


def test_a_member_shorter_than_declared_is_refused_as_damaged():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", random.Random(1).randbytes(100_000))
    data = bytearray(buffer.getvalue())
    central = data.rfind(b"PK\x01\x02")  # the last entry: word/document.xml
    struct.pack_into("<I", data, central + 24, 150_000)
    with pytest.raises(UploadRefused, match="文件已损坏"):
        check_zip(bytes(data), LIMITS)


# Size while streaming --------------------------------------------------------------------------------


class Body(io.RawIOBase):
    """A multipart body of one ``size``-byte file, produced while read (as a socket delivers it)."""

    def __init__(self, boundary: str, size: int):
        self.parts = [
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="大.pdf"\r\n'
                "Content-Type: application/pdf\r\n\r\n"
            ).encode(),
            size,
            f"\r\n--{boundary}--\r\n".encode(),
        ]
        self.length = len(self.parts[0]) + size + len(self.parts[2])

    def readable(self):
        return True

    def readinto(self, buffer):
        while self.parts:
            part = self.parts[0]
            if isinstance(part, int):
                n = min(part, len(buffer))
                buffer[:n] = b"%" * n
                self.parts[0] = part - n
                if self.parts[0] == 0:
                    self.parts.pop(0)
                return n
            n = min(len(part), len(buffer))
            buffer[:n] = part[:n]
            self.parts[0] = part[n:]
            if not self.parts[0]:
                self.parts.pop(0)
            return n
        return 0


def test_an_oversized_upload_is_counted_not_kept(settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    boundary = "gate-boundary"
    body = Body(boundary, 60 * 1024 * 1024)
    request = RequestFactory().post("/", content_type=f"multipart/form-data; boundary={boundary}")
    handlers = [
        uploads.SizeLimitUploadHandler(request),
        MemoryFileUploadHandler(request),
        TemporaryFileUploadHandler(request),
    ]
    request.upload_handlers = handlers
    meta = {**request.META, "CONTENT_LENGTH": str(body.length)}
    tracemalloc.start()
    try:
        _post, files = MultiPartParser(meta, io.BufferedReader(body), handlers).parse()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    upload = files["file"]
    assert isinstance(upload, uploads.OversizedUpload) and upload.size == 60 * 1024 * 1024
    assert peak < 5 * 1024 * 1024, f"kept {peak} bytes of a 60 MB upload"
    assert handlers[2].file.closed, "the partial temporary file is dropped"
    with pytest.raises(UploadRefused, match="文件超过 1 MB 上限"):
        uploads.check_uploaded_file(upload, allowed={"pdf"})


# Parsing under limits --------------------------------------------------------------------------------


def test_the_parse_in_the_child_is_the_parse(settings):
    data = (settings.BASE_DIR / "seeds" / "dongli-2020-2021-protection-plan.txt").read_bytes()
    checked = CheckedUpload("东丽.txt", data, "text")
    assert uploads.parse_in_sandbox(checked) == parse_bytes(data, "东丽.txt")


def test_parse_errors_come_back_in_chinese():
    with pytest.raises(UploadRefused, match="没有识别到任何任务措施"):
        uploads.parse_in_sandbox(CheckedUpload("空.txt", "扫一扫在手机打开当前页\n".encode(), "text"))


def test_a_child_past_its_time_limit_is_killed():
    start = time.perf_counter()
    with pytest.raises(sandbox.LimitExceeded) as exceeded:
        sandbox.run_limited(time.sleep, 60, timeout=0.5)
    assert exceeded.value.what == "time" and time.perf_counter() - start < 5


def test_a_child_is_also_limited_in_cpu_time_so_it_dies_even_if_its_parent_does():
    soft, hard = sandbox.run_limited(resource.getrlimit, resource.RLIMIT_CPU, timeout=5)
    assert (soft, hard) == (6, 7)


def test_a_child_past_its_memory_limit_is_stopped():
    with pytest.raises(sandbox.LimitExceeded) as exceeded:
        sandbox.run_limited(bytearray, 2 * 1024**3, timeout=30, memory_bytes=1024**3)
    assert exceeded.value.what == "memory"


def test_the_memory_refusal_names_the_limit(settings, monkeypatch):
    settings.PARSE_MAX_MEMORY_MB = 512

    def out_of_memory(*args, **kwargs):
        raise sandbox.LimitExceeded("memory", 512 * 1024 * 1024)

    monkeypatch.setattr(sandbox, "run_limited", out_of_memory)
    with pytest.raises(UploadRefused, match="解析占用内存超过 512 MB 上限"):
        uploads.parse_in_sandbox(CheckedUpload("要点.txt", PLAN_TEXT.encode(), "text"))
