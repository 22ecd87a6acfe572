"""Every URL pattern × every role × GET and POST, against a table of what each role may do.

The crawl walks ``get_resolver().url_patterns`` (admin's per-model URLs included), fills path parameters
with real ids from one data set, and replays GET and a CSRF-valid POST as each role:

    anonymous · liaison_own (区科技局's liaison on its task) · liaison_other (the same liaison on 区市场监管局's
    task) · lead_agency (区金融局's liaison, lead agency of the shared measure, on 区科技局's task) ·
    leader (领导) · lead (督办人员) · superuser

Each cell of the table is one letter:

    A  answered (200, or a redirect that is not to a login page); a POST writes nothing
    W  answered, and a POST may write (rolled back after each request)
    D  denied: 403, 404, or a redirect to a login page for a signed-in user (the admin's way)
    L  redirected to a login page (anonymous)
    N  405 method not allowed

Whatever the cell, every POST that is not W leaves the main tables exactly as they were, the leader has
W only where it writes its own things (password, 我的设置, calendar subscriptions, inbox read-marks), and no
response a liaison or an anonymous visitor gets contains text of a task they may not see. A pattern
without an entry fails the test: new URLs must be added here.
"""

from __future__ import annotations

import datetime
import hashlib
import io
import re
from dataclasses import dataclass, field
from types import SimpleNamespace

import docx
import openpyxl
import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_celery_beat.models import (
    ClockedSchedule,
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from agencies.models import Agency, AgencyAlias, AgencyRobot, BureauProfile, Liaison
from reminders.models import Holiday, ReminderLog, ReminderLogTask
from reports.models import CalendarFeed, ExportJob, IssuedDocument, ScoreWeights
from reports.services import issue_notice
from tasks.models import (
    Attachment,
    ExtensionRequest,
    ImportDraft,
    Indicator,
    IndicatorValue,
    Measure,
    Plan,
    ProgressUpdate,
    Section,
    Task,
)
from workspace import links
from workspace.models import ActionLink

from .conftest import PASSWORD

ROLES = ("anonymous", "liaison_own", "liaison_other", "lead_agency", "leader", "lead", "superuser")
CSRF = "abcdefghijklmnopqrstuvwxyzABCDEF"  # a 32-character secret: valid as cookie and as form token

MARKET_SECRET = "市场局保密措施甲乙丙"  # 区市场监管局's measure: no liaison of another agency may read it
MARKET_REPORT = "市场局保密报送丁戊己"
SCIENCE_REPORT = "科技局报送庚辛壬"  # readable by its own and the lead agency's liaison, never anonymously
LEAKS = {
    "anonymous": (MARKET_SECRET, MARKET_REPORT, SCIENCE_REPORT),
    "liaison_own": (MARKET_SECRET, MARKET_REPORT),
    "liaison_other": (MARKET_SECRET, MARKET_REPORT),
    "lead_agency": (MARKET_SECRET, MARKET_REPORT),
}
# What the leader may write: its own password, settings, subscriptions and session.
LEADER_WRITES = {
    "accounts/password_change/",
    "admin/password_change/",
    "profile/",
    "profile/display/",
    "inbox/read/",
    "reports/calendar/plan/<int:plan_id>/",
}


# The data set ------------------------------------------------------------------------------------------


@pytest.fixture
def world(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    from agencies.roles import ensure_role_groups

    lead_group, leader_group = ensure_role_groups()
    User = get_user_model()
    w = SimpleNamespace()
    w.lead = User.objects.create_user("lead", password=PASSWORD, is_staff=True)
    w.lead.groups.add(lead_group)
    w.leader = User.objects.create_user("leader", password=PASSWORD, is_staff=True)
    w.leader.groups.add(leader_group)
    w.root = User.objects.create_superuser("root", "root@example.gov.cn", PASSWORD)
    w.alice = User.objects.create_user("alice", password=PASSWORD, email="alice@example.gov.cn")
    w.bob = User.objects.create_user("bob", password=PASSWORD, email="bob@example.gov.cn")

    finance = Agency.objects.create(name="区金融局", jurisdiction="东丽区")
    science = Agency.objects.create(name="区科技局", jurisdiction="东丽区")
    market = Agency.objects.create(name="区市场监管局", jurisdiction="东丽区")
    AgencyAlias.objects.create(agency=market, name="东丽区市场监管局")
    w.alice_liaison = Liaison.objects.create(user=w.alice, agency=finance, email=w.alice.email)
    w.bob_liaison = Liaison.objects.create(user=w.bob, agency=science, email=w.bob.email)
    AgencyRobot.objects.create(
        agency=finance,
        kind="wecom",
        name="区金融局工作群",
        webhook_url="https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
    )

    w.plan = Plan.objects.create(title="2020-2021年东丽区强化知识产权保护推进计划", jurisdiction="东丽区")
    w.plan.source_file.save("plan.txt", ContentFile("一、总体要求\n".encode()), save=True)
    section = Section.objects.create(plan=w.plan, heading="一、完善知识产权保护制度", level=1, position=1)
    shared = Measure.objects.create(
        plan=w.plan,
        section=section,
        number="2",
        text="建立健全重大投融资活动知识产权评议工作机制。",
        position=1,
    )
    own = Measure.objects.create(plan=w.plan, section=section, number="3", text=MARKET_SECRET, position=2)
    due = datetime.date(2031, 12, 31)
    w.fin = Task.objects.create(measure=shared, agency=finance, role=Task.Role.LEAD, due_date=due)
    w.sci = Task.objects.create(measure=shared, agency=science, role=Task.Role.SUPPORT, due_date=due)
    w.mkt = Task.objects.create(measure=own, agency=market, role=Task.Role.RESPONSIBLE, due_date=due)
    w.updates, w.attachments, w.extensions = {}, {}, {}
    for key, task, text in (("sci", w.sci, SCIENCE_REPORT), ("mkt", w.mkt, MARKET_REPORT)):
        update = ProgressUpdate.objects.create(task=task, author=w.bob, text=text, percent=10)
        attachment = Attachment(update=update, original_name=f"{key}.pdf", size=10, kind="pdf")
        attachment.file.save(f"{key}.pdf", ContentFile(b"%PDF-1.4\n%%EOF\n"), save=True)
        extension = ExtensionRequest.objects.create(
            task=task,
            requested_by=w.bob,
            current_due_date=due,
            requested_due_date=due + datetime.timedelta(days=30),
            reason="需要协调",
        )
        w.updates[key], w.attachments[key], w.extensions[key] = update, attachment, extension
    indicator = Indicator.objects.create(plan=w.plan, name="专利质押融资额", unit="亿元", agency=science)
    IndicatorValue.objects.create(indicator=indicator, year=2024, value="1.2")
    log = ReminderLog.objects.create(
        recipient=w.bob.email, kind=ReminderLog.Kind.URGE, period="2026-01-05", day=datetime.date(2026, 1, 5)
    )
    ReminderLogTask.objects.create(log=log, task=w.sci, reason=ReminderLogTask.Reason.values[0])
    Holiday.objects.update_or_create(
        date=datetime.date(2031, 1, 1), defaults={"name": "元旦", "source": Holiday.Source.MANUAL}
    )
    w.feeds = {
        "bob": CalendarFeed.objects.create(kind=CalendarFeed.Kind.AGENCY, user=w.bob, liaison=w.bob_liaison),
        "alice": CalendarFeed.objects.create(
            kind=CalendarFeed.Kind.AGENCY, user=w.alice, liaison=w.alice_liaison
        ),
        "leader": CalendarFeed.objects.create(kind=CalendarFeed.Kind.PLAN, user=w.leader, plan=w.plan),
    }
    w.jobs = {
        name: ExportJob.objects.create(user=getattr(w, name), exporter="progress")
        for name in ("bob", "alice", "leader")
    }
    w.draft = ImportDraft(original_name="plan.txt", sha256="0" * 64, uploaded_by=w.lead)
    w.draft.file.save(
        "plan.txt", ContentFile("2021年东丽区推进计划\n1. 区科技局负责。\n".encode()), save=True
    )
    BureauProfile.objects.create(user=w.lead, jurisdiction="东丽区")
    ScoreWeights.current()
    w.document, _created = issue_notice(agency=market, plan=None, user=w.lead)
    IntervalSchedule.objects.create(every=1, period=IntervalSchedule.DAYS)
    CrontabSchedule.objects.create(minute="0", hour="7")
    SolarSchedule.objects.create(event="sunrise", latitude=39.1, longitude=117.2)
    ClockedSchedule.objects.create(clocked_time=timezone.now())
    AccessAttempt.objects.create(username="bob", ip_address="10.0.0.1", failures_since_start=1)
    AccessLog.objects.create(username="bob", ip_address="10.0.0.1")
    AccessFailureLog.objects.create(username="bob", ip_address="10.0.0.1")
    LogEntry.objects.log_actions(w.root.pk, [w.plan], action_flag=1, change_message="[]", single_object=True)
    # One-click 签收 links: bob's for his task, and one revoked by the lead bureau.
    _link, w.link_token = links.create_link(w.bob, w.sci, ActionLink.Channel.EMAIL)
    revoked, w.revoked_link_token = links.create_link(w.bob, w.sci, ActionLink.Channel.EMAIL)
    links.revoke(links=[revoked.pk], reason=ActionLink.Revoked.BY_HAND)
    w.users = {
        "anonymous": None,
        "liaison_own": w.bob,
        "liaison_other": w.bob,
        "lead_agency": w.alice,
        "leader": w.leader,
        "lead": w.lead,
        "superuser": w.root,
    }
    return w


# Which objects each role's requests point at ---------------------------------------------------------

TASK_OF = {
    "anonymous": "sci",
    "liaison_own": "sci",
    "liaison_other": "mkt",
    "lead_agency": "sci",
    "leader": "mkt",
    "lead": "mkt",
    "superuser": "mkt",
}
# Per-user things (calendar subscriptions, export jobs): whose the role asks for.
LIAISON_OF = {"liaison_other": "alice"}  # everyone else asks for bob's liaison row
JOB_OF = {
    "anonymous": "bob",
    "liaison_own": "bob",
    "liaison_other": "alice",
    "lead_agency": "bob",
    "leader": "leader",
    "lead": "leader",
    "superuser": "leader",
}


def fill(kind: str, w, role: str) -> dict:
    key = TASK_OF[role]
    task = getattr(w, key)
    if kind == "task":
        return {"pk": task.pk}
    if kind == "extension":
        return {"pk": w.extensions[key].pk}
    if kind == "attachment":
        return {"pk": w.attachments[key].pk}
    if kind == "update":
        return {"pk": w.updates[key].pk}
    if kind == "liaison":
        return {"liaison_id": getattr(w, f"{LIAISON_OF.get(role, 'bob')}_liaison").pk}
    if kind == "plan":
        return {"plan_id": w.plan.pk}
    if kind == "token":  # the token is the credential: each role uses one it was given
        return {"token": w.feeds["leader" if role in ("leader", "lead", "superuser") else "bob"].token}
    if kind == "action_link":  # the token is the credential: anyone holding bob's link may 签收 with it
        return {
            "token": w.link_token if role not in ("leader", "lead", "superuser") else w.revoked_link_token
        }
    if kind == "job":
        return {"pk": w.jobs[JOB_OF[role]].pk}
    if kind == "reset":
        return {
            "uidb64": urlsafe_base64_encode(force_bytes(w.bob.pk)),
            "token": default_token_generator.make_token(w.bob),
        }
    if kind == "document":
        return {"pk": w.document.pk}
    if kind == "agency":
        return {"agency_id": getattr(w, key).agency_id}
    if kind == "draft":
        return {"draft_id": w.draft.pk}
    if kind == "user":
        return {"id": w.bob.pk}
    if kind == "media":
        return {"path": w.plan.source_file.name}
    if kind == "view_on_site":
        return {"content_type_id": ContentType.objects.get_for_model(Task).pk, "object_id": task.pk}
    raise AssertionError(kind)


def admin_object(model, w, role: str):
    """The object an admin per-model URL opens: the role's target where the model hangs off a task."""
    key = TASK_OF[role]
    by_task = {
        Task: getattr(w, key),
        Measure: getattr(w, key).measure,
        ProgressUpdate: w.updates[key],
        Attachment: w.attachments[key],
        ExtensionRequest: w.extensions[key],
    }
    if model in by_task:
        return by_task[model]
    return model._default_manager.order_by("pk").first()


# The table ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    get: str
    post: str
    fill: str | None = None
    data: dict = field(default_factory=dict)  # POST body (besides the CSRF token); a callable takes the world
    path: str | None = None  # for regular-expression patterns: the path to request


# roles:            anon own oth lag ldr lead su
def R(get: str, post: str, fill: str | None = None, **kwargs) -> Rule:
    assert len(get) == len(post) == len(ROLES), (get, post)
    return Rule(get, post, fill, **kwargs)


PUBLIC = R("AAAAAAA", "AAAAAAA")

TABLE: dict[str, Rule] = {
    # Project pages
    "healthz": R("AAAAAAA", "AAAAAAA"),
    "": R("LAAAAAA", "LAAAAAA"),
    "tasks/": R("LAAAAAA", "LAAAAAA"),
    "tasks/<int:pk>/": R(
        "LADDAAA", "LWDDDDD", "task", data={"text": "报送", "percent": "50", "status": "in_progress"}
    ),
    "tasks/<int:pk>/acknowledge/": R("LNNNNNN", "LWDDDDD", "task"),
    "tasks/<int:pk>/extension/": R("LNNNNNN", "LADDDDD", "task"),
    "tasks/<int:pk>/review/": R("LNNNNNN", "LDDDDAA", "task", data={"decision": "approve"}),
    "tasks/<int:pk>/due-date/": R(
        "LNNNNNN", "LDDDDWW", "task", data={"due_date": "2032-01-31", "reason": "调整"}
    ),
    "tasks/<int:pk>/reassign/": R("LNNNNNN", "LDDDDAA", "task"),
    "extensions/<int:pk>/decide/": R(
        "LNNNNNN", "LDDDDWW", "extension", data={"decision": "refuse", "reason": "理由不充分"}
    ),
    "updates/<int:pk>/correct/": R(
        "LADDDAA", "LWDDDWW", "update", data={"text": "更正后的报送", "percent": "20", "reason": "笔误"}
    ),
    # the lead agency reads its support agencies' reports and attachments on the shared measure
    "attachments/<int:pk>/": R("LADAAAA", "LADAAAA", "attachment"),
    "indicators/": R("LAAAAAA", "LAAAAAA", data={"indicator": "", "year": "2024", "value": "1"}),
    "dashboard/": R("LDDDAAA", "LDDDAAA"),
    "review/": R("LDDDAAA", "LDDDAAA"),
    "review/bulk/": R("LNNNNNN", "LDDDDAA"),  # without a selection: the page says nothing was chosen
    "inbox/": R("LAAAAAA", "LAAAAAA"),
    "inbox/read/": R("LNNNNNN", "LWWWWWW"),  # marks the user's own messages read
    # bob's one-click link 签收s his task whoever holds it, logged in or not; a revoked one answers 410
    "a/<str:token>/": R("AAAAAAA", "WWWWAAA", "action_link"),
    "profile/": R("LAAAAAA", "LWWWWWW"),
    "reminders/preview/": R("LDDDAAA", "LDDDDWW"),
    "reminders/urge/": R("NNNNNNN", "LDDDDWW", data={"scope": "overdue", "confirm": "yes"}),
    "reports/calendar/<str:token>.ics": R("AAAAAAA", "NNNNNNN", "token"),
    "reports/calendar/liaison/<int:liaison_id>/": R(
        "LNNNNNN", "LWDDDDD", "liaison", data={"action": "create"}
    ),
    "reports/calendar/plan/<int:plan_id>/": R("LNNNNNN", "LDDDWWW", "plan", data={"action": "create"}),
    "reports/tasks/<int:pk>.ics": R("LADDAAA", "LNNNNNN", "task"),
    "reports/progress.xlsx": R("LAAAAAA", "LNNNNNN"),
    "reports/exports/<uuid:pk>/": R("LADDADD", "LNNNNNN", "job"),
    "reports/exports/<uuid:pk>/status.json": R("LADDADD", "LNNNNNN", "job"),
    "reports/exports/<uuid:pk>/download/": R("LDDDDDD", "LNNNNNN", "job"),  # not finished: nothing to fetch
    "i18n/setlang/": R("AAAAAAA", "AAAAAAA", data={"language": "zh-hans"}),
    "accounts/login/": PUBLIC,
    "accounts/logout/": R("NNNNNNN", "LDDDDDD"),  # logging out lands on the login page
    "accounts/password_change/": R("LAAAAAA", "LAAAAAA"),
    "accounts/password_change/done/": R("LAAAAAA", "LNNNNNN"),
    "accounts/password_reset/": PUBLIC,
    "accounts/password_reset/done/": R("AAAAAAA", "NNNNNNN"),
    "accounts/reset/<uidb64>/<token>/": R("AAAAAAA", "AAAAAAA", "reset"),
    "accounts/reset/done/": R("AAAAAAA", "NNNNNNN"),
    # The admin site itself
    "admin/": R("LDDDAAA", "LDDDAAA"),
    "admin/login/": R("AAAAAAA", "AAAAAAA"),
    # non-staff are sent to the admin's index (then its login page); staff land on the login page
    "admin/logout/": R("AAAANNN", "AAAADDD"),
    "admin/password_change/": R("LDDDAAA", "LDDDAAA"),
    "admin/password_change/done/": R("LDDDAAA", "LDDDNNN"),
    "admin/autocomplete/": R("LDDDDDD", "LDDDNNN"),  # without its parameters: refused
    "admin/jsi18n/": R("LDDDAAA", "LDDDNNN"),
    "admin/r/<path:content_type_id>/<path:object_id>/": R("LDDDDDD", "LDDDDDD", "view_on_site"),
    "admin/<app_label>/": R("LDDDAAA", "LDDDAAA", path="admin/tasks/"),
    "admin/(?P<url>.*)$": R("LDDDDDD", "LDDDDDD", path="admin/no-such-page/"),
    # Admin extras: plan upload, Excel import/export, merge
    "admin/tasks/plan/import/": R("LDDDDAA", "LDDDDAA"),
    "admin/tasks/plan/import/template/": R("LDDDDAA", "LDDDDAA"),
    "admin/tasks/plan/import/<int:draft_id>/": R("LDDDDAD", "LDDDDWD", "draft"),  # the uploader's draft
    # the old 分工表 import address points to the plan import (which refuses the leader)
    "admin/tasks/measure/import/": R("LDDDAAA", "LDDDAAA"),
    "admin/tasks/measure/export/": R("LDDDAAA", "LDDDAAA"),
    "admin/tasks/task/export/": R("LDDDAAA", "LDDDAAA"),
    "admin/agencies/agency/import/": R("LDDDDAA", "LDDDDAA"),
    "admin/agencies/agency/process_import/": R("LDDDNNN", "LDDDDAA"),
    "admin/agencies/agency/export/": R("LDDDAAA", "LDDDAAA"),
    "admin/auth/user/<id>/password/": R("LDDDDDA", "LDDDDDA", "user"),
    "admin/tasks/plan/<int:plan_id>/source/": R("LDDDAAA", "LDDDAAA", "plan"),
    "admin/tasks/plan/todo/": R("LDDDAAA", "LDDDAAA"),
    "admin/tasks/plan/<int:plan_id>/todo/": R("LDDDAAA", "LDDDAAA", "plan"),
    "profile/display/": R("LNNNNNN", "LWWWWWW", data={"large_text": "on"}),
    # The leader's paper: 台账, 考核, 督办文书
    "reports/ledger.xlsx": R("LAAAAAA", "LNNNNNN"),
    "reports/scorecard/": R("LDDDAAA", "LNNNNNN"),
    "reports/scorecard/agency/<int:agency_id>/": R("LDDDAAA", "LNNNNNN", "agency"),
    "reports/documents/": R("LDDDAAA", "LNNNNNN"),
    "reports/documents/notice/": R("LNNNNNN", "LDDDDWW", data={"agency": lambda w: w.sci.agency_id}),
    "reports/documents/bulletin/": R("LNNNNNN", "LDDDDWW"),
    "reports/documents/<int:pk>.docx": R("LDDDAAA", "LNNNNNN", "document"),
}

# The admin's per-model URLs, by what the policy makes of the model. Every registered model must be listed.
MODEL_URLS = (
    "",
    "add/",
    "<path:object_id>/history/",
    "<path:object_id>/delete/",
    "<path:object_id>/change/",
    "<path:object_id>/",
    "^([^/]+)/history/([^/]+)/$",  # simple-history's view of one past version
)
KINDS = {
    # the lead bureau writes, leaders read
    "managed": (
        R("LDDDAAA", "LDDDAWW"),
        R("LDDDDAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDAA", "LDDDDWW"),
        R("LDDDAAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # the same, for objects that carry progress reports: deleting them would delete records, which only a
    # superuser may do (the admin refuses the lead bureau for want of the reports' delete permission)
    "managed_reports": (
        R("LDDDAAA", "LDDDADW"),
        R("LDDDDAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDAA", "LDDDDDW"),  # the lead bureau is shown why it may not
        R("LDDDAAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # agencies with tasks are protected: the delete page explains why it cannot delete
    "managed_protected": (
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDDAA"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # records and logs: read-only for everyone
    "record": (
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # progress reports: read-only; a superuser may delete one
    "report": (
        R("LDDDAAA", "LDDDAAW"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDA", "LDDDDDW"),
        R("LDDDAAA", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # 考核 weights: one row the lead bureau edits, never added twice nor deleted
    "weights": (
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDDWW"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # calendar subscriptions and export jobs: read-only, the lead bureau revokes (deletes)
    "revocable": (
        R("LDDDAAA", "LDDDAWW"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDAA", "LDDDDWW"),
        R("LDDDAAA", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDAAA", "LDDDDDD"),
    ),
    # users, groups and the scheduler: superusers only
    "superuser": (
        R("LDDDDDA", "LDDDDDW"),
        R("LDDDDDA", "LDDDDDA"),
        R("LDDDDDA", "LDDDDDA"),
        R("LDDDDDA", "LDDDDDW"),
        R("LDDDDDA", "LDDDDDA"),
        R("LDDDAAA", "LDDDAAA"),  # a redirect to the change page, which refuses
        R("LDDDDDA", "LDDDDDD"),
    ),
    # lockout records: superusers read and delete them (to lift a lockout), nobody writes them
    "lockout": (
        R("LDDDDDA", "LDDDDDW"),
        R("LDDDDDD", "LDDDDDD"),
        R("LDDDDDA", "LDDDDDA"),
        R("LDDDDDA", "LDDDDDW"),
        R("LDDDDDA", "LDDDDDD"),
        R("LDDDAAA", "LDDDAAA"),
        R("LDDDDDA", "LDDDDDD"),
    ),
}
ADMIN_MODELS = {
    "agencies.agency": "managed_protected",
    "agencies.agencyalias": "managed",
    "agencies.liaison": "managed",
    "agencies.agencyrobot": "managed",
    "tasks.plan": "managed_reports",
    "tasks.section": "managed",  # its measures stay (SET_NULL)
    "tasks.measure": "managed_reports",
    "tasks.task": "managed_reports",
    "tasks.indicator": "managed",
    "tasks.progressupdate": "report",
    "reminders.holiday": "managed",
    "reminders.reminderlog": "record",
    "reports.calendarfeed": "revocable",
    "reports.exportjob": "revocable",
    "reports.scoreweights": "weights",
    "reports.issueddocument": "report",
    "agencies.bureauprofile": "managed",
    "auth.user": "superuser",
    "auth.group": "superuser",
    "django_celery_beat.periodictask": "superuser",
    "django_celery_beat.clockedschedule": "superuser",
    "django_celery_beat.crontabschedule": "superuser",
    "django_celery_beat.solarschedule": "superuser",
    "django_celery_beat.intervalschedule": "superuser",
    "axes.accessattempt": "lockout",
    "axes.accesslog": "lockout",
    "axes.accessfailurelog": "lockout",
    # read-only; the lead bureau revokes with an action, only a superuser deletes (a plan takes its links along)
    "workspace.actionlink": "report",
}


# The crawl ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    route: str
    rule: Rule | None
    model: type | None = None  # for the admin's per-model URLs


def walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            route = prefix + str(pattern.pattern)
            # The admin's app index lists the app labels in registration order: one entry for all.
            yield re.sub(r"\^\(\?P<app_label>[^)]*\)/\$$", "<app_label>/", route), pattern


def model_url(route: str):
    """(model, suffix index) for an admin per-model URL, else None."""
    from django.contrib import admin

    for model in admin.site._registry:
        base = f"admin/{model._meta.app_label}/{model._meta.model_name}/"
        if route.startswith(base) and route[len(base) :] in MODEL_URLS:
            return model, MODEL_URLS.index(route[len(base) :])
    return None


def cases() -> list[Case]:
    result, seen = [], set()
    for route, _pattern in walk(get_resolver().url_patterns):
        if route in seen:  # a project view ahead of an included one at the same address
            continue
        seen.add(route)
        found = model_url(route)
        if found is not None and route not in TABLE:
            model, index = found
            kind = ADMIN_MODELS.get(model._meta.label_lower)
            result.append(Case(route, KINDS[kind][index] if kind else None, model))
        else:
            result.append(Case(route, TABLE.get(route)))
    return result


def build_path(case: Case, w, role: str) -> str:
    if case.rule.path:
        return "/" + case.rule.path
    route = case.route
    if case.model is not None and "object_id" in route or route.startswith("^") or "/^(" in route:
        obj = admin_object(case.model, w, role)
        if "^([^/]+)/history/([^/]+)/$" in route:
            base = route.split("^")[0]
            history_id = obj.history.order_by("history_id").first().history_id
            return f"/{base}{obj.pk}/history/{history_id}/"
        return "/" + route.replace("<path:object_id>", str(obj.pk))
    kwargs = fill(case.rule.fill, w, role) if case.rule.fill else {}
    path = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
    return "/" + path


SNAPSHOT_MODELS = [
    Plan,
    Section,
    Measure,
    Task,
    ProgressUpdate,
    Attachment,
    ExtensionRequest,
    Indicator,
    IndicatorValue,
    Agency,
    AgencyAlias,
    Liaison,
    AgencyRobot,
    Group,
    ReminderLog,
    CalendarFeed,
    ExportJob,
    ImportDraft,
    BureauProfile,
    ScoreWeights,
    IssuedDocument,
    PeriodicTask,
    IntervalSchedule,
    CrontabSchedule,
    SolarSchedule,
    ClockedSchedule,
    LogEntry,
    ActionLink,
    Task.history.model,
    Measure.history.model,
]


def snapshot() -> str:
    digest = hashlib.sha256()
    for model in SNAPSHOT_MODELS:
        for row in model.objects.order_by("pk").values_list():
            digest.update(repr(row).encode())
    for row in get_user_model().objects.order_by("pk").values_list("pk", "username", "password", "is_active"):
        digest.update(repr(row).encode())
    # the seeded calendar has thousands of days: its size and the hand-made rows stand for it
    digest.update(repr(Holiday.objects.count()).encode())
    for row in Holiday.objects.filter(source=Holiday.Source.MANUAL).order_by("pk").values_list():
        digest.update(repr(row).encode())
    return digest.hexdigest()


def body(response) -> str:
    streaming = getattr(response, "streaming", False)
    data = b"".join(response.streaming_content) if streaming else response.content
    if data.startswith(b"PK") and b"word/" in data:  # a .docx: read its paragraphs and tables
        document = docx.Document(io.BytesIO(data))
        cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
        return "\n".join([p.text for p in document.paragraphs] + cells)
    if data.startswith(b"PK"):  # an .xlsx: read its cells
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True)
        return "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row if cell
        )
    return data.decode("utf-8", "replace")


def outcome(response, role: str) -> str:
    status = response.status_code
    if status in (301, 302, 303, 307, 308):
        target = response.headers.get("Location", "")
        if "/login/" in target:
            return "L" if role == "anonymous" else "D"
        return "A"
    if status in (403, 404):
        return "D"
    if status == 405:
        return "N"
    if status >= 500:
        return "E"
    return "A"


def client_for(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.cookies["csrftoken"] = CSRF
    if user is not None:
        client.force_login(user)
    return client


def replay(case: Case, w, client: Client, role: str, method: str) -> tuple[str, str]:
    """Request the URL as ``role`` inside a savepoint that is rolled back; (outcome, body)."""
    path = build_path(case, w, role)
    with transaction.atomic():
        before = snapshot() if method == "POST" else None
        if method == "GET":
            response = client.get(path)
        else:
            given = {key: value(w) if callable(value) else value for key, value in case.rule.data.items()}
            data = {"csrfmiddlewaretoken": CSRF, **given}
            if case.model is not None and path.endswith(f"/{case.model._meta.model_name}/"):
                obj = admin_object(case.model, w, role)  # the changelist: delete it with the bulk action
                data.update({"action": "delete_selected", "_selected_action": [obj.pk], "post": "yes"})
            response = client.post(path, data)
        result = outcome(response, role)
        text = body(response)
        if method == "POST" and result != "E" and snapshot() != before:
            result = "W"
        transaction.set_rollback(True)
    return result, text


ALL_CASES = cases()


def test_every_url_pattern_has_an_entry():
    missing = [case.route for case in ALL_CASES if case.rule is None]
    assert not missing, "URL patterns without an entry in tests/test_access_matrix.py: " + ", ".join(missing)
    stale = set(TABLE) - {case.route for case in ALL_CASES}
    assert not stale, f"entries for URL patterns that no longer exist: {sorted(stale)}"


def test_the_leader_writes_only_its_own_things():
    for case in ALL_CASES:
        if case.rule is not None and case.rule.post[ROLES.index("leader")] == "W":
            assert case.route in LEADER_WRITES, case.route


@pytest.mark.parametrize("case", [c for c in ALL_CASES if c.rule is not None], ids=lambda c: c.route or "/")
def test_access(world, case):
    failures = []
    clients = {role: client_for(world.users[role]) for role in ROLES}
    for method in ("GET", "POST"):
        expected = case.rule.get if method == "GET" else case.rule.post
        for role, want in zip(ROLES, expected, strict=True):
            got, text = replay(case, world, clients[role], role, method)
            ok = got == want or (want == "W" and got == "A")
            if not ok:
                failures.append(f"{method} as {role}: expected {want}, got {got}")
            for secret in LEAKS.get(role, ()):
                if secret in text:
                    failures.append(f"{method} as {role}: the response shows {secret!r}")
    assert not failures, "\n".join(failures)
