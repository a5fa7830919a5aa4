from django import forms
from django.conf import settings
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from assessment.collection import CONTENT_TYPES, CollectionError, link_refusal, validate_upload
from assessment.dynamics import previous_errors
from assessment.models import STAGE_ORDER, Campaign, CampaignDocument, Material, Methodology
from municipalities.models import Municipality

WORKBOOK_ACCEPT = ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment_accept():
    """The `accept` of a file input for documents and evidence: the extensions the upload rules allow
    (settings.UPLOAD_EXTENSIONS, checked again by validate_upload), in the usual order."""
    allowed = settings.UPLOAD_EXTENSIONS
    return ",".join([ext for ext in CONTENT_TYPES if ext in allowed] + sorted(allowed - CONTENT_TYPES.keys()))


def _accept(form, value):
    form.fields["file"].widget.attrs["accept"] = value  # in __init__: the admin's file widget gets it too


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class CampaignForm(forms.ModelForm):
    """A campaign with its participants, the dates of its eight stages and, optionally, each stage's title as the
    campaign's documents give it (the 2020 approbation's stage 1 was «Формирование организационных и информационных
    ресурсов для проведения пилотного обследования»)."""

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
            "previous",
            "experts_per_submission",
            "blind_review",
            "reconcile_points",
            "reconcile_share",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["methodology"].queryset = Methodology.objects.order_by("-version")
        self.fields["previous"].queryset = Campaign.objects.exclude(pk=self.instance.pk).order_by("-year", "title")
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
            self.fields[f"{stage}_title"] = forms.CharField(
                label=_("%(stage)s: title in the campaign's documents") % {"stage": stage.label},
                required=False,
                max_length=300,
                initial=period.title if period else "",
            )

    def stage_fields(self):
        return [(stage, self[f"{stage}_start"], self[f"{stage}_end"], self[f"{stage}_title"]) for stage in STAGE_ORDER]

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
        if cleaned.get("previous") is not None:
            for error in previous_errors(self.instance, cleaned["previous"], year=cleaned.get("year")):
                self.add_error("previous", error)
        return cleaned

    def stages(self):
        return {
            stage: (self.cleaned_data[f"{stage}_start"], self.cleaned_data[f"{stage}_end"]) for stage in STAGE_ORDER
        }

    def titles(self):
        return {stage: self.cleaned_data.get(f"{stage}_title", "").strip() for stage in STAGE_ORDER}

    def periods(self):
        """{Stage: (start, end)} of the stages whose dates are valid so far: what the summer check reads, also when
        another field is wrong."""
        cleaned = getattr(self, "cleaned_data", {})
        periods = {stage: (cleaned.get(f"{stage}_start"), cleaned.get(f"{stage}_end")) for stage in STAGE_ORDER}
        return {stage: period for stage, period in periods.items() if all(period)}


class MaterialForm(forms.ModelForm):
    class Meta:
        model = Material
        fields = ["kind", "title", "body", "url", "file", "held_on", "order"]
        widgets = {"body": forms.Textarea(attrs={"rows": 3}), "held_on": DateInput()}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _accept(self, attachment_accept())

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "size"):
            try:
                upload.name, _extension = validate_upload(upload)  # stored under a name a file system holds
            except CollectionError as exc:
                raise forms.ValidationError(exc.message) from None
        return upload

    def clean_url(self):
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


class CampaignDocumentForm(forms.ModelForm):
    """A letter or order the campaign runs under. The view gives a coordinator only their regions to choose from
    (a regional order is the region's); the operator may leave the region empty for a federal document. The admin's
    inline uses the same form, so the same input is refused in both places."""

    class Meta:
        model = CampaignDocument
        fields = ["title", "issuer", "number", "date", "region", "url", "file", "order"]
        widgets = {"date": DateInput()}
        labels = {"number": _("Document number")}
        error_messages = {
            "number": {"max_length": _("The number is at most %(limit_value)d characters long.")},
        }

    def __init__(self, *args, campaign=None, regions=None, **kwargs):
        super().__init__(*args, **kwargs)
        _accept(self, attachment_accept())
        self.campaign = campaign
        self.fields["order"].required = False
        if regions is not None:
            self.fields["region"].queryset = regions
            self.fields["region"].required = True
            self.fields["region"].empty_label = None
            self.fields["region"].help_text = ""

    def clean_order(self):
        return self.cleaned_data.get("order") or 0

    def _campaign(self):
        if self.campaign is None and self.instance.campaign_id:
            self.campaign = Campaign.objects.filter(pk=self.instance.campaign_id).first()
        return self.campaign

    def clean_date(self):
        day = self.cleaned_data.get("date")
        if day is None:
            return day
        if day > timezone.localdate():
            raise forms.ValidationError(_("The date is in the future: record a document once it has been signed."))
        campaign = self._campaign()
        ends = max((s.ends_on for s in campaign.stages.all()), default=None) if campaign and campaign.pk else None
        if ends and day > ends:
            raise forms.ValidationError(
                _("The date is after the campaign's end (%(end)s): a campaign runs under documents issued before.")
                % {"end": formats.date_format(ends, "d.m.Y")}
            )
        return day

    def clean_url(self):
        url = self.cleaned_data.get("url")
        if url and link_refusal(url):
            raise forms.ValidationError(_("Give a link to a public web page: an address starting with https://."))
        return url

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and hasattr(upload, "size"):
            try:
                upload.name, _extension = validate_upload(upload)
            except CollectionError as exc:
                raise forms.ValidationError(exc.message) from None
        return upload


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class ExtensionForm(forms.Form):
    until = forms.DateField(label=_("New deadline"), widget=DateInput())
    reason = forms.CharField(label=_("Reason"), max_length=1000)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("Workbook (.xlsx)"),
        widget=forms.ClearableFileInput(attrs={"accept": WORKBOOK_ACCEPT}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Here, not on the field: a lazy string formatted at import would stay in the language of the import.
        self.fields["file"].help_text = _("The workbook exported from this page, filled in. At most %(mb)s MB.") % {
            "mb": settings.IMPORT_MAX_BYTES // 2**20
        }
