"""The downloadable 任务分工表 template (.xlsx): what the table reader (tasks/parsing/tables.py) reads best.

Sheet 任务分工表: a title row, the 填报单位 / 日期 row, the header, and one example row. Sheet 填写说明: the
accepted header names and deadline forms (the reader skips a sheet without a header).
"""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font

HEADER = ("序号", "重点任务", "牵头单位", "配合单位", "完成时限", "备注")
EXAMPLE = (
    1,
    "建设知识产权保护中心，开展专利快速预审、快速确权和快速维权。",
    "市市场监管局",
    "市司法局、各区人民政府",
    "2022年6月底前",
    "示例行，可改写或删除",
)
DEADLINE_FORMS = (
    "2022年6月底前",
    "2022年12月31日",
    "2022年第三季度",
    "2022年上半年 / 2022年底前",
    "持续推进 / 长期坚持",
    "每年（每年6月底前）",
)
NOTES = (
    ("表头", "表头行可在前20行中任意一行；其上方的标题行、填报单位行、日期行会被跳过，标题行作为计划名称。"),
    (
        "表头名称",
        "序号/编号；重点任务/工作任务/任务内容/具体措施/工作措施；牵头单位/牵头部门/责任单位/主要责任单位；"
        "配合单位/协办单位/参与单位；完成时限/完成时间/时间节点/进度安排；备注。",
    ),
    ("单位", "多个单位用顿号“、”分隔；可写“各区人民政府”“有关部门”等，导入预览时再对应到具体单位。"),
    (
        "完成时限",
        "可写：" + "；".join(DEADLINE_FORMS) + "。只写“年底前”时按计划起始年份计算，并在预览中提示。",
    ),
    (
        "合并单元格",
        "同一牵头单位可合并单元格；跨整行合并的一行作为分类标题；多个工作表（每个领域一个）各作一类。",
    ),
    ("序号", "序号不能重复；空着的序号按位置编号并在预览中提示。"),
)


def division_table_template() -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = "任务分工表"
    width = len(HEADER)
    sheet.append(["××市××工作任务分工表"])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    sheet["A1"].font = Font(size=16, bold=True)
    sheet["A1"].alignment = Alignment(horizontal="center")
    sheet.append(["填报单位：", "", "", "", "日期：", ""])
    sheet.append(list(HEADER))
    for cell in sheet[3]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center")
    sheet["E3"].comment = Comment("可写：" + "；".join(DEADLINE_FORMS), "ipplan")
    sheet.append(list(EXAMPLE))
    for cell in sheet[4]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    for column, size in zip("ABCDEF", (6, 50, 20, 28, 18, 16), strict=True):
        sheet.column_dimensions[column].width = size
    sheet.freeze_panes = "A4"

    notes = book.create_sheet("填写说明")
    notes.append(["项目", "说明"])
    for row in NOTES:
        notes.append(list(row))
    notes.column_dimensions["A"].width = 12
    notes.column_dimensions["B"].width = 100
    for cell in notes["B"]:
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
