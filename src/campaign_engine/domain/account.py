"""The broker's account keeps one position per symbol; the engine keeps one per campaign.

When the account holds fewer shares of a symbol than the campaigns on it claim, the shares
missing are taken from the campaigns opened last: each campaign may count on what the account
holds beyond the open shares of the campaigns opened before it (by creation, then id). Every
campaign's share is computed from the same reading, so two campaigns never both book the same
missing shares, and the campaign a trader most likely sold by hand (the latest) books them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

_NONE = Decimal(0)


@dataclass(frozen=True, slots=True)
class Claim:
    """A campaign's open shares of the symbol, as persisted at ``revision``."""

    campaign_id: str
    created_at: datetime
    revision: int
    open_shares: Decimal

    def opened_before(self) -> tuple[datetime, bytes]:
        """The campaigns' order: by creation, then id compared as bytes (as the database's
        ``COLLATE "C"`` does), whatever order they are given in."""
        return (self.created_at, self.campaign_id.encode())


@dataclass(frozen=True, slots=True)
class Share:
    claim: Claim
    available: Decimal
    """What the account holds that this campaign may count as its own."""

    @property
    def short(self) -> bool:
        return self.available < self.claim.open_shares


def apportion(held: Decimal, claims: Iterable[Claim]) -> tuple[Share, ...]:
    """Each campaign's share of the ``held`` shares of one symbol, in the order opened."""
    before = _NONE
    shares: list[Share] = []
    for claim in sorted(claims, key=Claim.opened_before):
        shares.append(Share(claim=claim, available=max(held - before, _NONE)))
        before += claim.open_shares
    return tuple(shares)


def claimed(claims: Iterable[Claim]) -> Decimal:
    return sum((c.open_shares for c in claims), _NONE)
