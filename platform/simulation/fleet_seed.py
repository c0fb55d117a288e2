"""A realistic, deterministic demonstration fleet: ``manage.py seed_fleet --models 60``.

Seven teams (credit scoring, fraud, AML, personalisation, churn, pricing, collections), their
owners and developers, model-risk validators, an auditor and accountable executives; each model
with 10-40 mixed-type features, a production champion with validated baselines (some with a
challenger beside it or a retired predecessor), and the tier default plan and policy or stricter
ones. One model runs on a policy exception, proposed by its owner and approved by model risk.

Every model goes through ``registry.services.model_apply`` as its owner, so a second run finds
nothing to change. Users get unusable passwords: set one with ``manage.py changepassword``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils import timezone

from registry.models import MonitoredModel, PolicyException
from registry.services import model_apply, policy_exception_approve, policy_exception_propose
from vocabulary.roles import AUDITOR, MODEL_OWNER, MODEL_RISK

SEED = 20260401
REGIONS = ["north", "south", "east", "west", "central"]
MARKETS = ["uk", "de", "es", "pl", "it"]


@dataclass(frozen=True)
class Domain:
    key: str
    team: str
    business_unit: str
    executive: str
    names: tuple[str, ...]
    task_type: str
    tier: str
    decision_type: str
    scope: tuple[str, ...]
    kpi: tuple[str, float]
    numeric: tuple[str, ...]
    categorical: dict[str, tuple[str, ...]]
    boolean: tuple[str, ...]
    datetime: tuple[str, ...]
    text: tuple[str, ...]
    # per-model overrides: name -> (task_type, tier, classes)
    special: dict[str, tuple[str, str, tuple[str, ...]]] = field(default_factory=dict)


DOMAINS = (
    Domain(
        key="credit",
        team="retail-credit-risk",
        business_unit="Retail credit",
        executive="exec.retail-lending",
        names=(
            "retail-pd-scorecard",
            "credit-card-application",
            "sme-pd",
            "mortgage-origination",
            "overdraft-limit",
            "auto-loan-application",
            "behavioural-score-cards",
            "ifrs9-pd-retail",
            "bnpl-affordability",
            "student-loan-application",
        ),
        task_type="binary",
        tier="high",
        decision_type="automated",
        scope=("eu-ai-act-high-risk", "credit-decisions"),
        kpi=("approval_rate", 0.42),
        numeric=(
            "age",
            "annual_income",
            "debt_to_income",
            "credit_utilisation",
            "months_since_last_delinquency",
            "num_open_accounts",
            "num_inquiries_6m",
            "loan_amount",
            "loan_term_months",
            "employment_length_years",
            "bureau_score",
            "revolving_balance",
            "installment_to_income",
            "savings_balance",
            "num_late_payments_12m",
        ),
        categorical={
            "employment_type": ("employed", "self_employed", "retired", "student", "unemployed"),
            "housing_status": ("own", "mortgage", "rent", "other"),
            "loan_purpose": ("car", "home_improvement", "consolidation", "education", "other"),
            "region": tuple(REGIONS),
            "channel": ("branch", "online", "broker", "mobile"),
        },
        boolean=("has_mortgage", "is_existing_customer", "has_guarantor"),
        datetime=("application_date", "account_open_date"),
        text=("employer_name", "application_notes"),
    ),
    Domain(
        key="fraud",
        team="fraud-analytics",
        business_unit="Payments",
        executive="exec.payments",
        names=(
            "card-fraud-realtime",
            "ecommerce-fraud",
            "account-takeover",
            "first-party-fraud",
            "cheque-fraud",
            "app-scam-detection",
            "mule-account-detection",
            "atm-skimming",
        ),
        task_type="binary",
        tier="high",
        decision_type="automated",
        scope=("fraud-prevention", "psd2"),
        kpi=("fraud_loss_bps", 4.2),
        numeric=(
            "txn_amount",
            "txn_amount_zscore",
            "txn_count_1h",
            "txn_count_24h",
            "merchant_risk_score",
            "distance_from_home_km",
            "seconds_since_last_txn",
            "card_age_days",
            "avg_txn_amount_30d",
            "failed_pin_attempts_24h",
            "device_age_days",
        ),
        categorical={
            "merchant_category": (
                "grocery",
                "travel",
                "electronics",
                "gambling",
                "fuel",
                "restaurants",
                "online_services",
            ),
            "txn_channel": ("pos", "ecommerce", "atm", "contactless"),
            "card_type": ("debit", "credit", "prepaid"),
            "country_risk_band": ("low", "medium", "high"),
        },
        boolean=("is_foreign", "is_card_present", "is_new_device", "is_night"),
        datetime=("txn_timestamp",),
        text=("merchant_name", "device_user_agent"),
    ),
    Domain(
        key="aml",
        team="financial-crime",
        business_unit="Financial crime compliance",
        executive="exec.compliance",
        names=(
            "transaction-monitoring-retail",
            "transaction-monitoring-corporate",
            "sanctions-screening-triage",
            "kyc-risk-rating",
            "trade-based-ml",
            "crypto-onramp-monitoring",
            "correspondent-banking-risk",
        ),
        task_type="binary",
        tier="high",
        decision_type="assisted",
        scope=("aml-cft",),
        kpi=("sar_conversion_rate", 0.12),
        numeric=(
            "cash_deposits_30d",
            "wire_out_amount_30d",
            "num_counterparties_90d",
            "structuring_score",
            "avg_balance_90d",
            "txn_velocity_7d",
            "high_risk_country_share",
            "account_age_days",
            "round_amount_share",
        ),
        categorical={
            "customer_segment": ("retail", "sme", "corporate", "private_banking"),
            "kyc_risk_rating": ("low", "medium", "high"),
            "occupation_group": ("salaried", "business_owner", "cash_intensive", "professional", "other"),
            "product_type": ("current", "savings", "business", "fx"),
        },
        boolean=("is_pep", "has_sanctions_hit", "has_adverse_media", "is_cross_border"),
        datetime=("last_kyc_review_date",),
        text=("alert_narrative", "counterparty_name"),
        special={
            "sanctions-screening-triage": (
                "multiclass",
                "high",
                ("true_match", "false_positive", "escalate"),
            ),
            "kyc-risk-rating": ("multiclass", "high", ("low", "medium", "high")),
        },
    ),
    Domain(
        key="recsys",
        team="personalisation",
        business_unit="Digital channels",
        executive="exec.digital",
        names=(
            "next-best-offer",
            "app-feed-ranking",
            "email-offer-ctr",
            "card-rewards-recommender",
            "search-ranking",
            "push-notification-ctr",
            "savings-nudge-ctr",
            "partner-offers-ranking",
        ),
        task_type="ranking",
        tier="low",
        decision_type="automated",
        scope=("marketing",),
        kpi=("click_through_rate", 0.031),
        numeric=(
            "user_tenure_days",
            "sessions_7d",
            "item_popularity_7d",
            "item_price",
            "user_item_affinity",
            "position",
            "ctr_user_30d",
            "ctr_item_30d",
            "dwell_time_avg_s",
            "days_since_last_purchase",
        ),
        categorical={
            "item_category": ("cards", "loans", "savings", "insurance", "investments", "travel"),
            "device_type": ("ios", "android", "web"),
            "placement": ("home_banner", "app_feed", "email", "push"),
            "user_segment": ("young_professional", "family", "retiree", "student", "affluent"),
        },
        boolean=("is_logged_in", "is_weekend", "has_marketing_consent"),
        datetime=("impression_time",),
        text=("item_title", "search_query"),
    ),
    Domain(
        key="churn",
        team="customer-analytics",
        business_unit="Retail banking",
        executive="exec.retail-banking",
        names=(
            "retail-churn",
            "sme-churn",
            "card-attrition",
            "mortgage-refinance-risk",
            "digital-dormancy",
            "premium-downgrade",
            "savings-outflow",
        ),
        task_type="binary",
        tier="medium",
        decision_type="assisted",
        scope=("marketing",),
        kpi=("retention_rate", 0.91),
        numeric=(
            "tenure_months",
            "num_products",
            "balance_trend_3m",
            "logins_30d",
            "complaints_12m",
            "salary_inflow_3m",
            "card_spend_trend_3m",
            "fees_paid_12m",
            "nps_score",
            "days_since_last_login",
        ),
        categorical={
            "customer_segment": ("mass", "mass_affluent", "affluent", "youth"),
            "primary_channel": ("branch", "online", "mobile", "phone"),
            "region": tuple(REGIONS),
            "product_bundle": ("basic", "plus", "premium"),
        },
        boolean=("has_salary_account", "has_mortgage", "rate_change_notice", "has_direct_debits"),
        datetime=("last_contact_date",),
        text=("last_complaint_text",),
    ),
    Domain(
        key="pricing",
        team="pricing-analytics",
        business_unit="Pricing",
        executive="exec.pricing",
        names=(
            "motor-premium",
            "home-insurance-premium",
            "mortgage-rate-pricing",
            "personal-loan-rate",
            "deposit-rate-elasticity",
            "sme-loan-pricing",
            "fx-margin",
        ),
        task_type="regression",
        tier="medium",
        decision_type="automated",
        scope=("pricing", "consumer-duty"),
        kpi=("conversion_rate", 0.18),
        numeric=(
            "vehicle_age_years",
            "driver_age",
            "annual_mileage",
            "claims_5y",
            "sum_insured",
            "property_age_years",
            "postcode_risk_index",
            "credit_score",
            "loan_to_value",
            "competitor_rate_gap_bp",
            "deposit_amount",
        ),
        categorical={
            "vehicle_group": ("a", "b", "c", "d", "e"),
            "cover_type": ("comprehensive", "third_party", "third_party_fire_theft"),
            "payment_frequency": ("monthly", "annual"),
            "product": ("motor", "home", "mortgage", "personal_loan"),
            "region": tuple(REGIONS),
        },
        boolean=("has_telematics", "is_renewal", "has_multi_policy"),
        datetime=("quote_date",),
        text=("broker_name",),
        special={
            "mortgage-rate-pricing": ("regression", "high", ()),
            "personal-loan-rate": ("regression", "high", ()),
        },
    ),
    Domain(
        key="collections",
        team="collections-analytics",
        business_unit="Collections & recoveries",
        executive="exec.collections",
        names=(
            "collections-next-action",
            "early-arrears-cure",
            "recovery-amount",
            "promise-to-pay-likelihood",
            "hardship-triage",
            "debt-sale-valuation",
            "self-cure-prediction",
        ),
        task_type="binary",
        tier="medium",
        decision_type="assisted",
        scope=("collections", "consumer-duty"),
        kpi=("cure_rate", 0.37),
        numeric=(
            "days_past_due",
            "arrears_amount",
            "promise_kept_rate",
            "contact_attempts_30d",
            "right_party_contact_rate",
            "balance_outstanding",
            "months_on_book",
            "payment_count_6m",
            "income_shock_score",
        ),
        categorical={
            "delinquency_bucket": ("1-29", "30-59", "60-89", "90+"),
            "product_type": ("card", "personal_loan", "overdraft", "mortgage"),
            "last_contact_outcome": ("no_answer", "promise", "refused", "paid", "wrong_number"),
            "hardship_type": ("none", "medical", "unemployment", "bereavement"),
        },
        boolean=("has_payment_plan", "is_vulnerable_customer", "has_dispute"),
        datetime=("last_payment_date",),
        text=("agent_notes",),
        special={
            "collections-next-action": (
                "multiclass",
                "medium",
                ("call", "sms", "letter", "field_visit", "no_action"),
            ),
            "hardship-triage": ("multiclass", "medium", ("standard", "payment_plan", "specialist_support")),
            "recovery-amount": ("regression", "medium", ()),
            "debt-sale-valuation": ("regression", "low", ()),
        },
    ),
)

FIRST = (
    "amira",
    "ben",
    "chloe",
    "dev",
    "elena",
    "farid",
    "grace",
    "hugo",
    "ines",
    "jonas",
    "kaori",
    "liam",
    "maya",
    "nikolai",
    "olu",
    "priya",
    "quentin",
    "rosa",
    "sami",
    "tess",
    "umar",
    "vera",
    "wen",
    "xavier",
    "yara",
    "zoe",
)
LAST = (
    "haddad",
    "osei",
    "martin",
    "patel",
    "rossi",
    "nowak",
    "kim",
    "silva",
    "moreau",
    "weber",
    "tanaka",
    "okafor",
    "lindqvist",
    "garcia",
    "novak",
    "ali",
)
VALIDATORS = ("mr.lindqvist", "mr.okafor", "mr.silva")
MODEL_RISK_LEAD = "mr.haddad"
AUDITOR_NAME = "audit.moreau"
EXCEPTION_MODEL = "early-arrears-cure"
EXCEPTION_REASON = (
    "Cure is only observable after 150 days of arrears; the medium tier's "
    "120-day label maturity would judge performance on immature labels."
)


@dataclass
class SeedSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    users_created: int = 0
    changes: list[str] = field(default_factory=list)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _day(year: int, month: int, day: int) -> str:
    return dt.datetime(year, month, day, tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


class _People:
    """Users and teams, created once and found again on later runs."""

    def __init__(self, summary: SeedSummary) -> None:
        self.summary = summary
        self.roles = {
            name: Group.objects.get_or_create(name=name)[0] for name in (MODEL_OWNER, MODEL_RISK, AUDITOR)
        }
        self.teams: dict[str, Group] = {}
        self.owners: dict[str, list[str]] = {}
        self.developers: dict[str, list[str]] = {}
        names = iter(
            f"{FIRST[i % len(FIRST)]}.{LAST[(5 * i + i // len(FIRST)) % len(LAST)]}"
            for i in range(len(FIRST) * len(LAST))
        )
        for domain in DOMAINS:
            team = Group.objects.get_or_create(name=domain.team)[0]
            self.teams[domain.key] = team
            people = [next(names) for _ in range(4)]
            self.owners[domain.key] = people[:2]
            self.developers[domain.key] = people[2:]
            for username in people:
                self.user(username, roles=[MODEL_OWNER], teams=[team], staff=True)
            self.user(domain.executive, roles=[], teams=[], staff=False)
        for username in (*VALIDATORS, MODEL_RISK_LEAD):
            self.user(username, roles=[MODEL_RISK], teams=[], staff=True)
        self.user(AUDITOR_NAME, roles=[AUDITOR], teams=[], staff=True)

    def user(self, username: str, *, roles: list[str], teams: list[Group], staff: bool) -> Any:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username, defaults={"is_staff": staff})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
            user.groups.add(*(self.roles[r] for r in roles), *teams)
            self.summary.users_created += 1
        return user


def _features(domain: Domain, rng: random.Random, count: int) -> list[dict[str, Any]]:
    pool: list[tuple[str, str]] = [(n, "numeric") for n in domain.numeric]
    pool += [(n, "categorical") for n in domain.categorical]
    pool += [(n, "boolean") for n in domain.boolean]
    pool += [(n, "datetime") for n in domain.datetime]
    pool += [(n, "text") for n in domain.text]
    # One of every kind first, then the rest of the pool, then windowed variants of numerics.
    chosen: list[tuple[str, str]] = []
    for kind in ("numeric", "categorical", "boolean", "datetime", "text"):
        chosen.append(next(p for p in pool if p[1] == kind))
    rest = [p for p in pool if p not in chosen]
    rng.shuffle(rest)
    chosen += rest
    windows = ("7d", "30d", "90d", "180d")
    chosen += [(f"{n}_{w}", "numeric") for w in windows for n in domain.numeric]
    chosen = chosen[:count]

    weights = [rng.uniform(0.2, 1.0) ** 2 for _ in chosen]
    total = sum(weights)
    importances = [round(w / total, 4) for w in weights]
    key_names = {chosen[i][0] for i in sorted(range(len(chosen)), key=lambda i: -weights[i])[:3]}
    segments = [n for n, k in chosen if k in ("categorical", "boolean")][:2]

    features = []
    for (name, kind), importance in zip(chosen, importances, strict=True):
        feature: dict[str, Any] = {"name": name, "kind": kind, "importance": importance}
        if kind == "numeric":
            feature["nullable"] = rng.random() < 0.4
            if any(
                word in name
                for word in ("age", "count", "num_", "amount", "days", "months", "balance", "income")
            ):
                feature["min_value"] = 0.0
            if name.endswith(("_share", "_rate", "utilisation")):
                feature.update(min_value=0.0, max_value=1.0)
            if name == "age" or name == "driver_age":
                feature.update(min_value=18.0, max_value=110.0)
        elif kind == "categorical":
            feature["categories"] = list(domain.categorical[name])
            feature["nullable"] = False
        if name in key_names:
            feature["is_key"] = True
        if name in segments[:1] or (name in segments and rng.random() < 0.5):
            feature["is_segment"] = True
        if kind == "numeric" and rng.random() < 0.15:
            feature["drift_test"] = rng.choice(("psi", "wasserstein"))
        features.append(feature)
    return features


def _baselines(task_type: str, rng: random.Random, holdout: str) -> list[dict[str, Any]]:
    def metric(name: str, low: float, high: float) -> dict[str, Any]:
        return {"metric": name, "value": round(rng.uniform(low, high), 4), "holdout": holdout}

    if task_type == "binary":
        auc = metric("auc", 0.68, 0.93)
        return [
            auc,
            {"metric": "gini", "value": round(2 * auc["value"] - 1, 4), "holdout": holdout},
            metric("ks", 0.25, 0.6),
        ]
    if task_type == "multiclass":
        return [metric("macro_f1", 0.55, 0.85), metric("accuracy", 0.65, 0.92), metric("log_loss", 0.3, 0.9)]
    if task_type == "regression":
        return [metric("rmse", 20.0, 180.0), metric("mae", 12.0, 120.0), metric("r2", 0.45, 0.85)]
    return [metric("auc", 0.64, 0.8), metric("ndcg", 0.35, 0.6)]


def _schema(
    task_type: str, classes: tuple[str, ...], features: list[dict[str, Any]], rng: random.Random
) -> dict[str, Any]:
    schema: dict[str, Any] = {"expected_rows_per_day": rng.choice((800, 2500, 12000, 60000, 250000))}
    if task_type == "binary":
        schema.update(target_column="label", prediction_column="decision", score_columns=["score"])
    elif task_type == "multiclass":
        schema.update(
            target_column="outcome",
            prediction_column="predicted_class",
            score_columns=[f"score_{c}" for c in classes],
        )
    elif task_type == "regression":
        schema.update(target_column="actual_value", prediction_column="predicted_value")
    else:
        schema.update(
            target_column="clicked",
            prediction_column="rank_score",
            score_columns=["ctr_score"],
            query_id_column="session_id",
        )
    schema["features"] = features
    return schema


STRICTER_PLANS = {
    "high": {"alpha": 0.02, "min_sample_size": 2000, "drift_share_threshold": 0.15},
    "medium": {"drift_window_days": 1, "alpha": 0.01, "grace_hours": 12},
    "low": {"drift_window_days": 7, "performance_window_days": 91, "min_sample_size": 500},
}
STRICTER_POLICIES = {
    "high": {"performance_tolerance_abs": 0.015, "cooldown_days": 7, "max_model_age_days": 270},
    "medium": {"performance_tolerance_rel": 0.04, "max_model_age_days": 365},
    "low": {"cooldown_days": 30, "approvals_required": 1},
}


def fleet_documents(people: _People, count: int) -> list[dict[str, Any]]:
    rng = random.Random(SEED)
    documents = []
    for i in range(count):
        domain = DOMAINS[i % len(DOMAINS)]
        k = i // len(DOMAINS)
        base = domain.names[k % len(domain.names)]
        round_ = k // len(domain.names)
        slug = (
            base
            if round_ == 0
            else f"{base}-{MARKETS[(round_ - 1) % len(MARKETS)]}"
            + (f"-{round_}" if round_ > len(MARKETS) else "")
        )
        task_type, tier, classes = domain.special.get(base, (domain.task_type, domain.tier, ()))
        if domain.key == "churn" and k % 3 == 2:
            tier = "low"
        documents.append(_document(domain, people, rng, i, slug, task_type, tier, classes))
    return documents


def _document(
    domain: Domain,
    people: _People,
    rng: random.Random,
    i: int,
    slug: str,
    task_type: str,
    tier: str,
    classes: tuple[str, ...],
) -> dict[str, Any]:
    owners, developers = people.owners[domain.key], people.developers[domain.key]
    validator = VALIDATORS[i % len(VALIDATORS)]
    features = _features(domain, rng, rng.randint(10, 40))
    year = 2023 + i % 3
    champion = {
        "label": f"{year}.{1 + i % 4}",
        "artifact_sha256": _sha(f"{slug}@{year}.{1 + i % 4}"),
        "status": "production",
        "role": "champion",
        "deployed_at": _day(year, 1 + i % 12, 1 + i % 27),
        "validated_at": _day(year, 1 + i % 12, 1),
        "validated_by": validator,
        "baseline_metrics": _baselines(task_type, rng, f"holdout-{year - 1}q4"),
        **_schema(task_type, classes, features, rng),
    }
    versions = []
    if i % 5 == 2:
        versions.append(
            {
                "label": f"{year - 1}.1",
                "artifact_sha256": _sha(f"{slug}@{year - 1}.1"),
                "status": "retired",
                "deployed_at": _day(year - 1, 3, 1),
                "validated_at": _day(year - 1, 2, 1),
                "validated_by": validator,
                "retired_at": champion["deployed_at"],
                "retired_by": owners[0],
                "baseline_metrics": _baselines(task_type, rng, f"holdout-{year - 2}q4"),
            }
        )
    versions.append(champion)
    if i % 4 == 1:
        extra = dict(features[0], name=f"{features[0]['name']}_v2", is_key=False)
        challenger_features = [*features, extra] if len(features) < 40 else features
        versions.append(
            {
                "label": f"{year}.{1 + i % 4}-challenger",
                "artifact_sha256": _sha(f"{slug}@challenger"),
                "status": "production",
                "role": "challenger",
                "deployed_at": _day(2025, 6, 1 + i % 27),
                "validated_at": _day(2025, 5, 15),
                "validated_by": VALIDATORS[(i + 1) % len(VALIDATORS)],
                "baseline_metrics": _baselines(task_type, rng, "holdout-2025q1"),
                **_schema(task_type, classes, challenger_features, rng),
            }
        )
    kpi_name, kpi_value = domain.kpi
    document: dict[str, Any] = {
        "slug": slug,
        "name": slug.replace("-", " ").capitalize(),
        "description": f"{domain.business_unit}: {slug.replace('-', ' ')} model.",
        "purpose": f"Supports {domain.business_unit.lower()} decisions.",
        "approved_uses": "The decisions named in the purpose, within the bank's policies.",
        "restrictions": "Not for use outside the approved portfolio and markets.",
        "decision_type": domain.decision_type,
        "affects_natural_persons": domain.key not in ("pricing",) or "sme" not in slug,
        "task_type": task_type,
        "business_unit": domain.business_unit,
        "owner": owners[i % 2],
        "team": domain.team,
        "developer": developers[i % 2],
        "validator": validator,
        "accountable_executive": domain.executive,
        "risk_tier": tier,
        "risk_tier_rationale": _rationale(domain, tier, task_type),
        "risk_tier_set_by": MODEL_RISK_LEAD,
        "risk_tier_set_at": _day(2024, 1 + i % 12, 15),
        "regulatory_scope": list(domain.scope),
        "personal_data": domain.key != "pricing" or "sme" not in slug,
        "retention_days": 3650 if tier == "high" else 730,
        "kpi_name": kpi_name,
        "kpi_reference_value": round(kpi_value * rng.uniform(0.85, 1.15), 4),
        "versions": versions,
    }
    if i % 3 == 0:
        document["plan"] = {
            "reason": f"Stricter than the {tier} tier: high volume and exposure justify earlier alarms.",
            **STRICTER_PLANS[tier],
        }
    policy: dict[str, Any] = {}
    if task_type == "multiclass":
        policy = {"performance_metric": "macro_f1"}
    elif task_type == "regression":
        policy = {"performance_metric": "rmse", "performance_tolerance_abs": round(rng.uniform(2.0, 15.0), 1)}
    if i % 4 == 0:
        policy.update(STRICTER_POLICIES[tier])
    if policy:
        document["policy"] = {
            "reason": f"The {task_type} task's metric and the {tier} tier's tolerances or stricter.",
            **policy,
        }
    return document


def _rationale(domain: Domain, tier: str, task_type: str) -> str:
    if tier == "high":
        return (
            f"{domain.business_unit}: {domain.decision_type} decisions with material "
            "financial or regulatory impact on customers."
        )
    if tier == "medium":
        return (
            f"{domain.business_unit}: {domain.decision_type} {task_type} model; customer "
            "impact limited by human review or pricing controls."
        )
    return f"{domain.business_unit}: marketing-only use; no credit or eligibility decisions."


def _exception_for(model: MonitoredModel, owner: Any, approver: Any) -> PolicyException:
    """The seed's one policy exception, found again while it lasts."""
    now = timezone.now()
    found = (
        PolicyException.objects.filter(
            model=model, target="plan", reason=EXCEPTION_REASON, approved_by__isnull=False, expires_at__gt=now
        )
        .order_by("-pk")
        .first()
    )
    if found is not None:
        return found
    exception = policy_exception_propose(
        model=model,
        target="plan",
        fields=["label_maturity_days"],
        reason=EXCEPTION_REASON,
        expires_at=now + dt.timedelta(days=180),
        user=owner,
    )
    return policy_exception_approve(exception=exception, user=approver)


def seed_fleet(*, models: int = 60) -> SeedSummary:
    if models < 1:
        raise ValueError("--models must be at least 1")
    summary = SeedSummary()
    user_model = get_user_model()
    with transaction.atomic():
        people = _People(summary)
    for document in fleet_documents(people, models):
        owner = user_model.objects.get(username=document["owner"])
        if document["slug"] == EXCEPTION_MODEL:
            # Registered on the tier's plan first: an exception belongs to an existing model.
            document.pop("plan", None)
        result = model_apply(document=document, user=owner)
        if document["slug"] == EXCEPTION_MODEL:
            exception = _exception_for(result.model, owner, user_model.objects.get(username=MODEL_RISK_LEAD))
            document = {
                **document,
                "plan": {"reason": EXCEPTION_REASON, "label_maturity_days": 150, "exception": exception.pk},
            }
            second = model_apply(document=document, user=owner)
            result = type(result)(
                model=result.model, created=result.created, changes=result.changes + second.changes
            )
        if result.created:
            summary.created += 1
        elif result.changes:
            summary.updated += 1
        else:
            summary.unchanged += 1
        summary.changes.extend(f"{document['slug']}: {c}" for c in result.changes)
    return summary
