"""Commands the domain refuses. Each leaves the state exactly as it was.

``Refusal`` is the one vocabulary of refusals: the workflow raises it as the failure type of an
update, the client turns it back into the enum, and the API answers with the HTTP status the
enum's member is mapped to. Renaming an exception class changes none of them.
"""

from enum import StrEnum
from typing import ClassVar


class Refusal(StrEnum):
    """Why a campaign refused a command. The values are the failure types on the wire."""

    NO_CAMPAIGN = "NoCampaign"
    CAMPAIGN_CLOSED = "CampaignClosed"
    INVALID_TRANSITION = "InvalidTransition"
    VERSION_CONFLICT = "VersionConflict"
    INVALID_COMMAND = "InvalidCommand"
    """The command does not apply to this campaign (an unknown order, another symbol...)."""
    REFUSED = "Refused"
    """Temporal refused the request before the campaign saw it (e.g. the update validator
    of a workflow this client does not know, or a payload that did not parse)."""

    @classmethod
    def of(cls, failure_type: str | None) -> "Refusal":
        """The refusal a failure type names; anything else is a plain refusal."""
        try:
            return cls(failure_type or "")
        except ValueError:
            return cls.REFUSED


class CampaignError(Exception):
    """A command that cannot apply to the campaign in its current state."""

    refusal: ClassVar[Refusal] = Refusal.INVALID_COMMAND


class NoCampaign(CampaignError):
    """The trading range has no campaign yet (no entry was approved)."""

    refusal = Refusal.NO_CAMPAIGN


class CampaignClosed(CampaignError):
    """The campaign is COMPLETED or INVALIDATED; nothing moves it out of there."""

    refusal = Refusal.CAMPAIGN_CLOSED


class InvalidTransition(CampaignError):
    """The requested status change is not one an operator may make."""

    refusal = Refusal.INVALID_TRANSITION


class VersionConflict(CampaignError):
    """The caller's version is not the campaign's current version."""

    refusal = Refusal.VERSION_CONFLICT


class UnknownOrder(CampaignError):
    """A fill names an order this campaign never placed."""


class Overfill(CampaignError):
    """A fill for more than the order has left."""


class WrongSymbol(CampaignError):
    """A price update for a symbol this campaign does not trade."""
