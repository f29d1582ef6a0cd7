"""The Simplified Chinese (zh-hans) catalogue is complete, compiled, and what the pages and the API speak.

Decisions:
- The catalogue is ``locale/zh_Hans/LC_MESSAGES/django.po`` (Django maps ``zh-hans`` to
  ``zh_Hans``); its compiled ``django.mo`` is committed, so installing the site needs no gettext.
  Refresh both with ``make messages``.
- The .po is read by the small parser below rather than polib, so the tests need no extra package.
- "Every marked string is in the catalogue" runs Django's own ``makemessages`` (``--keep-pot``) on a
  temporary copy of the source tree, so it extracts exactly what ``make messages`` would and never
  touches the committed catalogue. It and the .mo check need GNU gettext (``xgettext``, ``msgfmt``):
  ``scripts/test.sh`` installs Debian's ``gettext`` when it is missing. Without it the tests fail
  rather than skip, since a skipped check would let an untranslated page ship.
- Only JavaScript would need a ``djangojs`` catalogue; ``static/js`` has no ``gettext(`` call, and
  ``test_javascript_has_no_strings_marked_for_a_catalogue_that_does_not_exist`` says when that changes.
"""

import ast
import gettext
import re
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from customers.models import Customer
from tests.factories import CustomerFactory

LOCALE_DIR = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_FILE = LOCALE_DIR / "django.po"
MO_FILE = LOCALE_DIR / "django.mo"

# Not scanned for strings: the same list as MESSAGES_IGNORE in the Makefile.
IGNORED_DIRS = (
    ".venv",
    "node_modules",
    "bench",
    "staticfiles",
    "var",
    "test-artifacts",
    "tests",
    "*.egg-info",
)
# What makemessages reads for the "django" domain; the copy holds only these (and the locale dir).
SOURCE_SUFFIXES = {".py", ".html", ".txt"}


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstrs: list[str] = field(default_factory=list)
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)


_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+(".*")$')


def parse_po(path: Path) -> list[Entry]:
    """The entries of a .po/.pot file, header included (``msgid ""``)."""
    entries: list[Entry] = []
    entry = Entry()
    target: tuple[str, int | None] | None = None
    started = False

    def finish():
        nonlocal entry, target, started
        if started:
            entries.append(entry)
        entry, target, started = Entry(), None, False

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#~"):
            entry.obsolete = True
            line = line[2:].strip()
        if not line:
            finish()
            continue
        if line.startswith("#,"):
            entry.flags.update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith("#"):
            continue
        if line.startswith('"'):
            assert target is not None, f"{path}: continuation line with nothing before it: {raw!r}"
            _append(entry, target, ast.literal_eval(line))
            continue
        match = _KEYWORD.match(line)
        assert match, f"{path}: cannot read line {raw!r}"
        keyword, index, text = match.groups()
        if keyword == "msgid" and started and (entry.msgstrs or entry.msgid):
            finish()  # an entry without a blank line before it
        started = True
        target = ("msgstr", int(index or 0)) if keyword.startswith("msgstr") else (keyword, None)
        if keyword.startswith("msgstr"):
            while len(entry.msgstrs) <= target[1]:
                entry.msgstrs.append("")
        elif keyword != "msgid":
            setattr(entry, keyword, "")
        _append(entry, target, ast.literal_eval(text))
    finish()
    return entries


def _append(entry: Entry, target: tuple[str, int | None], text: str) -> None:
    name, index = target
    if name == "msgstr":
        entry.msgstrs[index] += text
    else:
        setattr(entry, name, (getattr(entry, name) or "") + text)


def catalogue() -> list[Entry]:
    """The translatable entries of the committed catalogue (no header, no obsolete entries)."""
    return [e for e in parse_po(PO_FILE) if e.msgid and not e.obsolete]


def require(program: str) -> str:
    path = shutil.which(program)
    if path is None:
        pytest.fail(
            f"GNU gettext's {program} is needed (Debian: apt-get install gettext; scripts/test.sh does it)"
        )
    return path


def test_catalogue_has_no_untranslated_or_fuzzy_entries():
    entries = catalogue()
    assert len(entries) > 100  # the parser read the real catalogue, not an empty file
    untranslated = [e.msgid for e in entries if not e.msgstrs or not all(s.strip() for s in e.msgstrs)]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated == [], "translate these in locale/zh_Hans/LC_MESSAGES/django.po"
    assert fuzzy == [], "check these translations and remove their `#, fuzzy` flag"
    header = next(e for e in parse_po(PO_FILE) if e.msgid == "")
    assert "fuzzy" not in header.flags
    assert "Plural-Forms: nplurals=1; plural=0;" in header.msgstrs[0]
    # Chinese has one plural form: msgstr[0] only.
    assert [e.msgid for e in entries if e.msgid_plural is not None and len(e.msgstrs) != 1] == []


def test_catalogue_has_each_message_once():
    counts = Counter(e.key for e in catalogue())
    assert [key for key, n in counts.items() if n > 1] == []


def test_msgfmt_accepts_the_catalogue_with_its_format_checks(tmp_path):
    """``msgfmt --check`` also compares each python-format msgstr's placeholders with its msgid's."""
    result = subprocess.run(
        [require("msgfmt"), "--check", "-o", str(tmp_path / "check.mo"), str(PO_FILE)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr


def test_committed_mo_is_compiled_from_the_current_po(tmp_path):
    """Compare what a fresh compile of the .po holds with what the committed .mo holds, message by
    message, rather than the bytes (another msgfmt version may lay the file out differently)."""
    fresh = tmp_path / "django.mo"
    subprocess.run([require("msgfmt"), "-o", str(fresh), str(PO_FILE)], check=True)
    assert MO_FILE.exists(), "run `make messages` and commit locale/zh_Hans/LC_MESSAGES/django.mo"
    with fresh.open("rb") as f:
        expected = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]  # private, not in typeshed
    with MO_FILE.open("rb") as f:
        committed = gettext.GNUTranslations(f)._catalog  # type: ignore[attr-defined]
    stale = sorted(str(k) for k in expected.keys() | committed.keys() if expected.get(k) != committed.get(k))
    assert stale == [], "the committed django.mo is out of date: run `make messages` (or compilemessages)"


def _copy_sources(destination: Path) -> None:
    root = Path(settings.BASE_DIR)

    def skip(directory: str, names: list[str]) -> list[str]:
        here = Path(directory)
        skipped = []
        for name in names:
            path = here / name
            if path.is_dir():
                if (
                    name.startswith(".")
                    or name == "__pycache__"
                    or any(Path(name).match(pattern) for pattern in IGNORED_DIRS)
                    or (here == root and name == "locale")
                ):
                    skipped.append(name)
            elif path.suffix not in SOURCE_SUFFIXES:
                skipped.append(name)
        return skipped

    shutil.copytree(root, destination, ignore=skip)


def extracted_messages(tmp_path: Path) -> list[Entry]:
    """Run ``makemessages`` as ``make messages`` does, on a copy of the sources; return the .pot."""
    require("xgettext")
    source = tmp_path / "src"
    _copy_sources(source)
    command = [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--keep-pot", "--no-obsolete"]
    command += [f"--ignore={pattern}" for pattern in IGNORED_DIRS]
    result = subprocess.run(command, cwd=source, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    pot = source / "locale" / "django.pot"
    assert pot.exists(), result.stdout + result.stderr
    return [e for e in parse_po(pot) if e.msgid]


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> list[Entry]:
    return extracted_messages(tmp_path_factory.mktemp("makemessages"))


def test_every_string_marked_in_the_code_is_in_the_catalogue(extracted):
    assert len(extracted) > 100  # makemessages did scan the project
    known = {e.key for e in catalogue()}
    missing = sorted({e.msgid for e in extracted if e.key not in known})
    assert missing == [], (
        "strings marked for translation but not in the zh-hans catalogue: run `make messages`, "
        "translate them in locale/zh_Hans/LC_MESSAGES/django.po, then `make messages` again"
    )


def test_every_plural_string_in_the_code_is_plural_in_the_catalogue(extracted):
    plural_in_code = {e.key: e.msgid_plural for e in extracted if e.msgid_plural}
    in_catalogue = {e.key: e.msgid_plural for e in catalogue()}
    assert {k: v for k, v in plural_in_code.items() if in_catalogue.get(k) != v} == {}


def test_javascript_has_no_strings_marked_for_a_catalogue_that_does_not_exist():
    marked = [
        str(path.relative_to(settings.BASE_DIR))
        for path in (Path(settings.BASE_DIR) / "static").rglob("*.js")
        if re.search(r"\b(n|p|np)?gettext\(", path.read_text(encoding="utf-8"))
    ]
    if marked:
        assert (LOCALE_DIR / "djangojs.po").exists(), f"{marked} mark strings: add a djangojs catalogue"


# %(name)s, %s, %d, %.2f …; {name}; HTML tags (and <token>-like words); `code` spans.
_PLACEHOLDER_PATTERNS = [
    re.compile(r"%(?:\(\w+\))?[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]"),
    re.compile(r"\{\w*\}"),
    re.compile(r"</?[A-Za-z][^<>]*>"),
    re.compile(r"`[^`]+`"),
]


def placeholders(text: str) -> Counter:
    text = text.replace("%%", "")
    return Counter(token for pattern in _PLACEHOLDER_PATTERNS for token in pattern.findall(text))


def test_each_translation_keeps_the_placeholders_tags_and_code_of_its_original():
    wrong = {}
    for e in catalogue():
        if e.msgid_plural is None:
            expected = placeholders(e.msgid)
        else:
            # One Chinese form stands for every count: it carries what the plural form carries
            # (a singular English form may spell out "one" instead of using the number).
            expected = placeholders(e.msgid_plural) | placeholders(e.msgid)
        for msgstr in e.msgstrs:
            if placeholders(msgstr) != expected:
                wrong[e.msgid] = msgstr
    assert wrong == {}


def test_placeholder_check_notices_a_lost_or_renamed_placeholder():
    """The check above is not vacuous."""
    assert placeholders("Hello %(name)s, {count} <b>new</b> `code`") == placeholders(
        "`code` <b>新</b> {count} %(name)s，您好"
    )
    assert placeholders("Hello %(name)s") != placeholders("您好 %(nom)s")
    assert placeholders("%d left") != placeholders("还剩")


def test_chinese_text_uses_full_width_punctuation():
    """Chinese text takes Chinese punctuation (，。：；？！（）), not ASCII marks next to a character."""
    han = r"[\u4e00-\u9fff]"
    ascii_mark = re.compile(rf"{han}[,.;:?!(]|\({han}|{han}\)")
    wrong = {e.msgid: s for e in catalogue() for s in e.msgstrs if ascii_mark.search(s)}
    assert wrong == {}


# Rendered pages in zh-hans: Chinese strings that must be there, English originals that must not.
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}


def _page(client, url: str) -> str:
    response = client.get(url, **ZH)
    assert response.status_code == 200, url
    assert response.headers["Content-Language"] == "zh-hans"
    return response.content.decode()


def _assert_speaks_chinese(html: str, pairs: dict[str, str]) -> None:
    for chinese, english in pairs.items():
        assert chinese in html, chinese
        assert english not in html, english


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


def test_home_page_in_chinese(rep_client, rep):
    CustomerFactory(owner=rep, team=rep.team)
    html = _page(rep_client, reverse("home"))
    _assert_speaks_chinese(
        html,
        {
            "我的客户": "My customers",
            "待跟进": "Need a follow-up",
            "本周跟进": "Follow-ups this week",
            "进行中的商机": "Open deals",
            "退出登录": "Log out",
        },
    )


def test_customer_list_in_chinese(rep_client, rep):
    CustomerFactory(owner=rep, team=rep.team, name="华东精密制造有限公司")
    html = _page(rep_client, reverse("customers:list"))
    assert "华东精密制造有限公司" in html
    _assert_speaks_chinese(
        html,
        {
            "共 1 个客户": "1 customer",
            "筛选条件": "Filters",
            "全部来源": "Any source",
            "最近更新": "Recently updated",
        },
    )


def test_customer_detail_in_chinese(rep_client, rep):
    customer = CustomerFactory(owner=rep, team=rep.team)
    html = _page(rep_client, reverse("customers:detail", args=[customer.pk]))
    _assert_speaks_chinese(
        html,
        {
            "最近跟进": "Last follow-up",
            "添加联系人": "Add contact",
            "添加商机": "Add deal",
            "写跟进": "Log follow-up",
            "动态时间线": "Timeline",
        },
    )


def test_new_customer_form_in_chinese(rep_client):
    html = _page(rep_client, reverse("customers:create"))
    _assert_speaks_chinese(
        html,
        {
            "新建客户": "New customer",
            "公司名称": "Company name",
            "来源渠道": "Source",
            "客户等级": "Level",
            "创建客户": "Create customer",
            "取消": "Cancel",
        },
    )
    # Choices are translated too.
    _assert_speaks_chinese(html, {"A – 重点客户": "key account", "客户转介绍": "Referral"})


def test_pipeline_in_chinese(rep_client, rep):
    html = _page(rep_client, reverse("customers:pipeline"))
    _assert_speaks_chinese(
        html,
        {
            "商机漏斗": "Deal pipeline",
            "初步接洽": ">Lead<",
            "商务谈判": "Negotiation",
            "赢单": ">Won<",
        },
    )


def test_login_page_in_chinese(client):
    html = _page(client, reverse("login"))
    _assert_speaks_chinese(
        html,
        {
            "用户名": "Username",
            "密码": "Password",
            "忘记密码？请联系管理员重置。": "Forgot your password?",
        },
    )


def test_english_is_still_the_default(rep_client):
    """The catalogue does not leak into English: without a Chinese request the page is English."""
    response = rep_client.get(reverse("customers:create"), HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert "New customer" in html
    assert "新建客户" not in html


def test_api_error_detail_in_chinese(token_client, rep):
    response = token_client(rep).post("/api/customers/", {"name": ""}, format="json", **ZH)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "部分字段无效。"
    assert "name" in body["fields"]
    assert all(re.search(r"[\u4e00-\u9fff]", message) for message in body["fields"]["name"])
    assert Customer.objects.count() == 0


def test_api_domain_error_in_chinese(token_client, rep, other_rep):
    """A rule the service enforces (not DRF's own wording) also answers in Chinese."""
    response = token_client(rep).post(
        "/api/customers/", {"name": "东方物流有限公司", "owner": other_rep.pk}, format="json", **ZH
    )
    assert response.status_code == 403
    assert response.json() == {"code": "permission_denied", "detail": "您不能为此人创建客户。"}
    assert Customer.objects.count() == 0
