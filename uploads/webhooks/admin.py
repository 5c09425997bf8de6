"""Webhooks in the admin: endpoints (URL, secret, events) and the delivery log."""

from django import forms
from django.contrib import admin

from .models import EVENTS, WebhookDelivery, WebhookEndpoint
from .tasks import deliver


class WebhookEndpointForm(forms.ModelForm):
    url = forms.URLField(max_length=2000, assume_scheme="https", help_text="The receiver's URL (https).")
    events = forms.MultipleChoiceField(
        choices=[(event, event) for event in EVENTS],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every event.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "events", "active", "secret"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ["url", "description", "active", "created_at"]
    list_filter = ["active"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "event",
        "endpoint",
        "state",
        "attempts",
        "last_status_code",
        "last_error",
        "created_at",
    ]
    list_filter = ["state", "event"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.action(description="Send again")
    def send_again(self, request, queryset):
        for delivery in queryset:
            queryset.filter(pk=delivery.pk).update(state=WebhookDelivery.State.PENDING)
            deliver.delay(delivery.pk)
        self.message_user(request, f"{queryset.count()} deliveries queued.")
