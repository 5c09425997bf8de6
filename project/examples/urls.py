from django.urls import path

from . import views

app_name = "examples"

urlpatterns = [
    path("", views.document_list, name="documents"),
    path("new/", views.document_edit, name="document_new"),
    path("<int:pk>/", views.document_edit, name="document_edit"),
]
