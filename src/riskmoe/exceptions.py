"""The riskmoe error tree.

Every error the package raises on purpose derives from :class:`RiskMoEError`, so a
caller can catch the whole family in one place; the doors (CLI, API) turn these into
a specific message and exit code 2 / HTTP 4xx instead of a stack trace.

::

    RiskMoEError
    ├── ConfigError            settings that are missing, contradictory or unsafe
    ├── DataError              data that cannot be used as given
    │   ├── DatasetNotFoundError   unknown dataset name or a source that cannot be located
    │   ├── DataFormatError        unreadable, truncated or wrongly formatted file
    │   └── SchemaError            wrong columns or dtypes for a contract
    ├── StoreError             the DuckDB store refused an operation (nothing was written)
    ├── NotFittedError         a fitted attribute was read before ``fit`` (also a ValueError,
    │                          as scikit-learn's is, so sklearn's checks recognise it)
    ├── ResolutionError        a name or question that cannot be resolved
    └── AuthError              a missing, revoked or under-privileged credential

Warnings: :class:`DataQualityWarning` for data that is usable but suspicious.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "AuthError",
    "ConfigError",
    "DataError",
    "DataFormatError",
    "DataQualityWarning",
    "DatasetNotFoundError",
    "NotFittedError",
    "ResolutionError",
    "RiskMoEError",
    "SchemaError",
    "StoreError",
]


class RiskMoEError(Exception):
    """Base class of every error riskmoe raises on purpose."""


class ConfigError(RiskMoEError, ValueError):
    """Settings are missing, contradictory or unsafe."""


class DataError(RiskMoEError, ValueError):
    """Data cannot be used as given."""


class DatasetNotFoundError(DataError, LookupError):
    """An unknown dataset name, or a dataset whose files cannot be located."""


class DataFormatError(DataError):
    """A file that cannot be read: wrong format, truncated, bad encoding."""


class SchemaError(DataError):
    """Columns or dtypes that break a schema contract."""


class StoreError(RiskMoEError):
    """The store refused an operation; the store is left as it was."""


class NotFittedError(RiskMoEError, _SklearnNotFittedError):
    """A fitted attribute was used before ``fit``."""


class ResolutionError(RiskMoEError, ValueError):
    """A name or question that cannot be resolved to an entity."""


class AuthError(RiskMoEError):
    """A missing, revoked or under-privileged credential."""


class DataQualityWarning(UserWarning):
    """Data that is usable but suspicious (sentinels, duplicates, empty columns)."""
