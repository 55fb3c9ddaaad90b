"""The real-data layer: dataset registry, readers and the DuckDB store."""

from riskmoe.data._dataset import Dataset, DatasetMeta, SourceFile
from riskmoe.data._registry import DatasetInfo, get_spec, list_datasets, load_dataset

__all__ = [
    "Dataset",
    "DatasetInfo",
    "DatasetMeta",
    "SourceFile",
    "get_spec",
    "list_datasets",
    "load_dataset",
]
