from .proposal import Proposal, ProposalLine, ProposalStatus
from .subscription import AppsSort, BoughtVia, Subscription, SubscriptionQuerySet

__all__ = [
    "AppsSort",
    "BoughtVia",
    "Proposal",
    "ProposalLine",
    "ProposalStatus",
    "Subscription",
    "SubscriptionQuerySet",
]
