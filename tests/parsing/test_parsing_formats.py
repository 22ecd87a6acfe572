"""The same plan in another encoding, with full-width punctuation, as a web page or as a Word file parses
to the same result."""

from __future__ import annotations

import pytest

from tasks.parsing import ParseError, parse_bytes, parse_file, parse_text

KEYS = ("000", "001", "002", "003", "004")
FULL_WIDTH = str.maketrans({"(": "（", ")": "）", ";": "；", ":": "：", ",": "，"})


@pytest.fixture(scope="module")
def baseline(seeds):
    return {key: seeds.comparable(parse_text(seeds.text(key))) for key in KEYS}


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-16", "utf-16-le", "utf-16-be", "utf-8-sig"])
def test_other_encodings_parse_the_same(seeds, baseline, key, encoding):
    # the web copies' no-break spaces, "©" and "•" have no GBK code: a space stands in for them
    text = "".join(ch if ch.encode(encoding, errors="ignore") else " " for ch in seeds.text(key))
    data = text.encode(encoding)
    plan = parse_bytes(data, "plan.txt")
    assert seeds.comparable(plan) == baseline[key]
    expected = {"gbk": "gb18030", "utf-16-le": "utf-16", "utf-16-be": "utf-16"}.get(encoding, encoding)
    assert plan.encoding == expected


@pytest.mark.parametrize("key", KEYS)
def test_full_width_punctuation_parses_the_same(seeds, baseline, key):
    assert seeds.comparable(parse_text(seeds.text(key).translate(FULL_WIDTH))) == baseline[key]


@pytest.mark.parametrize("key", KEYS)
def test_windows_line_endings_parse_the_same(seeds, baseline, key):
    assert seeds.comparable(parse_text(seeds.text(key).replace("\n", "\r\n"))) == baseline[key]


@pytest.mark.parametrize("key", KEYS)
def test_a_government_web_page_parses_the_same(seeds, baseline, key):
    page = seeds.html(seeds.text(key))
    assert seeds.comparable(parse_bytes(page.encode("utf-8"), "content_5345808.html")) == baseline[key]


@pytest.mark.parametrize("key", ["002", "003"])
def test_a_gbk_web_page_without_a_suffix_is_sniffed(seeds, baseline, key):
    page = seeds.html(seeds.text(key), charset="gb2312")
    assert seeds.comparable(parse_bytes(page.encode("gb18030"), "download")) == baseline[key]


@pytest.mark.parametrize("key", KEYS)
def test_a_word_file_with_tables_parses_the_same(seeds, baseline, key):
    assert seeds.comparable(parse_bytes(seeds.docx(seeds.text(key)), "方案.docx")) == baseline[key]


def test_web_page_boilerplate_never_reaches_a_measure(seeds):
    plan = parse_bytes(seeds.html(seeds.text("003")).encode("utf-8"), "page.html")
    texts = " ".join(m.text for m in plan.measures)
    for furniture in ("扫一扫", "网站标识码", "主办", "字号：", "分享到", "当前位置"):
        assert furniture not in texts


def test_web_page_metadata_table_still_gives_the_doc_number():
    page = """<html><body><table><tr><td>索引号：</td><td>11120110MB1923237B/2022-00002</td>
    <td>发文字号：</td><td>津丽知略〔2021〕1号</td></tr><tr><td>发布机构：</td><td>天津市东丽区市场监督管理局</td>
    <td>主题分类：</td><td>知识产权</td></tr></table>
    <h1>2021年东丽区知识产权工作要点</h1><p>一、加强保护</p>
    <p>1.开展专项行动。（区市场监管局负责；2021年6月底前）</p></body></html>"""
    plan = parse_bytes(page.encode("utf-8"), "page.html")
    assert plan.doc_number == "津丽知略〔2021〕1号"
    assert plan.issuer == "天津市东丽区市场监督管理局"
    assert plan.title == "2021年东丽区知识产权工作要点"
    assert plan.measures[0].deadline.date.isoformat() == "2021-06-30"


def test_a_word_task_division_table_becomes_measures():
    import io

    from docx import Document

    document = Document()
    document.add_paragraph("2021年东丽区知识产权保护工作任务分工")
    table = document.add_table(rows=3, cols=5)
    rows = [
        ("序号", "重点任务", "牵头单位", "配合单位", "完成时限"),
        ("1", "建立知识产权纠纷快速调解机制", "区司法局", "区市场监管局、区法院", "2021年12月底前"),
        ("2", "开展商标代理机构自查", "区市场监管局", "/", "持续推进"),
    ]
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    plan = parse_bytes(buffer.getvalue(), "分工.docx")
    assert [m.number for m in plan.measures] == ["1", "2"]
    first = plan.measures[0]
    assert first.text == "建立知识产权纠纷快速调解机制"
    assert [(a.agency, a.role) for a in first.assignments] == [
        ("区司法局", "lead"),
        ("区市场监管局", "support"),
        ("区法院", "support"),
    ]
    assert first.deadline.date.isoformat() == "2021-12-31"
    assert plan.measures[1].deadline.ongoing


def test_debris_of_a_broken_web_copy_is_cleaned():
    # a copy that ate "<" of "</p>" and shifted the character before it down by one code point
    text = (
        "天津市知识产权工作要点\n一、强化保" + chr(ord("护") - 1) + "/p>\n"
        "1.落实?ldquo;铁拳?rdquo;行动、加?lt;强?gt;执法&ldquo;双随机&rdquo;、/p>\n"
        "(市市场监管委负责(/p>\n"
    )
    plan = parse_text(text)
    measure = plan.measures[0]
    assert measure.text == "落实“铁拳”行动、加<强>执法“双随机”。"
    assert [a.agency for a in measure.assignments] == ["市市场监管委"]
    assert measure.path == ("一、强化保护",)


def test_a_docx_that_is_not_a_zip_cannot_be_read():
    with pytest.raises(ParseError, match="无法读取文件"):
        parse_bytes(b"PK\x03\x04 broken", "plan.docx")


@pytest.mark.parametrize("name", ["plan.pdf", "plan.doc", "plan.ppt"])
def test_unsupported_formats_are_refused_in_one_line_of_chinese(name):
    with pytest.raises(ParseError) as info:
        parse_bytes(b"%PDF-1.4 whatever", name)
    assert str(info.value).startswith("无法读取文件：不支持的格式")
    assert "\n" not in str(info.value)


def test_a_file_without_measures_is_refused():
    with pytest.raises(ParseError, match="没有识别到任何任务措施"):
        parse_text("关于召开会议的通知\n请各单位准时参加。\n")


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(ParseError, match="无法读取文件"):
        parse_file(tmp_path / "nowhere.txt")


def test_an_empty_file_is_refused():
    with pytest.raises(ParseError):
        parse_bytes(b"", "plan.txt")


def test_a_page_laid_out_in_tables_reads_as_flowing_text():
    page = """<html><body><table width="1000"><tr><td><ul><li>首页</li><li>政务公开</li></ul></td>
    <td><table><tr><td><p>东丽区知识产权工作方案</p><p>一、重点任务</p>
    <p>1.加强执法。（区市场监管局负责；2022年底前）</p><p>2.推进融资。（区金融局负责）</p>
    </td></tr></table></td></tr></table></body></html>"""
    plan = parse_bytes(page.encode("utf-8"), "page.htm")
    assert plan.title == "东丽区知识产权工作方案"
    assert [m.text for m in plan.measures] == ["加强执法。", "推进融资。"]


def test_a_page_saved_under_a_txt_name_is_still_read_as_a_page():
    page = "<!DOCTYPE html><html><body><p>东丽区工作方案</p><p>一、重点任务</p><p>1.加强执法。（区市场监管局负责）</p>"
    plan = parse_bytes(page.encode("utf-8"), "page.txt")
    assert plan.measures[0].text == "加强执法。"
