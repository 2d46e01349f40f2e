import datetime as dt

from django.db import migrations


def seed(apps, schema_editor):
    RankingRule = apps.get_model("insights", "RankingRule")
    # A unit with fewer than 10 orders in the period is listed but not ranked.
    RankingRule.objects.get_or_create(indicator="*", valid_from=dt.date(2000, 1, 1), defaults={"min_orders": 10})


class Migration(migrations.Migration):
    dependencies = [("insights", "0002_facts")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
