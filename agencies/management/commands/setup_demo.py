"""Prepare a demo installation: agency catalogue, seed plans, demo users. Safe to run again."""

import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import BaseCommand, call_command
from django.db import transaction

from agencies.models import Agency, Liaison
from agencies.roles import ensure_role_groups

DEMO_JURISDICTION = "东丽区"


class Command(BaseCommand):
    help = "载入单位目录和种子计划,创建演示用户(可重复运行,已有数据不会重复创建)。"

    def add_arguments(self, parser):
        parser.add_argument("--no-seeds", action="store_true", help="不导入 seeds/ 下的计划文件")

    def handle(self, *args, no_seeds: bool = False, **options):
        ensure_role_groups()
        if not Agency.objects.exists():
            call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)
            self.stdout.write(f"已载入单位目录:{Agency.objects.count()} 个单位")
        if not no_seeds:
            self.import_seeds()
        created = self.create_users()
        if created:
            self.stdout.write(self.style.WARNING("演示账号(密码只显示这一次,请妥善保存):"))
            width = max(len(username) for username, _, _ in created)
            for username, password, role in created:
                self.stdout.write(f"  {username:<{width}}  {password}  {role}")
        else:
            self.stdout.write("演示账号已存在,未作改动(忘记密码可运行 manage.py changepassword 用户名)。")

    def import_seeds(self) -> None:
        from tasks.services.importing import import_seed_files

        seeds = sorted(Path(settings.BASE_DIR / "seeds").glob("*.*"))
        for line in import_seed_files(seeds):
            self.stdout.write(line)

    @transaction.atomic
    def create_users(self) -> list[tuple[str, str, str]]:
        User = get_user_model()
        lead_group, leader_group = ensure_role_groups()
        created: list[tuple[str, str, str]] = []

        def make(username: str, role: str, **fields) -> User | None:
            if User.objects.filter(username=username).exists():
                return None
            password = secrets.token_urlsafe(9)
            user = User.objects.create_user(username=username, password=password, **fields)
            created.append((username, password, role))
            return user

        admin = make(
            "admin",
            "督办人员(管理员)",
            is_staff=True,
            is_superuser=True,
            first_name="督办管理员",
            email="admin@ipplan.localhost",
        )
        if admin:
            admin.groups.add(lead_group)
        leader = make(
            "leader", "领导(只读)", is_staff=True, first_name="分管领导", email="leader@ipplan.localhost"
        )
        if leader:
            leader.groups.add(leader_group)

        for index, agency in enumerate(self.demo_agencies(), start=1):
            username = f"liaison{index:02d}"
            user = make(
                username,
                f"联络员 · {agency.name}",
                first_name=f"{agency.name}联络员",
                email=f"{username}@ipplan.localhost",
            )
            if user:
                Liaison.objects.create(user=user, agency=agency, email=user.email)
        return created

    def demo_agencies(self):
        """Agencies with tasks in the demo plan, or the demo jurisdiction's catalogue before any import."""
        agencies = Agency.objects.filter(jurisdiction=DEMO_JURISDICTION, is_group=False)
        with_tasks = agencies.filter(tasks__isnull=False).distinct()
        return (with_tasks if with_tasks.exists() else agencies).order_by("pk")
