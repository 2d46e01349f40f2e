"""Seed the Jining baseline as data (administrators edit or end-date these rows):
every household twice a quarter; hardship, severely disabled and empty-nest households monthly
(三必 must-visit); households with a key person monthly; patrols of at least 4 hours a day;
two evaluation rounds a year."""

import datetime as dt

from django.db import migrations

FROM = dt.date(2024, 1, 1)

RULES = [
    # code, name, target, tags, visits, period, weight, must_visit
    ("all_quarterly", "全部住户每季度走访", "all", [], 2, "quarter", 1, False),
    ("hardship_monthly", "困难家庭每月走访（三必）", "tags", ["dibao", "tekun", "severe_disabled"], 1, "month", 5, True),
    ("empty_nest_monthly", "空巢独居老人每月走访（三必）", "tags", ["empty_nest", "living_alone"], 1, "month", 4, True),
    ("key_person_monthly", "重点人员每月走访", "key", [], 1, "month", 3, False),
]


def seed(apps, schema_editor):
    VisitRule = apps.get_model("fieldwork", "VisitRule")
    PatrolRule = apps.get_model("fieldwork", "PatrolRule")
    CareTag = apps.get_model("registry", "CareTag")
    for code, name, target, tags, visits, period, weight, must in RULES:
        rule, _ = VisitRule.objects.update_or_create(
            code=code, valid_from=FROM,
            defaults=dict(name=name, target=target, visits=visits, period=period, weight=weight, must_visit=must),
        )
        rule.tags.set(CareTag.objects.filter(code__in=tags))
    if not PatrolRule.objects.exists():
        PatrolRule.objects.create(min_minutes=240, valid_from=FROM)


class Migration(migrations.Migration):
    dependencies = [("fieldwork", "0001_initial"), ("registry", "0002_care_tags")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
