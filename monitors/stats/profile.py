"""The reference profile: everything a nightly check needs from the reference, computed once.

Per feature it holds one or more *components*, each either continuous (sorted non-missing
values, mean, standard deviation, fixed PSI bin edges and reference bin counts) or discrete
(category labels and counts):

numeric      value (continuous)
categorical  value (discrete; more than ``max_categories`` categories keep the most frequent
             ones and lump the rest into an "other" bucket)
boolean      value (discrete, labels "false"/"true")
datetime     value (continuous, seconds since the epoch), time_of_day (continuous, seconds
             since midnight UTC), day_of_week (discrete, Mon..Sun)
text         length (continuous, characters), tokens (discrete, the ``text_top_tokens`` most
             frequent lower-cased ``\\w+`` tokens plus "other")

plus, per value of each segment column with at least ``segment_min_size`` reference rows, a
profile of those rows. Sorted columns, category labels and tokens are raw values: a profile
holding any of them reports ``holds_raw_values`` and is purged with the data under retention.

``to_bytes()`` writes an uncompressed npz (a zip of ``.npy`` arrays, readable with
``np.load(..., allow_pickle=False)``) with a ``header.json`` member; zip timestamps are fixed
and JSON keys sorted, so the same input always gives the same bytes. No pickle anywhere.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Literal, cast

import numpy as np
import numpy.typing as npt

from monitors.stats import columns as col
from monitors.stats._json import JSONValue
from monitors.stats.binning import bin_counts, decile_edges
from monitors.stats.errors import ProfileFormatError, StatsConfigError, StatsInputError
from monitors.stats.ks import coarse_index
from monitors.stats.schema import FeatureSpec, ProfileSchema

#: Bump when what a profile contains, or how it is computed, changes.
PROFILE_CODE_VERSION = "1.0.0"

FORMAT_NAME = "fleetwatch.reference_profile"
FORMAT_VERSION = 1
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def _frozen(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array = np.ascontiguousarray(array)
    array.flags.writeable = False
    return array


@dataclass(frozen=True, eq=False)
class ContinuousProfile:
    sorted_values: FloatArray
    n_missing: int
    mean: float | None
    std: float | None
    minimum: float | None
    maximum: float | None
    psi_edges: FloatArray
    psi_counts: IntArray
    bins_source: Literal["deciles", "spec"]

    @property
    def n(self) -> int:
        return int(self.sorted_values.size)

    @property
    def constant(self) -> bool:
        return self.n >= 2 and self.minimum == self.maximum

    @cached_property
    def coarse_index(self) -> FloatArray:
        """A small search index over the sorted values (derived, never serialised)."""
        return _frozen(coarse_index(self.sorted_values))


@dataclass(frozen=True, eq=False)
class DiscreteProfile:
    labels: tuple[str, ...]
    counts: IntArray
    other_count: int
    truncated: bool
    n_distinct: int
    n_missing: int

    @property
    def n(self) -> int:
        return int(self.counts.sum()) + self.other_count

    @property
    def other_code(self) -> int:
        return len(self.labels)

    @property
    def unseen_code(self) -> int:
        """Values the reference never had; lumped into "other" when categories were truncated."""
        return self.other_code if self.truncated else len(self.labels) + 1

    @property
    def width(self) -> int:
        """Length of a count vector over labels, "other" and "unseen"."""
        return len(self.labels) + 2

    @cached_property
    def lookup(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}

    @cached_property
    def extended_counts(self) -> IntArray:
        """Reference counts over labels, "other" and "unseen" (always 0)."""
        out = np.zeros(self.width, dtype=np.int64)
        out[: len(self.labels)] = self.counts
        out[self.other_code] = self.other_count
        return _frozen(out)

    @property
    def constant(self) -> bool:
        return self.n >= 2 and self.n_distinct == 1


Component = ContinuousProfile | DiscreteProfile


@dataclass(frozen=True, eq=False)
class FeatureProfile:
    spec: FeatureSpec
    n_rows: int
    n_missing: int
    n_out_of_range: int | None
    components: Mapping[str, Component]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def primary(self) -> Component:
        return next(iter(self.components.values()))


@dataclass(frozen=True, eq=False)
class SegmentProfile:
    column: str
    value: str
    profile: ReferenceProfile


@dataclass(frozen=True, eq=False)
class ReferenceProfile:
    code_version: str
    schema: ProfileSchema
    n_rows: int
    features: tuple[FeatureProfile, ...]
    segments: tuple[SegmentProfile, ...]
    segment_min_size: int
    settings: Mapping[str, int]

    def feature(self, name: str) -> FeatureProfile:
        for f in self.features:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def holds_raw_values(self) -> bool:
        """True when any value taken from the data is stored (sorted columns, labels, tokens).

        Deliberately conservative: only a profile of boolean features alone holds none.
        """
        profiles = [self, *(s.profile for s in self.segments)]
        for profile in profiles:
            for feature in profile.features:
                if feature.spec.kind == "boolean":
                    continue
                for component in feature.components.values():
                    if isinstance(component, ContinuousProfile) and component.n > 0:
                        return True
                    if (
                        isinstance(component, DiscreteProfile)
                        and feature.spec.kind
                        in (
                            "categorical",
                            "text",
                        )
                        and component.labels
                    ):
                        return True
        return False

    def to_bytes(self) -> bytes:
        arrays: dict[str, npt.NDArray[Any]] = {}
        header = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "holds_raw_values": self.holds_raw_values,
            **_profile_header(self, "", arrays),
        }
        return _write_zip(header, arrays)

    @classmethod
    def from_bytes(cls, data: bytes) -> ReferenceProfile:
        header, arrays = _read_zip(data)
        if header.get("format") != FORMAT_NAME or header.get("format_version") != FORMAT_VERSION:
            raise ProfileFormatError(f"not a reference profile of format {FORMAT_NAME} v{FORMAT_VERSION}")
        return _profile_from_header(header, arrays)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()


# --- building ------------------------------------------------------------------------------


def build_reference_profile(
    columns: Mapping[str, Any],
    schema: ProfileSchema,
    *,
    segment_min_size: int = 200,
    max_categories: int = 1_000,
    n_psi_bins: int = 10,
    text_top_tokens: int = 100,
) -> ReferenceProfile:
    """Profile a reference batch (one array per schema feature, all of the same length)."""
    if segment_min_size < 1 or max_categories < 1 or text_top_tokens < 1 or n_psi_bins < 2:
        raise StatsConfigError(
            "segment_min_size, max_categories and text_top_tokens must be >= 1, n_psi_bins >= 2"
        )
    settings = {
        "max_categories": max_categories,
        "n_psi_bins": n_psi_bins,
        "text_top_tokens": text_top_tokens,
    }
    n_rows = _common_length(columns, schema, "reference")
    features = tuple(_feature_profile(spec, columns[spec.name], n_rows, settings) for spec in schema.features)
    segments: list[SegmentProfile] = []
    sub_schema = ProfileSchema(features=tuple(f for f in schema.features if not f.is_segment))
    for feature in features:
        if not feature.spec.is_segment:
            continue
        component = cast(DiscreteProfile, feature.primary)
        codes = _segment_codes(feature.spec, columns[feature.name], component)
        for code, label in enumerate(component.labels):
            if component.counts[code] < segment_min_size:
                continue
            rows = codes == code
            subset = {spec.name: np.asarray(columns[spec.name])[rows] for spec in sub_schema.features}
            sub_features = tuple(
                _feature_profile(spec, subset[spec.name], int(rows.sum()), settings)
                for spec in sub_schema.features
            )
            segments.append(
                SegmentProfile(
                    column=feature.name,
                    value=label,
                    profile=ReferenceProfile(
                        code_version=PROFILE_CODE_VERSION,
                        schema=sub_schema,
                        n_rows=int(rows.sum()),
                        features=sub_features,
                        segments=(),
                        segment_min_size=segment_min_size,
                        settings=settings,
                    ),
                )
            )
    return ReferenceProfile(
        code_version=PROFILE_CODE_VERSION,
        schema=schema,
        n_rows=n_rows,
        features=features,
        segments=tuple(segments),
        segment_min_size=segment_min_size,
        settings=settings,
    )


def _common_length(columns: Mapping[str, Any], schema: ProfileSchema, what: str) -> int:
    n_rows: int | None = None
    first = ""
    for spec in schema.features:
        if spec.name not in columns:
            raise StatsInputError(spec.name, f"is missing from the {what}; the schema lists it")
        length = len(columns[spec.name])
        if n_rows is None:
            n_rows, first = length, spec.name
        elif length != n_rows:
            raise StatsInputError(spec.name, f"has {length} rows but column `{first}` has {n_rows}")
    return n_rows or 0


def _segment_codes(spec: FeatureSpec, values: Any, component: DiscreteProfile) -> IntArray:
    if spec.kind == "boolean":
        flags = col.boolean_values(spec.name, values)
        return np.where(np.isnan(flags), col.MISSING, flags).astype(np.int64)
    return col.categorical_codes(spec.name, values, component.lookup, component.unseen_code).codes


def continuous_profile(
    values: FloatArray, *, spec_edges: tuple[float, ...] | None = None, n_bins: int = 10
) -> ContinuousProfile:
    present = values[~np.isnan(values)]
    ordered = np.sort(present)
    n = ordered.size
    if spec_edges is not None:
        edges = np.unique(np.asarray(spec_edges, dtype=np.float64))
    else:
        edges = decile_edges(ordered, n_bins)
    return ContinuousProfile(
        sorted_values=_frozen(ordered),
        n_missing=int(values.size - n),
        mean=float(ordered.mean()) if n else None,
        std=float(ordered.std()) if n else None,
        minimum=float(ordered[0]) if n else None,
        maximum=float(ordered[-1]) if n else None,
        psi_edges=_frozen(edges),
        psi_counts=_frozen(bin_counts(ordered, edges)),
        bins_source="spec" if spec_edges is not None else "deciles",
    )


def discrete_profile(
    counts: Mapping[str, int], n_missing: int, *, keep: int, always: tuple[str, ...] = ()
) -> DiscreteProfile:
    """Labels sorted; beyond ``keep`` categories the most frequent are kept (ties by label)."""
    full = dict(counts)
    for label in always:
        full.setdefault(label, 0)
    n_distinct = sum(1 for c in full.values() if c > 0)
    truncated = len(full) > keep
    if truncated:
        forced = set(always)
        ranked = sorted(full.items(), key=lambda item: (item[0] not in forced, -item[1], item[0]))
        kept = dict(ranked[: max(keep, len(forced))])
    else:
        kept = full
    labels = tuple(sorted(kept))
    return DiscreteProfile(
        labels=labels,
        counts=_frozen(np.array([kept[label] for label in labels], dtype=np.int64)),
        other_count=int(sum(full.values()) - sum(kept.values())),
        truncated=truncated,
        n_distinct=n_distinct,
        n_missing=n_missing,
    )


def _feature_profile(
    spec: FeatureSpec, values: Any, n_rows: int, settings: Mapping[str, int]
) -> FeatureProfile:
    components: dict[str, Component] = {}
    n_out_of_range: int | None = None
    n_bins = settings["n_psi_bins"]
    if spec.kind == "numeric":
        numbers = col.numeric_values(spec.name, values)
        components["value"] = continuous_profile(numbers, spec_edges=spec.psi_bins, n_bins=n_bins)
        n_out_of_range = _out_of_range(spec, numbers)
    elif spec.kind == "categorical":
        counts, missing = col.categorical_counts(spec.name, values)
        components["value"] = discrete_profile(
            counts, missing, keep=settings["max_categories"], always=spec.categories or ()
        )
        if spec.categories is not None:
            allowed = set(spec.categories)
            n_out_of_range = sum(c for label, c in counts.items() if label not in allowed)
    elif spec.kind == "boolean":
        flags = col.boolean_values(spec.name, values)
        n_true = int(np.count_nonzero(flags == 1.0))
        n_false = int(np.count_nonzero(flags == 0.0))
        components["value"] = DiscreteProfile(
            labels=("false", "true"),
            counts=_frozen(np.array([n_false, n_true], dtype=np.int64)),
            other_count=0,
            truncated=False,
            n_distinct=int(n_true > 0) + int(n_false > 0),
            n_missing=int(flags.size - n_true - n_false),
        )
    elif spec.kind == "datetime":
        value, time_of_day, weekday = col.datetime_parts(col.datetime_ns(spec.name, values))
        components["value"] = continuous_profile(value, n_bins=n_bins)
        components["time_of_day"] = continuous_profile(time_of_day, n_bins=n_bins)
        missing = int(np.count_nonzero(weekday == col.MISSING))
        day_counts = np.bincount(weekday[weekday >= 0], minlength=7)
        components["day_of_week"] = DiscreteProfile(
            labels=col.DAY_NAMES,
            counts=_frozen(day_counts.astype(np.int64)),
            other_count=0,
            truncated=False,
            n_distinct=int(np.count_nonzero(day_counts)),
            n_missing=missing,
        )
        n_out_of_range = _out_of_range(spec, value)
    else:  # text
        lengths, tokens = col.text_parts(spec.name, values)
        components["length"] = continuous_profile(lengths, n_bins=n_bins)
        token_counts: Counter[str] = Counter()
        for row_tokens in tokens:
            token_counts.update(row_tokens)
        components["tokens"] = discrete_profile(
            token_counts, int(np.isnan(lengths).sum()), keep=settings["text_top_tokens"]
        )
    # the first component is row-level (a value, a length), so its missing count is the rows'
    missing_rows = next(iter(components.values())).n_missing
    return FeatureProfile(
        spec=spec,
        n_rows=n_rows,
        n_missing=missing_rows,
        n_out_of_range=n_out_of_range,
        components=components,
    )


def _out_of_range(spec: FeatureSpec, values: FloatArray) -> int | None:
    if spec.min_value is None and spec.max_value is None:
        return None
    bad = np.zeros(values.size, dtype=bool)
    if spec.min_value is not None:
        bad |= values < spec.min_value
    if spec.max_value is not None:
        bad |= values > spec.max_value
    return int(np.count_nonzero(bad))


# --- serialisation ---------------------------------------------------------------------------


def _profile_header(
    profile: ReferenceProfile, prefix: str, arrays: dict[str, npt.NDArray[Any]]
) -> dict[str, JSONValue]:
    features: list[JSONValue] = []
    for i, feature in enumerate(profile.features):
        components: list[JSONValue] = []
        for name, component in feature.components.items():
            key = f"{prefix}f{i}.{name}"
            if isinstance(component, ContinuousProfile):
                arrays[f"{key}.sorted"] = component.sorted_values
                arrays[f"{key}.edges"] = component.psi_edges
                arrays[f"{key}.psi_counts"] = component.psi_counts
                components.append(
                    {
                        "name": name,
                        "type": "continuous",
                        "n_missing": component.n_missing,
                        "mean": component.mean,
                        "std": component.std,
                        "minimum": component.minimum,
                        "maximum": component.maximum,
                        "bins_source": component.bins_source,
                    }
                )
            else:
                arrays[f"{key}.counts"] = component.counts
                components.append(
                    {
                        "name": name,
                        "type": "discrete",
                        "labels": list(component.labels),
                        "other_count": component.other_count,
                        "truncated": component.truncated,
                        "n_distinct": component.n_distinct,
                        "n_missing": component.n_missing,
                    }
                )
        features.append(
            {
                "name": feature.name,
                "n_rows": feature.n_rows,
                "n_missing": feature.n_missing,
                "n_out_of_range": feature.n_out_of_range,
                "components": components,
            }
        )
    segments: list[JSONValue] = [
        {
            "column": s.column,
            "value": s.value,
            "profile": _profile_header(s.profile, f"{prefix}s{j}/", arrays),
        }
        for j, s in enumerate(profile.segments)
    ]
    return {
        "code_version": profile.code_version,
        "schema": profile.schema.as_dict(),
        "n_rows": profile.n_rows,
        "segment_min_size": profile.segment_min_size,
        "settings": dict(profile.settings),
        "features": features,
        "segments": segments,
    }


def _write_zip(header: Mapping[str, JSONValue], arrays: Mapping[str, npt.NDArray[Any]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        text = json.dumps(header, sort_keys=True, separators=(",", ":"), allow_nan=False)
        archive.writestr(_zip_info("header.json"), text.encode("utf-8"))
        for name in sorted(arrays):
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(arrays[name]), allow_pickle=False)
            archive.writestr(_zip_info(f"{name}.npy"), member.getvalue())
    return buffer.getvalue()


def _zip_info(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
    info.create_system = 3
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def _read_zip(data: bytes) -> tuple[dict[str, Any], dict[str, npt.NDArray[Any]]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            header = json.loads(archive.read("header.json").decode("utf-8"))
            arrays: dict[str, npt.NDArray[Any]] = {}
            for name in archive.namelist():
                if not name.endswith(".npy"):
                    continue
                with archive.open(name) as member:
                    arrays[name[:-4]] = np.lib.format.read_array(member, allow_pickle=False)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ProfileFormatError(f"unreadable reference profile: {exc}") from exc
    if not isinstance(header, dict):
        raise ProfileFormatError("profile header is not a JSON object")
    return header, arrays


def _profile_from_header(
    header: Mapping[str, Any], arrays: Mapping[str, npt.NDArray[Any]], prefix: str = ""
) -> ReferenceProfile:
    try:
        schema = ProfileSchema.from_dict(header["schema"])
        settings = {k: int(v) for k, v in header["settings"].items()}
        features = []
        for i, (spec, data) in enumerate(zip(schema.features, header["features"], strict=True)):
            components: dict[str, Component] = {}
            for c in data["components"]:
                key = f"{prefix}f{i}.{c['name']}"
                if c["type"] == "continuous":
                    components[c["name"]] = ContinuousProfile(
                        sorted_values=_frozen(arrays[f"{key}.sorted"].astype(np.float64)),
                        n_missing=int(c["n_missing"]),
                        mean=c["mean"],
                        std=c["std"],
                        minimum=c["minimum"],
                        maximum=c["maximum"],
                        psi_edges=_frozen(arrays[f"{key}.edges"].astype(np.float64)),
                        psi_counts=_frozen(arrays[f"{key}.psi_counts"].astype(np.int64)),
                        bins_source=c["bins_source"],
                    )
                else:
                    components[c["name"]] = DiscreteProfile(
                        labels=tuple(c["labels"]),
                        counts=_frozen(arrays[f"{key}.counts"].astype(np.int64)),
                        other_count=int(c["other_count"]),
                        truncated=bool(c["truncated"]),
                        n_distinct=int(c["n_distinct"]),
                        n_missing=int(c["n_missing"]),
                    )
            features.append(
                FeatureProfile(
                    spec=spec,
                    n_rows=int(data["n_rows"]),
                    n_missing=int(data["n_missing"]),
                    n_out_of_range=data["n_out_of_range"],
                    components=components,
                )
            )
        segments = tuple(
            SegmentProfile(
                column=s["column"],
                value=s["value"],
                profile=_profile_from_header(s["profile"], arrays, f"{prefix}s{j}/"),
            )
            for j, s in enumerate(header["segments"])
        )
        return ReferenceProfile(
            code_version=str(header["code_version"]),
            schema=schema,
            n_rows=int(header["n_rows"]),
            features=tuple(features),
            segments=segments,
            segment_min_size=int(header["segment_min_size"]),
            settings=settings,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ProfileFormatError(f"reference profile is incomplete or malformed: {exc}") from exc
