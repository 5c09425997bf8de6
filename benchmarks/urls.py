from django.urls import path

from project.urls import urlpatterns as project_urlpatterns

from .floor import api

urlpatterns = [path("bench/", api.urls), *project_urlpatterns]
