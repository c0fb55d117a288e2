from django.db import migrations


def install(apps, schema_editor):
    from monitors.checks.beat_schedules import schedules_install

    schedules_install(
        PeriodicTask=apps.get_model("django_celery_beat", "PeriodicTask"),
        CrontabSchedule=apps.get_model("django_celery_beat", "CrontabSchedule"),
        IntervalSchedule=apps.get_model("django_celery_beat", "IntervalSchedule"),
        PeriodicTasks=apps.get_model("django_celery_beat", "PeriodicTasks"),
        using=schema_editor.connection.alias,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("checks", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(install, migrations.RunPython.noop)]
