"""Registry API views: thin. They resolve what the caller may see (``registry.permissions``)
and hand every write to ``registry.services``, which judge roles and documents.

What a caller may not see is 404; what they see but may not change is 403; a document the
services refuse is 400 with ``{"errors": {"dotted.path": "message"}}``. Every refused write (403
or 404 on POST/PUT) is recorded in the ledger as ``api.refused``; writes run under
``ledger_scope`` naming the caller (a user, or a service account for a token).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Model, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import JSONParser
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from audit.ledger import ledger_scope
from registry import permissions
from registry.api import schema as _schema  # noqa: F401  (registers the token scheme)
from registry.api import serializers as s
from registry.api.pagination import RegistryPagination
from registry.api.refusals import caller_actor, refusal_record
from registry.models import (
    ExternalEvent,
    FeatureSchema,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
)
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    external_event_create,
    model_apply,
    policy_exception_approve,
    policy_exception_propose,
)

NOT_VISIBLE = "not found, or not visible to the caller"

_refused = {
    403: OpenApiResponse(s.DetailSerializer, description="visible, but the caller may not change it"),
    404: OpenApiResponse(s.DetailSerializer, description="not found, or not visible to the caller"),
}
_invalid = {400: OpenApiResponse(s.ValidationErrorsSerializer, description="errors by dotted path")}


class RegistryView(generics.GenericAPIView):
    pagination_class = RegistryPagination
    parser_classes = (JSONParser,)
    # The model the request is about, once resolved: the subject of a refusal's ledger entry.
    subject: Model | None = None

    @classmethod
    def as_view(cls, **initkwargs: Any) -> Any:
        # A refusal must be committed although the request fails: never run inside the request
        # transaction that ATOMIC_REQUESTS would open (and roll back on the error response).
        return transaction.non_atomic_requests(super().as_view(**initkwargs))

    def visible_models(self) -> QuerySet[MonitoredModel]:
        return permissions.visible_models(self.request.user)

    def get_model(self) -> MonitoredModel:
        """The model named by ``slug`` in the URL; 404 if the caller may not see it."""
        return self.visible_model(self.kwargs["slug"], not_found=NOT_VISIBLE)

    def visible_model(self, slug: Any, *, not_found: str) -> MonitoredModel:
        model = (
            self.visible_models().select_related("owner", "team").filter(slug=slug).first()
            if isinstance(slug, str)
            else None
        )
        # The ledger names the model a refused write aimed at, seen or not; the answer does not.
        self.subject = model or (
            MonitoredModel.objects.filter(slug=slug).first() if isinstance(slug, str) else None
        )
        if model is None:
            raise exceptions.NotFound(not_found)
        return model

    def document(self) -> dict[str, Any]:
        if not isinstance(self.request.data, dict):
            raise RegistryValidationError({"document": "the body must be a JSON object"})
        return self.request.data

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RegistryValidationError):
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        if isinstance(exc, exceptions.ParseError):
            return Response({"errors": {"document": str(exc.detail)}}, status=status.HTTP_400_BAD_REQUEST)
        denied = exc if isinstance(exc, RegistryPermissionDenied) else None
        if denied is not None:
            exc = (
                exceptions.PermissionDenied(denied.message)
                if denied.subject_visible
                else exceptions.NotFound(NOT_VISIBLE)
            )
        response = super().handle_exception(exc)
        if denied is not None and denied.subject_visible:
            response.data["errors"] = denied.errors  # names the part that needs the permission
        refused = response.status_code in (status.HTTP_403_FORBIDDEN, status.HTTP_404_NOT_FOUND)
        if refused and self.request.method not in SAFE_METHODS and self.request.user.is_authenticated:
            reason = NOT_VISIBLE if response.status_code == 404 else str(getattr(exc, "detail", exc))
            refusal_record(
                request=self.request, status=response.status_code, reason=reason, subject=self.subject
            )
        return response


# --- models -----------------------------------------------------------------------------------


@extend_schema(tags=["models"])
class ModelListView(RegistryView, generics.ListAPIView):
    """Models the caller may see (model risk and auditors: all; owners: their teams'; service
    accounts: those their token is scoped to)."""

    serializer_class = s.ModelSummarySerializer

    def get_queryset(self) -> QuerySet[MonitoredModel]:
        return self.visible_models().select_related("owner", "team")

    @extend_schema(
        summary="Register a model from a full registry document (docs/registry.md)",
        request=OpenApiTypes.OBJECT,
        responses={
            201: s.ModelApplyResultSerializer,
            409: s.ValidationErrorsSerializer,
            **_invalid,
            **_refused,
        },
    )
    def post(self, request: Request) -> Response:
        document = self.document()
        slug = document.get("slug")
        # Registering is creating: a taken slug is a conflict, not an update. (Only said to those
        # who may register at all; model_apply refuses everyone else first.)
        taken = isinstance(slug, str) and MonitoredModel.objects.filter(slug=slug).exists()
        if taken and permissions.can_register_models(request.user):
            return Response(
                {
                    "errors": {
                        "slug": f"a model {slug!r} is already registered; "
                        f"update it with PUT /api/models/{slug}/"
                    }
                },
                status=status.HTTP_409_CONFLICT,
            )
        with ledger_scope(actor=caller_actor(request)):
            result = model_apply(document=document, user=request.user, via="api")
        # Not created only if someone registered the slug between the check and the apply.
        return Response(
            s.apply_result(result), status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )


@extend_schema(tags=["models"])
class ModelDetailView(RegistryView, generics.RetrieveAPIView):
    serializer_class = s.ModelDetailSerializer

    def get_object(self) -> MonitoredModel:
        return self.get_model()

    @extend_schema(
        summary="Update a model from a full registry document (docs/registry.md)",
        request=OpenApiTypes.OBJECT,
        responses={200: s.ModelApplyResultSerializer, **_invalid, **_refused},
    )
    def put(self, request: Request, slug: str) -> Response:
        self.get_model()
        document = self.document()
        if document.get("slug", slug) != slug:
            raise RegistryValidationError({"slug": f"must be {slug!r}, the model this URL names"})
        with ledger_scope(actor=caller_actor(request)):
            result = model_apply(document=document, user=request.user, via="api")
        return Response(s.apply_result(result))


# --- versions and feature schemas ----------------------------------------------------------------


@extend_schema(tags=["versions"])
class VersionListView(RegistryView, generics.ListAPIView):
    serializer_class = s.VersionSerializer

    def get_queryset(self) -> QuerySet[ModelVersion]:
        return (
            ModelVersion.objects.filter(model=self.get_model())
            .select_related("model", "retired_by", "validated_by")
            .prefetch_related("baseline_metrics")
            .order_by("created_at", "pk")
        )


@extend_schema(tags=["versions"])
class VersionDetailView(RegistryView, generics.RetrieveAPIView):
    serializer_class = s.VersionSerializer

    def get_object(self) -> ModelVersion:
        return get_version(self)


def get_version(view: RegistryView) -> ModelVersion:
    versions = ModelVersion.objects.select_related("model").prefetch_related("baseline_metrics")
    return get_object_or_404(versions, model=view.get_model(), label=view.kwargs["label"])


def _schemas() -> QuerySet[FeatureSchema]:
    return FeatureSchema.objects.select_related("version__model", "created_by").prefetch_related("features")


@extend_schema(tags=["versions"])
class SchemaListView(RegistryView, generics.ListAPIView):
    """The feature schemas of a model version, newest first (each edit is a new number)."""

    serializer_class = s.FeatureSchemaSerializer

    def get_queryset(self) -> QuerySet[FeatureSchema]:
        return _schemas().filter(version=get_version(self)).order_by("-number")


@extend_schema(tags=["versions"])
class SchemaDetailView(RegistryView, generics.RetrieveAPIView):
    serializer_class = s.FeatureSchemaSerializer

    def get_object(self) -> FeatureSchema:
        return get_object_or_404(_schemas(), version=get_version(self), number=self.kwargs["number"])


# --- monitoring plans and retraining policies ------------------------------------------------------

_versioned_filters = [
    OpenApiParameter("model", str, description="a model's slug (404 if the caller may not see it)"),
    OpenApiParameter("tier", str, enum=["high", "medium", "low"]),
    OpenApiParameter("default", bool, description="true: only tier defaults; false: only models' own"),
]


class _VersionedView(RegistryView):
    """Plans and policies: tier defaults (visible to every caller) and those of visible models,
    at ``/api/plans/`` (filters ``?model=slug&tier=&default=``) or nested under a model."""

    versioned: type[MonitoringPlan] | type[RetrainingPolicy]

    def get_queryset(self) -> QuerySet[Any]:
        rows = self.versioned.objects.select_related("model", "created_by")
        if "slug" in self.kwargs:
            return rows.filter(model=self.get_model())
        rows = rows.filter(Q(model__isnull=True) | Q(model__in=self.visible_models()))
        params = self.request.query_params
        if params.get("model"):
            model = get_object_or_404(self.visible_models(), slug=params["model"])
            rows = rows.filter(model=model)
        if params.get("tier"):
            rows = rows.filter(tier=params["tier"])
        if params.get("default") in ("true", "false"):
            rows = rows.filter(model__isnull=params["default"] == "true")
        return rows


@extend_schema(tags=["plans"], parameters=_versioned_filters)
class PlanListView(_VersionedView, generics.ListAPIView):
    versioned = MonitoringPlan
    serializer_class = s.PlanSerializer


@extend_schema(tags=["plans"])
class ModelPlanListView(_VersionedView, generics.ListAPIView):
    versioned = MonitoringPlan
    serializer_class = s.PlanSerializer


@extend_schema(tags=["plans"])
class PlanDetailView(_VersionedView, generics.RetrieveAPIView):
    versioned = MonitoringPlan
    serializer_class = s.PlanSerializer


@extend_schema(tags=["policies"], parameters=_versioned_filters)
class PolicyListView(_VersionedView, generics.ListAPIView):
    versioned = RetrainingPolicy
    serializer_class = s.PolicySerializer


@extend_schema(tags=["policies"])
class ModelPolicyListView(_VersionedView, generics.ListAPIView):
    versioned = RetrainingPolicy
    serializer_class = s.PolicySerializer


@extend_schema(tags=["policies"])
class PolicyDetailView(_VersionedView, generics.RetrieveAPIView):
    versioned = RetrainingPolicy
    serializer_class = s.PolicySerializer


# --- policy exceptions ----------------------------------------------------------------------------


@extend_schema(tags=["policy exceptions"])
class ExceptionListView(RegistryView, generics.ListAPIView):
    serializer_class = s.PolicyExceptionSerializer

    def get_queryset(self) -> QuerySet[PolicyException]:
        return (
            PolicyException.objects.filter(model=self.get_model())
            .select_related("model", "proposed_by", "approved_by")
            .order_by("-proposed_at", "-pk")
        )

    @extend_schema(
        summary="Propose an exception allowing named plan or policy fields to be loosened",
        request=s.ExceptionProposalSerializer,
        responses={201: s.PolicyExceptionSerializer, **_invalid, **_refused},
    )
    def post(self, request: Request, slug: str) -> Response:
        model = self.get_model()
        proposal = s.ExceptionProposalSerializer(data=self.document())
        if not proposal.is_valid():
            raise RegistryValidationError(s.flat_errors(proposal.errors))
        with ledger_scope(actor=caller_actor(request)):
            exception = policy_exception_propose(model=model, user=request.user, **proposal.validated_data)
        return Response(s.PolicyExceptionSerializer(exception).data, status=status.HTTP_201_CREATED)


def get_exception(view: RegistryView) -> PolicyException:
    rows = PolicyException.objects.select_related("model", "proposed_by", "approved_by")
    return get_object_or_404(rows, model=view.get_model(), pk=view.kwargs["pk"])


@extend_schema(tags=["policy exceptions"])
class ExceptionDetailView(RegistryView, generics.RetrieveAPIView):
    serializer_class = s.PolicyExceptionSerializer

    def get_object(self) -> PolicyException:
        return get_exception(self)


@extend_schema(tags=["policy exceptions"])
class ExceptionApproveView(RegistryView):
    serializer_class = s.PolicyExceptionSerializer

    @extend_schema(
        summary="Approve an exception (model risk; never its proposer)",
        request=None,
        responses={200: s.PolicyExceptionSerializer, **_invalid, **_refused},
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        exception = get_exception(self)
        with ledger_scope(actor=caller_actor(request)):
            exception = policy_exception_approve(exception=exception, user=request.user)
        return Response(s.PolicyExceptionSerializer(exception).data)


# --- external events -------------------------------------------------------------------------------


@extend_schema(tags=["events"])
class EventListView(RegistryView, generics.ListAPIView):
    """External events touching a model the caller may see, and fleet-wide events (no model)."""

    serializer_class = s.ExternalEventSerializer

    def get_queryset(self) -> QuerySet[ExternalEvent]:
        return visible_events(self)

    @extend_schema(
        summary="Record an external event (a campaign, a launch, a pipeline change) for models",
        request=s.ExternalEventInputSerializer,
        responses={201: s.ExternalEventSerializer, **_invalid, **_refused},
    )
    def post(self, request: Request) -> Response:
        data = self.document()
        slugs = data.get("models")
        if isinstance(slugs, list):
            # A model the caller may not see is 404, as at its own URL; the service judges the rest.
            for i, slug in enumerate(slugs):
                self.visible_model(slug, not_found=f"models[{i}]: {NOT_VISIBLE}")
        with ledger_scope(actor=caller_actor(request)):
            event = external_event_create(data=data, user=request.user, via="api")
        event = get_object_or_404(visible_events(self), pk=event.pk)
        return Response(s.ExternalEventSerializer(event).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["events"])
class EventDetailView(RegistryView, generics.RetrieveAPIView):
    serializer_class = s.ExternalEventSerializer

    def get_queryset(self) -> QuerySet[ExternalEvent]:
        return visible_events(self)


def visible_events(view: RegistryView) -> QuerySet[ExternalEvent]:
    visible = view.visible_models()
    links = ExternalEvent.affected_models.through.objects
    touches_visible = Q(pk__in=links.filter(monitoredmodel__in=visible).values("externalevent_id"))
    fleet_wide = ~Q(pk__in=links.values("externalevent_id"))
    return (
        ExternalEvent.objects.filter(touches_visible | fleet_wide)
        .select_related("created_by")
        .annotate(affected_total=Count("affected_models"))
        .order_by("-starts_at", "-pk")  # a GROUP BY query ignores Meta.ordering
        .prefetch_related(
            Prefetch("affected_models", queryset=visible.order_by("slug"), to_attr="visible_models")
        )
    )
