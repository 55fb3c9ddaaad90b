"""Dataset loaders; importing this package registers every dataset."""

from riskmoe.data.loaders import (  # noqa: F401
    cn_corporate,
    cn_distress,
    credit,
    market,
    text,
)
