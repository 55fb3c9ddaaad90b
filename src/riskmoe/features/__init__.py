"""Features: expert views (feature groups) and the numeric / categorical encodings.

The encoder (:class:`TabularEncoder`) turns a raw frame into arrays with a JSON state; the
embedding modules (:class:`FeatureEmbedding`) turn those arrays into one token per column.
"""

from riskmoe.features.embeddings import (
    CategoricalEmbedding,
    FeatureEmbedding,
    NumericEmbeddingKind,
    PeriodicEmbedding,
    PiecewiseLinearEmbedding,
)
from riskmoe.features.encoder import (
    MISSING_INDEX,
    UNSEEN_INDEX,
    CategoricalColumn,
    EncodedFrame,
    NumericColumn,
    TabularEncoder,
)
from riskmoe.features.groups import (
    FeatureGroup,
    FeatureGroupsSpec,
    infer_feature_groups,
    resolve_feature_groups,
)
from riskmoe.features.records import RecordEncoder

__all__ = [
    "MISSING_INDEX",
    "UNSEEN_INDEX",
    "CategoricalColumn",
    "CategoricalEmbedding",
    "EncodedFrame",
    "FeatureEmbedding",
    "FeatureGroup",
    "FeatureGroupsSpec",
    "NumericColumn",
    "NumericEmbeddingKind",
    "PeriodicEmbedding",
    "PiecewiseLinearEmbedding",
    "RecordEncoder",
    "TabularEncoder",
    "infer_feature_groups",
    "resolve_feature_groups",
]
