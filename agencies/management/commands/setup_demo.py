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
        parser.add_argument(
            "--reset-passwords",
            action="store_true",
            help="为已有的演示账号生成新密码并打印(忘记了首次运行时打印的密码时使用)",
        )

    def handle(self, *args, no_seeds: bool = False, reset_passwords: bool = False, **options):
        if reset_passwords:
            self.reset_passwords()
            return
        ensure_role_groups()
        if not Agency.objects.exists():
            call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)
            self.stdout.write(f"已载入单位目录:{Agency.objects.count()} 个单位")
        if not no_seeds:
            self.import_seeds()
        created = self.create_users()
        if created:
            self.print_accounts(created)
        else:
            self.stdout.write(
                "演示账号已存在,密码未改动。忘记了密码?运行 make passwords "
                "(即 manage.py setup_demo --reset-passwords)为演示账号生成新密码。"
            )

    def print_accounts(self, accounts: list[tuple[str, str, str]]) -> None:
        self.stdout.write(self.style.WARNING("演示账号(密码只显示这一次,请妥善保存):"))
        width = max(len(username) for username, _, _ in accounts)
        for username, password, role in accounts:
            self.stdout.write(f"  {username:<{width}}  {password}  {role}")

    @transaction.atomic
    def reset_passwords(self) -> None:
        """New passwords for the demo accounts that exist (admin, leader, liaisonNN), printed once; their
        lockouts are lifted too."""
        from axes.utils import reset as axes_reset

        User = get_user_model()
        users = User.objects.filter(username__in=["admin", "leader"]) | User.objects.filter(
            username__regex=r"^liaison[0-9]+$"
        )
        accounts = []
        for user in users.order_by("pk").prefetch_related("liaisons__agency"):
            password = secrets.token_urlsafe(9)
            user.set_password(password)
            user.save(update_fields=["password"])
            axes_reset(username=user.username)
            accounts.append((user.username, password, self.role_of(user)))
        if not accounts:
            self.stdout.write("还没有演示账号:先运行 make run(或 manage.py setup_demo)。")
            return
        self.print_accounts(accounts)

    @staticmethod
    def role_of(user) -> str:
        if user.username == "admin":
            return "督办人员(管理员)"
        if user.username == "leader":
            return "领导(只读)"
        agencies = "、".join(liaison.agency.name for liaison in user.liaisons.all())
        return f"联络员 · {agencies}" if agencies else "联络员"

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
