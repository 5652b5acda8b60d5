"""How long a bar of a timeframe lasts, so that counts of bars become market time. The parsing
lives with the ``Timeframe`` type (``domain.types``), which also bounds a bar's length."""

from campaign_engine.domain.types import bar_length

__all__ = ["bar_length"]
