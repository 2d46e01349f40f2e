"""The header map of a resident sheet: the template's columns, the names real 台账 give them,
and the header row found among a sheet's first rows.

Public: the exports write the template and the row report from it, and the import pages read
the report back through it.
"""

import re

from django.utils.translation import gettext_lazy as _

from linli import pii
from linli.errors import DomainError

# (field key, Chinese header, required) in template order.
HEADERS: list[tuple[str, str, bool]] = [
    ("name", "姓名", True),
    ("id_number", "身份证号", True),
    ("gender", "性别", False),
    ("birth_date", "出生日期", False),
    ("ethnicity", "民族", False),
    ("phone", "联系电话", False),
    ("residence_type", "户籍类型", False),
    ("political_status", "政治面貌", False),
    ("grid", "网格", False),
    ("estate", "小区", True),
    ("building", "楼栋", True),
    ("unit", "单元", False),
    ("room", "房号", True),
    ("use", "房屋用途", False),
    ("household_number", "户号", False),
    ("relation", "与户主关系", False),
    ("tags", "关爱标签", False),
    ("note", "备注", False),
]
HEADER_LABELS = {key: label for key, label, _req in HEADERS}

# Column names seen in real 台账, normalised (NFKC, no spaces, lower case).
ALIASES: dict[str, str] = {}
for _key, _names in {
    "name": "姓名 名字 居民姓名 人员姓名 name",
    "id_number": "身份证号 身份证号码 公民身份号码 公民身份证号码 证件号码 证件号 身份证 身份证件号码 idnumber",
    "gender": "性别 gender sex",
    "birth_date": "出生日期 出生年月 出生年月日 生日 birthdate",
    "ethnicity": "民族 ethnicity",
    "phone": "联系电话 电话 手机 手机号 手机号码 联系方式 电话号码 联系电话号码 phone",
    "residence_type": "户籍类型 居住类型 人口类型 人员类型 户口类型 residencetype",
    "political_status": "政治面貌 politicalstatus",
    "grid": "网格 所属网格 网格名称 网格编码 网格编号 grid",
    "estate": "小区 小区名称 小区名 小区(街路巷) 街路巷 estate",
    "building": "楼栋 楼号 楼栋号 楼幢 楼幢号 栋 幢 栋号 building",
    "unit": "单元 单元号 unit",
    "room": "房号 室 房间号 室号 门牌号 房间 room",
    "use": "房屋用途 房屋类型 房屋性质 用途 use",
    "household_number": "户号 户编号 家庭户号 household",
    "relation": "与户主关系 关系 与户主的关系 家庭关系 relation",
    "tags": "关爱标签 标签 人员标签 人群标签 特殊人群 人员类别 tags",
    "note": "备注 说明 note",
}.items():
    for _n in _names.split():
        ALIASES[_n.lower()] = _key


def norm_header(value) -> str:
    """A header cell as ALIASES spells it: NFKC, no spaces, lower case, without the marks of a
    required column (*, ※, ★, (必填)) or a trailing colon."""
    text = pii.clean_text(value).replace(" ", "").lower()
    text = text.lstrip("*※★")
    text = re.sub(r"\((必填|选填|可选|必须)\)$", "", text)
    return text.rstrip("*:：")


def find_header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """(index of the header row, {field key: column}) from the first five rows."""
    best = (-1, {})
    for i, row in enumerate(rows[:5]):
        mapping: dict[str, int] = {}
        for col, value in enumerate(row):
            key = ALIASES.get(norm_header(value))
            if key and key not in mapping:
                mapping[key] = col
        if len(mapping) > len(best[1]):
            best = (i, mapping)
    index, mapping = best
    if "name" not in mapping or "id_number" not in mapping:
        raise DomainError(
            "import_no_header",
            _("No header row with 姓名 and 身份证号 in the first five rows; use the template."),
            field="file",
        )
    missing = [HEADER_LABELS[k] for k, _l, req in HEADERS if req and k not in mapping]
    if missing:
        raise DomainError(
            "import_missing_columns", _("The sheet lacks the columns %(cols)s."), field="file", cols="、".join(missing)
        )
    return index, mapping


def field_of(label) -> str | None:
    """The field key a header cell names ("公民身份号码" -> "id_number"), or None."""
    return ALIASES.get(norm_header(label))
