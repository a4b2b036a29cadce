from .lifecycle_run import LifecycleRun
from .marketplace_token import MarketplaceToken
from .notice import Notice, NoticeKind
from .operation import Operation, OperationAction, OperationSource, OperationStatus
from .proposal import Proposal, ProposalLine, ProposalStatus
from .subscription import AppsSort, BoughtVia, Subscription, SubscriptionQuerySet

__all__ = [
    "AppsSort",
    "BoughtVia",
    "LifecycleRun",
    "MarketplaceToken",
    "Notice",
    "NoticeKind",
    "Operation",
    "OperationAction",
    "OperationSource",
    "OperationStatus",
    "Proposal",
    "ProposalLine",
    "ProposalStatus",
    "Subscription",
    "SubscriptionQuerySet",
]
