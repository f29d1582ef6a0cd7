"""Team group-chat webhooks end to end: a real Celery worker posts to a local HTTP receiver
started by the test, in each chat's own format, and retries when the receiver answers 500."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from public_pool import services
from public_pool.exceptions import TeamChatRefused, TeamChatUnavailable
from public_pool.models import ChatKind, ExtensionRequest, Notification, NotificationKind, TeamChatWebhook
from public_pool.services import team_chat
from tests.factories import RecycleRuleFactory, TeamFactory, UserFactory
from tests.public_pool.conftest import owned

WAIT_SECONDS = 60
ROOT = Path(__file__).resolve().parents[2]


class Receiver:
    """A group robot stand-in on 127.0.0.1: records each POST; answers the queued statuses first
    (e.g. 500), then 200 with the chat's "ok" body."""

    def __init__(self, ok_body: dict, statuses: list[int] | None = None) -> None:
        self.posts: list[dict] = []
        self.statuses = list(statuses or [])
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                receiver.posts.append(
                    {
                        "status": status,
                        "path": self.path,
                        "type": self.headers["Content-Type"],
                        "json": json.loads(body),
                    }
                )
                answer = json.dumps(ok_body if status == 200 else {"error": "busy"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/robot/send?key=test"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def wait_for(self, count: int, log) -> list[dict]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            ok = [p for p in self.posts if p["status"] == 200]
            if len(ok) >= count:
                return self.posts
            time.sleep(0.2)
        print(log.read_text())
        raise AssertionError(f"the receiver got {self.posts} within {WAIT_SECONDS} s")


OK_BODIES = {
    ChatKind.WECOM: {"errcode": 0, "errmsg": "ok"},
    ChatKind.DINGTALK: {"errcode": 0, "errmsg": "ok"},
    ChatKind.FEISHU: {"code": 0, "msg": "success", "data": {}},
}


def text_of(kind: str, payload: dict) -> str:
    """Checks the chat's own JSON shape and answers the message text."""
    if kind == ChatKind.WECOM:
        assert set(payload) == {"msgtype", "markdown"}
        assert payload["msgtype"] == "markdown"
        assert set(payload["markdown"]) == {"content"}
        return payload["markdown"]["content"]
    if kind == ChatKind.DINGTALK:
        assert payload["msgtype"] == "markdown"
        assert set(payload["markdown"]) == {"title", "text"}
        assert payload["markdown"]["title"]
        return payload["markdown"]["text"]
    assert set(payload) == {"msg_type", "content"}
    assert payload["msg_type"] == "text"
    return payload["content"]["text"]


def _wait_until_ready(process, log, timeout: float = 120) -> None:
    """Until the worker consumes from its queue: a message published before that would find no
    binding for the new queue on Redis and be dropped (a slow start on a loaded machine)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "ready." in log.read_text():
            return
        if process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{log.read_text()}")
        time.sleep(0.2)
    raise AssertionError(f"the worker was not ready within {timeout} s:\n{log.read_text()}")


@pytest.fixture
def worker(transactional_db, tmp_path):
    """A ``celery -A crm_site worker`` on its own queue, on the broker this test process's Celery
    app publishes to, pointed at the test database; always stopped."""
    settings_dict = connection.settings_dict
    database_url = (
        f"postgres://{settings_dict['USER'] or 'postgres'}@{settings_dict['HOST'] or '127.0.0.1'}:"
        f"{settings_dict['PORT'] or 5432}/{settings_dict['NAME']}"
    )
    queue = f"chat-test-{uuid.uuid4().hex[:8]}"
    env = os.environ | {"DATABASE_URL": database_url, "DJANGO_SETTINGS_MODULE": "crm_site.settings_test"}
    if django_settings.REDIS_URL:
        env["REDIS_URL"] = django_settings.REDIS_URL
    log = tmp_path / "worker.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "crm_site", "worker", "--pool=solo", f"--queues={queue}",
             "--without-gossip", "--without-mingle", "--without-heartbeat", "--loglevel=INFO"],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        _wait_until_ready(process, log)
        yield queue, log
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture
def chat_setup(worker, settings, team, pool):
    queue, log = worker
    settings.PUBLIC_POOL_TEAM_CHAT_QUEUE = queue
    rep = UserFactory(team=team, first_name="Qiang", last_name="Chen")
    RecycleRuleFactory(pool=pool, name="Ten days", no_followup_days=10)
    return rep, log


@pytest.mark.parametrize("kind", [ChatKind.WECOM, ChatKind.DINGTALK, ChatKind.FEISHU])
def test_recycled_notices_post_to_the_teams_chat_in_its_format(chat_setup, team, pool, kind):
    rep, log = chat_setup
    stale = [owned(rep, pool, claimed_days_ago=20, name=f"Lost {kind} {i}") for i in range(3)]
    other_team_rep = UserFactory(team=TeamFactory(name="West"))
    owned(other_team_rep, pool, claimed_days_ago=20, name="Not theirs")

    with Receiver(OK_BODIES[kind]) as receiver:
        TeamChatWebhook.objects.create(team=team, kind=kind, url=receiver.url)
        assert services.recycle_stale_customers().recycled == 4
        posts = receiver.wait_for(1, log)
        time.sleep(1)  # nothing else arrives

    assert len(posts) == 1  # one post for the team's batch, none for the team without a webhook
    (post,) = posts
    assert post["path"] == "/robot/send?key=test"
    assert post["type"].startswith("application/json")
    text = text_of(kind, post["json"])
    assert "Returned to the pool" in text
    for customer in stale:
        assert customer.name in text
    assert "Not theirs" not in text
    assert "Qiang Chen" in text
    assert "“Ten days”: no follow-up since" in text


def test_a_500_from_the_chat_is_retried(chat_setup, team, pool):
    rep, log = chat_setup
    owned(rep, pool, claimed_days_ago=20, name="Retry Co")

    with Receiver(OK_BODIES[ChatKind.WECOM], statuses=[500]) as receiver:
        TeamChatWebhook.objects.create(team=team, kind=ChatKind.WECOM, url=receiver.url)
        services.recycle_stale_customers()
        posts = receiver.wait_for(1, log)

    assert [p["status"] for p in posts] == [500, 200]
    assert posts[0]["json"] == posts[1]["json"]
    assert "Retry Co" in text_of(ChatKind.WECOM, posts[1]["json"])


def test_warnings_and_extension_decisions_post_too(chat_setup, team, pool, manager):
    rep, log = chat_setup
    warned = owned(rep, pool, claimed_days_ago=9, name="Warned Co")  # due in a day, inside 3 warn days

    with Receiver(OK_BODIES[ChatKind.FEISHU]) as receiver:
        TeamChatWebhook.objects.create(team=team, kind=ChatKind.FEISHU, url=receiver.url)
        assert services.warn_recycle().warned == 1
        receiver.wait_for(1, log)
        request = services.request_extension(
            rep=rep, customer_id=warned.pk, days=5, reason="Signing next week"
        )
        services.decide_extension(actor=manager, request_id=request.pk, approve=True)
        posts = receiver.wait_for(2, log)

    warning, decision = (text_of(ChatKind.FEISHU, p["json"]) for p in posts)
    assert "About to go back to the pool" in warning
    assert "Warned Co will be recycled on" in warning
    assert "Extension decisions" in decision
    assert "Warned Co" in decision
    assert ExtensionRequest.objects.get(pk=request.pk).status == "approved"


@pytest.mark.django_db
def test_nothing_is_queued_without_a_webhook_or_inside_the_batch(
    team, pool, django_capture_on_commit_callbacks
):
    rep = UserFactory(team=team)
    RecycleRuleFactory(pool=pool, no_followup_days=10)
    owned(rep, pool, claimed_days_ago=20)

    with django_capture_on_commit_callbacks() as callbacks:
        services.recycle_stale_customers()

    assert callbacks == []
    assert Notification.objects.filter(kind=NotificationKind.RECYCLED).count() == 1


@pytest.mark.django_db
def test_a_refusal_is_not_retried_and_a_rate_limit_is():
    with (
        Receiver({"errcode": 93000, "errmsg": "invalid webhook url"}) as receiver,
        pytest.raises(TeamChatRefused),
    ):
        team_chat.post_payload(kind=ChatKind.WECOM, url=receiver.url, payload={"msgtype": "text"})
    with (
        Receiver({"errcode": 45009, "errmsg": "api freq out of limit"}) as receiver,
        pytest.raises(TeamChatUnavailable),
    ):
        team_chat.post_payload(kind=ChatKind.WECOM, url=receiver.url, payload={"msgtype": "text"})
    with Receiver({}, statuses=[404]) as receiver, pytest.raises(TeamChatRefused):
        team_chat.post_payload(kind=ChatKind.DINGTALK, url=receiver.url, payload={})
