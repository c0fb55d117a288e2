"""The data plane over HTTP: thin views around ``batch_ingest`` and the batch listings.

``POST /api/models/<slug>/batches/<kind>/`` takes the batch as the request body (Content-Type
``application/vnd.apache.parquet``, ``text/csv`` or ``application/json``) or as a multipart
``file`` field; ``?version=LABEL`` names a reference batch's version. 201 with the batch, 200
when the same bytes were ingested before, 400 with ``{"error": {rule, column, rows, count,
message}}`` when refused.
"""

from __future__ import annotations

from typing import Any

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from monitors.api.parsers import RawBatchParser, RawBody
from monitors.api.serializers import (
    BatchSerializer,
    InventoryExceptionSerializer,
    RefusedSerializer,
    batch_summary,
)
from monitors.ingest import IngestRefusal, Rule, batch_ingest
from monitors.models import Batch, BatchKind, InventoryException
from registry.api.refusals import caller_actor
from registry.models import MonitoredModel
from registry.permissions import can_write_data, has_role, is_service_account, visible_models
from vocabulary.roles import AUDITOR, MODEL_OWNER, MODEL_RISK


def _may_post_data(user: Any) -> bool:
    return is_service_account(user) or has_role(user, MODEL_OWNER) or has_role(user, MODEL_RISK)


@extend_schema(tags=["data"])
class BatchUploadView(APIView):
    parser_classes = (MultiPartParser, RawBatchParser)

    @extend_schema(
        summary="Post a reference, production or label batch",
        parameters=[
            OpenApiParameter("version", OpenApiTypes.STR, description="reference batches: the version")
        ],
        request={
            "application/vnd.apache.parquet": OpenApiTypes.BINARY,
            "text/csv": OpenApiTypes.STR,
            "application/json": OpenApiTypes.OBJECT,
            "multipart/form-data": OpenApiTypes.OBJECT,
        },
        responses={201: BatchSerializer, 200: BatchSerializer, 400: RefusedSerializer},
    )
    def post(self, request: Request, slug: str, kind: str) -> Response:
        if kind not in BatchKind.values:
            raise NotFound(f"kind must be one of {', '.join(BatchKind.values)}")
        model: MonitoredModel | str | None = visible_models(request.user).filter(slug=slug).first()
        if model is None:
            if MonitoredModel.objects.filter(slug=slug).exists() or not _may_post_data(request.user):
                raise NotFound(f"no model {slug!r}")
            model = slug  # unregistered: the service refuses it and lists an inventory exception
        elif not can_write_data(request.user, model):
            raise PermissionDenied(f"you may not post data for {slug}")

        source, filename, content_type = self._body(request)
        try:
            result = batch_ingest(
                model=model,
                kind=kind,
                source=source,
                sender=caller_actor(request),
                filename=filename,
                content_type=content_type,
                version=request.query_params.get("version"),
            )
        except IngestRefusal as refusal:
            code = (
                status.HTTP_404_NOT_FOUND
                if refusal.rule == Rule.UNREGISTERED_MODEL
                else status.HTTP_400_BAD_REQUEST
            )
            return Response({"error": refusal.as_dict()}, status=code)
        body = batch_summary(result.batch)
        body["created"] = result.created
        return Response(body, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK)

    @staticmethod
    def _body(request: Request) -> tuple[Any, str, str]:
        upload = request.FILES.get("file") if request.content_type.startswith("multipart/") else None
        if isinstance(upload, TemporaryUploadedFile):
            return upload.temporary_file_path(), upload.name or "", upload.content_type or ""
        if isinstance(upload, UploadedFile):
            return upload, upload.name or "", upload.content_type or ""
        data = request.data
        if isinstance(data, RawBody):
            filename = request.headers.get("Content-Disposition", "").partition("filename=")[2].strip('"; ')
            return data.stream, filename, data.media_type
        raise _no_file()


def _no_file() -> Exception:
    from rest_framework.exceptions import ParseError

    return ParseError("no batch in the request: send it as the body or as a multipart `file` field")


@extend_schema(tags=["data"], summary="A model's batches, newest first")
class BatchListView(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = BatchSerializer

    def get_queryset(self) -> QuerySet[Batch]:
        model = get_object_or_404(visible_models(self.request.user), slug=self.kwargs["slug"])
        return Batch.objects.filter(model=model).select_related("model", "version").order_by("-sequence")

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        rows = [batch_summary(b) for b in (page if page is not None else self.get_queryset())]
        return self.get_paginated_response(rows) if page is not None else Response(rows)


@extend_schema(tags=["data"], summary="One batch")
class BatchDetailView(generics.RetrieveAPIView):  # type: ignore[type-arg]
    serializer_class = BatchSerializer

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        batch = get_object_or_404(
            Batch.objects.filter(model__in=visible_models(request.user)).select_related("model", "version"),
            pk=kwargs["pk"],
        )
        return Response(batch_summary(batch))


@extend_schema(tags=["data"], summary="Data that does not match the inventory")
class InventoryExceptionListView(generics.ListAPIView):  # type: ignore[type-arg]
    serializer_class = InventoryExceptionSerializer

    def get_queryset(self) -> QuerySet[InventoryException]:
        user = self.request.user
        rows = InventoryException.objects.all()
        if has_role(user, MODEL_RISK) or has_role(user, AUDITOR):
            return rows
        return rows.filter(model__in=visible_models(user))
