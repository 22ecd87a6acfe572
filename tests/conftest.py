"""Shared actors and data for the whole suite.

Actors (as in healthchecks' tests): ``lead`` works in the lead bureau (督办人员), ``leader`` reads everything,
``alice`` is the liaison of 区金融局, ``bob`` of 区科技局, ``charlie`` has an account and no agency.
"""

import datetime

import pytest
from django.contrib.auth import get_user_model

from agencies.models import Agency, Liaison
from agencies.roles import ensure_role_groups
from tasks.models import Measure, Plan, Section, Task

PASSWORD = "Zhishi-Chanquan-2026"


@pytest.fixture
def groups(db):
    return ensure_role_groups()


@pytest.fixture
def make_user(db):
    def make(username: str, **fields):
        return get_user_model().objects.create_user(username=username, password=PASSWORD, **fields)

    return make


@pytest.fixture
def lead(make_user, groups):
    user = make_user("lead", is_staff=True, email="lead@example.gov.cn")
    user.groups.add(groups[0])
    return user


@pytest.fixture
def leader(make_user, groups):
    user = make_user("leader", is_staff=True, email="leader@example.gov.cn")
    user.groups.add(groups[1])
    return user


@pytest.fixture
def superuser(db):
    return get_user_model().objects.create_superuser("root", "root@example.gov.cn", PASSWORD)


@pytest.fixture
def finance(db):
    return Agency.objects.create(name="区金融局", jurisdiction="东丽区")


@pytest.fixture
def science(db):
    return Agency.objects.create(name="区科技局", jurisdiction="东丽区")


@pytest.fixture
def market(db):
    return Agency.objects.create(name="区市场监管局", jurisdiction="东丽区")


@pytest.fixture
def alice(make_user, finance):
    user = make_user("alice", email="alice@example.gov.cn")
    Liaison.objects.create(user=user, agency=finance, email="alice@example.gov.cn")
    return user


@pytest.fixture
def bob(make_user, science):
    user = make_user("bob", email="bob@example.gov.cn")
    Liaison.objects.create(user=user, agency=science, email="bob@example.gov.cn")
    return user


@pytest.fixture
def charlie(make_user):
    return make_user("charlie", email="charlie@example.gov.cn")


@pytest.fixture
def plan(db):
    return Plan.objects.create(
        title="2020-2021年天津市东丽区强化知识产权保护推进计划",
        doc_number="津丽知略〔2021〕1号",
        issuer="天津市东丽区市场监督管理局",
        jurisdiction="东丽区",
        period_start=2020,
        period_end=2021,
    )


@pytest.fixture
def measure(plan):
    section = Section.objects.create(plan=plan, heading="一、完善知识产权保护制度", level=1, position=1)
    return Measure.objects.create(
        plan=plan,
        section=section,
        number="2",
        text="建立健全重大投融资活动知识产权评议工作机制。",
        raw_clause="区金融局牵头,区发改委、区合作交流办、区科技局、区市场监管局按职责分工负责;2021年12月底前完成",
        raw_deadline="2021年12月底前完成",
        deadline_date=datetime.date(2021, 12, 31),
        position=40,
    )


@pytest.fixture
def finance_task(measure, finance):
    return Task.objects.create(
        measure=measure, agency=finance, role=Task.Role.LEAD, due_date=measure.deadline_date
    )


@pytest.fixture
def science_task(measure, science):
    return Task.objects.create(
        measure=measure, agency=science, role=Task.Role.SUPPORT, due_date=measure.deadline_date
    )


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """PBKDF2's deliberate slowness adds seconds per user; tests do not need it."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
