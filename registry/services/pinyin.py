"""Pinyin of personal names, for search by full pinyin or initials (`zs` finds 张三).

Surnames have readings of their own (曾 zeng, 单 shan, 解 xie ...): the first character, or
the first two for a compound surname, is read from SURNAMES; the rest of the name is read
character by character from pypinyin's single-character dictionary (its first, most common
reading, tones removed). Names are personal names, so pypinyin's phrase dictionary, which reads
words in context, adds little and costs much (it made the reading ~20× slower); a character
without a reading (a Latin letter, a rare character) stands for itself.
"""

from functools import lru_cache

from pypinyin.constants import PINYIN_DICT
from pypinyin.contrib.tone_convert import to_normal

SURNAMES = {
    "曾": "zeng", "单": "shan", "解": "xie", "区": "ou", "查": "zha", "仇": "qiu", "朴": "piao", "乐": "yue",
    "华": "hua", "覃": "qin", "盖": "ge", "缪": "miao", "翟": "zhai", "召": "shao", "折": "she", "种": "chong",
    "员": "yun", "秘": "bi", "繁": "po", "尉": "yu", "能": "nai", "句": "gou", "隗": "wei", "黑": "he", "牟": "mou",
    "宓": "fu", "重": "chong", "沈": "shen", "任": "ren", "葛": "ge", "纪": "ji", "柏": "bai", "薄": "bo",
}
# Compound surnames: (syllables, initials).
COMPOUND = {
    "长孙": ("zhangsun", "zs"), "万俟": ("moqi", "mq"), "尉迟": ("yuchi", "yc"), "澹台": ("tantai", "tt"),
    "单于": ("chanyu", "cy"), "令狐": ("linghu", "lh"), "皇甫": ("huangfu", "hf"), "欧阳": ("ouyang", "oy"),
    "司马": ("sima", "sm"), "上官": ("shangguan", "sg"), "诸葛": ("zhuge", "zg"), "东方": ("dongfang", "df"),
}

# Characters whose first dictionary reading is not the one names use (长江 chang, 重阳 chong).
GIVEN = {"长": "chang", "重": "chong"}

# Character -> syllable without tone ("" for whitespace), filled on first use of each character.
_SYLLABLE: dict[str, str] = dict(GIVEN)


def syllable(ch: str) -> str:
    """The reading of one character as name_pinyin uses it: 张 -> "zhang", 吕 -> "lv", A -> "a"."""
    try:
        return _SYLLABLE[ch]
    except KeyError:
        pass
    readings = PINYIN_DICT.get(ord(ch))
    if readings:
        value = to_normal(readings.split(",", 1)[0]).lower()
    else:
        value = ch.lower() if ch.strip() else ""
    _SYLLABLE[ch] = value
    return value


@lru_cache(maxsize=100_000)
def name_pinyin(name: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials) of a name, e.g. 曾小明 -> ("zengxiaoming", "zxm")."""
    name = name.replace("·", "").replace("•", "").replace(" ", "")
    if name[:2] in COMPOUND:
        head, head_initials = COMPOUND[name[:2]]
        rest = name[2:]
    elif name[:1] in SURNAMES:
        head = SURNAMES[name[:1]]
        head_initials = head[0]
        rest = name[1:]
    else:
        head, head_initials, rest = "", "", name
    table = _SYLLABLE
    full, initials = [head], [head_initials]
    for ch in rest:
        s = table.get(ch)
        if s is None:
            s = syllable(ch)
        if s:
            full.append(s)
            initials.append(s[0])
    return "".join(full)[:200], "".join(initials)[:50]
