"""Seed the care groups (一老一小一残一特 and hardship) and key-person flags. Rows, not code:
administrators can add or retire tags afterwards."""

from django.db import migrations

TAGS = [
    # code, name, name_en, category, min_age, max_age, sort
    ("elderly", "老年人", "Elderly (60+)", "care", 60, None, 10),
    ("elderly80", "高龄老人", "Oldest old (80+)", "care", 80, None, 11),
    ("child", "未成年人", "Child (under 18)", "care", None, 17, 20),
    ("disabled", "残疾人", "Disabled", "care", None, None, 30),
    ("severe_disabled", "重残", "Severely disabled", "care", None, None, 31),
    ("dibao", "低保", "Minimum living allowance (低保)", "care", None, None, 40),
    ("tekun", "特困", "Extreme poverty support (特困)", "care", None, None, 41),
    ("empty_nest", "空巢老人", "Empty-nest elderly", "care", None, None, 50),
    ("living_alone", "独居老人", "Elderly living alone", "care", None, None, 51),
    ("shidu", "失独家庭", "Lost only child (失独)", "care", None, None, 52),
    ("left_behind", "留守儿童", "Left-behind child", "care", None, None, 53),
    ("veteran", "退役军人", "Veteran", "care", None, None, 60),
    ("correction", "社区矫正对象", "Under community correction", "key", None, None, 110),
    ("released", "刑满释放人员", "Released prisoner", "key", None, None, 111),
    ("drug", "吸毒人员", "Drug user under management", "key", None, None, 112),
    ("mental", "严重精神障碍患者", "Severe mental disorder", "key", None, None, 113),
    ("petitioner", "重点信访人员", "Key petitioner", "key", None, None, 114),
]


def seed(apps, schema_editor):
    CareTag = apps.get_model("registry", "CareTag")
    for code, name, name_en, category, min_age, max_age, sort in TAGS:
        CareTag.objects.update_or_create(
            code=code,
            defaults=dict(name=name, name_en=name_en, category=category, min_age=min_age, max_age=max_age, sort=sort),
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
