import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("billing", "0006_charge_plan")]

    operations = [
        migrations.AlterField(
            model_name="charge",
            name="plan",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="publishers.plan",
            ),
        ),
    ]
