"""Scoring records (field -> value mappings) with a fitted classifier, for a service.

:meth:`MoERiskClassifier.predict_proba` takes a frame: building and encoding a one-row
frame costs milliseconds, several times the network itself. :class:`RecordScorer` keeps
what is fixed per model (a :class:`~riskmoe.features.records.RecordEncoder` over the
fitted encoder, the network in eval mode on its configured dispatch path, the
calibrator) and runs each call as encode -> one forward pass under
``torch.inference_mode`` -> calibrate. The forward pass and the calibrator are the
model's own, on the same chunks of rows, so a batch gets the same probabilities as
``predict_proba`` on the frame of the same records, bit for bit (the tests check it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from riskmoe.features import EncodedFrame
from riskmoe.features.records import RecordEncoder
from riskmoe.models.moe._base import scoring_chunk
from riskmoe.models.moe._network import MoENetwork

if TYPE_CHECKING:
    from riskmoe.models.moe._estimator import MoERiskClassifier

__all__ = ["RecordScorer"]


class RecordScorer:
    """Calibrated default probabilities of records, without a DataFrame.

    Parameters
    ----------
    model : MoERiskClassifier
        A fitted classifier. Its network is put in eval mode and on its ``dispatch``
        path once, here, as ``predict_proba`` does on every call.

    Raises
    ------
    NotFittedError
        If ``model`` is not fitted.

    Examples
    --------
    >>> import pandas as pd
    >>> from riskmoe.models import MoERiskClassifier
    >>> X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0] * 10, "c": ["a", "b"] * 20})
    >>> y = [0, 0, 1, 1] * 10
    >>> model = MoERiskClassifier(max_epochs=2, n_ensemble=1, random_state=0).fit(X, y)
    >>> scorer = RecordScorer(model)
    >>> p = scorer.predict_proba([{"x": 2.5, "c": "a"}])
    >>> bool(p[0] == model.predict_proba(pd.DataFrame({"x": [2.5], "c": ["a"]}))[0, 1])
    True
    """

    def __init__(self, model: MoERiskClassifier) -> None:
        model._check_fitted()
        self.model = model
        self.encoder = RecordEncoder(model.encoder_)
        #: the fields a record needs, in training order
        self.features: tuple[str, ...] = self.encoder.columns
        module = model.module_
        for member in module.members:
            assert isinstance(member, MoENetwork)
            member.dispatch = model.dispatch
        self._module = module.eval()
        self._chunk = scoring_chunk(module.members[0])
        self._calibrator = model.calibrator_

    def encode(self, records: Sequence[Mapping[str, Any]]) -> EncodedFrame:
        """The encoder's arrays for ``records`` (see :class:`RecordEncoder`)."""
        return self.encoder.encode(records)

    def logits(self, encoded: EncodedFrame) -> np.ndarray:
        """Raw default-task logits of encoded rows, float64 of shape (n_rows,)."""
        numeric = torch.from_numpy(np.ascontiguousarray(encoded.numeric, dtype=np.float32))
        missing = torch.from_numpy(np.ascontiguousarray(encoded.missing, dtype=np.float32))
        categorical = torch.from_numpy(np.ascontiguousarray(encoded.categorical, dtype=np.int64))
        n = int(numeric.shape[0])
        if n == 0:
            return np.empty(0, dtype=np.float64)
        parts = []
        with torch.inference_mode():
            # the chunks predict_proba uses: a row's logit may differ in the last bits
            # with the rows it is batched with, so batch exactly as it does
            for start in range(0, n, self._chunk):
                stop = min(start + self._chunk, n)
                out = self._module(
                    numeric[start:stop], missing[start:stop], categorical[start:stop], [0]
                )
                parts.append(out.logits.double().numpy()[:, 0])
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    def predict_proba(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Calibrated default probabilities, float64 of shape (n_records,).

        Raises
        ------
        SchemaError
            A record lacks a training field, holds text in a numeric field or a value
            the encoder cannot use (the messages of :meth:`TabularEncoder.transform`).
        """
        p = self._calibrator.transform(self.logits(self.encode(records)))
        return np.asarray(p, dtype=np.float64)
