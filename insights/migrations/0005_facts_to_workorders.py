"""The work-order facts now belong to work orders (workorders 0004 took their tables over)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("insights", "0004_rollup_indexes"),
        ("workorders", "0004_figures_from_insights"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.DeleteModel(name="CellDelta"),
                migrations.DeleteModel(name="FactDelta"),
                migrations.DeleteModel(name="FactStage"),
                migrations.DeleteModel(name="OrderFact"),
            ],
            database_operations=[],
        ),
    ]
