from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from fleetwatch.views import health

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/", include("registry.api.urls")),
    path("api/", include("monitors.api.urls")),
    path("health/", health, name="health"),
]
