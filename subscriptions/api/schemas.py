"""The Fulfillment API's JSON, in and out, as pydantic models with the wire's camelCase
names: one layer checks what comes in and shapes what goes out."""

import datetime
import re
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from publishers.models import MAX_SEATS


class Wire(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


# A plan id as the catalog spells them (a slug): nothing else can name a plan.
PLAN_ID = r"^[-a-zA-Z0-9_]+$"
# A quantity as a string of digits, as Microsoft's samples send it: 1 to MAX_SEATS.
SEATS_AS_TEXT = r"^([1-9][0-9]{0,3}|10000)$"
assert MAX_SEATS == 10_000, "SEATS_AS_TEXT spells the ceiling out"


def seats_from_text(value):
    """A quantity sent as digits ("5") is that number; "" is none (the purchase's)."""
    if value == "":
        return None
    if isinstance(value, str) and re.fullmatch(SEATS_AS_TEXT, value):
        return int(value)
    return value


class ActivateIn(Wire):
    """`POST .../activate`: the plan the publisher set up, and the quantity (the purchase's;
    absent, null or "" as some clients send it: the purchase's; digits as a string count as
    the number, as Microsoft's sample types it)."""

    plan_id: str = Field(min_length=1, max_length=50, pattern=PLAN_ID)
    quantity: StrictInt | None = Field(default=None, ge=1, le=MAX_SEATS)

    _quantity_as_text = field_validator("quantity", mode="before")(seats_from_text)


class PatchIn(Wire):
    """`PATCH subscriptions/{id}`: a new plan or a new quantity, never both."""

    plan_id: str | None = Field(default=None, min_length=1, max_length=50, pattern=PLAN_ID)
    quantity: StrictInt | None = Field(default=None, ge=1, le=MAX_SEATS)

    @model_validator(mode="after")
    def _one_of_them(self):
        if (self.plan_id is None) == (self.quantity is None):
            raise ValueError("give planId or quantity, not both")
        return self


class OperationPatchIn(Wire):
    """`PATCH .../operations/{id}`: the publisher's answer. planId and quantity may come
    along (Microsoft's sample sends the quantity as a string of digits): when they do, they
    must be the operation's."""

    status: Literal["Success", "Failure"]
    plan_id: str | None = Field(default=None, min_length=1, max_length=50, pattern=PLAN_ID)
    quantity: StrictInt | None = Field(default=None, ge=1, le=MAX_SEATS)

    _quantity_as_text = field_validator("quantity", mode="before")(seats_from_text)


class Identity(Wire):
    email_id: str
    object_id: str
    tenant_id: str
    puid: str = ""


class TermOut(Wire):
    start_date: datetime.date | None
    end_date: datetime.date | None
    term_unit: str


class SubscriptionOut(Wire):
    id: str
    name: str
    publisher_id: str
    offer_id: str
    plan_id: str
    quantity: int | None
    beneficiary: Identity
    purchaser: Identity
    term: TermOut
    auto_renew: bool
    is_test: bool = False
    is_free_trial: bool = False
    allowed_customer_operations: list[str]
    saas_subscription_status: str
    session_mode: str = "None"
    sandbox_type: str = "None"
    created: datetime.datetime
    last_modified: datetime.datetime


class ResolveOut(Wire):
    id: str
    subscription_name: str
    offer_id: str
    plan_id: str
    quantity: int | None
    subscription: SubscriptionOut


class PlanOut(Wire):
    plan_id: str
    display_name: str
    is_private: bool
    description: str
    min_quantity: int | None
    max_quantity: int | None
    has_free_trials: bool
    is_price_per_seat: bool
    is_stop_sell: bool
    market: str


class PlansOut(Wire):
    plans: list[PlanOut]


class OperationOut(Wire):
    id: str
    activity_id: str
    subscription_id: str
    offer_id: str
    publisher_id: str
    plan_id: str
    quantity: int | None
    action: str
    time_stamp: datetime.datetime
    status: str
    error_status_code: str
    error_message: str


class OperationsOut(Wire):
    operations: list[OperationOut]
