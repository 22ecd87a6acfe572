"""A local stand-in for the 企业微信 and 钉钉 robot webhooks and Alibaba Cloud's SMS API: a real HTTP server
on loopback that checks what the vendors check (the robot's key, 钉钉's 加签, the Aliyun RPC signature, the
4096-byte markdown limit) and answers as they do. Tests script failures per vendor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

WECOM_KEY = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
DINGTALK_TOKEN = "6ba1f3c7d2e84f0a9b5c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
DINGTALK_SECRET = "SEC" + "0123456789abcdef" * 4
ALIYUN_KEY_ID = "LTAI5tTestAccessKeyId"
ALIYUN_SECRET = "TestAccessKeySecret0123456789"


def _percent(value: str) -> str:
    return quote(value, safe="~")


def aliyun_expected_signature(method: str, params: dict[str, str], secret: str) -> str:
    """Written apart from the app's signer, from the documented steps, to check it server-side."""
    pairs = sorted((key, value) for key, value in params.items() if key != "Signature")
    canonical = "&".join(_percent(key) + "=" + _percent(value) for key, value in pairs)
    to_sign = method + "&" + _percent("/") + "&" + _percent(canonical)
    return base64.b64encode(
        hmac.new((secret + "&").encode(), to_sign.encode(), hashlib.sha1).digest()
    ).decode()


@dataclass
class Received:
    vendor: str
    query: dict[str, str]
    body: dict
    answer: tuple[int, dict]


@dataclass
class VendorServer:
    received: list[Received] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)  # vendor → answers to give first
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    def start(self) -> VendorServer:
        vendor_server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                parts = urlsplit(self.path)
                query = {key: values[0] for key, values in parse_qs(parts.query).items()}
                status, answer, vendor, body = vendor_server.answer(parts.path, query, raw)
                with vendor_server.lock:  # recorded before answering: the sender may look right after
                    vendor_server.received.append(Received(vendor, query, body, (status, answer)))
                data = json.dumps(answer, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def env(self) -> dict[str, str]:
        """Settings (as environment variables, for a worker process) pointing every vendor here."""
        return {
            "WECOM_WEBHOOK_BASE": self.base,
            "DINGTALK_ROBOT_BASE": self.base,
            "SMS_PROVIDER": "aliyun",
            "ALIYUN_SMS_ACCESS_KEY_ID": ALIYUN_KEY_ID,
            "ALIYUN_SMS_ACCESS_KEY_SECRET": ALIYUN_SECRET,
            "ALIYUN_SMS_SIGN_NAME": "东丽区督办",
            "ALIYUN_SMS_TEMPLATE_CODE": "SMS_123456789",
            "ALIYUN_SMS_ENDPOINT": self.base + "/",
            "CHANNEL_TIMEOUT": "3",
        }

    def settings(self) -> dict:
        return {key: value for key, value in self.env().items() if key != "CHANNEL_TIMEOUT"} | {
            "CHANNEL_TIMEOUT": 3
        }

    def delivered(self, vendor: str) -> list[Received]:
        """What the vendor accepted (answered as a success)."""
        with self.lock:
            return [
                item
                for item in self.received
                if item.vendor == vendor and item.answer[0] == 200 and item.answer[1].get("errcode", 0) == 0
                and item.answer[1].get("Code", "OK") == "OK"
            ]  # fmt: skip

    def calls(self, vendor: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if item.vendor == vendor]

    def clear(self):
        with self.lock:
            self.received.clear()
            self.script.clear()

    # -----------------------------------------------------------------------------------------------------

    def _scripted(self, vendor: str) -> tuple[int, dict] | None:
        with self.lock:
            answers = self.script.get(vendor)
            return answers.pop(0) if answers else None

    def answer(self, path: str, query: dict, raw: bytes) -> tuple[int, dict, str, dict]:
        if path == "/cgi-bin/webhook/send":
            body = json.loads(raw)
            if query.get("key") != WECOM_KEY:
                return 200, {"errcode": 93000, "errmsg": "invalid webhook url, hint: [x]"}, "wecom", body
            if body.get("msgtype") != "markdown" or not body.get("markdown", {}).get("content"):
                return 200, {"errcode": 40008, "errmsg": "invalid message type"}, "wecom", body
            if len(body["markdown"]["content"].encode()) > 4096:
                return (
                    200,
                    {"errcode": 40058, "errmsg": "markdown.content exceed max length 4096"},
                    "wecom",
                    body,
                )
            scripted = self._scripted("wecom")
            return (*(scripted or (200, {"errcode": 0, "errmsg": "ok"})), "wecom", body)
        if path == "/robot/send":
            body = json.loads(raw)
            if query.get("access_token") != DINGTALK_TOKEN:
                return 200, {"errcode": 300001, "errmsg": "token is not exist"}, "dingtalk", body
            timestamp = query.get("timestamp", "")
            expected = base64.b64encode(
                hmac.new(
                    DINGTALK_SECRET.encode(), f"{timestamp}\n{DINGTALK_SECRET}".encode(), hashlib.sha256
                ).digest()
            ).decode()
            fresh = timestamp.isdigit() and abs(int(timestamp) - time.time() * 1000) < 3_600_000
            if not fresh or not hmac.compare_digest(query.get("sign", ""), expected):
                return 200, {"errcode": 310000, "errmsg": "sign not match"}, "dingtalk", body
            markdown = body.get("markdown", {})
            if body.get("msgtype") != "markdown" or not markdown.get("title") or not markdown.get("text"):
                return 200, {"errcode": 40035, "errmsg": "missing parameter"}, "dingtalk", body
            scripted = self._scripted("dingtalk")
            return (*(scripted or (200, {"errcode": 0, "errmsg": "ok"})), "dingtalk", body)
        if path == "/":
            form = {key: values[0] for key, values in parse_qs(raw.decode()).items()}
            if form.get("AccessKeyId") != ALIYUN_KEY_ID:
                return 404, {"Code": "InvalidAccessKeyId.NotFound", "Message": "Specified access key is not found."}, "sms", form  # fmt: skip
            expected = aliyun_expected_signature("POST", form, ALIYUN_SECRET)
            if not hmac.compare_digest(form.get("Signature", ""), expected):
                return 400, {"Code": "SignatureDoesNotMatch", "Message": "Specified signature is not matched with our calculation."}, "sms", form  # fmt: skip
            for name in ("PhoneNumbers", "SignName", "TemplateCode", "TemplateParam", "SignatureNonce"):
                if not form.get(name):
                    return 400, {"Code": "MissingParameter", "Message": name}, "sms", form
            if form.get("Action") != "SendSms" or form.get("Version") != "2017-05-25":
                return 400, {"Code": "InvalidAction", "Message": "bad action"}, "sms", form
            scripted = self._scripted("sms")
            return (*(scripted or (200, {"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})), "sms", form)  # fmt: skip
        return 404, {"errcode": 404, "errmsg": "not found"}, "unknown", {}
