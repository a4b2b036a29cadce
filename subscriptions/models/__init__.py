from .lifecycle_run import LifecycleRun
from .proposal import Proposal, ProposalLine, ProposalStatus
from .subscription import AppsSort, BoughtVia, Subscription, SubscriptionQuerySet

__all__ = [
    "AppsSort",
    "BoughtVia",
    "LifecycleRun",
    "Proposal",
    "ProposalLine",
    "ProposalStatus",
    "Subscription",
    "SubscriptionQuerySet",
]
