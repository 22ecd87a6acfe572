"""Word documents in the 公文 layout of GB/T 9704-2012: the 督办通知单 and the 工作进展情况通报.

What a document says is gathered once, when it is issued, into plain data (``notice_content``,
``bulletin_content``) stored on ``IssuedDocument``; the .docx is built from that data (``render``), so a
document downloaded again next year is the one that was sent. The paragraphs are generated from the data in
the genre's plain style — fixed sentences with the numbers filled in, no language model.

Layout: A4; margins top 37 mm, bottom 35, left 28, right 26; title 方正小标宋简体 二号 (22 pt) centred; body
仿宋_GB2312 三号 (16 pt) at a fixed 28.95 pt line pitch (22 lines a page); first-level headings 黑体, second-
level 楷体_GB2312; page numbers "— 1 —" in 宋体 四号. python-docx's ``font.name`` only sets the Latin font, so
every run and style also gets ``w:eastAsia`` on its ``rFonts``.
"""

from __future__ import annotations

import datetime
import io

from django.utils.translation import gettext as _
from docx import Document
from docx.enum.section import WD_ORIENT
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

from tasks.models import Plan, ProgressUpdate, Task
from tasks.status import Light, Period

from .models import IssuedDocument

TITLE_FONT = "方正小标宋简体"
BODY_FONT = "仿宋_GB2312"
HEADING_FONT = "黑体"
SUBHEADING_FONT = "楷体_GB2312"
NUMBER_FONT = "宋体"
TITLE_SIZE = Pt(22)  # 二号
BODY_SIZE = Pt(16)  # 三号
TABLE_SIZE = Pt(12)  # 小四
LINE_PITCH = Pt(28.95)
RED = RGBColor(0xE6, 0x00, 0x12)


def cn_date(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _set_fonts(target, name: str, size=None, *, bold: bool | None = None, color=None) -> None:
    """Latin and East Asian font of a run or a style (``w:eastAsia`` is what Chinese text uses)."""
    font = target.font
    font.name = name
    if size is not None:
        font.size = size
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = color
    rpr = target.element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for attribute in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(attribute), name)


class OfficialDocument:
    """A python-docx document set up as a 公文 page, with helpers for its parts."""

    def __init__(self, *, landscape: bool = False):
        self.doc = Document()
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        if landscape:
            section.orientation = WD_ORIENT.LANDSCAPE
            section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(20)
        normal = self.doc.styles["Normal"]
        _set_fonts(normal, BODY_FONT, BODY_SIZE)
        paragraph_format = normal.paragraph_format
        paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        paragraph_format.line_spacing = LINE_PITCH
        paragraph_format.space_before = paragraph_format.space_after = Pt(0)
        self._page_numbers(section)

    def _page_numbers(self, section) -> None:
        """ "— 1 —" centred in the footer (a PAGE field, so Word and LibreOffice number the pages)."""
        paragraph = section.footer.paragraphs[0]
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _set_fonts(paragraph.add_run("— "), NUMBER_FONT, Pt(14))
        run = paragraph.add_run()
        _set_fonts(run, NUMBER_FONT, Pt(14))
        for kind, text in (("begin", None), (None, " PAGE "), ("separate", None), (None, "1"), ("end", None)):
            if kind:
                element = OxmlElement("w:fldChar")
                element.set(qn("w:fldCharType"), kind)
            elif text == "1":
                element = OxmlElement("w:t")
                element.text = text
            else:
                element = OxmlElement("w:instrText")
                element.set(qn("xml:space"), "preserve")
                element.text = text
            run._r.append(element)
        _set_fonts(paragraph.add_run(" —"), NUMBER_FONT, Pt(14))

    def paragraph(
        self,
        text: str = "",
        *,
        font: str = BODY_FONT,
        size=BODY_SIZE,
        bold: bool = False,
        align=WD_ALIGN_PARAGRAPH.JUSTIFY,
        indent: bool = True,
        color=None,
        right_indent=None,
        line=LINE_PITCH,
    ):
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = align
        paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        paragraph.paragraph_format.line_spacing = line
        if indent:
            paragraph.paragraph_format.first_line_indent = Pt(size.pt * 2)  # 首行缩进两字
        if right_indent is not None:
            paragraph.paragraph_format.right_indent = right_indent
        if text:
            _set_fonts(paragraph.add_run(text), font, size, bold=bold, color=color)
        return paragraph

    def masthead(self, issuer: str, doc_number: str) -> None:
        """版头: the issuing office in red, the document number, and the red separator line."""
        self.paragraph(
            issuer,
            font=TITLE_FONT,
            size=Pt(26),
            color=RED,
            align=WD_ALIGN_PARAGRAPH.CENTER,
            indent=False,
            line=Pt(40),
        )
        self.paragraph()
        number = self.paragraph(doc_number, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False)
        border = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "8"), ("w:color", "E60012")):
            bottom.set(qn(key), value)
        border.append(bottom)
        number._p.get_or_add_pPr().append(border)
        self.paragraph()

    def title(self, text: str) -> None:
        self.paragraph(
            text, font=TITLE_FONT, size=TITLE_SIZE, align=WD_ALIGN_PARAGRAPH.CENTER, indent=False, line=Pt(36)
        )
        self.paragraph()

    def addressee(self, text: str) -> None:
        self.paragraph(text + ":", indent=False)

    def heading(self, text: str) -> None:
        self.paragraph(text, font=HEADING_FONT)

    def subheading(self, text: str) -> None:
        self.paragraph(text, font=SUBHEADING_FONT)

    def table(self, header: list[str], rows: list[list[str]], widths_mm: list[float]) -> None:
        table = self.doc.add_table(rows=1, cols=len(header))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False

        def fill(cells, values, *, bold: bool):
            for cell, value, width in zip(cells, values, widths_mm, strict=True):
                cell.width = Mm(width)
                paragraph = cell.paragraphs[0]
                paragraph.paragraph_format.line_spacing_rule = WD_LINE_SPACING.EXACTLY
                paragraph.paragraph_format.line_spacing = Pt(18)
                paragraph.paragraph_format.first_line_indent = Pt(0)
                paragraph.alignment = (
                    WD_ALIGN_PARAGRAPH.CENTER if bold or len(str(value)) <= 8 else WD_ALIGN_PARAGRAPH.LEFT
                )
                _set_fonts(paragraph.add_run(str(value)), HEADING_FONT if bold else BODY_FONT, TABLE_SIZE)

        for column, width in zip(table.columns, widths_mm, strict=True):
            column.width = Mm(width)  # the grid LibreOffice lays out by; Word reads the cell widths
        fill(table.rows[0].cells, header, bold=True)
        header_row = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")  # the header row repeats on every page
        repeat.set(qn("w:val"), "true")
        header_row.append(repeat)
        for values in rows:
            fill(table.add_row().cells, values, bold=False)
        self.paragraph()

    def signature(self, issuer: str, day: datetime.date) -> None:
        """落款 and 成文日期, right-aligned four characters from the margin."""
        self.paragraph()
        self.paragraph(
            issuer, align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, right_indent=Pt(BODY_SIZE.pt * 4)
        )
        self.paragraph(
            cn_date(day), align=WD_ALIGN_PARAGRAPH.RIGHT, indent=False, right_indent=Pt(BODY_SIZE.pt * 4)
        )

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.doc.save(buffer)
        return buffer.getvalue()


# What the documents say ---------------------------------------------------------------------------------------


def _issuer(plan: Plan | None) -> str:
    return (plan.issuer if plan is not None and plan.issuer else "") or _("知识产权工作督办组")


def _latest_texts(task_ids) -> dict[int, str]:
    latest: dict[int, str] = {}
    for task_id, text in (
        ProgressUpdate.objects.filter(task_id__in=task_ids)
        .order_by("task_id", "-created_at", "-pk")
        .values_list("task_id", "text")
    ):
        latest.setdefault(task_id, " ".join(text.split()))
    return latest


def notice_tasks(*, agency, plan: Plan | None, today: datetime.date):
    """The agency's tasks that need a 督办通知单: overdue, or a periodic report missed (red light)."""
    tasks = (
        Task.objects.filter(agency=agency, measure__is_removed=False)
        .open()
        .with_light(today)
        .filter(light=Light.RED)
    )
    if plan is not None:
        tasks = tasks.filter(measure__plan=plan)
    return tasks.select_related("measure__plan").order_by(
        "measure__plan__title", "attention_date", "measure__position"
    )


def notice_content(*, agency, plan: Plan | None, today: datetime.date, reply_by: datetime.date) -> dict:
    tasks = list(notice_tasks(agency=agency, plan=plan, today=today))
    latest = _latest_texts([t.pk for t in tasks])
    rows = []
    for task in tasks:
        if task.is_ongoing:
            state = _("应于%(d)s前报送进展,未报送") % {"d": cn_date(task.attention_date)}
        else:
            state = _("%(d)s到期,已逾期%(n)d天") % {
                "d": cn_date(task.due_date),
                "n": (today - task.due_date).days,
            }
        rows.append(
            {
                "task_id": task.pk,
                "plan": task.measure.plan.title,
                "number": task.measure.number,
                "text": task.measure.text,
                "role": str(task.get_role_display()),
                "state": state,
                "latest": latest.get(task.pk, ""),
            }
        )
    plans = sorted({row["plan"] for row in rows}) or ([plan.title] if plan else [])
    return {
        "issuer": _issuer(plan),
        "agency": agency.name,
        "plans": plans,
        "as_of": today.isoformat(),
        "reply_by": reply_by.isoformat(),
        "tasks": rows,
    }


def bulletin_content(*, plan: Plan | None, period: Period, scores, today: datetime.date) -> dict:
    """Figures, ranking, overdue list, the units doing well and lagging, and the paragraphs that say so."""
    as_of = min(period.end, today)
    tasks = Task.objects.filter(measure__is_removed=False)
    tasks = (
        tasks.filter(measure__plan=plan) if plan is not None else tasks.filter(measure__plan__is_active=True)
    )
    counts = {status: 0 for status in Task.Status.values}
    for status in tasks.values_list("status", flat=True):
        counts[status] += 1
    total = sum(counts.values())
    done = counts[Task.Status.DONE]
    overdue = list(
        tasks.overdue(as_of)
        .select_related("agency", "measure")
        .order_by("attention_date", "measure__position", "agency__name")
    )
    agencies = tasks.values("agency_id").distinct().count()
    ranking = [score.as_dict() for score in scores]
    good = [s["name"] for s in ranking if s["total"] >= 90][:5]
    lagging = [s["name"] for s in sorted(ranking, key=lambda s: (s["total"], s["name"])) if s["total"] < 60][
        :5
    ]
    rate = round(100 * done / total, 1) if total else 0.0
    title = plan.title if plan is not None else _("各项计划")
    paragraphs = [
        _(
            "截至%(date)s,《%(plan)s》共分解任务%(total)d项,涉及%(agencies)d个责任单位。其中已办结%(done)d项,"
            "占%(rate)s%%;正在推进%(progress)d项;申请办结待审核%(review)d项;尚未启动%(idle)d项;"
            "逾期未完成%(overdue)d项。"
        )
        % {
            "date": cn_date(as_of),
            "plan": title,
            "total": total,
            "agencies": agencies,
            "done": done,
            "rate": f"{rate:g}",
            "progress": counts[Task.Status.IN_PROGRESS],
            "review": counts[Task.Status.COMPLETION_REQUESTED],
            "idle": counts[Task.Status.NOT_STARTED],
            "overdue": len(overdue),
        }
    ]
    if good:
        paragraphs.append(
            _("%(units)s等单位高度重视,任务推进有力,按时签收、按期报送,考核得分位居前列,予以通报表扬。")
            % {"units": "、".join(good)}
        )
    if lagging:
        paragraphs.append(
            _(
                "%(units)s等单位存在任务逾期、进展报送不及时等问题,考核得分较低,请主要负责同志高度重视,认真分析原因,"
                "于%(date)s前将整改情况书面报送。"
            )
            % {"units": "、".join(lagging), "date": cn_date(as_of + datetime.timedelta(days=10))}
        )
    if not good and not lagging:
        paragraphs.append(_("各单位总体按计划推进,考核得分均在60分至90分之间。"))
    requirements = [
        _("各责任单位要对照任务分工,逐项梳理本单位承担的任务,明确责任人和完成时限,确保按期完成。"),
        _(
            "对已逾期的任务,责任单位要说明原因,提出整改措施和新的完成时限;确需延期的,应在截止日期前提出延期申请。"
        ),
        _("持续推进类任务要按期报送工作进展,报送内容应具体、可核实,避免空泛表述。"),
    ]
    return {
        "issuer": _issuer(plan),
        "plan": title,
        "period": period.key,
        "period_label": period.label,
        "as_of": as_of.isoformat(),
        "figures": {
            "total": total,
            "done": done,
            "rate": rate,
            "overdue": len(overdue),
            "agencies": agencies,
        },
        "paragraphs": paragraphs,
        "good": good,
        "lagging": lagging,
        "overdue": _overdue_rows(overdue, as_of),
        "requirements": requirements,
    }


def _overdue_rows(tasks: list[Task], as_of: datetime.date) -> list[dict]:
    """One row per measure (its agencies together), earliest due first."""
    rows: dict[int, dict] = {}
    for task in tasks:
        row = rows.setdefault(
            task.measure_id,
            {
                "number": task.measure.number,
                "text": task.measure.text,
                "agencies": [],
                # the date missed: the due date, or the periodic report owed (one definition of overdue)
                "due": task.attention_date.isoformat(),
                "days": (as_of - task.attention_date).days,
            },
        )
        row["agencies"].append(task.agency.name)
    return list(rows.values())


# Rendering ------------------------------------------------------------------------------------------------


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_notice(document: IssuedDocument) -> bytes:
    content = document.content
    doc = OfficialDocument()
    doc.masthead(content["issuer"], document.doc_number)
    doc.title(_("督办通知单"))
    doc.addressee(content["agency"])
    as_of = datetime.date.fromisoformat(content["as_of"])
    reply_by = datetime.date.fromisoformat(content["reply_by"])
    plans = "、".join(f"《{p}》" for p in content["plans"])
    tasks = content["tasks"]
    if tasks:
        doc.paragraph(
            _(
                "根据%(plans)s任务分工,经督办系统核查,截至%(date)s,你单位承担的以下%(n)d项任务已逾期或未按期报送工作进展,现予督办。"
            )
            % {"plans": plans, "date": cn_date(as_of), "n": len(tasks)}
        )
        doc.table(
            [_("序号"), _("任务内容"), _("角色"), _("办理情况"), _("最新进展")],
            [
                [
                    row["number"],
                    _short(row["text"]),
                    row["role"],
                    row["state"],
                    _short(row["latest"], 40) or _("未报送"),
                ]
                for row in tasks
            ],
            [12, 58, 14, 34, 38],
        )
    else:
        doc.paragraph(
            _("根据%(plans)s任务分工,截至%(date)s,你单位暂无逾期任务。请继续按计划推进。")
            % {"plans": plans, "date": cn_date(as_of)}
        )
    doc.heading(_("一、办理要求"))
    doc.paragraph(
        _(
            "请你单位高度重视,逐项核查上述任务的推进情况,分析逾期原因,明确整改措施、责任人和完成时限,加快推进。"
        )
    )
    doc.heading(_("二、反馈时限"))
    doc.paragraph(
        _(
            "请于%(date)s前通过督办系统报送办理情况,并将加盖公章的书面材料报送%(issuer)s。逾期未反馈的,将在工作进展情况通报中予以通报。"
        )
        % {"date": cn_date(reply_by), "issuer": content["issuer"]}
    )
    doc.signature(content["issuer"], document.issued_on)
    return doc.save()


def render_bulletin(document: IssuedDocument) -> bytes:
    content = document.content
    doc = OfficialDocument()
    doc.masthead(content["issuer"], document.doc_number)
    doc.title(_("关于%(plan)s工作进展情况的通报") % {"plan": content["plan"]})
    doc.addressee(_("各责任单位"))
    doc.paragraph(
        _("为推动各项任务落实落地,现将%(period)s工作进展和考核情况通报如下。")
        % {"period": content["period_label"]}
    )
    doc.heading(_("一、总体情况"))
    doc.paragraph(content["paragraphs"][0])
    doc.heading(_("二、考核排名"))
    doc.paragraph(
        _("考核依据督办系统记录的签收、办结、报送、逾期、延期和审核时间自动计算,权重为:%(weights)s。")
        % {
            "weights": "、".join(
                f"{label}{document.weights.get(key, 0)}" for key, label in _weight_labels().items()
            )
        }
    )
    from .scorecard import LABELS

    keys = list(LABELS)
    doc.table(
        [_("排名"), _("单位"), _("得分")] + [str(LABELS[k]) for k in keys],
        [
            [str(s["rank"]), s["name"], f"{s['total']:.1f}"]
            + ["—" if s["components"].get(k) is None else f"{s['components'][k]:.0f}" for k in keys]
            for s in document.scores
        ],
        [10, 34, 14] + [16] * len(keys),
    )
    doc.heading(_("三、逾期任务"))
    overdue = content["overdue"]
    if overdue:
        doc.paragraph(
            _("截至%(date)s,以下%(n)d项措施有任务逾期未完成:")
            % {"date": cn_date(datetime.date.fromisoformat(content["as_of"])), "n": len(overdue)}
        )
        doc.table(
            [_("序号"), _("任务内容"), _("责任单位"), _("完成时限"), _("逾期天数")],
            [
                [
                    row["number"],
                    _short(row["text"]),
                    "、".join(row["agencies"]),
                    cn_date(datetime.date.fromisoformat(row["due"])),
                    str(row["days"]),
                ]
                for row in overdue
            ],
            [12, 64, 36, 28, 16],
        )
    else:
        doc.paragraph(_("本期无逾期未完成的任务。"))
    doc.heading(_("四、表扬和督促"))
    for text in content["paragraphs"][1:]:
        doc.paragraph(text)
    doc.heading(_("五、下一步工作要求"))
    for index, text in enumerate(content["requirements"], 1):
        doc.paragraph(f"({'一二三四五六七八九'[index - 1]}){text}")
    doc.signature(content["issuer"], document.issued_on)
    return doc.save()


def _weight_labels() -> dict[str, str]:
    from .scorecard import LABELS

    return {key: str(label) for key, label in LABELS.items()}


def render(document: IssuedDocument) -> bytes:
    if document.kind == IssuedDocument.Kind.NOTICE:
        return render_notice(document)
    return render_bulletin(document)


def filename(document: IssuedDocument) -> str:
    who = document.content.get("agency") or document.content.get("plan") or ""
    return f"{document.doc_number}{document.get_kind_display()}-{who}.docx".replace("/", "")
