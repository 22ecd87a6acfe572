"""The ways an outbox row reaches a person. Each row names its channel; ``deliver`` (outbox.py) calls
``send`` once it has claimed the row; any exception counts as a failed attempt and is retried with backoff.
Delivery is at least once: a row may be sent again after a crash, with the same Message-ID.

- email: the rendered subject, text and HTML, through Django's mail backend (SMTP or files).
- inbox: the in-app 消息 list reads the rows themselves, so being claimed is being delivered.
- wecom / dingtalk: an agency's work-group robot (``AgencyRobot``; recipient "robot:<id>"), markdown.
- sms: a liaison's mobile (the recipient), through the configured provider (``SMS_PROVIDER``).

Errors: ``ChannelError`` (an ``OSError``) is worth retrying — a timeout, no connection, HTTP 5xx, the vendor's
"too many requests" — and the Celery job's autoretry does so. ``ChannelRejected`` is final until somebody
fixes the configuration (a wrong key, an unknown template); its message says what the vendor answered, in
Chinese. Neither ever carries a robot's key, access token, signing secret or the SMS access key: messages
go into the ledger's error column and the logs.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import logging
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings

from agencies.models import AgencyRobot, mask
from ipplan.lib.emails import build_message

from ..models import ReminderLog
from .attachments import for_log

logger = logging.getLogger(__name__)

Channel = ReminderLog.Channel

# 企业微信 refuses markdown content above 4096 bytes (UTF-8); 钉钉's limit is higher, the same cap keeps
# one rendering for both.
ROBOT_MAX_BYTES = 4096

# The vendors' "try again later" answers.
WECOM_RETRYABLE = {-1, 45009, 45033}  # system busy, API frequency out of limit, too many concurrent calls
DINGTALK_RETRYABLE = {-1, 130101, 130102}  # system busy, sending too fast (20 a minute per robot)
ALIYUN_RETRYABLE = {
    "isv.BUSINESS_LIMIT_CONTROL",  # per-number flow control (1 a minute, 5 an hour …)
    "Throttling",
    "Throttling.User",
    "Throttling.Api",
    "ServiceUnavailable",
    "InternalError",
}


class ChannelError(OSError):
    """A failure worth retrying: the Celery job's ``autoretry_for=(…, OSError)`` retries it with backoff."""


class ChannelRejected(Exception):
    """The vendor (or our configuration) refuses the message; retrying changes nothing until it is fixed."""


def send_email(log: ReminderLog, *, connection=None) -> None:
    """``connection``: an open mail backend connection to reuse (``deliver_now`` sends a batch over one SMTP
    session); without it Django opens and closes one for this message."""
    from .outbox import message_id

    message = build_message(
        log.subject, log.body_text, log.body_html, log.recipient, message_id=message_id(log)
    )
    attach_files(message, log)
    if connection is not None:
        message.connection = connection
    message.send()


def attach_files(message, log: ReminderLog) -> None:
    """Files made at send time from the row (the escalation's .xlsx of its tasks, attachments.py)."""
    for name, content, mimetype in for_log(log):
        message.attach(name, content, mimetype)


def show_in_inbox(log: ReminderLog) -> None:
    """Nothing to transmit: the inbox lists delivered rows of this channel."""


# ---------------------------------------------------------------------------------------------------------
# HTTP


def _post(url: str, data: bytes, content_type: str, *, vendor: str, secrets: list[str]) -> tuple[int, bytes]:
    """POST and return (status, body) of any answer the server gave, 4xx included; raise ChannelError for
    no answer or a 5xx. ``secrets`` are masked out of every message."""
    request = urllib.request.Request(url, data=data, method="POST", headers={"Content-Type": content_type})
    try:
        with urllib.request.urlopen(request, timeout=settings.CHANNEL_TIMEOUT) as response:  # noqa: S310 — https vendor hosts or the configured base
            return response.status, response.read(1_000_000)
    except urllib.error.HTTPError as error:
        body = error.read(1_000_000) if error.fp else b""
        if error.code >= 500 or error.code == 429:
            raise ChannelError(f"{vendor}暂时无法处理(HTTP {error.code}),稍后重试") from None
        return error.code, body
    except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
        reason = getattr(error, "reason", error)
        raise ChannelError(_masked(f"无法连接{vendor}:{reason}", secrets)) from None


def _json(body: bytes, *, vendor: str, status: int) -> dict:
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        answer = None
    if not isinstance(answer, dict):
        raise ChannelRejected(f"{vendor}返回了无法识别的应答(HTTP {status})")
    return answer


def _masked(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, mask(secret))
    return text


# ---------------------------------------------------------------------------------------------------------
# Work-group robots


@dataclass(frozen=True)
class VendorAnswer:
    """What a robot's vendor said: for the ledger (via exceptions) and for 发送测试消息."""

    ok: bool
    code: int | str
    message: str

    def describe(self, vendor: str) -> str:
        return f"{vendor}答复 errcode={self.code}:{self.message or '—'}"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉 加签: base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}")), URL-encoded once more when
    put in the query (``urlencode`` does that)."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def robot_request(robot: AgencyRobot, title: str, markdown: str) -> tuple[str, bytes]:
    """The URL (on the configured vendor base) and JSON body of a markdown message to ``robot``."""
    if robot.kind == AgencyRobot.Kind.WECOM:
        url = f"{settings.WECOM_WEBHOOK_BASE.rstrip('/')}/cgi-bin/webhook/send?{urlencode({'key': robot.token})}"
        payload = {"msgtype": "markdown", "markdown": {"content": markdown}}
    else:
        query = {"access_token": robot.token}
        if robot.secret:
            timestamp = int(time.time() * 1000)
            query.update(timestamp=str(timestamp), sign=dingtalk_sign(robot.secret, timestamp))
        url = f"{settings.DINGTALK_ROBOT_BASE.rstrip('/')}/robot/send?{urlencode(query)}"
        payload = {"msgtype": "markdown", "markdown": {"title": title, "text": markdown}}
    return url, json.dumps(payload, ensure_ascii=False).encode("utf-8")


def post_to_robot(robot: AgencyRobot, title: str, markdown: str) -> VendorAnswer:
    """Post once. Raises ChannelError when worth retrying; returns the vendor's answer otherwise."""
    vendor = robot.get_kind_display()
    secrets = [robot.token, robot.secret]
    if not robot.token:
        raise ChannelRejected(f"{robot}的 Webhook 地址缺少密钥参数,请在单位群机器人设置中重新填写")
    url, body = robot_request(robot, title, markdown)
    status, raw = _post(url, body, "application/json; charset=utf-8", vendor=vendor, secrets=secrets)
    answer = _json(raw, vendor=vendor, status=status)
    code = answer.get("errcode", 0 if status == 200 else status)
    message = _masked(str(answer.get("errmsg", "")), secrets)[:300]
    if isinstance(code, str) and code.lstrip("-").isdigit():
        code = int(code)
    retryable = WECOM_RETRYABLE if robot.kind == AgencyRobot.Kind.WECOM else DINGTALK_RETRYABLE
    if code in retryable:
        raise ChannelError(f"{vendor}繁忙或限流(errcode={code}:{message}),稍后重试")
    return VendorAnswer(ok=code == 0 and status == 200, code=code, message=message)


def _robot_of(log: ReminderLog) -> AgencyRobot:
    pk = log.recipient.removeprefix("robot:")
    robot = AgencyRobot.objects.filter(pk=int(pk) if pk.isdigit() else 0).first()
    if robot is None:
        raise ChannelRejected("该群机器人设置已被删除,消息未发送")
    if not robot.is_active:
        raise ChannelRejected(f"群机器人“{robot.name}”已停用,消息未发送")
    if robot.kind != log.channel:
        raise ChannelRejected(f"群机器人“{robot.name}”的类型已改变,消息未发送")
    return robot


def send_to_robot(log: ReminderLog) -> None:
    robot = _robot_of(log)
    answer = post_to_robot(robot, log.subject, log.body_text)
    if not answer.ok:
        raise ChannelRejected(f"{answer.describe(robot.get_kind_display())}(请检查群机器人设置)")


def send_test_message(robot: AgencyRobot) -> tuple[bool, str]:
    """发送测试消息: post a short message now, outside the ledger, and say honestly what the vendor answered."""
    title = "督办系统测试消息"
    text = (
        f"### {title}\n"
        f"这是来自督办系统的测试消息:今后本单位({robot.agency.display_name})的督办提醒将推送到本群。\n"
        f"[打开我的任务]({settings.SITE_URL}/tasks/)"
    )
    vendor = robot.get_kind_display()
    try:
        answer = post_to_robot(robot, title, text)
    except (ChannelError, ChannelRejected) as error:
        return False, str(error)
    return answer.ok, answer.describe(vendor)


# ---------------------------------------------------------------------------------------------------------
# SMS


class SmsProvider:
    """One SMS vendor: ``send`` delivers one templated message or raises ChannelError / ChannelRejected."""

    name = ""

    def send(self, mobile: str, params: dict[str, str]) -> str:
        """Send; return the vendor's id of the message (for the log)."""
        raise NotImplementedError


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as Alibaba Cloud's RPC signature wants it: only A–Z a–z 0–9 - _ . ~ stay."""
    return quote(str(value), safe="~")


def aliyun_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Signature version 1.0 (HMAC-SHA1) of an Alibaba Cloud RPC request: sort the parameters, encode them,
    sign f"{method}&%2F&{encode(query)}" with the key f"{secret}&", base64 the digest."""
    query = "&".join(
        f"{aliyun_percent_encode(key)}={aliyun_percent_encode(value)}"
        for key, value in sorted(params.items())
    )
    string_to_sign = f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms(SmsProvider):
    """阿里云短信服务 (dysmsapi) SendSms over its HTTP RPC API, API version 2017-05-25."""

    name = "阿里云短信"

    def __init__(self, *, access_key_id, access_key_secret, sign_name, template_code, endpoint, region):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.sign_name = sign_name
        self.template_code = template_code
        self.endpoint = endpoint
        self.region = region

    def request(self, mobile: str, params: dict[str, str], *, now=None, nonce=None) -> dict[str, str]:
        """The signed form of a SendSms request."""
        now = now or datetime.datetime.now(datetime.UTC)
        fields = {
            "AccessKeyId": self.access_key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": mobile,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_code,
            "TemplateParam": json.dumps(params, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        fields["Signature"] = aliyun_signature("POST", fields, self.access_key_secret)
        return fields

    def send(self, mobile: str, params: dict[str, str]) -> str:
        secrets = [self.access_key_secret]
        body = urlencode(self.request(mobile, params)).encode()
        status, raw = _post(
            self.endpoint,
            body,
            "application/x-www-form-urlencoded; charset=utf-8",
            vendor=self.name,
            secrets=secrets,
        )
        answer = _json(raw, vendor=self.name, status=status)
        code = str(answer.get("Code", ""))
        message = _masked(str(answer.get("Message", "")), secrets)[:300]
        if code == "OK":
            return str(answer.get("BizId", ""))
        if code in ALIYUN_RETRYABLE:
            raise ChannelError(f"{self.name}限流或繁忙(Code={code}:{message}),稍后重试")
        raise ChannelRejected(f"{self.name}拒绝发送(Code={code or status}:{message}),请检查短信服务设置")


def sms_provider() -> SmsProvider | None:
    """The provider ``SMS_PROVIDER`` names, or None when SMS is off. Raises ChannelRejected when it is named
    but incompletely configured."""
    name = settings.SMS_PROVIDER.strip().lower()
    if not name:
        return None
    if name != "aliyun":
        raise ChannelRejected(f"不支持的短信服务 SMS_PROVIDER={name}(可用:aliyun)")
    required = {
        "ALIYUN_SMS_ACCESS_KEY_ID": settings.ALIYUN_SMS_ACCESS_KEY_ID,
        "ALIYUN_SMS_ACCESS_KEY_SECRET": settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        "ALIYUN_SMS_SIGN_NAME": settings.ALIYUN_SMS_SIGN_NAME,
        "ALIYUN_SMS_TEMPLATE_CODE": settings.ALIYUN_SMS_TEMPLATE_CODE,
    }
    missing = [key for key, value in required.items() if not value]
    if missing:
        raise ChannelRejected(f"短信服务未配置完整,缺少 {'、'.join(missing)}")
    return AliyunSms(
        access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
        access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
        sign_name=settings.ALIYUN_SMS_SIGN_NAME,
        template_code=settings.ALIYUN_SMS_TEMPLATE_CODE,
        endpoint=settings.ALIYUN_SMS_ENDPOINT,
        region=settings.ALIYUN_SMS_REGION,
    )


def sms_enabled() -> bool:
    try:
        return sms_provider() is not None
    except ChannelRejected:
        return False


def send_sms(log: ReminderLog) -> None:
    provider = sms_provider()
    if provider is None:
        raise ChannelRejected("本系统未开通短信服务(SMS_PROVIDER 未设置),短信未发送")
    try:
        params = json.loads(log.body_text)
    except ValueError:
        raise ChannelRejected("短信内容无效,未发送") from None
    biz_id = provider.send(log.recipient, params)
    logger.info("sms %s sent through %s (BizId %s)", log.pk, provider.name, biz_id)


SENDERS: dict[str, Callable[[ReminderLog], None]] = {
    Channel.EMAIL: send_email,
    Channel.INBOX: show_in_inbox,
    Channel.WECOM: send_to_robot,
    Channel.DINGTALK: send_to_robot,
    Channel.SMS: send_sms,
}


def send(log: ReminderLog, *, mail_connection: Callable[[], object] | None = None) -> None:
    """Hand the row to its channel. ``mail_connection``: called by an email for the open connection to go
    over (None from it: a connection of the email's own)."""
    sender = SENDERS[log.channel]
    if mail_connection is not None and sender is send_email:
        send_email(log, connection=mail_connection())
    else:
        sender(log)
