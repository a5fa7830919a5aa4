from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from assessment.models import STAGE_ORDER, Campaign, Material, Methodology
from municipalities.models import Municipality


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignForm(forms.ModelForm):
    """A campaign with its participants and the dates of its eight stages."""

    municipalities = forms.ModelMultipleChoiceField(
        queryset=Municipality.objects.select_related("region").in_display_order(),
        widget=forms.CheckboxSelectMultiple,
        label=_("Participating municipalities"),
    )

    class Meta:
        model = Campaign
        fields = [
            "title",
            "slug",
            "year",
            "methodology",
            "experts_per_submission",
            "blind_review",
            "reconcile_points",
            "reconcile_share",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["methodology"].queryset = Methodology.objects.order_by("-version")
        if self.instance.pk:
            self.fields["municipalities"].initial = list(self.instance.municipalities.values_list("pk", flat=True))
            self.fields["slug"].disabled = True
            if self.instance.submissions.exclude(status="draft").exists():
                self.fields["methodology"].disabled = True
        periods = self.instance.stage_dates if self.instance.pk else {}
        for stage in STAGE_ORDER:
            period = periods.get(stage)
            self.fields[f"{stage}_start"] = forms.DateField(
                label=_("%(stage)s: from") % {"stage": stage.label},
                widget=DateInput(),
                initial=period.starts_on if period else None,
            )
            self.fields[f"{stage}_end"] = forms.DateField(
                label=_("till"), widget=DateInput(), initial=period.ends_on if period else None
            )

    def stage_fields(self):
        return [(stage, self[f"{stage}_start"], self[f"{stage}_end"]) for stage in STAGE_ORDER]

    def clean_methodology(self):
        methodology = self.cleaned_data["methodology"]
        errors = methodology.validation_errors()
        if errors:
            raise forms.ValidationError(errors)
        return methodology

    def clean(self):
        cleaned = super().clean()
        for stage in STAGE_ORDER:
            start, end = cleaned.get(f"{stage}_start"), cleaned.get(f"{stage}_end")
            if start and end and end < start:
                self.add_error(f"{stage}_end", _("The stage ends before it starts."))
        return cleaned

    def stages(self):
        return {
            stage: (self.cleaned_data[f"{stage}_start"], self.cleaned_data[f"{stage}_end"]) for stage in STAGE_ORDER
        }


class MaterialForm(forms.ModelForm):
    class Meta:
        model = Material
        fields = ["kind", "title", "body", "url", "file", "order"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3})}

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "size"):
            from assessment.collection import CollectionError, validate_upload

            try:
                upload.name, _extension = validate_upload(upload)  # stored under a name a file system holds
            except CollectionError as exc:
                raise forms.ValidationError(exc.message) from None
        return upload

    def clean_url(self):
        from assessment.collection import link_refusal

        url = self.cleaned_data.get("url")
        if url and link_refusal(url):
            raise forms.ValidationError(_("Give a link to a public web page: an address starting with https://."))
        return url

    def clean(self):
        cleaned = super().clean()
        kind = cleaned.get("kind")
        if kind == Material.Kind.FAQ and not cleaned.get("body"):
            self.add_error("body", _("Write the answer to the question."))
        if kind in (Material.Kind.WEBINAR, Material.Kind.LINK) and not cleaned.get("url"):
            self.add_error("url", _("Give the link."))
        if kind == Material.Kind.DOCUMENT and not (cleaned.get("file") or cleaned.get("url")):
            self.add_error("file", _("Attach the document or give a link to it."))
        return cleaned


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ExtensionForm(forms.Form):
    until = forms.DateField(label=_("New deadline"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (.xlsx)"),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the field: a lazy string formatted at import would stay in the language of the import.
        self.fields["file"].help_text = _("The workbook exported from this page, filled in. At most %(mb)s MB.") % {
            "mb": settings.IMPORT_MAX_BYTES // 2**20
        }
