"""Commands the domain refuses. Each leaves the state exactly as it was."""


class CampaignError(Exception):
    """A command that cannot apply to the campaign in its current state."""


class NoCampaign(CampaignError):
    """The trading range has no campaign yet (no entry was approved)."""


class CampaignClosed(CampaignError):
    """The campaign is COMPLETED or INVALIDATED; nothing moves it out of there."""


class InvalidTransition(CampaignError):
    """The requested status change is not one an operator may make."""


class VersionConflict(CampaignError):
    """The caller's version is not the campaign's current version."""


class UnknownOrder(CampaignError):
    """A fill names an order this campaign never placed."""


class Overfill(CampaignError):
    """A fill for more than the order has left."""


class WrongSymbol(CampaignError):
    """A price update for a symbol this campaign does not trade."""
