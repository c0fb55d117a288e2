"""The fitted-state cache: what a stage fits from a reference artefact (a scaler, encoders, a
calibrator, a PCA) is fitted once per reference and stored, never refitted per night.

``fitted_state(artefact, fitter)`` returns the fitter's ``FittedParams`` for the artefact: read
from storage when a ``FittedState`` row exists for (artefact sha256, fitter name, fitter
version), else fitted, stored by its own sha256 (npz with a JSON header, no pickle) and recorded.
A new fitter version fits afresh; the old state stays until its artefact is purged, and
retention purges every state of a purged artefact with it. Fitters are plain objects
(``monitors.stats.fitted.Fitter``): ``name``, ``version``, ``fit(artefact) -> FittedParams``.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction

from monitors.models import FittedState, ReferenceArtefact
from monitors.storage import fitted_name, open_stored, store_bytes

if TYPE_CHECKING:
    from monitors.artefacts import StoredArtefact
    from monitors.stats.fitted import FittedParams, Fitter


class ArtefactPurged(Exception):
    """The artefact was purged under retention: nothing may be fitted from it any more."""


def fitted_state(artefact: StoredArtefact, fitter: Fitter) -> FittedParams:
    from monitors.stats.fitted import FittedParams

    row = FittedState.objects.filter(
        artefact_sha256=artefact.sha256, fitter=fitter.name, fitter_version=fitter.version
    ).first()
    if row is not None and row.purged_at is None:
        with open_stored(row.storage_name) as handle:
            return FittedParams.from_bytes(handle.read())
    owner = ReferenceArtefact.objects.select_related("batch__model").get(pk=artefact.row_id)
    if owner.purged_at is not None or row is not None:
        raise ArtefactPurged(f"reference artefact {artefact.sha256} was purged under retention")
    params = fitter.fit(artefact.artefact)
    data = params.to_bytes(fitter=fitter.name, version=fitter.version)
    sha = hashlib.sha256(data).hexdigest()
    name = fitted_name(model_uid=owner.batch.model.uid, state_sha256=sha)
    try:
        with transaction.atomic():
            store_bytes(name, data)
            FittedState.objects.create(
                artefact=owner,
                artefact_sha256=artefact.sha256,
                fitter=fitter.name,
                fitter_version=fitter.version,
                storage_name=name,
                state_sha256=sha,
                state_bytes=len(data),
            )
    except IntegrityError:
        pass  # fitted at the same moment by another worker; what it stored is used next time
    return FittedParams.from_bytes(data)
