from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("guardian_probe_unrenderable", "0001_tags")]

    operations = [
        # Rendering it needs the constraint's name from the database (introspection).
        migrations.AlterUniqueTogether(name="probetag", unique_together=set()),
        migrations.CreateModel(
            name="ProbeUntenanted",
            fields=[
                ("id", models.UUIDField(primary_key=True, serialize=False)),
                ("created_at", models.DateTimeField()),
                ("updated_at", models.DateTimeField()),
            ],
            options={"db_table": 'finance"."guardian_probe_untenanted'},
        ),
    ]
