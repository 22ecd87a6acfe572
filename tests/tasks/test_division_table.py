"""Excel 任务分工表 export through django-import-export (tasks/resources.py); tables come in through the plan
import, and the old measure import address points there."""

import pytest
from django.urls import NoReverseMatch, reverse

from agencies.models import Agency
from tasks.models import Measure
from tasks.parsing import parse_bytes
from tasks.resources import DivisionTableResource
from tasks.services.importing import import_plan

TABLE = (
    "序号,重点任务,牵头单位,配合单位,完成时限\n"
    "1,建立健全重大投融资活动知识产权评议工作机制。,区金融局,区发改委、区科技局,2021年12月底前完成\n"
    "2,加强知识产权宣传。,区委宣传部,区融媒体中心,持续推进\n"
).encode("gbk")


@pytest.fixture
def agencies(finance, science, market):
    for name in ("区发改委", "区委宣传部", "区融媒体中心"):
        Agency.objects.create(name=name, jurisdiction="东丽区")


def test_export_has_the_same_shape(agencies):
    plan = import_plan(parsed=parse_bytes(TABLE, "分工表.csv"), jurisdiction="东丽区").plan
    exported = DivisionTableResource().export(Measure.objects.filter(plan=plan).order_by("position"))
    assert exported.headers == ["序号", "重点任务", "牵头单位", "配合单位", "责任单位", "完成时限"]
    assert exported.dict[0]["牵头单位"] == "区金融局"
    assert set(exported.dict[0]["配合单位"].split("、")) == {"区发改委", "区科技局"}
    assert exported.dict[1]["完成时限"] == "持续推进"


def test_the_measure_import_address_points_to_the_plan_import(client, superuser):
    client.force_login(superuser)
    response = client.get("/admin/tasks/measure/import/")
    assert response.status_code == 302 and response.url == reverse("admin:tasks_plan_import")
    with pytest.raises(NoReverseMatch):
        reverse("admin:tasks_measure_process_import")
    changelist = client.get(reverse("admin:tasks_measure_changelist"))
    assert "measure/export/" in changelist.text and "measure/import/" not in changelist.text
