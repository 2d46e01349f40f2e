"""The name reader the importer (and every registration) uses: fast, and as pypinyin reads names."""

import random

from faker.providers.person.zh_CN import Provider
from pypinyin import Style, lazy_pinyin

from registry.services.pinyin import COMPOUND, SURNAMES, name_pinyin, syllable

# Characters read differently by pypinyin's phrase dictionary in some pairs (行 xing/hang, 朝 chao/zhao,
# 露 lu/lou), or on purpose by the name reader (长 chang, 重 chong).
KNOWN_POLYPHONES = set("长重行朝露")
GIVEN_CHARS = (
    "伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞彬富顺信子杰涛"
    "昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会思群豪心邦承乐绍功松善厚庆磊民友裕河哲江超浩亮政谦亨奇"
    "秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛艳瑞凡佳嘉琼"
    "晓欢霄枫芸菲寒伊亚宜可姬舒影思丽长重朝行露"
)


def reference(name):
    """The old reader: surname table, then pypinyin's lazy_pinyin with its phrase dictionary."""
    name = name.replace("·", "").replace("•", "").replace(" ", "")
    if name[:2] in COMPOUND:
        head, head_initials = COMPOUND[name[:2]]
        rest = name[2:]
    elif name[:1] in SURNAMES:
        head, head_initials, rest = SURNAMES[name[:1]], SURNAMES[name[:1]][0], name[1:]
    else:
        head, head_initials, rest = "", "", name
    tail = [p.lower() for p in lazy_pinyin(rest, style=Style.NORMAL, errors=lambda s: list(s)) if p.strip()]
    return head + "".join(tail), head_initials + "".join(p[0] for p in tail)


def test_it_reads_the_documented_names():
    assert name_pinyin("张三") == ("zhangsan", "zs")
    assert name_pinyin("曾小明") == ("zengxiaoming", "zxm")
    assert name_pinyin("单田芳") == ("shantianfang", "stf")
    assert name_pinyin("欧阳修") == ("ouyangxiu", "oyx")
    assert name_pinyin("万俟卨") == ("moqixie", "mqx")
    assert name_pinyin("吕布") == ("lvbu", "lb")
    assert name_pinyin("阿依古丽·买买提") == ("ayigulimaimaiti", "ayglmmt")


def test_it_keeps_letters_and_unknown_characters_as_themselves():
    assert name_pinyin("Mary王") == ("marywang", "maryw")
    assert name_pinyin("王-明") == ("wang-ming", "w-m")
    assert syllable(" ") == ""


def test_it_reads_given_names_as_names():
    assert name_pinyin("刘长江") == ("liuchangjiang", "lcj")
    assert name_pinyin("王重阳") == ("wangchongyang", "wcy")


def test_it_agrees_with_pypinyin_on_generated_names_except_known_polyphones():
    rng = random.Random(11)
    surnames = list(Provider.last_names) + list(COMPOUND)
    given = list(Provider.first_names_male) + list(Provider.first_names_female)
    names = set()
    while len(names) < 600:
        if rng.random() < 0.5:
            g = rng.choice(given)
        else:
            g = "".join(rng.choice(GIVEN_CHARS) for _ in range(rng.choice((1, 2))))
        names.add(rng.choice(surnames) + g)
    compared = differing = 0
    for name in sorted(names):
        ours, theirs = name_pinyin(name), reference(name)
        compared += 1
        if ours == theirs:
            continue
        differing += 1
        assert set(name) & KNOWN_POLYPHONES, (name, ours, theirs)
        assert len(ours[1]) == len(theirs[1]), (name, ours, theirs)  # the same number of syllables
    assert compared == 600
    assert differing < 30
