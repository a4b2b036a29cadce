"""Every write to subscriptions: one function per use case (ARCHITECTURE.md).

`transitions`: the status moves, one service each. `purchase`: buying. `changes`: what
admins change on a subscription that is not a status (licenses, billing profile,
auto-renew, name). `handoff`: the marketplace token for the publisher's portal. Views,
tasks, commands and the API call these same functions.
"""

from .changes import (
    QuantityQuote,
    change_waiting,
    plan_change_refusal,
    quantity_quote,
    subscription_change_billing_profile,
    subscription_change_plan,
    subscription_change_quantity,
    subscription_rename,
    subscription_set_auto_renew,
)
from .common import ChangeRefused
from .confirm import OperationRefused, changes_confirm_silent, operation_answer, quantity_notice
from .handoff import (
    landing_url,
    marketplace_token_issue,
    marketplace_tokens_purge,
    subscription_for_marketplace_token,
)
from .operations import operation_record
from .proposals import ProposalRefused, proposal_accept, proposal_decline
from .purchase import PurchaseRefused, subscription_buy
from .transitions import (
    AFTER_RENEWAL_CREDIT,
    FIRST_TERM_FULL_CREDIT,
    CancelQuote,
    NotDue,
    cancel_quote,
    subscription_activate,
    subscription_cancel,
    subscription_disable_for_non_payment,
    subscription_expire,
    subscription_reinstate,
    subscription_renew,
    subscription_suspend,
)

__all__ = [
    "AFTER_RENEWAL_CREDIT",
    "FIRST_TERM_FULL_CREDIT",
    "CancelQuote",
    "ChangeRefused",
    "NotDue",
    "OperationRefused",
    "ProposalRefused",
    "PurchaseRefused",
    "QuantityQuote",
    "cancel_quote",
    "change_waiting",
    "changes_confirm_silent",
    "landing_url",
    "marketplace_token_issue",
    "marketplace_tokens_purge",
    "operation_answer",
    "operation_record",
    "plan_change_refusal",
    "proposal_accept",
    "proposal_decline",
    "quantity_notice",
    "quantity_quote",
    "subscription_activate",
    "subscription_buy",
    "subscription_cancel",
    "subscription_change_billing_profile",
    "subscription_change_plan",
    "subscription_change_quantity",
    "subscription_disable_for_non_payment",
    "subscription_expire",
    "subscription_for_marketplace_token",
    "subscription_reinstate",
    "subscription_rename",
    "subscription_renew",
    "subscription_set_auto_renew",
    "subscription_suspend",
]
