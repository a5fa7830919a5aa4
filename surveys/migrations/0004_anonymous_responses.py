"""Responses lose the school and the day; invitations keep only flags; responses get publication steps.

The existing data are migrated: an invitation is `completed`/`opened` if it had a time; every group
(campaign, municipality, role) of at least PUBLICATION_STEP responses is published as its first step, smaller
groups wait (they count in no figure, as the new rule says). Drafts written before the browser secret existed
belong to no browser: their respondent is offered to start again."""

from django.db import migrations, models
from django.db.models import Count

STEP = 3


def forwards(apps, schema_editor):
    Invitation = apps.get_model("surveys", "Invitation")
    Response = apps.get_model("surveys", "Response")
    Invitation.objects.filter(completed_at__isnull=False).update(completed=True)
    Invitation.objects.filter(opened_at__isnull=False).update(opened=True)
    groups = (
        Response.objects.values("campaign_id", "municipality_id", "role")
        .annotate(n=Count("pk"))
        .filter(n__gte=STEP)
    )
    for group in groups:
        Response.objects.filter(
            campaign_id=group["campaign_id"], municipality_id=group["municipality_id"], role=group["role"]
        ).update(release=1)


def backwards(apps, schema_editor):
    raise RuntimeError("The school and the day of a response are gone for good: this migration is not reversible.")


class Migration(migrations.Migration):
    dependencies = [
        ("assessment", "0007_return_criteria"),
        ("municipalities", "0004_notifications"),
        ("surveys", "0003_questionnaire_version"),
    ]

    operations = [
        migrations.AddField(
            model_name="draft",
            name="secret_hash",
            field=models.CharField(blank=True, editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name="invitation",
            name="completed",
            field=models.BooleanField(default=False, verbose_name="answered"),
        ),
        migrations.AddField(
            model_name="invitation",
            name="opened",
            field=models.BooleanField(default=False, verbose_name="opened"),
        ),
        migrations.AddField(
            model_name="invitation",
            name="reissued_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="link replaced"),
        ),
        migrations.AddField(
            model_name="response",
            name="release",
            field=models.PositiveIntegerField(blank=True, editable=False, null=True, verbose_name="publication step"),
        ),
        migrations.RunPython(forwards, backwards),
        migrations.RemoveIndex(model_name="invitation", name="surveys_inv_campaig_a0d1a1_idx"),
        migrations.RemoveIndex(model_name="response", name="surveys_res_campaig_1ffc3f_idx"),
        migrations.RemoveField(model_name="invitation", name="completed_at"),
        migrations.RemoveField(model_name="invitation", name="opened_at"),
        migrations.RemoveField(model_name="response", name="school"),
        migrations.RemoveField(model_name="response", name="submitted_on"),
        migrations.AddIndex(
            model_name="invitation",
            index=models.Index(fields=["campaign", "completed"], name="surveys_inv_campaig_b17d61_idx"),
        ),
        migrations.AddIndex(
            model_name="response",
            index=models.Index(
                fields=["campaign", "municipality", "role", "release"], name="surveys_res_campaig_968f1c_idx"
            ),
        ),
    ]
