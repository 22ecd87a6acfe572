"""The progress report (进度报表), read back with openpyxl: sheets, headers, values, charts, fills, dates."""

import datetime
import io

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from reports.exporters import ProgressReport, ReportError
from tasks.models import Indicator, IndicatorValue, ProgressUpdate, Task

TODAY = datetime.date(2022, 1, 5)
NOW = datetime.datetime(2022, 1, 5, 9, 0, tzinfo=datetime.UTC)
SHEETS = ["工作台账", "汇总", "考核评分", "任务明细", "逾期清单", "指标进展", "进展记录"]


@pytest.fixture
def data(plan, finance_task, science_task, ongoing_task, market, measure, lead, alice, bob):
    """Finance: a dated task (overdue on TODAY) and an ongoing one; science: a done task; market: a task
    whose measure text would be a formula if it were not neutralised."""
    science_task.status = Task.Status.DONE
    science_task.percent = 100
    science_task.save()
    ProgressUpdate.objects.create(
        task=finance_task,
        author=alice,
        text="已起草评议办法,征求意见中。",
        percent=40,
        created_at=datetime.datetime(2021, 11, 2, 2, 30, tzinfo=datetime.UTC),
    )
    ProgressUpdate.objects.create(
        task=science_task, author=bob, text='=HYPERLINK("http://evil")', percent=100
    )
    formula = measure.__class__.objects.create(
        plan=plan,
        number="9",
        text="=1+1 建立知识产权纠纷调解机制。",
        deadline_date=datetime.date(2022, 6, 30),
        position=90,
    )
    Task.objects.create(measure=formula, agency=market, due_date=datetime.date(2022, 6, 30))
    indicator = Indicator.objects.create(
        plan=plan,
        name="每万人口高价值发明专利拥有量",
        unit="件",
        baseline="1.2",
        baseline_year=2020,
        target="4",
        target_year=2021,
        agency=science_task.agency,
    )
    IndicatorValue.objects.create(indicator=indicator, year=2021, value="3")
    Indicator.objects.create(
        plan=plan, name="知识产权质押融资额", unit="亿元", target="2", agency=finance_task.agency
    )
    return plan


def workbook(user, params=None) -> openpyxl.Workbook:
    buffer = io.BytesIO()
    ProgressReport(user=user, params=params or {}, today=TODAY, language="zh-hans").write(buffer)
    buffer.seek(0)
    return openpyxl.load_workbook(buffer)


def table(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


@time_machine.travel(NOW)
def test_the_report_has_its_sheets_headers_and_task_rows(data, lead):
    wb = workbook(lead)
    assert wb.sheetnames == SHEETS
    detail = wb["任务明细"]
    rows = table(detail)
    assert rows[0] == [
        "计划",
        "序号",
        "措施",
        "单位",
        "角色",
        "其他单位",
        "截止日期",
        "下次报送",
        "状态",
        "进度",
        "灯号",
        "最新进展",
        "最近更新",
    ]
    assert len(rows) == 1 + 4
    finance = next(r for r in rows[1:] if r[3] == "区金融局" and r[1] == "2")
    assert finance[:6] == [
        "2020-2021年天津市东丽区强化知识产权保护推进计划",
        "2",
        "建立健全重大投融资活动知识产权评议工作机制。",
        "区金融局",
        "牵头",
        "区科技局(配合)",
    ]
    assert finance[6] == datetime.datetime(2021, 12, 31)  # a real date cell
    assert (finance[8], finance[9], finance[10], finance[11]) == (
        "未开始",
        0,
        "红灯",
        "已起草评议办法,征求意见中。",
    )
    assert finance[12] == datetime.datetime(2021, 11, 2, 10, 30)  # Shanghai time
    ongoing = next(r for r in rows[1:] if r[1] == "5")
    assert (ongoing[6], ongoing[7]) == ("持续推进", datetime.datetime(2020, 4, 10))
    # frozen header, auto-filter over the whole table, widths, wrapped measure text, number formats
    assert detail.freeze_panes == "A2"
    assert detail.auto_filter.ref == "A1:M5"
    assert detail.column_dimensions["C"].width == 60
    row = next(r for r in detail.iter_rows(min_row=2) if r[3].value == "区金融局" and r[1].value == "2")
    assert row[2].alignment.wrap_text
    assert row[6].is_date and row[6].number_format == "yyyy-mm-dd"
    assert row[10].fill.fgColor.rgb.endswith("F8CBAD")  # red


@time_machine.travel(NOW)
def test_lights_are_filled_red_yellow_green_and_grey(data, lead, finance_task):
    finance_task.due_date = datetime.date(2022, 1, 10)  # within a week: yellow
    finance_task.save()
    fills = {
        row[10].value: row[10].fill.fgColor.rgb[-6:]
        for row in workbook(lead)["任务明细"].iter_rows(min_row=2)
    }
    assert fills == {"黄灯": "FFE699", "已办结": "E7E6E6", "绿灯": "C6EFCE", "红灯": "F8CBAD"}


@time_machine.travel(NOW)
def test_the_summary_has_figures_agency_table_and_native_charts(data, lead):
    ws = workbook(lead)["汇总"]
    rows = table(ws)
    figures = {r[0]: r[1] for r in rows if r and r[0]}
    # 逾期 counts the missed due date and the missed periodic report, as 逾期清单 lists them (tasks/status.py).
    assert figures["任务总数"] == 4 and figures["已办结"] == 1 and figures["逾期未完成"] == 2
    assert figures["完成率"] == pytest.approx(0.25)
    assert figures["报表日期"] == datetime.datetime(2022, 1, 5)
    header = next(i for i, r in enumerate(rows) if r[:5] == ["单位", "任务数", "已办结", "逾期", "完成率"])
    agencies = {r[0]: r[1:5] for r in rows[header + 1 :] if r[0]}
    assert agencies == {
        "区金融局": [2, 0, 2, 0.0],
        "区科技局": [1, 1, 0, 1.0],
        "区市场监管局": [1, 0, 0, 0.0],
    }
    status_header = next(i for i, r in enumerate(rows) if r[:2] == ["状态", "任务数"])
    assert rows[status_header + 1 : status_header + 5] == [
        ["未开始", 3, None, None, None][: len(rows[status_header + 1])],
        ["推进中", 0, None, None, None][: len(rows[status_header + 2])],
        ["申请办结", 0, None, None, None][: len(rows[status_header + 3])],
        ["已办结", 1, None, None, None][: len(rows[status_header + 4])],
    ]
    kinds = sorted(type(chart).__name__ for chart in ws._charts)
    assert kinds == ["BarChart", "PieChart"]


@time_machine.travel(NOW)
def test_overdue_indicator_and_progress_sheets(data, lead):
    wb = workbook(lead)
    overdue = table(wb["逾期清单"])
    assert overdue[0][:8] == ["单位", "计划", "序号", "措施", "角色", "类型", "应完成日期", "逾期天数"]
    assert [(r[0], r[2], r[5], r[7]) for r in overdue[1:]] == [
        ("区金融局", "5", "报送逾期", 635),  # most overdue first within an agency
        ("区金融局", "2", "截止逾期", 5),
    ]
    indicators = table(wb["指标进展"])
    assert indicators[0][-3:] == ["最新值", "最新年度", "完成目标"]
    by_name = {r[2]: r for r in indicators[1:]}
    assert by_name["每万人口高价值发明专利拥有量"][-3:] == ["3", 2021, 0.75]
    assert by_name["知识产权质押融资额"][-3:] == [None, None, None]
    updates = table(wb["进展记录"])
    assert updates[0] == [
        "报送时间",
        "计划",
        "序号",
        "单位",
        "报送周期",
        "状态",
        "进度",
        "进展情况",
        "报送人",
    ]
    assert [r[3] for r in updates[1:]] == ["区科技局", "区金融局"]  # newest first


@time_machine.travel(NOW)
def test_cells_that_would_run_as_formulas_are_neutralised(data, lead):
    wb = workbook(lead)
    texts = [c for ws in wb for row in ws.iter_rows() for c in row if isinstance(c.value, str)]
    assert not [c for c in texts if c.data_type == "f"]
    # Shown exactly as typed, as text cells: no apostrophe in .xlsx (ipplan/lib/safe_cells.py).
    values = [c.value for c in texts]
    assert values.count("=1+1 建立知识产权纠纷调解机制。") >= 2  # 工作台账 and 任务明细
    assert '=HYPERLINK("http://evil")' in values
    assert not [v for v in values if v.startswith("'")]
    assert '区科技局:=HYPERLINK("http://evil")' in table(wb["工作台账"])[4][5]


@time_machine.travel(NOW)
def test_the_ledger_has_one_row_per_measure_under_its_section(data, lead, plan):
    ws = workbook(lead, {"plan": [str(plan.pk)]})["工作台账"]
    rows = table(ws)
    assert rows[0][0] == f"{plan.title}工作台账"
    assert rows[1][0] == "制表单位:天津市东丽区市场监督管理局    截至2022年1月5日"
    assert rows[2] == ["序号", "重点任务", "牵头单位", "配合单位", "完成时限", "进展情况", "完成状态", "备注"]
    assert rows[3][0] == "一、完善知识产权保护制度"
    assert rows[4][:5] == [
        "2",
        "建立健全重大投融资活动知识产权评议工作机制。",
        "区金融局",
        "区科技局",
        "2021年12月底前完成",
    ]
    assert rows[4][5] == '区金融局:已起草评议办法,征求意见中。\n区科技局:=HYPERLINK("http://evil")'
    assert rows[4][6] == "逾期"
    assert [r[0] for r in rows[5:]] == ["5", "9"]
    assert rows[5][4] == "持续推进"
    # merged section row, borders, light colour, the header repeated on every printed page, landscape A4
    assert "A4:H4" in {str(r) for r in ws.merged_cells.ranges}
    assert ws.cell(5, 7).fill.start_color.rgb.endswith("F8CBAD")
    assert ws.cell(5, 2).border.left.style == "thin"
    assert ws.print_title_rows == "$3:$3"
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.page_setup.fitToWidth == 1 and ws.sheet_properties.pageSetUpPr.fitToPage
    assert ws.oddFooter.center.text == "第 &P 页 共 &N 页"
    assert ws.row_dimensions[5].height >= 2 * 14  # two agencies' progress: at least two lines tall


@time_machine.travel(NOW)
def test_a_filtered_ledger_says_so(data, lead, plan, finance):
    rows = table(workbook(lead, {"plan": [str(plan.pk)], "agency": [str(finance.pk)]})["工作台账"])
    assert rows[2][0] == "筛选条件:单位:区金融局(东丽区)"
    assert [r[0] for r in rows[5:]] == ["2", "5"]


def test_row_heights_grow_with_the_text():
    from reports.ledger import ledger_columns, row_height

    columns = ledger_columns()
    short = row_height(["1", "加强保护。", "", "", "", "", "", ""], columns)
    long = row_height(["1", "加强知识产权保护体系建设" * 10, "", "", "", "", "", ""], columns)
    assert short < 25 and long >= 6 * 14


@time_machine.travel(NOW)
def test_a_liaison_gets_only_their_agencys_tasks_whatever_they_ask(data, alice, science):
    wb = workbook(alice)
    assert {r[3] for r in table(wb["任务明细"])[1:]} == {"区金融局"}
    assert {r[0] for r in table(wb["逾期清单"])[1:]} == {"区金融局"}
    assert [r[3] for r in table(wb["进展记录"])[1:]] == ["区金融局"]
    assert [r[2] for r in table(wb["指标进展"])[1:]] == ["知识产权质押融资额"]
    assert "区科技局" not in {r[0] for r in table(wb["汇总"]) if r}
    with pytest.raises(ReportError, match="单位"):
        workbook(alice, {"agency": [str(science.pk)]})


@time_machine.travel(NOW)
def test_the_task_list_filters_narrow_the_report(data, lead, finance, plan):
    assert len(table(workbook(lead, {"agency": [str(finance.pk)]})["任务明细"])) == 1 + 2
    assert len(table(workbook(lead, {"status": ["done"]})["任务明细"])) == 1 + 1
    assert len(table(workbook(lead, {"plan": [str(plan.pk)], "overdue": ["true"]})["任务明细"])) == 1 + 2
    with pytest.raises(ReportError, match="筛选条件有误"):
        workbook(lead, {"due_after": ["2021-13-45"]})


@time_machine.travel(NOW)
def test_a_small_report_downloads_at_once(client, data, leader, plan):
    client.force_login(leader)
    response = client.get(reverse("reports:progress_report"), {"plan": plan.pk})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "filename*=utf-8''%E8%BF%9B%E5%BA%A6%E6%8A%A5%E8%A1%A8" in response["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == SHEETS


def test_bad_filters_get_a_chinese_error_and_outsiders_get_403(client, lead, charlie):
    client.force_login(lead)
    response = client.get(reverse("reports:progress_report"), {"plan": "999999"})
    assert response.status_code == 400
    assert "筛选条件有误" in response.content.decode()
    client.force_login(charlie)
    assert client.get(reverse("reports:progress_report")).status_code == 403


@time_machine.travel(NOW)
def test_the_workbook_ranks_agencies_for_supervisors_only(data, lead, alice):
    Task.objects.update(created_at=datetime.datetime(2021, 9, 1, tzinfo=datetime.UTC))  # assigned before
    rows = table(workbook(lead)["考核评分"])
    assert rows[0][0] == "考核评分 · 2022年第1季度"
    assert rows[3][:4] == ["排名", "单位", "任务数", "总分"]
    assert {r[1] for r in rows[4:]} == {"区金融局", "区科技局", "区市场监管局"}
    assert "考核评分" not in workbook(alice).sheetnames


@time_machine.travel(NOW)
def test_a_command_in_a_progress_report_stays_text(data, lead, finance_task):
    ProgressUpdate.objects.create(task=finance_task, author=lead, text="=cmd|' /C calc'!A0", percent=10)
    wb = workbook(lead)
    cells = [
        c
        for ws in wb
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and "cmd|" in c.value
    ]
    assert {c.parent.title for c in cells} >= {"工作台账", "任务明细", "进展记录"}
    assert all(c.data_type == "s" for c in cells)
    assert "=cmd|' /C calc'!A0" in [c.value for c in cells]


@time_machine.travel(NOW)
def test_the_ledger_downloads_alone_with_the_list_filters(client, data, alice, charlie, plan):
    client.force_login(alice)
    response = client.get(reverse("reports:ledger_report"), {"plan": plan.pk})
    assert response.status_code == 200
    assert (
        "filename*=utf-8''" in response["Content-Disposition"]
        and "20220105" in response["Content-Disposition"]
    )
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["工作台账"]
    rows = table(wb["工作台账"])
    assert rows[1][0] == "制表单位:区金融局    截至2022年1月5日"
    measures = [r for r in rows[3:] if r[1]]
    assert [r[0] for r in measures] == ["2", "5"]  # alice's agency's measures only
    assert "区科技局:" not in "".join(r[5] or "" for r in measures)  # nor another agency's reports
    client.force_login(charlie)
    assert client.get(reverse("reports:ledger_report")).status_code == 403
