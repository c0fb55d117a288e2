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

from audit.ledger import record
from registry.documents import (
    PLAN_FIELDS,
    POLICY_FIELDS,
    Reader,
    SectionDocument,
    model_fields_snapshot,
    read_plan_values,
    read_policy_values,
    version_snapshot,
)
from registry.models import (
    BaselineMetric,
    ExternalEvent,
    FeatureSchema,
    FeatureSpec,
    LifecycleStatus,
    ModelVersion,
    MonitoredModel,
    MonitoringPlan,
    PolicyException,
    RetrainingPolicy,
    ServiceAccount,
)
from registry.permissions import can_change_model, can_write_data, has_role, visible_models
from registry.services import (
    RegistryPermissionDenied,
    RegistryValidationError,
    policy_exception_approve,
    policy_exception_propose,
)
from registry.services.audit import actor_for, with_operator
from registry.services.events import event_snapshot
from registry.services.policy_exceptions import policy_exception_problems
from registry.services.versioning import (
    SectionOutcome,
    content_of,
    create_version,
    evaluate_section,
    tier_default,
    version_payload,
)
from vocabulary import ledger_actions
from vocabulary.roles import ALL_ROLES, AUDITOR, MODEL_OWNER, MODEL_RISK


def _is_reader(user: Any) -> bool:
    return (
        user.is_active
        and user.is_staff
        and any(has_role(user, r) for r in (MODEL_RISK, AUDITOR, MODEL_OWNER))
    )


def _model_of(obj: Any) -> MonitoredModel | None:
    if obj is None or isinstance(obj, MonitoredModel):
        return obj
    if isinstance(obj, ModelVersion | PolicyException | MonitoringPlan | RetrainingPolicy):
        return obj.model
    if isinstance(obj, FeatureSchema):
        return obj.version.model
    return None


class RegistryAdmin(admin.ModelAdmin):
    """Permissions and visibility from ``registry.permissions``; no deletes."""

    model_path = "model"  # lookup from this admin's rows to their MonitoredModel

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_reader(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_reader(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_reader(request.user) and (
            has_role(request.user, MODEL_RISK) or has_role(request.user, MODEL_OWNER)
        )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not self.has_add_permission(request):
            return False
        model = _model_of(obj)
        return model is None or can_change_model(request.user, model)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = super().get_queryset(request)
        if has_role(request.user, MODEL_RISK) or has_role(request.user, AUDITOR):
            return rows
        visible = visible_models(request.user)
        if self.model is MonitoredModel:
            return rows.filter(pk__in=visible)
        return rows.filter(**{f"{self.model_path}__in": visible})

    def _record(self, request: HttpRequest, action: str, subject: Any, payload: dict[str, Any]) -> None:
        record(
            action=action,
            subject=subject,
            payload=with_operator({**payload, "via": "admin"}),
            actor=actor_for(request.user),
        )


class AuditedAfterSaveAdmin(RegistryAdmin):
    """Records to the ledger once the object *and its inlines* are saved: Django calls
    ``log_addition`` / ``log_change`` last, so ``_log`` sees the final state."""

    def _log(self, request: HttpRequest, obj: Any) -> None:
        raise NotImplementedError

    def log_addition(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._log(request, obj)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Any, message: Any) -> Any:
        self._log(request, obj)
        return super().log_change(request, obj, message)


class RequestFormAdmin(RegistryAdmin):
    """Hands the request to the form, whose ``clean`` checks what the services would refuse."""

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form_class = super().get_form(request, obj, change=change, **kwargs)

        class RequestForm(form_class):  # type: ignore[misc, valid-type]
            def __init__(self, *args: Any, **inner: Any) -> None:
                super().__init__(*args, **inner)
                self.request = request

        return RequestForm


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_reader(request.user)


# --- models ------------------------------------------------------------------------------------


class VersionInline(ReadOnlyInline):
    model = ModelVersion
    fields = ("label", "status", "role", "deployed_at", "validated_at", "validated_by", "retired_at")
    readonly_fields = fields


class MonitoredModelForm(forms.ModelForm):
    class Meta:
        model = MonitoredModel
        fields = (
            "slug",
            "name",
            "description",
            "purpose",
            "approved_uses",
            "restrictions",
            "decision_type",
            "affects_natural_persons",
            "task_type",
            "business_unit",
            "owner",
            "team",
            "developer",
            "validator",
            "accountable_executive",
            "risk_tier",
            "risk_tier_rationale",
            "regulatory_scope",
            "personal_data",
            "legal_hold",
            "retention_days",
            "kpi_name",
            "kpi_reference_value",
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        owner, team = data.get("owner"), data.get("team")
        if team is not None and team.name in ALL_ROLES:
            self.add_error("team", f"'{team.name}' is a role, not a team")
        if owner is not None:
            if not owner.groups.filter(name=MODEL_OWNER).exists():
                self.add_error("owner", f"'{owner}' does not have the {MODEL_OWNER} role")
            elif team is not None and not owner.groups.filter(pk=team.pk).exists():
                self.add_error("owner", f"'{owner}' is not a member of team '{team.name}'")
        return data


@admin.register(MonitoredModel)
class MonitoredModelAdmin(AuditedAfterSaveAdmin):
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
    autocomplete_fields = ()

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        fields = tuple(super().get_readonly_fields(request, obj))
        if obj is not None and not has_role(request.user, MODEL_RISK):
            # Lowering a tier is model risk's decision; owners raise it through a document.
            fields += ("risk_tier",)
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "team" and not has_role(request.user, MODEL_RISK):
            kwargs["queryset"] = request.user.groups.exclude(name__in=ALL_ROLES)
        elif db_field.name == "team":
            kwargs["queryset"] = Group.objects.exclude(name__in=ALL_ROLES)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: MonitoredModel, form: Any, change: bool) -> None:
        before = None
        if change:
            stored = MonitoredModel.objects.get(pk=obj.pk)
            before = model_fields_snapshot(stored)
            if stored.risk_tier != obj.risk_tier:
                obj.risk_tier_set_by, obj.risk_tier_set_at = request.user, timezone.now()
        else:
            obj.risk_tier_set_by, obj.risk_tier_set_at = request.user, timezone.now()
        super().save_model(request, obj, form, change)
        request._registry_before = before  # type: ignore[attr-defined]

    def _log(self, request: HttpRequest, obj: MonitoredModel) -> None:
        before = getattr(request, "_registry_before", None)
        after = model_fields_snapshot(obj)
        ref = {"slug": obj.slug, "uid": str(obj.uid)}
        if before is None:
            self._record(request, ledger_actions.REGISTRY_MODEL_CREATED, obj, {"model": ref, "after": after})
        elif before != after:
            changed = sorted(k for k in after if after[k] != before.get(k))
            self._record(
                request,
                ledger_actions.REGISTRY_MODEL_CHANGED,
                obj,
                {"model": ref, "before": before, "after": after, "changed": changed},
            )


# --- versions ----------------------------------------------------------------------------------


class BaselineMetricInline(admin.TabularInline):
    model = BaselineMetric
    extra = 0

    def _frozen(self, obj: Any) -> bool:
        return obj is not None and obj.validated_at is not None

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_reader(request.user)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not self._frozen(obj) and (obj is None or can_change_model(request.user, obj.model))

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self.has_add_permission(request, obj)


class SchemaInline(ReadOnlyInline):
    model = FeatureSchema
    fields = ("number", "content_sha256", "created_by", "created_at")
    readonly_fields = fields


class ModelVersionForm(forms.ModelForm):
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
        model = data.get("model") or getattr(self.instance, "model", None)
        stored = ModelVersion.objects.filter(pk=self.instance.pk).first() if self.instance.pk else None
        status = data.get("status")
        if (
            stored is not None
            and stored.status == LifecycleStatus.RETIRED
            and status != LifecycleStatus.RETIRED
        ):
            self.add_error("status", "a retired version stays retired")
        validated_by = data.get("validated_by")
        if model is not None and validated_by is not None and validated_by.pk == model.developer_id:
            self.add_error(
                "validated_by", f"'{validated_by}' developed this model and cannot validate its versions"
            )
        if status in (
            LifecycleStatus.APPROVED,
            LifecycleStatus.PRODUCTION,
            LifecycleStatus.RESTRICTED,
        ) and not (validated_by and data.get("validated_at")):
            self.add_error("validated_by", f"a {status} version must have been validated")
        return data


@admin.register(ModelVersion)
class ModelVersionAdmin(AuditedAfterSaveAdmin):
    form = ModelVersionForm
    list_display = ("__str__", "status", "role", "deployed_at", "validated_by", "created_at")
    list_filter = ("status", "role", "model__risk_tier", "model__task_type", "model__team")
    search_fields = ("label", "model__slug", "model__name", "artifact_sha256")
    list_select_related = ("model", "validated_by")
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
        stored = ModelVersion.objects.filter(pk=obj.pk).first() if change else None
        request._registry_before = version_snapshot(stored) if stored else None  # type: ignore[attr-defined]
        if obj.status == LifecycleStatus.RETIRED and obj.retired_at is None:
            obj.retired_at, obj.retired_by = timezone.now(), request.user
        if obj.status == LifecycleStatus.PRODUCTION and obj.deployed_at is None:
            obj.deployed_at = timezone.now()
        super().save_model(request, obj, form, change)

    def _log(self, request: HttpRequest, obj: ModelVersion) -> None:
        before = getattr(request, "_registry_before", None)
        after = version_snapshot(obj)
        payload = {"model": {"slug": obj.model.slug, "uid": str(obj.model.uid)}, "after": after}
        if before is None:
            self._record(request, ledger_actions.REGISTRY_VERSION_CREATED, obj, payload)
        elif before != after:
            changed = sorted(k for k in after if after[k] != before.get(k))
            self._record(
                request,
                ledger_actions.REGISTRY_VERSION_CHANGED,
                obj,
                {**payload, "before": before, "changed": changed},
            )


# --- schemas (read-only: a new schema version comes from a document or the API) --------------


class FeatureInline(ReadOnlyInline):
    model = FeatureSpec
    show_change_link = False
    fields = (
        "position",
        "name",
        "kind",
        "nullable",
        "min_value",
        "max_value",
        "categories",
        "importance",
        "is_key",
        "is_segment",
        "drift_test",
    )
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
        rows = admin.ModelAdmin.get_queryset(self, request)
        if has_role(request.user, MODEL_RISK) or has_role(request.user, AUDITOR):
            return rows
        return rows.filter(model__in=visible_models(request.user)) | rows.filter(model=None)

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
        outcome = form.outcome
        row = create_version(outcome, model=form.cleaned_data.get("model"), user=request.user)
        obj.pk, obj._state.adding, obj._state.db = row.pk, False, row._state.db
        self._record(
            request, ledger_actions.section_created(self.kind), row, version_payload(outcome, row, row.model)
        )

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

    class Meta:
        model = ExternalEvent
        fields = ("kind", "title", "description", "starts_at", "ends_at", "affected_models")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        user = self.request.user
        models = list(data.get("affected_models") or [])
        if not models and not has_role(user, MODEL_RISK):
            self.add_error("affected_models", "a fleet-wide event (no models) needs model risk")
        denied = [m.slug for m in models if not can_write_data(user, m)]
        if denied:
            self.add_error("affected_models", f"you may not record events for {', '.join(denied)}")
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends < starts:
            self.add_error("ends_at", "ends before it starts")
        return data


@admin.register(ExternalEvent)
class ExternalEventAdmin(RequestFormAdmin):
    form = ExternalEventForm
    list_display = ("title", "kind", "starts_at", "ends_at", "created_by")
    list_filter = ("kind",)
    search_fields = ("title", "description", "affected_models__slug")
    filter_horizontal = ("affected_models",)
    readonly_fields = ("created_by", "created_at")
    date_hierarchy = "starts_at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        rows = admin.ModelAdmin.get_queryset(self, request)
        if has_role(request.user, MODEL_RISK) or has_role(request.user, AUDITOR):
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
        request._registry_before = (
            event_snapshot(  # type: ignore[attr-defined]
                ExternalEvent.objects.get(pk=obj.pk)
            )
            if change
            else None
        )
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        before = getattr(request, "_registry_before", None)
        after = event_snapshot(form.instance)
        if before != after:
            self._record(
                request,
                ledger_actions.REGISTRY_EVENT_CREATED
                if before is None
                else ledger_actions.REGISTRY_EVENT_CHANGED,
                form.instance,
                {"before": before, "after": after},
            )


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
        if has_role(request.user, MODEL_RISK) or has_role(request.user, AUDITOR):
            return rows
        return rows.filter(scoped_models__in=visible_models(request.user)).distinct()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_reader(request.user) and has_role(request.user, MODEL_RISK)

    def save_model(self, request: HttpRequest, obj: ServiceAccount, form: Any, change: bool) -> None:
        stored = ServiceAccount.objects.get(pk=obj.pk)
        request._registry_before = {  # type: ignore[attr-defined]
            "is_active": stored.is_active,
            "scoped_models": sorted(m.slug for m in stored.scoped_models.all()),
        }
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        account = form.instance
        after = {
            "is_active": account.is_active,
            "scoped_models": sorted(m.slug for m in account.scoped_models.all()),
        }
        before = getattr(request, "_registry_before", None)
        if before != after:
            self._record(
                request,
                ledger_actions.REGISTRY_SERVICE_ACCOUNT_CHANGED,
                account,
                {"name": account.name, "before": before, "after": after},
            )
