"""Reading lead files and checking their rows, for ``services.imports`` (API.md "Imports").

- **Encoding.** CSV is UTF-8 (with or without BOM) when the whole file decodes as UTF-8,
  else GB18030 (a superset of GBK, what Excel writes in China). The check reads the file
  once in 1 MB blocks, so a file cannot switch encoding half-way.
- **Bounded memory.** Rows are read one at a time (``csv.reader`` over a decoding stream;
  openpyxl in ``read_only`` mode); nothing holds the file as a list.
- **Mapping.** A mapping is one field name per column of the header ("" = not imported).
  :func:`detect_mapping` proposes it from the header (English and Chinese spellings, compared
  after NFKC case folding without spaces, ``_`` or ``-``); the admin may change it.
- **Checking.** :func:`check_row` normalises a row's values and collects every reason it
  cannot be imported, in the language active at the time.
"""

import codecs
import csv
import io
import unicodedata
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import IO, Any

import openpyxl
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from customers import normalization
from customers.models import CompanySize, Industry, Source
from public_pool.exceptions import ImportFileInvalid, ImportMappingInvalid

MAX_COLUMNS = 200  # a wider .xlsx is refused before its rows are read (one 16,000-cell row is slow)
CUSTOMER_FIELDS = ("name", "phone", "email", "industry", "size", "region", "source", "note")
CONTACT_FIELDS = ("contact_name", "contact_title", "contact_phone", "contact_email")
FIELDS = CUSTOMER_FIELDS + CONTACT_FIELDS

# Header spellings per field, compared after ``_fold`` (NFKC, case-folded, no spaces/_/-).
HEADERS: dict[str, tuple[str, ...]] = {
    "name": (
        "name",
        "company",
        "companyname",
        "customer",
        "customername",
        "名称",
        "客户名称",
        "公司名称",
        "客户",
        "公司",
        "企业名称",
    ),
    "phone": (
        "phone",
        "mobile",
        "tel",
        "telephone",
        "companyphone",
        "电话",
        "手机",
        "手机号",
        "公司电话",
        "座机",
    ),
    "email": ("email", "mail", "e-mail", "companyemail", "邮箱", "电子邮箱", "邮件", "公司邮箱"),
    "industry": ("industry", "行业"),
    "size": ("size", "companysize", "规模", "公司规模", "人员规模"),
    "region": ("region", "area", "city", "province", "地区", "区域", "城市", "省份"),
    "source": ("source", "channel", "leadsource", "来源", "渠道", "客户来源"),
    "note": ("note", "notes", "remark", "remarks", "comment", "备注", "说明"),
    "contact_name": ("contactname", "contact", "contactperson", "联系人", "联系人姓名", "姓名"),
    "contact_title": (
        "contacttitle",
        "title",
        "jobtitle",
        "position",
        "职务",
        "职位",
        "联系人职务",
        "联系人职位",
        "头衔",
    ),
    "contact_phone": ("contactphone", "contactmobile", "联系电话", "联系人电话", "联系人手机"),
    "contact_email": ("contactemail", "contactmail", "联系人邮箱", "联系人邮件"),
}
MAX_LENGTHS = {
    "name": 200,
    "phone": 30,
    "email": 254,
    "region": 50,
    "contact_name": 100,
    "contact_title": 100,
    "contact_phone": 30,
    "contact_email": 254,
}
FIELD_LABELS = {
    "name": gettext_lazy("company name"),
    "phone": gettext_lazy("phone"),
    "email": gettext_lazy("e-mail"),
    "industry": gettext_lazy("industry"),
    "size": gettext_lazy("size"),
    "region": gettext_lazy("region"),
    "source": gettext_lazy("source"),
    "note": gettext_lazy("note"),
    "contact_name": gettext_lazy("contact name"),
    "contact_title": pgettext_lazy("a contact's job", "contact's title"),
    "contact_phone": gettext_lazy("contact phone"),
    "contact_email": gettext_lazy("contact e-mail"),
}
# What the downloadable templates put in their header row, per language.
TEMPLATE_HEADERS = {
    "en": list(FIELDS),
    "zh-hans": [
        "客户名称",
        "电话",
        "邮箱",
        "行业",
        "规模",
        "地区",
        "来源",
        "备注",
        "联系人",
        "职务",
        "联系电话",
        "联系人邮箱",
    ],
}
TEMPLATE_EXAMPLE = {
    "en": [
        "Acme Ltd",
        "+86 571 8888 1234",
        "info@acme.example",
        "software",
        "small",
        "Zhejiang",
        "website",
        "",
        "Li Lei",
        "Buyer",
        "13800000001",
        "li.lei@acme.example",
    ],
    "zh-hans": [
        "杭州云帆科技有限公司",
        "0571-8888 1234",
        "info@yunfan.example",
        "软件",
        "中型",
        "浙江",
        "展会",
        "",
        "王芳",
        "采购经理",
        "13800000001",
        "wang.fang@yunfan.example",
    ],
}

# Chinese spellings accepted for choice values besides codes and the labels in both languages
# (the zh-hans catalogue may word a label differently from what people type).
CHOICE_SYNONYMS: dict[str, dict[str, tuple[str, ...]]] = {
    "industry": {
        Industry.MANUFACTURING: ("制造", "制造业"),
        Industry.SOFTWARE: ("软件", "IT", "互联网", "软件与信息技术", "信息技术"),
        Industry.FINANCE: ("金融",),
        Industry.RETAIL: ("零售", "电商", "零售与电商"),
        Industry.HEALTHCARE: ("医疗", "医疗健康"),
        Industry.EDUCATION: ("教育",),
        Industry.LOGISTICS: ("物流",),
        Industry.ENERGY: ("能源",),
        Industry.CONSTRUCTION: ("建筑", "房地产", "建筑与房地产"),
        Industry.MEDIA: ("媒体", "广告", "传媒", "媒体与广告"),
        Industry.OTHER: ("其他",),
    },
    "size": {
        CompanySize.MICRO: ("1-10", "1-10人", "微型"),
        CompanySize.SMALL: ("11-50", "11-50人", "小型"),
        CompanySize.MEDIUM: ("51-200", "51-200人", "中型"),
        CompanySize.LARGE: ("201-1000", "201-1000人", "大型"),
        CompanySize.ENTERPRISE: ("1000+", "1000人以上", "超大型"),
    },
    "source": {
        Source.WEBSITE: ("官网", "网站"),
        Source.REFERRAL: ("转介绍", "推荐"),
        Source.TRADE_SHOW: ("展会",),
        Source.COLD_CALL: ("陌拜", "电话陌拜", "陌生拜访"),
        Source.ADVERTISING: ("广告",),
        Source.SOCIAL: ("社交媒体",),
        Source.PARTNER: ("合作伙伴", "渠道伙伴"),
        Source.IMPORT: ("导入",),
        Source.OTHER: ("其他",),
    },
}
CHOICES: dict[str, Any] = {"industry": Industry, "size": CompanySize, "source": Source}


MAX_COLUMNS = 200  # a wider .xlsx is refused before its rows are read (one 16,000-cell row is slow)


def _fold(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold().strip().lstrip("\ufeff")
    for char in " _-–—":
        folded = folded.replace(char, "")
    return folded


@cache
def _header_lookup() -> dict[str, str]:
    return {_fold(spelling): name for name, spellings in HEADERS.items() for spelling in spellings}


@cache
def _choice_lookup(field_name: str) -> dict[str, str]:
    """Folded code / English label / Chinese label / synonym → code (cached per process)."""
    lookup: dict[str, str] = {}
    for code, synonyms in CHOICE_SYNONYMS[field_name].items():
        for synonym in synonyms:
            lookup[_fold(synonym)] = code
    for choice in CHOICES[field_name]:
        for language in ("en", "zh-hans"):
            with translation.override(language):
                lookup[_fold(str(choice.label))] = choice.value
        lookup[_fold(choice.value)] = choice.value
    return lookup


@lru_cache(maxsize=4096)
def _choice_code(field_name: str, raw: str) -> str | None:
    """The code a typed choice value means (files repeat a few values: cached)."""
    return _choice_lookup(field_name).get(_fold(raw))


def field_label(name: str) -> str:
    return str(FIELD_LABELS.get(name, name))


# --- reading ----------------------------------------------------------------------------------


def detect_encoding(stream: IO[bytes]) -> str:
    """``utf-8-sig`` when the whole file is UTF-8, else ``gb18030``; refuses other bytes."""
    for encoding in ("utf-8-sig", "gb18030"):
        stream.seek(0)
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            while block := stream.read(1024 * 1024):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        stream.seek(0)
        return encoding
    raise ImportFileInvalid(gettext_lazy("The file is neither UTF-8 nor GB18030/GBK text."))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # phone numbers typed into Excel become floats
    return str(value).strip()


def _csv_rows(stream: IO[bytes], encoding: str) -> Generator[list[str], None, None]:
    text = io.TextIOWrapper(stream, encoding=encoding, newline="")
    try:
        for record in csv.reader(text):
            yield [cell.strip() for cell in record]
    except csv.Error as error:
        raise ImportFileInvalid(_("The CSV file is malformed: %(error)s") % {"error": error}) from error
    finally:
        text.detach()  # leave the caller's stream open


def _xlsx_rows(stream: IO[bytes]) -> Generator[list[str], None, None]:
    try:
        workbook = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except Exception as error:  # zipfile.BadZipFile, KeyError, InvalidFileException...
        raise ImportFileInvalid(gettext_lazy("The file could not be read as an .xlsx workbook.")) from error
    try:
        sheet = workbook.worksheets[0]
        # Excel's <dimension> says the width up front; a file without one is checked row by row.
        if (sheet.max_column or 0) > MAX_COLUMNS:
            raise _too_wide()
        width: int | None = None
        for values in sheet.iter_rows(values_only=True):
            if len(values) > MAX_COLUMNS:
                raise _too_wide()
            row = [_cell(value) for value in values[:width]]
            if width is None:  # the header: the columns end at its last named cell
                while row and not row[-1]:
                    row.pop()
                width = max(len(row), 1)
            yield row
    finally:
        workbook.close()


def _too_wide() -> ImportFileInvalid:
    return ImportFileInvalid(
        _("The sheet is wider than %(count)d columns: keep only the columns to import and try again.")
        % {"count": MAX_COLUMNS}
    )


def extension(file_name: str) -> str:
    """``csv`` or ``xlsx``; anything else is refused."""
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if ext not in ("csv", "xlsx"):
        raise ImportFileInvalid(
            _("Only .csv and .xlsx files can be imported (got “%(name)s”).") % {"name": file_name}
        )
    return ext


def records(stream: IO[bytes], file_name: str, encoding: str = "") -> Generator[list[str], None, None]:
    """Every record of the file, the header first; ``encoding`` is detected when not given."""
    if extension(file_name) == "xlsx":
        return _xlsx_rows(stream)
    return _csv_rows(stream, encoding or detect_encoding(stream))


def detect_mapping(header: list[str]) -> list[str]:
    """One field per column ("" when the header names none, or a field already taken)."""
    lookup = _header_lookup()
    mapping: list[str] = []
    for cell in header:
        name = lookup.get(_fold(cell), "")
        mapping.append("" if name in mapping else name)
    return mapping


def validate_mapping(mapping: list[str], header: list[str]) -> list[str]:
    """The mapping when it fits the header: known fields, each at most once, a name column."""
    if len(mapping) != len(header):
        raise ImportMappingInvalid(gettext_lazy("The mapping does not match the file's columns."))
    seen: set[str] = set()
    for name in mapping:
        if not name:
            continue
        if name not in FIELDS:
            raise ImportMappingInvalid(_("Unknown field “%(name)s”.") % {"name": name})
        if name in seen:
            raise ImportMappingInvalid(
                _("Two columns are mapped to %(field)s.") % {"field": field_label(name)}
            )
        seen.add(name)
    if "name" not in seen:
        raise ImportMappingInvalid(
            gettext_lazy("The file has no company name column (name, 名称 or 客户名称) in its first row.")
        )
    return mapping


def unmapped_columns(header: list[str], mapping: list[str]) -> list[str]:
    """The columns that will not be imported (named by their header, or by letter when blank)."""
    return [
        cell or column_letter(index)
        for index, (cell, name) in enumerate(zip(header, mapping, strict=True))
        if not name
    ]


def column_letter(index: int) -> str:
    """``A``, ``B``, … ``AA`` as a spreadsheet names column ``index`` (0-based)."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


# --- checking ---------------------------------------------------------------------------------


@dataclass
class Row:
    number: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    name_key: str = ""
    result: str = ""
    customer_id: int | None = None
    reason: str = ""
    duplicate_of: "Row | None" = None  # an earlier row of the same chunk

    @property
    def has_contact(self) -> bool:
        return bool(self.values["contact_name"])


def _check_email(row: Row, name: str) -> None:
    if row.values[name]:
        row.values[name] = row.values[name].lower()
        try:
            validate_email(row.values[name])
        except ValidationError:
            row.errors.append(_("The e-mail address “%(value)s” is not valid.") % {"value": row.values[name]})


def _check_phone(row: Row, name: str) -> None:
    if row.values[name]:
        phone = normalization.normalize_phone(row.values[name])
        if len(phone.lstrip("+")) < 5:
            row.errors.append(_("The phone number “%(value)s” is not valid.") % {"value": row.values[name]})
        row.values[name] = phone


def check_row(number: int, values: dict[str, str]) -> Row:
    """Normalise one row's values in place and collect every reason it cannot be imported."""
    row = Row(number=number, values=values)
    for name, limit in MAX_LENGTHS.items():
        if len(values[name]) > limit:
            row.errors.append(
                _("%(field)s is longer than %(limit)d characters.")
                % {"field": field_label(name), "limit": limit}
            )
    if not values["name"]:
        row.errors.append(_("The company name is missing."))
    else:
        row.name_key = normalization.normalize_company_name(values["name"])[:200]
        if not row.name_key:
            row.errors.append(_("The company name has no letters or digits."))
    _check_phone(row, "phone")
    _check_email(row, "email")
    for name in CHOICES:
        raw = values[name]
        if raw:
            code = _choice_code(name, raw)
            if code is None:
                row.errors.append(
                    _("Unknown %(field)s “%(value)s”.") % {"field": field_label(name), "value": raw}
                )
            values[name] = code or ""
    if not values["source"]:
        values["source"] = Source.IMPORT
    _check_phone(row, "contact_phone")
    _check_email(row, "contact_email")
    if not values["contact_name"] and any(values[name] for name in CONTACT_FIELDS):
        row.errors.append(_("The contact has a title, phone or e-mail but no name."))
    return row


def rows(records: Iterator[list[str]], mapping: list[str], *, after_row: int = 1) -> Iterator[Row]:
    """The checked rows after the header, numbered as a spreadsheet numbers them (header = 1).

    Blank records are skipped (their numbers too); rows up to ``after_row`` are read but not
    checked (a resumed import has committed them already).
    """
    for number, record in enumerate(records, start=2):
        if number <= after_row or not any(record):
            continue
        yield check_row(number, row_values(record, mapping))


def row_values(record: list[str], mapping: list[str]) -> dict[str, str]:
    """Field → the record's value in the column mapped to it ("" when none)."""
    values = dict.fromkeys(FIELDS, "")
    for cell, name in zip(record, mapping, strict=False):
        if name:
            values[name] = cell
    return values


def count_rows(records: Iterator[list[str]]) -> int:
    """The number of non-blank records after the header (one streaming pass)."""
    return sum(1 for record in records if any(record))
