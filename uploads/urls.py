from django.urls import path

from . import views

app_name = "uploads"

urlpatterns = [
    path("", views.index, name="index"),
    path("uploads/new/", views.form_upload, name="form_upload"),
    path("uploads/changes/", views.list_changes, name="changes"),
    path("uploads/finish/<str:token>/", views.finish, name="finish"),
    path("uploads/delete/", views.delete_many, name="delete_many"),
    path("uploads/<uuid:upload_id>/download/", views.download, name="download"),
    path("uploads/<uuid:upload_id>/preview/", views.preview, name="preview"),
    path("uploads/<uuid:upload_id>/share/", views.share, name="share"),
    path("uploads/<uuid:upload_id>/delete/", views.delete, name="delete"),
]
