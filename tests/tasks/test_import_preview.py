"""The admin's upload → preview → confirm flow: every action is a plain POST saving one decision on the draft."""

import datetime
import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from agencies.models import Agency, BureauProfile, Liaison
from tasks.models import ImportDraft, Plan, Task
from tasks.parsing import parse_bytes
from tasks.services import drafts, previews

UNKNOWN_PLAN = (
    "东丽区知识产权工作要点\n一、重点任务\n"
    "1.建立专利快速预审机制。(区数据局牵头,区金融局、区科技局按职责分工负责;2024年12月底前完成)\n"
    "2.开展知识产权宣传周活动。(区委宣传部负责;持续推进)\n"
    "3.完善知识产权纠纷调解机制。(区司法局牵头,各街道办、区档案馆配合)\n"
).encode("gb18030")


@pytest.fixture
def catalogue(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def upload(client, data: bytes = UNKNOWN_PLAN, name: str = "要点.txt", jurisdiction: str = "东丽区"):
    return client.post(
        reverse("admin:tasks_plan_import"),
        {"file": SimpleUploadedFile(name, data), "jurisdiction": jurisdiction},
    )


@pytest.fixture
def draft_url(client, lead, catalogue):
    client.force_login(lead)
    return upload(client).url


def draft() -> ImportDraft:
    return ImportDraft.objects.get()


def key(number: str) -> str:
    parsed = previews.draft_parse(draft())
    return next(drafts.measure_key(m) for m in parsed.required_measures if m.number == number)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


# --- upload and the list of open drafts ----------------------------------------------------------------------


def test_upload_keeps_a_draft_and_writes_no_plan(draft_url):
    assert draft_url == reverse("admin:tasks_plan_import_preview", args=[draft().pk])
    assert not Plan.objects.exists() and draft().jurisdiction == "东丽区"


def test_the_upload_form_defaults_to_the_bureaus_jurisdiction(client, lead, settings, db):
    client.force_login(lead)
    settings.IPPLAN_JURISDICTION = "东丽区"
    assert 'value="东丽区"' in client.get(reverse("admin:tasks_plan_import")).text
    BureauProfile.objects.create(user=lead, jurisdiction="江津区")  # several bureaus share the installation
    assert 'value="江津区"' in client.get(reverse("admin:tasks_plan_import")).text


def test_open_drafts_are_listed_to_come_back_to_and_kept_30_days(client, draft_url, lead):
    page = client.get(reverse("admin:tasks_plan_import"))
    assert "未完成的导入" in page.text and draft_url in page.text
    ImportDraft.objects.update(updated_at=timezone.now() - datetime.timedelta(days=29))
    client.get(reverse("admin:tasks_plan_import"))
    assert ImportDraft.objects.exists()
    ImportDraft.objects.update(updated_at=timezone.now() - datetime.timedelta(days=31))
    client.get(reverse("admin:tasks_plan_import"))
    assert not ImportDraft.objects.exists()


def test_bad_upload_gets_a_chinese_message_and_saves_nothing(client, lead, catalogue):
    client.force_login(lead)
    binary = upload(client, b"\x00\x01\x02\x03" * 100, "plan.txt")
    assert binary.status_code == 200 and "不支持的文件类型" in binary.text
    empty = upload(client, "扫一扫在手机打开当前页\n".encode(), "plan.txt")
    assert empty.status_code == 200 and "没有识别到任何任务措施" in empty.text
    assert not ImportDraft.objects.exists() and not Plan.objects.exists()


def test_zip_bomb_docx_is_refused(client, lead, catalogue):
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document>" + " " * (80 * 1024 * 1024) + "</w:document>")
    client.force_login(lead)
    response = upload(client, buffer.getvalue(), "plan.docx")
    assert response.status_code == 200 and "压缩炸弹" in response.text
    assert not ImportDraft.objects.exists()


def test_docx_upload_parses_like_text(client, lead, catalogue):
    import docx

    document = docx.Document()
    for line in UNKNOWN_PLAN.decode("gb18030").splitlines():
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    assert [m.number for m in parse_bytes(buffer.getvalue(), "要点.docx").measures] == ["1", "2", "3"]
    client.force_login(lead)
    assert upload(client, buffer.getvalue(), "要点.docx").status_code == 302


# --- who may see a draft ----------------------------------------------------------------------------------


def test_only_lead_bureau_may_import(client, leader, alice, catalogue):
    client.force_login(leader)
    assert client.get(reverse("admin:tasks_plan_import")).status_code == 403
    client.force_login(alice)
    assert client.get(reverse("admin:tasks_plan_import")).status_code == 302  # not staff: to the login page


def test_another_users_draft_is_not_found_nor_changed(client, draft_url, make_user, groups):
    other = make_user("other-lead", is_staff=True)
    other.groups.add(groups[0])
    client.force_login(other)
    assert client.get(draft_url).status_code == 404
    assert client.post(draft_url, {"action": "accept_all"}).status_code == 404
    assert draft().decisions == {}


# --- the preview page ----------------------------------------------------------------------------------------


def test_the_preview_shows_the_grid_the_names_panel_and_what_remains(client, draft_url):
    page = client.get(draft_url)
    assert page.status_code == 200
    assert "建立专利快速预审机制" in page.text and "2024-12-31" in page.text
    assert "单位目录中找不到的名称" in page.text and "区档案馆" in page.text
    # 各街道办 is in 东丽区's catalogue (a group), 区数据局 is not: two names and the period remain.
    preview = page.context["preview"]
    assert [n.name for n in preview.names] == ["区数据局", "区档案馆"]
    assert preview.remaining == ("period", "name:区数据局", "name:区档案馆")
    assert "还有 3 项需要决定" in page.text
    assert "按计划期末推定" not in page.text  # no period: no inferred dates on the rows


def test_accept_all_suggestions_is_one_click_and_no_correction(client, draft_url):
    response = client.post(draft_url, {"action": "accept_all"})
    assert response.status_code == 302
    page = client.get(draft_url)
    assert page.context["preview"].remaining == ()
    assert "所有决定都已完成" in page.text
    assert drafts.tally(draft().decisions) == {"corrections": 0, "suggestions": 3}


def test_mapping_a_name_to_an_agency_is_one_correction(client, draft_url):
    market = Agency.objects.get(jurisdiction="东丽区", name="区市场监管局")
    client.post(draft_url, {"action": "name", "name": "区数据局", "choice": f"agency:{market.pk}"})
    assert draft().decisions["names"]["区数据局"] == {"kind": "agency", "agency": market.pk}
    assert drafts.tally(draft().decisions)["corrections"] == 1
    chips = client.get(draft_url).context["preview"].rows[0].chips
    assert (chips[0].label, chips[0].state) == ("区市场监管局", "decided")


def test_a_name_can_be_mapped_by_typing_a_catalogue_name(client, draft_url):
    client.post(draft_url, {"action": "name", "name": "区数据局", "choice": "other", "other": "区科技局"})
    science = Agency.objects.get(jurisdiction="东丽区", name="区科技局")
    assert draft().decisions["names"]["区数据局"] == {"kind": "agency", "agency": science.pk}
    response = client.post(
        draft_url, {"action": "name", "name": "区档案馆", "choice": "other", "other": "月球局"}, follow=True
    )
    assert "单位目录中没有“月球局”" in messages_of(response)[0]


def test_ignore_create_and_collective_choices(client, draft_url):
    members = list(Agency.objects.filter(jurisdiction="东丽区", name__in=["区科技局", "区金融局"]))
    client.post(draft_url, {"action": "name", "name": "区档案馆", "choice": "ignore"})
    client.post(
        draft_url,
        {"action": "name", "name": "区数据局", "choice": "collective", "members": [a.pk for a in members]},
    )
    names = draft().decisions["names"]
    assert names["区档案馆"] == {"kind": "ignore"}
    assert names["区数据局"] == {"kind": "collective", "members": sorted(a.pk for a in members)}
    client.post(draft_url, {"action": "name", "name": "区档案馆", "choice": "create"})
    assert draft().decisions["names"]["区档案馆"] == {"kind": "create"}  # suggested: not a correction
    assert [e["kind"] for e in draft().decisions["log"]] == ["correction", "correction", "suggestion"]


@pytest.mark.parametrize(
    ("post", "message"),
    [
        ({"action": "name", "name": "区数据局", "choice": "collective"}, "至少一个成员单位"),
        ({"action": "name", "name": "区数据局", "choice": "agency:abc"}, "请选择要对应的单位"),
        ({"action": "name", "name": "区数据局", "choice": "agency:999999"}, "不在本行政区划的单位目录中"),
        ({"action": "name", "name": "区数据局", "choice": ""}, "请为“区数据局”选择一种处理方式"),
        ({"action": "name", "name": "不存在的名称", "choice": "create"}, "预览中没有这个单位名称"),
        ({"action": "plan", "period_start": "二〇二四", "period_end": "2025"}, "计划期限应为起止年份"),
        ({"action": "plan", "period_start": "2026", "period_end": "2025"}, "截止年份不早于起始年份"),
        ({"action": "match", "match": "maybe"}, "修订版,还是一份新计划"),
        ({"action": "plan", "title": "计" * 301}, "最多 300 字"),
        ({"action": "measure", "key": "nope"}, "找不到这条措施"),
        ({"action": "include", "key": "nope"}, "找不到这条措施"),
        ({"action": "launch"}, "无法识别的操作"),
        ({"action": "confirm"}, "还有 3 项需要决定"),
    ],
)
def test_bad_posts_get_a_chinese_message_and_change_nothing(client, draft_url, post, message):
    response = client.post(draft_url, post, follow=True)
    assert response.status_code == 200
    assert any(message in m for m in messages_of(response)), messages_of(response)
    assert draft().decisions == {} and not Plan.objects.exists()


def test_plan_fields_period_and_the_rule_for_undated_measures(client, draft_url):
    page = client.get(draft_url)
    assert page.context["preview"].plan.suggested_period == (2024, 2024)
    assert "按计划期末" in page.text and "计划期限未定时这些任务没有截止日期" in page.text
    client.post(
        draft_url, {"action": "plan", "period_start": "2024", "period_end": "2025", "jurisdiction": "东丽区"}
    )
    assert draft().decisions["plan"]["period"] == [2024, 2025]
    page = client.get(draft_url)
    assert page.context["preview"].rows[2].inferred_date == datetime.date(2025, 12, 31)
    assert "即 2025-12-31" in page.text
    # Saving the suggested period unchanged counts as accepting it.
    client.post(
        draft_url, {"action": "plan", "period_start": "2024", "period_end": "2024", "jurisdiction": "东丽区"}
    )
    assert [e["kind"] for e in draft().decisions["log"]] == ["correction", "suggestion"]


def test_editing_a_measure_number_text_deadline_and_roles(client, draft_url):
    first = key("1")
    editor = client.get(f"{draft_url}?edit={first}")
    assert editor.context["editing"].key == first and 'name="role_0"' in editor.text
    client.post(
        draft_url,
        {
            "action": "measure",
            "key": first,
            "number": "1-1",
            "text": "建立专利快速预审与确权机制。",
            "deadline_kind": "date",
            "deadline_date": "2025-06-30",
            "agency_0": "区数据局",
            "role_0": "lead",
            "agency_1": "区金融局",
            "role_1": "lead",  # changed from 配合
            "agency_2": "区科技局",
            "role_2": "support",
        },
    )
    row = client.get(draft_url).context["preview"].rows[0]
    assert (row.number, row.text, row.deadline_date) == (
        "1-1",
        "建立专利快速预审与确权机制。",
        datetime.date(2025, 6, 30),
    )
    assert [(c.name, c.role) for c in row.chips] == [
        ("区数据局", "lead"),
        ("区金融局", "lead"),
        ("区科技局", "support"),
    ]
    assert drafts.tally(draft().decisions)["corrections"] == 1  # one saved edit of one measure


def test_removing_and_adding_an_agency_chip(client, draft_url):
    first = key("1")
    chips = {"agency_0": "区数据局", "agency_1": "区金融局", "agency_2": "区科技局"}
    removed = client.post(draft_url, {"action": "measure", "key": first, "remove": "1", **chips})
    assert removed.url.endswith(f"?edit={first}#m-{first}")
    client.post(
        draft_url,
        {
            "action": "measure",
            "key": first,
            "agency_0": "区数据局",
            "agency_1": "区科技局",
            "add_agency": "区商务局",
            "add_role": "support",
        },
    )
    row = client.get(draft_url).context["preview"].rows[0]
    assert [c.name for c in row.chips] == ["区数据局", "区科技局", "区商务局"]


def test_an_ongoing_or_yearly_deadline_can_be_chosen(client, draft_url):
    third = key("3")
    client.post(
        draft_url, {"action": "measure", "key": third, "deadline_kind": "yearly", "deadline_date": ""}
    )
    assert client.get(draft_url).context["preview"].rows[2].deadline_kind == "yearly"
    client.post(
        draft_url, {"action": "measure", "key": third, "deadline_kind": "ongoing", "deadline_date": ""}
    )
    assert client.get(draft_url).context["preview"].rows[2].deadline_kind == "ongoing"
    response = client.post(
        draft_url,
        {"action": "measure", "key": third, "deadline_kind": "date", "deadline_date": "明年"},
        follow=True,
    )
    assert "请填写有效的日期" in messages_of(response)[0]


def test_excluding_and_restoring_a_measure(client, draft_url):
    second = key("2")
    client.post(draft_url, {"action": "include", "key": second})
    preview = client.get(draft_url).context["preview"]
    assert not preview.rows[1].included and preview.excluded_rows == 1
    client.post(draft_url, {"action": "include", "key": second})
    assert client.get(draft_url).context["preview"].rows[1].included


def test_confirm_imports_the_edited_plan_and_keeps_the_record(client, draft_url):
    market = Agency.objects.get(jurisdiction="东丽区", name="区市场监管局")
    client.post(draft_url, {"action": "accept_all"})
    client.post(draft_url, {"action": "name", "name": "区数据局", "choice": f"agency:{market.pk}"})
    client.post(draft_url, {"action": "include", "key": key("2")})
    done = client.post(draft_url, {"action": "confirm"})
    plan = Plan.objects.get()
    assert done.status_code == 302 and done.url == reverse("admin:tasks_plan_todo", args=[plan.pk])
    assert sorted(plan.measures.values_list("number", flat=True)) == ["1", "3"]
    first = plan.measures.get(number="1")
    assert first.tasks.get(role="lead").agency == market
    assert market.aliases.filter(name="区数据局").exists()
    assert first.tasks.get(agency__name="区金融局").due_date == datetime.date(2024, 12, 31)
    # The period accepted in the preview dates the measure without a deadline.
    third = plan.measures.get(number="3")
    assert set(third.tasks.values_list("due_date", flat=True)) == {datetime.date(2024, 12, 31)}
    assert Agency.objects.get(name="区档案馆", jurisdiction="东丽区").is_confirmed is False
    record = draft()
    assert record.plan == plan and record.confirmed_at is not None
    assert record.decisions["result"]["corrections"] == 2  # the mapping and the exclusion
    assert record.decisions["excluded"][0]["number"] == "2"
    assert client.get(draft_url).status_code == 404  # a confirmed draft is no longer editable


def test_an_ignored_name_gets_no_task(client, draft_url):
    client.post(draft_url, {"action": "accept_all"})
    client.post(draft_url, {"action": "name", "name": "区档案馆", "choice": "ignore"})
    client.post(draft_url, {"action": "confirm"})
    assert not Task.objects.filter(agency__name="区档案馆").exists()
    assert not Agency.objects.filter(name="区档案馆").exists()


def test_a_collective_gets_one_task_per_member(client, draft_url):
    members = list(Agency.objects.filter(jurisdiction="东丽区", name__in=["区科技局", "区商务局"]))
    client.post(draft_url, {"action": "accept_all"})
    client.post(
        draft_url,
        {"action": "name", "name": "区档案馆", "choice": "collective", "members": [a.pk for a in members]},
    )
    client.post(draft_url, {"action": "confirm"})
    third = Plan.objects.get().measures.get(number="3")
    assigned = set(third.tasks.values_list("agency__name", "role"))
    assert {("区科技局", "support"), ("区商务局", "support")} <= assigned


def test_cancel_discards_the_draft(client, draft_url):
    response = client.post(draft_url, {"action": "cancel"})
    assert response.status_code == 302 and not ImportDraft.objects.exists() and not Plan.objects.exists()


def test_a_plan_already_imported_asks_revision_or_new(client, draft_url, lead):
    client.post(draft_url, {"action": "accept_all"})
    client.post(draft_url, {"action": "confirm"})
    plan = Plan.objects.get()
    tasks = Task.objects.count()
    # The same document saved again in another encoding: the preview asks, and a revision duplicates nothing.
    url = upload(client, UNKNOWN_PLAN.decode("gb18030").encode("utf-8"), "要点(另存).txt").url
    page = client.get(url)
    assert f"这是《{plan.title}》的修订版" in page.text and "这是一份新计划" in page.text
    assert "match" in page.context["preview"].remaining
    client.post(url, {"action": "match", "match": "revision"})
    # the import service's diff is shown before confirming
    assert "与已导入的版本相比,措施没有变化。" in client.get(url).text
    assert drafts.tally(ImportDraft.objects.get(pk=page.context["draft"].pk).decisions) == {
        "corrections": 0,
        "suggestions": 1,
    }
    client.post(url, {"action": "accept_all"})
    client.post(url, {"action": "confirm"})
    assert Plan.objects.count() == 1 and Task.objects.count() == tasks


def test_a_plan_already_imported_can_be_kept_apart_as_a_new_plan(client, draft_url, lead):
    client.post(draft_url, {"action": "accept_all"})
    client.post(draft_url, {"action": "confirm"})
    url = upload(client, UNKNOWN_PLAN.decode("gb18030").encode("utf-8"), "要点(另存).txt").url
    client.post(url, {"action": "match", "match": "new"})
    client.post(url, {"action": "accept_all"})
    client.post(url, {"action": "confirm"})
    assert Plan.objects.count() == 2


# --- the to-do list after import -------------------------------------------------------------------------


def test_the_todo_list_names_what_is_left_to_do(client, draft_url, lead):
    client.post(draft_url, {"action": "accept_all"})
    client.post(draft_url, {"action": "include", "key": key("2")})
    client.post(draft_url, {"action": "confirm"})
    plan = Plan.objects.get()
    finance = Agency.objects.get(jurisdiction="东丽区", name="区金融局")
    Liaison.objects.create(user=lead, agency=finance, email="finance@example.gov.cn")
    page = client.get(reverse("admin:tasks_plan_todo", args=[plan.pk]))
    assert page.status_code == 200
    todo = page.context["todo"]
    assert [a.name for a in todo.unconfirmed] == ["区数据局", "区档案馆"]
    assert finance not in todo.unreachable and any(a.name == "区科技局" for a in todo.unreachable)
    assert [a.name for a in todo.empty_collectives] == ["各街道办"]
    assert todo.excluded == [{"plan": plan, "number": "2", "text": "开展知识产权宣传周活动。"}]
    assert todo.undated == []  # the period gave every dated measure its due date
    assert "预览中未导入的措施(1)" in page.text
    assert (
        reverse("admin:tasks_plan_todo", args=[plan.pk])
        in client.get(reverse("admin:tasks_plan_change", args=[plan.pk])).text
    )
    dashboard = client.get(reverse("workspace:dashboard"))
    assert reverse("admin:tasks_plan_todo_all") in dashboard.text


def test_leaders_may_read_the_todo_list_and_liaisons_may_not(client, plan, leader, alice):
    client.force_login(leader)
    assert client.get(reverse("admin:tasks_plan_todo", args=[plan.pk])).status_code == 200
    client.force_login(alice)
    assert client.get(reverse("admin:tasks_plan_todo", args=[plan.pk])).status_code == 302


def test_a_name_with_two_equally_good_matches_waits_for_the_clerk(client, lead, catalogue):
    for name in ("区档案工作局", "区档案服务局"):
        Agency.objects.create(jurisdiction="东丽区", name=name)
    client.force_login(lead)
    document = "东丽区工作要点\n一、任务\n1.规范档案管理。(区档案局牵头;2024年底前完成)\n".encode()
    url = upload(client, document, "档案.txt").url
    client.post(url, {"action": "accept_all"})
    page = client.get(url)
    assert page.status_code == 200 and page.context["preview"].remaining == ("name:区档案局",)
    assert "区档案工作局" in page.text and "区档案服务局" in page.text


def test_choosing_collective_without_members_shows_the_member_list(client, draft_url):
    response = client.post(draft_url, {"action": "name", "name": "区档案馆", "choice": "collective"})
    assert response.url.endswith("?members=%E5%8C%BA%E6%A1%A3%E6%A1%88%E9%A6%86#names")
    page = client.get(response.url)
    assert "请为“区档案馆”选择至少一个成员单位。" in messages_of(page)
    assert (
        page.text.count('name="members"')
        >= Agency.objects.filter(jurisdiction="东丽区", is_group=False).count()
    )
