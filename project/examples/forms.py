from django import forms

from uploads.formfields import UploadFormMixin

from .models import Document


class DocumentForm(UploadFormMixin, forms.ModelForm):
    class Meta:
        model = Document
        fields = ["title", "file"]
