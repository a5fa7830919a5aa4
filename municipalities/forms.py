from django import forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from municipalities.models import Notification
from municipalities.people import roles_for


class LoginForm(AuthenticationForm):
    """The stock form, with wording that never tells whether the account exists."""

    error_messages = {
        "invalid_login": _("Wrong login or password. Both are case-sensitive."),
        "inactive": _("Wrong login or password. Both are case-sensitive."),
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].label = _("Login")
        self.fields["username"].widget.attrs.update({"autocomplete": "username", "autofocus": True})
        self.fields["password"].widget = forms.PasswordInput(attrs={"autocomplete": "current-password"})
        self.fields["password"].label = _("Password")


class InviteForm(forms.Form):
    last_name = forms.CharField(label=_("Last name"), max_length=150)
    first_name = forms.CharField(label=_("First name and patronymic"), max_length=150)
    email = forms.EmailField(label=_("E-mail"))
    position = forms.CharField(label=_("Position"), max_length=300, required=False)
    role = forms.ChoiceField(label=_("Role"))
    region = forms.ModelChoiceField(label=_("Region"), queryset=None, required=False)
    municipality = forms.ModelChoiceField(label=_("Municipality"), queryset=None, required=False)

    def __init__(self, *args, access, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r.value, r.label) for r in roles_for(access)]
        self.fields["region"].queryset = access.regions()
        self.fields["municipality"].queryset = (
            access.municipalities().filter(region__in=access.regions()).select_related("region").in_display_order()
        )
        if not access.is_operator:
            del self.fields["region"]


class SetPasswordForm(forms.Form):
    password1 = forms.CharField(
        label=_("New password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    password2 = forms.CharField(
        label=_("Repeat the password"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self):
        cleaned = super().clean()
        one, two = cleaned.get("password1"), cleaned.get("password2")
        if one and two and one != two:
            self.add_error("password2", _("The passwords do not match."))
        elif one:
            try:
                password_validation.validate_password(one, self.user)
            except forms.ValidationError as exc:
                self.add_error("password1", exc)
        return cleaned


class NotificationSettingsForm(forms.Form):
    email_kinds = forms.MultipleChoiceField(
        label=_("Send me an e-mail about"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Whatever you choose, every event is shown under the bell in the platform."),
    )
    digest = forms.BooleanField(
        label=_("One e-mail a day (a digest) instead of a message per event"),
        required=False,
        help_text=_("The digest comes in the morning and lists everything since the previous one."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["email_kinds"].choices = [
            (kind, label) for kind, label in Notification.Kind.choices if kind not in Notification.ALWAYS_EMAILED
        ]
