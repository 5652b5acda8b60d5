"""The engine's data converter writes exactly what temporalio's pydantic converter writes, and
its instances (one per activation and per context) share their TypeAdapters."""

from typing import Any

import pytest
from temporalio.contrib.pydantic import pydantic_data_converter

from campaign_engine.domain.plans import AllocationPlan
from campaign_engine.domain.state import CampaignState
from campaign_engine.domain.vocabulary import Pattern
from campaign_engine.temporal.converter import _PYDANTIC_JSON, data_converter
from campaign_engine.testing.builders import Book, signal


def _campaign() -> tuple[CampaignState, AllocationPlan]:
    book = Book()
    plan = book.submit(signal(Pattern.SPRING))
    return book.state, plan


@pytest.mark.parametrize("pick", [0, 1], ids=["CampaignState", "AllocationPlan"])
def test_payloads_are_the_stock_converters_and_round_trip(pick: int) -> None:
    value: Any = _campaign()[pick]
    ours = data_converter.payload_converter.to_payloads([value])
    stock = pydantic_data_converter.payload_converter.to_payloads([value])
    assert ours == stock
    back = data_converter.payload_converter.from_payloads(stock, [type(value)])
    assert back == [value]


def test_new_converters_reuse_the_type_adapters_built_before() -> None:
    state, _ = _campaign()
    payloads = data_converter.payload_converter.to_payloads([state])
    data_converter.payload_converter.from_payloads(payloads, [CampaignState])
    before = _PYDANTIC_JSON._type_adapter.cache_info()
    fresh = data_converter.payload_converter_class()  # as temporalio makes per activation
    assert fresh.from_payloads(payloads, [CampaignState]) == [state]
    after = _PYDANTIC_JSON._type_adapter.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
