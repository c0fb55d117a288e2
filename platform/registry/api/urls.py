from django.urls import path

from registry.api import views

app_name = "registry-api"

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="model-list"),
    path("models/<slug:slug>/", views.ModelDetailView.as_view(), name="model-detail"),
    path("models/<slug:slug>/versions/", views.VersionListView.as_view(), name="version-list"),
    path(
        "models/<slug:slug>/versions/<str:label>/", views.VersionDetailView.as_view(), name="version-detail"
    ),
    path(
        "models/<slug:slug>/versions/<str:label>/schemas/", views.SchemaListView.as_view(), name="schema-list"
    ),
    path(
        "models/<slug:slug>/versions/<str:label>/schemas/<int:number>/",
        views.SchemaDetailView.as_view(),
        name="schema-detail",
    ),
    path("models/<slug:slug>/plans/", views.ModelPlanListView.as_view(), name="model-plan-list"),
    path("models/<slug:slug>/policies/", views.ModelPolicyListView.as_view(), name="model-policy-list"),
    path("models/<slug:slug>/exceptions/", views.ExceptionListView.as_view(), name="exception-list"),
    path(
        "models/<slug:slug>/exceptions/<int:pk>/",
        views.ExceptionDetailView.as_view(),
        name="exception-detail",
    ),
    path(
        "models/<slug:slug>/exceptions/<int:pk>/approve/",
        views.ExceptionApproveView.as_view(),
        name="exception-approve",
    ),
    path("plans/", views.PlanListView.as_view(), name="plan-list"),
    path("plans/<int:pk>/", views.PlanDetailView.as_view(), name="plan-detail"),
    path("policies/", views.PolicyListView.as_view(), name="policy-list"),
    path("policies/<int:pk>/", views.PolicyDetailView.as_view(), name="policy-detail"),
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("events/<int:pk>/", views.EventDetailView.as_view(), name="event-detail"),
]
