from django.urls import path

from monitors.api import views

app_name = "monitors-api"

urlpatterns = [
    path("models/<slug:slug>/batches/", views.BatchListView.as_view(), name="batch-list"),
    path("models/<slug:slug>/batches/<str:kind>/", views.BatchUploadView.as_view(), name="batch-upload"),
    path("batches/<int:pk>/", views.BatchDetailView.as_view(), name="batch-detail"),
    path(
        "inventory-exceptions/", views.InventoryExceptionListView.as_view(), name="inventory-exception-list"
    ),
]
