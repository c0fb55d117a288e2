"""The registry in Django's admin.

Who sees and changes what comes from ``registry.permissions`` (the same rules as the API and the
commands), not from Django's per-model permissions: model owners see their teams' models, model
risk and auditors see everything, auditors change nothing. Staff status is still needed to log
in. Nothing is deleted here (retire a version instead); plan, policy and schema versions are
read-only once saved, and new plan and policy versions are judged against the tier default like
any other. Every write goes to the ledger.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from registry.admin_access import ReadOnlyInline, ScopedAdmin, is_admin_reader
from registry.admin_documents import add_refusal, model_document, version_document
from registry.documents.fields import Reader, iso
from registry.documents.model_document import (
    FEATURE_OPTIONAL,
    FEATURE_REQUIRED,
    MODEL_OPTIONAL,
    MODEL_REQUIRED,
    PLAN_FIELDS,
    POLICY_FIELDS,
    SectionDocument,
    read_plan_values,
    read_policy_values,
)
from registry.models import (
    BaselineMetric,
    ExternalEvent,
    FeatureSchema,
    FeatureSpec,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
    ServiceAccount,
)
from registry.permissions import (
    can_change_model,
    can_register_models,
    can_write_data,
    has_role,
    sees_everything,
    visible_models,
)
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    model_apply,
    policy_exception_approve,
    policy_exception_propose,
)
from registry.services.audit import ChangeRecorder
from registry.services.events import external_event_change, external_event_check, external_event_create
from registry.services.policy_exceptions import policy_exception_problems
from registry.services.service_accounts import service_account_change
from registry.services.versioning import (
    SectionOutcome,
    content_of,
    evaluate_section,
    section_version_create,
    tier_default,
)
from vocabulary.roles import ALL_ROLES, MODEL_RISK


def _model_of(obj: Any) -> MonitoredModel | None:
    if obj is None or isinstance(obj, MonitoredModel):
        return obj
    if isinstance(obj, ModelVersion | PolicyException | MonitoringPlan | RetrainingPolicy):
        return obj.model
    if isinstance(obj, FeatureSchema):
        return obj.version.model
    return None


class RegistryAdmin(ScopedAdmin):
    """Visibility from ``registry.admin_access``; who may change what from
    ``registry.permissions``; no deletes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return is_admin_reader(request.user) and can_register_models(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_add_permission(request):
            return False
        model = _model_of(obj)
        return model is None or can_change_model(request.user, model)


class RequestFormAdmin(RegistryAdmin):
    """Hands the request to the form, whose ``clean`` asks the services what they would refuse."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, **inner)
                self.request = request

        return RequestForm


class DocumentAdmin(RequestFormAdmin):
    """Models and versions: the form's ``clean`` builds the model's document and dry-runs
    ``model_apply``; ``save_model`` applies it. Inlines are part of the document, so Django does
    not save them itself."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None

    def construct_change_message(
        self, request: HttpRequest, form: Any, formsets: Any, add: bool = False
    ) -> Any:
        # the inlines were written by model_apply (and are in the ledger), not by their formsets
        return super().construct_change_message(request, form, None, add)

    def _apply(self, request: HttpRequest, form: Any) -> MonitoredModel:
        return model_apply(document=form.document, user=request.user, via="admin").model


def _dry_run(form: Any, document: dict[str, Any]) -> None:
    form.document = document
    try:
        model_apply(document=document, user=form.request.user, via="admin", dry_run=True)
    except (RegistryValidationError, RegistryPermissionDenied) as exc:
        add_refusal(form, exc)


# --- models ------------------------------------------------------------------------------------


class VersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ("label", "status", "role", "deployed_at", "validated_at", "validated_by", "retired_at")
    readonly_fields = fields


DOCUMENT_ONLY_KEYS = ("format", "uid", "risk_tier_set_by", "risk_tier_set_at", "versions", "plan", "policy")


class MonitoredModelForm(forms.ModelForm):
    request: HttpRequest
    document: dict[str, Any]

    class Meta:
        model = MonitoredModel
        # the document's model fields, less what the registry sets itself
        fields = tuple(k for k in (*MODEL_REQUIRED, *MODEL_OPTIONAL) if k not in DOCUMENT_ONLY_KEYS)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not self.errors:
            stored = MonitoredModel.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
            _dry_run(self, model_document(stored, {k: v for k, v in data.items() if k in self.fields}))
        return data


@admin.register(MonitoredModel)
class MonitoredModelAdmin(DocumentAdmin):
    model_path = "pk"
    form = MonitoredModelForm
    list_display = ("slug", "name", "task_type", "risk_tier", "team", "owner", "business_unit", "updated_at")
    list_filter = (
        "risk_tier",
        "task_type",
        "decision_type",
        "team",
        "personal_data",
        "affects_natural_persons",
        "legal_hold",
    )
    search_fields = ("slug", "name", "business_unit", "description", "owner__username", "team__name")
    list_select_related = ("team", "owner")
    readonly_fields = ("uid", "risk_tier_set_by", "risk_tier_set_at", "created_at", "updated_at")
    inlines = (VersionInline,)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ("slug",)  # a document names its model by slug
            if not has_role(request.user, MODEL_RISK):
                fields += ("risk_tier",)  # lowering a tier is model risk's decision
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not has_role(request.user, MODEL_RISK):
            kwargs["queryset"] = request.user.groups.exclude(name__in=ALL_ROLES)
        elif db_field.name == "team":
            kwargs["queryset"] = Group.objects.exclude(name__in=ALL_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: MonitoredModel, form: Any, change: bool) -> None:
        model = self._apply(request, form)
        obj.pk, obj.uid, obj._state.adding, obj._state.db = model.pk, model.uid, False, model._state.db


# --- versions ----------------------------------------------------------------------------------


class BaselineMetricInline(admin.TabularInline):
    model = BaselineMetric
    extra = 0

    def _frozen(self, obj: Any) -> bool:
        return obj is not None and obj.validated_at is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and (obj is None or can_change_model(request.user, obj.model))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


BaselineFormSet = forms.inlineformset_factory(
    ModelVersion, BaselineMetric, fields=("metric", "value", "holdout"), extra=0, can_delete=True
)
BASELINE_PREFIX = BaselineFormSet.get_default_prefix()


class SchemaInline(ReadOnlyInline):
    model = FeatureSchema
    fields = ("number", "content_sha256", "created_by", "created_at")
    readonly_fields = fields


class ModelVersionForm(forms.ModelForm):
    request: HttpRequest
    document: dict[str, Any]

    class Meta:
        model = ModelVersion
        fields = (
            "model",
            "label",
            "artifact_sha256",
            "status",
            "role",
            "deployed_at",
            "validated_at",
            "validated_by",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        model = data.get("model") or (self.instance.model if self.instance.pk else None)
        if self.errors or model is None:
            return data
        stored = ModelVersion.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        baselines = self._baselines(stored)
        if baselines is None:
            self.add_error(None, "correct the baseline metrics below")
            return data
        fields = {k: v for k, v in data.items() if k in self.fields}
        if stored is not None:
            fields["label"] = stored.label  # read-only once registered
        _dry_run(self, version_document(model, stored, fields, baselines))
        return data

    def _baselines(self, stored: ModelVersion | None) -> list[dict[str, Any]] | None:
        """The baseline metrics as posted in the inline (None when the inline has errors of its
        own, which the admin shows); the stored ones when the inline is read-only: a validated
        version's baselines are frozen, and the page posts no values for them."""
        frozen = stored is not None and stored.validated_at is not None
        if frozen or f"{BASELINE_PREFIX}-TOTAL_FORMS" not in self.data:
            rows = stored.baseline_metrics.all() if stored is not None else []
            return [{"metric": b.metric, "value": b.value, "holdout": b.holdout} for b in rows]
        formset = BaselineFormSet(self.data, instance=stored or ModelVersion(), prefix=BASELINE_PREFIX)
        if not formset.is_valid():
            return None
        return [
            {
                "metric": f.cleaned_data["metric"],
                "value": f.cleaned_data["value"],
                "holdout": f.cleaned_data["holdout"],
            }
            for f in formset.forms
            if f.cleaned_data and not f.cleaned_data.get("DELETE")
        ]


@admin.register(ModelVersion)
class ModelVersionAdmin(DocumentAdmin):
    form = ModelVersionForm
    list_display = ("__str__", "status", "role", "deployed_at", "validated_by", "created_at")
    list_filter = ("status", "role", "model__risk_tier", "model__task_type", "model__team")
    search_fields = ("label", "model__slug", "model__name", "artifact_sha256")
    list_select_related = ("model", "validated_by")
    fields = (
        "model",
        "label",
        "artifact_sha256",
        "status",
        "role",
        "deployed_at",
        "validated_at",
        "validated_by",
        "retired_at",
        "retired_by",
        "created_at",
    )
    readonly_fields = ("retired_at", "retired_by", "created_at")
    inlines = (BaselineMetricInline, SchemaInline)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None:
            fields += ("model", "label", "artifact_sha256")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "model":
            kwargs["queryset"] = MonitoredModel.objects.filter(
                pk__in=[m.pk for m in visible_models(request.user) if can_change_model(request.user, m)]
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: ModelVersion, form: Any, change: bool) -> None:
        model = self._apply(request, form)
        version = model.versions.get(label=form.document["versions"][0]["label"])
        obj.pk, obj._state.adding, obj._state.db = version.pk, False, version._state.db


# --- schemas (read-only: a new schema version comes from a document or the API) --------------


class FeatureInline(ReadOnlyInline):
    model = FeatureSpec
    show_change_link = False
    fields = ("position", *FEATURE_REQUIRED, *FEATURE_OPTIONAL)
    readonly_fields = fields


@admin.register(FeatureSchema)
class FeatureSchemaAdmin(RegistryAdmin):
    model_path = "version__model"
    list_display = ("__str__", "number", "content_sha256", "created_by", "created_at")
    list_filter = ("version__model__risk_tier", "version__model__team")
    search_fields = ("version__label", "version__model__slug", "content_sha256", "features__name")
    list_select_related = ("version__model", "created_by")
    inlines = (FeatureInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- plans and policies ----------------------------------------------------------------------


class SectionForm(forms.ModelForm):
    """A new plan or policy version, judged like a document's section: the tier default fills
    nothing here (every field is on the form), a loosening needs an exception."""

    kind: str = ""

    request: HttpRequest
    outcome: SectionOutcome | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "tier" in self.fields:
            self.fields["tier"].required = False
            self.fields["tier"].help_text = "for a tier default only; a model's own follows its tier"
        if "model" in self.fields:
            self.fields["model"].required = False

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        model, tier = data.get("model"), data.get("tier")
        user = self.request.user
        if model is not None:
            tier = data["tier"] = model.risk_tier
            if not can_change_model(user, model):
                raise forms.ValidationError(f"you may not change model '{model.slug}'")
        elif not has_role(user, MODEL_RISK):
            raise forms.ValidationError("only model risk sets tier defaults; choose a model")
        if not tier:
            self.add_error("tier", "choose the tier this default is for")
            return data
        fields = PLAN_FIELDS if self.kind == "plan" else POLICY_FIELDS
        raw = {name: data.get(name) for name in fields if name in data}
        reader = Reader()
        task_type = model.task_type if model is not None else "binary"
        values = (
            read_plan_values(reader, raw, "")
            if self.kind == "plan"
            else read_policy_values(reader, raw, "", task_type)
        )
        for path, message in reader.errors.items():
            self.add_error(path.split(".")[0] if path.split(".")[0] in fields else None, f"{path}: {message}")
        if reader.errors:
            return data
        exception = data.get("exception")
        section = SectionDocument(
            values=dict(values),
            reason=data.get("reason") or "",
            exception=exception.pk if exception else None,
        )
        if model is None:
            default = tier_default(self.kind, tier)  # type: ignore[arg-type]
            content = {**content_of(self.kind, default), **values}  # type: ignore[arg-type]
            self.outcome = SectionOutcome(
                kind=self.kind,
                tier=tier,
                content=content,  # type: ignore[arg-type]
                in_force=default,
                reason=section.reason,
                changed=content != content_of(self.kind, default),
            )  # type: ignore[arg-type]
        else:
            self.outcome = evaluate_section(
                self.kind,
                section,
                model=model,
                tier=tier,
                task_type=model.task_type,  # type: ignore[arg-type]
                has_kpi=bool(model.kpi_name),
                now=timezone.now(),
                path=self.kind,
            )
        if not self.outcome.changed:
            raise forms.ValidationError(f"nothing changes: this is the {self.kind} in force")
        for path, message in {**self.outcome.errors, **self.outcome.refusals}.items():
            name = path.split(".")[1] if "." in path else None
            self.add_error(name if name in self.fields else None, message)
        return data


class SectionAdmin(RequestFormAdmin):
    kind = ""
    list_filter = ("tier", "model__team")
    search_fields = ("model__slug", "reason")
    list_select_related = ("model", "created_by")

    def get_list_display(self, request: HttpRequest) -> Any:
        return ("__str__", "model", "tier", "number", "created_by", "created_at", "exception")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # a model's own versions as for any model row, and the tier defaults, which all may read
        rows = admin.ModelAdmin.get_queryset(self, request)
        return super().get_queryset(request) | rows.filter(model=None)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = PLAN_FIELDS if self.kind == "plan" else POLICY_FIELDS
        head = ("model", "tier", "reason", "exception")
        if obj is None:
            return (*head, *fields)
        return ("number", *head, *fields, "content_sha256", "created_by", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        return self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        recorder = ChangeRecorder.for_user(request.user, via="admin")
        row = section_version_create(
            form.outcome, model=form.cleaned_data.get("model"), user=request.user, recorder=recorder
        )
        recorder.record_all()
        obj.pk, obj._state.adding, obj._state.db = row.pk, False, row._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None


class PlanForm(SectionForm):
    kind = "plan"

    class Meta:
        model = MonitoringPlan
        fields = ("model", "tier", "reason", "exception", *PLAN_FIELDS)


class PolicyForm(SectionForm):
    kind = "policy"

    class Meta:
        model = RetrainingPolicy
        fields = ("model", "tier", "reason", "exception", *POLICY_FIELDS)


@admin.register(MonitoringPlan)
class MonitoringPlanAdmin(SectionAdmin):
    kind = "plan"
    form = PlanForm


@admin.register(RetrainingPolicy)
class RetrainingPolicyAdmin(SectionAdmin):
    kind = "policy"
    form = PolicyForm


# --- policy exceptions -------------------------------------------------------------------------


class PolicyExceptionForm(forms.ModelForm):
    fields_text = forms.CharField(label="fields", help_text="comma-separated, e.g. alpha, thresholds.psi")
    request: HttpRequest

    class Meta:
        model = PolicyException
        fields = ("model", "target", "reason", "expires_at")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        model = data.get("model")
        if model is not None and not can_change_model(self.request.user, model):
            self.add_error("model", f"you may not change model '{model.slug}'")
        names = [n.strip() for n in (data.get("fields_text") or "").split(",") if n.strip()]
        data["field_names"] = names
        problems = policy_exception_problems(
            target=data.get("target", ""),
            fields=names,
            reason=data.get("reason"),
            expires_at=data.get("expires_at"),
        )
        for path, message in problems.items():
            name = "fields_text" if path.startswith("fields") else path
            self.add_error(name if name in self.fields else None, message)
        return data


@admin.register(PolicyException)
class PolicyExceptionAdmin(RequestFormAdmin):
    form = PolicyExceptionForm
    list_display = (
        "__str__",
        "model",
        "target",
        "fields",
        "proposed_by",
        "approved_by",
        "expires_at",
        "state",
    )
    list_filter = ("target", "model__risk_tier")
    search_fields = ("model__slug", "reason", "proposed_by__username", "approved_by__username")
    list_select_related = ("model", "proposed_by", "approved_by")
    actions = ("approve",)

    @admin.display(description="state")
    def state(self, obj: PolicyException) -> str:
        if obj.expires_at <= timezone.now():
            return "expired"
        return "approved" if obj.approved_by_id else "awaiting approval"

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ("model", "target", "fields_text", "reason", "expires_at")
        return (
            "model",
            "target",
            "fields",
            "reason",
            "expires_at",
            "proposed_by",
            "proposed_at",
            "approved_by",
            "approved_at",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.get_fields(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: PolicyException, form: Any, change: bool) -> None:
        data = form.cleaned_data
        created = policy_exception_propose(
            model=data["model"],
            target=data["target"],
            fields=data["field_names"],
            reason=data["reason"],
            expires_at=data["expires_at"],
            user=request.user,
        )
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    @admin.action(description="Approve the selected exceptions (four-eyes)")
    def approve(self, request: HttpRequest, queryset: QuerySet[PolicyException]) -> None:
        for exception in queryset:
            try:
                policy_exception_approve(exception=exception, user=request.user)
            except (RegistryValidationError, RegistryPermissionDenied) as exc:
                self.message_user(request, f"#{exception.pk}: {exc}", messages.ERROR)
            else:
                self.message_user(request, f"#{exception.pk} approved", messages.SUCCESS)


# --- external events and service accounts ------------------------------------------------------


class ExternalEventForm(forms.ModelForm):
    request: HttpRequest
    event_data: dict[str, Any]

    class Meta:
        model = ExternalEvent
        fields = ("kind", "title", "description", "starts_at", "ends_at", "affected_models")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if self.errors:
            return data
        self.event_data = {
            "kind": data["kind"],
            "title": data["title"],
            "description": data.get("description") or "",
            "starts_at": iso(data["starts_at"]),
            "ends_at": iso(data.get("ends_at")),
            "models": [m.slug for m in data.get("affected_models") or []],
        }
        stored = ExternalEvent.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        try:
            external_event_check(data=self.event_data, user=self.request.user, event=stored)
        except (RegistryValidationError, RegistryPermissionDenied) as exc:
            for path, message in exc.errors.items():
                name = {"models": "affected_models"}.get(path.split(".")[0], path.split(".")[0])
                self.add_error(name if name in self.fields else None, message)
        return data


@admin.register(ExternalEvent)
class ExternalEventAdmin(RequestFormAdmin):
    """Written by the events service, like the API's events."""

    form = ExternalEventForm
    list_display = ("title", "kind", "starts_at", "ends_at", "created_by")
    list_filter = ("kind",)
    search_fields = ("title", "description", "affected_models__slug")
    filter_horizontal = ("affected_models",)
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "starts_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        # events that touch a visible model, and fleet-wide ones
        rows = admin.ModelAdmin.get_queryset(self, request)
        if sees_everything(request.user):
            return rows
        visible = visible_models(request.user)
        return (rows.filter(affected_models__in=visible) | rows.filter(affected_models=None)).distinct()

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "affected_models":
            kwargs["queryset"] = visible_models(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not super().has_change_permission(request):
            return False
        if obj is None or has_role(request.user, MODEL_RISK):
            return True
        models = list(obj.affected_models.all())
        return bool(models) and all(can_write_data(request.user, m) for m in models)

    def save_model(self, request: HttpRequest, obj: ExternalEvent, form: Any, change: bool) -> None:
        if change:
            event = external_event_change(event=obj, data=form.event_data, user=request.user, via="admin")
        else:
            event = external_event_create(data=form.event_data, user=request.user, via="admin")
        obj.pk, obj._state.adding, obj._state.db = event.pk, False, event._state.db

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # the service set the affected models


@admin.register(ServiceAccount)
class ServiceAccountAdmin(RegistryAdmin):
    """Tokens are issued elsewhere (shown once); here they can be looked at and switched off."""

    list_display = ("name", "user", "is_active", "token_prefix", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "user__username", "token_prefix")
    fields = (
        "name",
        "user",
        "is_active",
        "scoped_models",
        "token_prefix",
        "created_by",
        "created_at",
        "last_used_at",
    )
    readonly_fields = ("name", "user", "token_prefix", "created_by", "created_at", "last_used_at")
    filter_horizontal = ("scoped_models",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = admin.ModelAdmin.get_queryset(self, request)
        if sees_everything(request.user):
            return rows
        return rows.filter(scoped_models__in=visible_models(request.user)).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return is_admin_reader(request.user) and has_role(request.user, MODEL_RISK)

    def save_model(self, request: HttpRequest, obj: ServiceAccount, form: Any, change: bool) -> None:
        service_account_change(
            account=ServiceAccount.objects.get(pk=obj.pk),
            is_active=form.cleaned_data["is_active"],
            scoped_models=list(form.cleaned_data["scoped_models"]),
            user=request.user,
            via="admin",
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # the service set the scope
