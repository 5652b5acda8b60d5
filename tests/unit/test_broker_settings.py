"""Which broker the environment picks (``BROKER``) and the simulated broker's ``SIM_*``."""

from decimal import Decimal

import pytest

from campaign_engine.runtime.settings import SettingsError, load_settings

D = Decimal


def test_the_paper_broker_is_the_default() -> None:
    settings = load_settings({})
    assert settings.broker == "paper"
    assert settings.sim.fill_fraction == D(1)


def test_the_simulated_broker_reads_its_settings() -> None:
    settings = load_settings(
        {
            "BROKER": " Sim ",
            "SIM_FILL_FRACTION": "0.25",
            "SIM_QUANTITY_STEP": "0.5",
            "SIM_BUYING_POWER": "50000",
            "SIM_REJECT_RATE": "0.05",
            "SIM_SEED": "scenario-7",
        }
    )
    assert settings.broker == "sim"
    sim = settings.sim
    assert (sim.fill_fraction, sim.quantity_step, sim.buying_power) == (
        D("0.25"),
        D("0.5"),
        D(50000),
    )
    assert (sim.reject_rate, sim.seed) == (D("0.05"), "scenario-7")


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"BROKER": "ib"}, "BROKER: Input should be 'paper', 'sim' or 'alpaca'"),
        ({"SIM_FILL_FRACTION": "0"}, "SIM_FILL_FRACTION: Input should be greater than 0"),
        ({"SIM_FILL_FRACTION": "half"}, "SIM_FILL_FRACTION: Input should be a valid decimal"),
        ({"SIM_BUYING_POWER": "-5"}, "SIM_BUYING_POWER: Input should be greater than 0"),
        ({"SIM_REJECT_RATE": "2"}, "SIM_REJECT_RATE: Input should be less than or equal to 1"),
    ],
)
def test_a_bad_setting_is_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError) as error:
        load_settings(environ)
    assert str(error.value) == f"invalid configuration: {message}"


def test_every_bad_setting_is_named_at_once() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"SIM_REJECT_RATE": "-1", "BROKER": "live"})
    assert str(error.value) == (
        "invalid configuration: SIM_REJECT_RATE: Input should be greater than or equal to 0; "
        "BROKER: Input should be 'paper', 'sim' or 'alpaca'"
    )
