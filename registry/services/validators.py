"""Field parsers shared by forms, the API and the importer.

Each takes what a person typed or a spreadsheet held (Chinese or English labels, full-width
characters, Excel date serials) and returns the stored value, or raises DomainError.
"""

import datetime as dt
import re

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError
from linli.pii import clean_text, normalize_phone

from ..models import Gender, HouseUse, PoliticalStatus, Relation, ResidenceType

_EXCEL_EPOCH = dt.date(1899, 12, 30)


def parse_date(value, *, field: str = "date", allow_future: bool = False, today: dt.date | None = None) -> dt.date | None:
    """Dates as Excel serials, date/datetime objects, 1990-01-02, 1990/1/2, 1990.1.2, 19900102,
    1990年1月2日. Empty gives None."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        d = value.date()
    elif isinstance(value, dt.date):
        d = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        if 1 <= value < 2958466:
            d = _EXCEL_EPOCH + dt.timedelta(days=int(value))
        else:
            raise DomainError("date_invalid", _("%(v)s is not a date."), field=field, v=value)
    else:
        text = clean_text(value).replace(" ", "")
        if not text:
            return None
        if re.fullmatch(r"\d{5}(\.0+)?", text):  # an Excel serial kept as text
            return parse_date(float(text), field=field, allow_future=allow_future, today=today)
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text) or re.fullmatch(
            r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:[T ]?\d{1,2}:\d{2}(?::\d{2})?)?", text
        )
        if not m:
            raise DomainError(
                "date_invalid", _("%(v)s is not a date; write it as 1990-01-02."), field=field, v=text
            )
        try:
            d = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise DomainError("date_impossible", _("%(v)s is an impossible date."), field=field, v=text)
    today = today or dt.date.today()
    if not allow_future and d > today:
        raise DomainError("date_future", _("%(v)s is in the future."), field=field, v=d.isoformat())
    if d.year < 1890:
        raise DomainError("date_impossible", _("%(v)s is an impossible date."), field=field, v=d.isoformat())
    return d


def _chooser(choices, synonyms: dict[str, str], code: str, message):
    lookup = {}
    for value, label in choices.choices:
        lookup[value.lower()] = value
        lookup[str(label).lower()] = value
    for k, v in synonyms.items():
        lookup[k.lower()] = v

    def parse(value, *, field: str, default=None):
        text = clean_text(value).replace(" ", "").lower()
        if not text:
            if default is not None:
                return default
            raise DomainError(code + "_missing", _("This field is required."), field=field)
        try:
            return lookup[text]
        except KeyError:
            raise DomainError(code, message, field=field, v=text)

    return parse


parse_gender = _chooser(
    Gender, {"男": "M", "女": "F", "男性": "M", "女性": "F", "male": "M", "female": "F", "1": "M", "2": "F"},
    "gender_invalid", _("Gender %(v)s is not 男 or 女."),
)
parse_residence_type = _chooser(
    ResidenceType,
    {"户籍": "registered", "户籍人口": "registered", "常住": "registered", "本地": "registered",
     "流动": "floating", "流动人口": "floating", "外来": "floating", "暂住": "floating",
     "境外": "overseas", "境外人员": "overseas", "外籍": "overseas", "港澳台": "overseas"},
    "residence_type_invalid", _("Residence type %(v)s is not 户籍, 流动 or 境外."),
)
parse_political_status = _chooser(
    PoliticalStatus,
    {"群众": "masses", "中共党员": "cpc", "党员": "cpc", "中共预备党员": "cpc_probationary", "预备党员": "cpc_probationary",
     "共青团员": "cyl", "团员": "cyl", "民主党派": "democratic", "民主党派成员": "democratic", "无党派人士": "non_partisan",
     "无党派": "non_partisan"},
    "political_status_invalid", _("Political status %(v)s is not one we know (群众, 中共党员, 共青团员, ...)."),
)
parse_relation = _chooser(
    Relation,
    {"户主": "head", "本人": "head", "配偶": "spouse", "妻": "spouse", "夫": "spouse", "妻子": "spouse", "丈夫": "spouse",
     "子": "child", "女": "child", "儿子": "child", "女儿": "child", "长子": "child", "长女": "child", "次子": "child",
     "次女": "child", "子女": "child", "父亲": "parent", "母亲": "parent", "父母": "parent", "父": "parent", "母": "parent",
     "孙子": "grandchild", "孙女": "grandchild", "外孙": "grandchild", "外孙女": "grandchild", "祖父": "grandparent",
     "祖母": "grandparent", "外祖父": "grandparent", "外祖母": "grandparent", "兄": "sibling", "弟": "sibling",
     "姐": "sibling", "妹": "sibling", "兄弟姐妹": "sibling", "儿媳": "child_in_law", "女婿": "child_in_law",
     "租户": "tenant", "租客": "tenant", "其他": "other"},
    "relation_invalid", _("Relation %(v)s is not one we know (户主, 配偶, 子女, 父母, ...)."),
)
parse_house_use = _chooser(
    HouseUse,
    {"自住": "owner", "自有": "owner", "业主自住": "owner", "出租": "rented", "租赁": "rented", "空置": "vacant",
     "空房": "vacant", "闲置": "vacant", "商用": "commercial", "商铺": "commercial", "经营": "commercial"},
    "house_use_invalid", _("House use %(v)s is not 自住, 出租, 空置 or 商用."),
)


def parse_name(value, *, field: str = "name") -> str:
    text = clean_text(value)
    if not text:
        raise DomainError("name_missing", _("Name is missing."), field=field)
    if len(text) > 50:
        raise DomainError("name_too_long", _("A name has at most 50 characters."), field=field)
    if re.search(r"[<>{}\\;]|\d", text):
        raise DomainError("name_invalid", _("A name may not contain digits or the characters < > { } ; \\."), field=field)
    return text


def parse_phone(value, *, field: str = "phone") -> str:
    try:
        return normalize_phone(value)
    except ValueError as e:
        raise DomainError(
            "phone_invalid", _("%(v)s is not a mobile (11 digits, 1…) or landline (0…) number."), field=field, v=str(e)
        )
