"""Fleetwatch's statistics engine: numpy arrays in, frozen dataclasses out.

No Django, no I/O. See docs/stats.md for the methods, tolerances and thresholds.
"""

from monitors.stats.binning import bin_counts, decile_edges
from monitors.stats.categorical import (
    chi2_homogeneity,
    fisher_exact_test,
    total_variation,
    two_proportion_z_test,
)
from monitors.stats.check import STATS_CODE_VERSION, run_univariate_check
from monitors.stats.config import DEFAULT_THRESHOLDS, DriftConfig, FeatureOverride, auto_test
from monitors.stats.correction import adjust_p_values
from monitors.stats.distances import (
    energy_distance_test,
    hellinger_distance,
    jensenshannon_distance,
    kl_divergence,
    psi,
    psi_band,
    wasserstein_normalised,
)
from monitors.stats.errors import (
    ProfileFormatError,
    StatsConfigError,
    StatsError,
    StatsInputError,
)
from monitors.stats.ks import ks_statistic, ks_statistics, ks_test
from monitors.stats.profile import (
    PROFILE_CODE_VERSION,
    ReferenceProfile,
    build_reference_profile,
)
from monitors.stats.rank_tests import anderson_ksamp_test, cramervonmises_test
from monitors.stats.results import (
    DataQualityResult,
    DriftShare,
    FeatureDriftResult,
    Finding,
    ResultBase,
    RowCountResult,
    SegmentResult,
    TestResult,
    UnivariateCheckResult,
)
from monitors.stats.schema import FeatureSpec, ProfileSchema

__all__ = [
    "DEFAULT_THRESHOLDS",
    "PROFILE_CODE_VERSION",
    "STATS_CODE_VERSION",
    "DataQualityResult",
    "DriftConfig",
    "DriftShare",
    "FeatureDriftResult",
    "FeatureOverride",
    "FeatureSpec",
    "Finding",
    "ProfileFormatError",
    "ProfileSchema",
    "ReferenceProfile",
    "ResultBase",
    "RowCountResult",
    "SegmentResult",
    "StatsConfigError",
    "StatsError",
    "StatsInputError",
    "TestResult",
    "UnivariateCheckResult",
    "adjust_p_values",
    "anderson_ksamp_test",
    "auto_test",
    "bin_counts",
    "build_reference_profile",
    "chi2_homogeneity",
    "cramervonmises_test",
    "decile_edges",
    "energy_distance_test",
    "fisher_exact_test",
    "hellinger_distance",
    "jensenshannon_distance",
    "kl_divergence",
    "ks_statistic",
    "ks_statistics",
    "ks_test",
    "psi",
    "psi_band",
    "run_univariate_check",
    "total_variation",
    "two_proportion_z_test",
    "wasserstein_normalised",
]
