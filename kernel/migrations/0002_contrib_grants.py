from django.db import migrations

# Django's own tables live in `public`. At runtime the kernel role only reads content types (the
# admin resolves models through them). django_admin_log is deliberately not granted: the admin
# records changes through the database audit trail instead (aibos.admin.GovernedModelAdmin).
GRANT = "GRANT SELECT ON public.django_content_type TO aibos_kernel_role;"
REVOKE = "REVOKE SELECT ON public.django_content_type FROM aibos_kernel_role;"


class Migration(migrations.Migration):
    dependencies = [
        ("kernel", "0001_initial"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunSQL(GRANT, REVOKE)]
