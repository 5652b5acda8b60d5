"""How many campaign runs the worker keeps in memory is configured, and checked."""

import pytest

from campaign_engine.runtime.settings import (
    WORKFLOW_CACHE_SIZE,
    WORKFLOW_TASK_SLOTS,
    SettingsError,
    load_settings,
)


def test_the_workflow_cache_is_sized_for_ten_thousand_campaigns_unless_configured() -> None:
    assert load_settings({}).workflow_cache_size == WORKFLOW_CACHE_SIZE == 10_000
    assert load_settings({"CAMPAIGNS_WORKFLOW_CACHE": "2500"}).workflow_cache_size == 2500
    assert load_settings({"CAMPAIGNS_WORKFLOW_CACHE": "0"}).workflow_cache_size == 0


def test_a_negative_or_unreadable_cache_size_names_its_variable() -> None:
    for value in ("-1", "many"):
        with pytest.raises(SettingsError, match="CAMPAIGNS_WORKFLOW_CACHE"):
            load_settings({"CAMPAIGNS_WORKFLOW_CACHE": value})


def test_workflow_tasks_at_once_are_configured_and_at_least_one() -> None:
    assert load_settings({}).workflow_task_slots == WORKFLOW_TASK_SLOTS
    assert load_settings({"CAMPAIGNS_WORKFLOW_TASKS": "8"}).workflow_task_slots == 8
    for value in ("0", "few"):
        with pytest.raises(SettingsError, match="CAMPAIGNS_WORKFLOW_TASKS"):
            load_settings({"CAMPAIGNS_WORKFLOW_TASKS": value})
