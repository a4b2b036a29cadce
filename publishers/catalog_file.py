"""Read and check a catalog file: publishers, their apps, plans and prices, in JSON.

    {"publishers": [{
      "slug": "quillfeather", "name": "Quillfeather Labs", "legal_name": "Quillfeather Labs Ltd.",
      "address": {"line1": "4 Tannery Yard", "line2": "", "city": "Bristol", "state": "",
                  "postal_code": "BS2 0QT", "country": "GB"},
      "support_url": "https://quillfeather.example/support",
      "support_email": "support@quillfeather.example", "contact_emails": [],
      "landing_page_url": "https://quillfeather.example/activate", "webhook_url": "",
      "auto_provisioning": false, "active": true,
      "apps": [{
        "offer_id": "quillfeather-notes", "name": "Quillfeather Notes",
        "summary": "Shared notebooks for teams.", "description": "Two to four sentences.",
        "category": "productivity", "pricing_model": "per_seat", "published": true,
        "plans": [{
          "plan_id": "standard-monthly", "name": "Standard", "description": "", "term": "P1M",
          "min_quantity": 1, "max_quantity": 500, "private_for": ["contoso"], "stop_sell": false,
          "prices": {"USD": 400, "EUR": 380}}]}]}]}

Types are strict. Optional keys left out take their defaults (null is a value only for the
quantities): address line2, state and postal_code "", contact_emails [], webhook_url "",
auto_provisioning false, active true, apps [], published true, plans [], plan description "",
private_for [] (public), stop_sell false. `country` is two capital letters (ISO 3166);
`category` a marketplace category; `pricing_model` flat_rate or per_seat; `term` P1M (monthly)
or P1Y (annual). Per-seat plans give 1 <= min_quantity <= max_quantity <= 10000; flat-rate plans
give neither. Prices are integers in the currency's minor unit (400 is 4.00), per license and
term (per-seat) or per term (flat rate), in supported currencies; a plan has at least one.
`private_for` names the existing tenants that alone may buy a private plan.

Publishers match by slug, apps by (publisher, offer_id), plans by (app, plan_id), prices by
(plan, currency): rows found are updated, others created. The file is the whole truth about the
prices of the plans it names (their other prices are removed); publishers, apps and plans it does
not name are left alone. The webhook secret is never read from a file.

Every problem is reported before anything is written, each naming the line its object starts on
and its place: `demo.json:42: publishers[0].apps[1].plans[0]: per_seat plans need ...`.
"""

import difflib
import json
import re
from pathlib import Path
from typing import Annotated, ClassVar

from django.core import exceptions as django
from django.core.validators import validate_email
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from portal.models import Tenant
from portal.regions import CURRENCIES

from . import models
from .models import MAX_SEATS, MIN_SEATS, App, Plan, PricingModel, Publisher

DEMO_CATALOG = Path(__file__).with_name("catalog") / "demo.json"
MAX_AMOUNT = 2_147_483_647  # the largest PostgreSQL integer
BOUNDS = {  # the file's words for models.quantity_bounds_problem
    PricingModel.FLAT_RATE: "flat_rate plans have no min_quantity or max_quantity",
    PricingModel.PER_SEAT: "per_seat plans need min_quantity and max_quantity "
    f"({MIN_SEATS} ≤ min ≤ max ≤ {MAX_SEATS})",
}


class CatalogError(Exception):
    """The file cannot be loaded: `errors` has one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _problem(message: str, kind: str = "catalog") -> PydanticCustomError:
    """An error in our words; of kind "catalog_object" when about the object holding the field."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def _django(validate):
    """A validator: Django's `validate(value)` passes, or its messages are the error."""

    def check(value):
        try:
            validate(value)
        except django.ValidationError as error:
            raise _problem(" ".join(error.messages)) from None
        return value

    return check


def _one_of(codes, what: str, among: str = "one of"):
    def check(value: str) -> str:
        if value not in codes:
            raise _problem(f"unknown {what} {value!r} ({among} {', '.join(codes)})")
        return value

    return AfterValidator(check)


def _country(value: str) -> str:
    if not re.fullmatch(r"[A-Z]{2}", value):
        raise _problem(f"country must be an ISO code of two capital letters, not {value!r}")
    return value


def _amount(value) -> int:
    if type(value) is not int or not 0 < value <= MAX_AMOUNT:
        given = json.dumps(value)
        raise _problem(f"amounts are positive integers in minor units (400 is 4.00), not {given}")
    return value


class _Schema(BaseModel):  # the file's keys (aliases for fields named otherwise), strictly typed
    model_config = ConfigDict(extra="forbid", strict=True)
    django_model: ClassVar = None  # the model whose fields the values go to
    _where: str = ""  # `demo.json:42: publishers[0].apps[1].plans[0]`, for messages

    @field_validator("*")
    @classmethod
    def model_field_checks(cls, value, info):
        """Text for a model field passes that field's checks: lengths, slugs, URLs, blank."""
        fields = {f.name: f for f in cls.django_model._meta.fields} if cls.django_model else {}
        if isinstance(value, str) and (field := fields.get(info.field_name)) and not field.choices:
            _django(lambda value: field.clean(value, None))(value)  # choices: ours, in words
        return value

    @property
    def where(self) -> str:
        return self._where

    @property
    def values(self) -> dict:
        """Model field: value (an address's are its publisher's)."""
        values = self.model_dump(exclude={"apps", "plans", "private_for", "prices"})
        return values | values.pop("address", {})


class Address(_Schema):
    address_line1: str = Field(alias="line1")
    address_line2: str = Field("", alias="line2")
    city: str
    state: str = ""
    postal_code: str = ""
    country: Annotated[str, AfterValidator(_country)]
    django_model = Publisher


class PlanSpec(_Schema):
    plan_id: str
    name: str
    description: str = ""
    term: Annotated[str, _one_of(models.Term.values, "term")]
    min_quantity: int | None = None
    max_quantity: int | None = Field(None, validate_default=True)
    private_for: list[str] = []  # tenant slugs: the plan is private to them
    is_stop_sell: bool = Field(False, alias="stop_sell")
    prices: dict[
        Annotated[str, _one_of(CURRENCIES, "currency", "supported:")],
        Annotated[object, AfterValidator(_amount)],
    ] = Field(min_length=1)
    django_model = Plan

    @field_validator("max_quantity")
    @classmethod
    def bounds_follow_the_pricing_model(cls, value, info):
        pricing_model = (info.context or {}).get("pricing_model")  # the app's, from AppSpec
        low = info.data.get("min_quantity", ...)  # not there: its type is wrong
        if low is not ... and models.quantity_bounds_problem(pricing_model, low, value):
            raise _problem(BOUNDS[pricing_model], "catalog_object")
        return value


class AppSpec(_Schema):
    offer_id: str
    name: str
    summary: str
    description: str
    category: Annotated[str, _one_of(models.Category.values, "category")]
    pricing_model: Annotated[str, _one_of(PricingModel.values, "pricing model")]
    is_published: bool = Field(True, alias="published")
    plans: list[PlanSpec] = []
    django_model = App

    @field_validator("plans", mode="wrap")
    @classmethod
    def plans_know_the_pricing_model(cls, value, handler, info):
        if info.context is not None:  # fields are checked in order: pricing_model is done
            info.context["pricing_model"] = info.data.get("pricing_model")
        return handler(value)


class PublisherSpec(_Schema):
    slug: str
    name: str
    legal_name: str
    address: Address
    support_url: str
    support_email: str
    contact_emails: list[Annotated[str, AfterValidator(_django(validate_email))]] = []
    landing_page_url: str
    webhook_url: str = ""
    auto_provisioning: bool = False
    is_active: bool = Field(True, alias="active")
    apps: list[AppSpec] = []
    django_model = Publisher


class Catalog(_Schema):
    publishers: list[PublisherSpec]
    _name: str = ""

    @property
    def name(self) -> str:  # of the file
        return self._name


SCHEMAS = {"publishers": PublisherSpec, "apps": AppSpec, "plans": PlanSpec, "address": Address}


def read_catalog(path) -> Catalog:
    """The checked catalog in the file at `path`; CatalogError lists every problem."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise CatalogError([f"{path.name}: {error.strerror or error}"]) from None
    except UnicodeDecodeError as error:
        raise CatalogError([f"{path.name}: not UTF-8 text (byte {error.start})"]) from None
    return parse_catalog(text, name=path.name)


def parse_catalog(text: str, *, name: str) -> Catalog:
    try:
        return _checked(_decode(text), name)
    except json.JSONDecodeError as error:
        raise CatalogError([f"{name}:{error.lineno}:{error.colno}: {error.msg}"]) from None
    except RecursionError:
        raise CatalogError([f"{name}: nested too deeply"]) from None
    except ValueError as error:  # from json: e.g. an integer of thousands of digits
        raise CatalogError([f"{name}: {error}"]) from None


def _checked(root, name: str) -> Catalog:
    """The catalog of a decoded file; CatalogError lists every problem, by line."""
    errors = list(_raw_problems(root))  # (loc, whether of the object there, rank, message)
    if not any(message == UNSTORABLE for *_, message in errors):  # else the database fails
        try:
            catalog = Catalog.model_validate(root, context={})
        except ValidationError as error:
            errors += [_explain(problem) for problem in error.errors()]
        errors += _references(root)
    if errors:
        errors = [(_line(root, loc, own), rank, _path(loc), m) for loc, own, rank, m in errors]
        errors.sort(key=lambda error: error[:2])
        raise CatalogError([f"{name}:{line}: {path}: {text}" for line, _, path, text in errors])
    catalog._name = name
    _place(catalog, (), root, name)
    return catalog


def _place(spec: _Schema, loc: tuple, root, name: str):  # the `where` of it and all within
    spec._where = f"{name}:{_line(root, loc, True)}: {_path(loc)}"
    for key in ("publishers", "apps", "plans"):
        for index, child in enumerate(getattr(spec, key, [])):
            _place(child, (*loc, key, index), root, name)


TYPES = {"string_type": "a string", "int_type": "an integer", "bool_type": "true or false"}
TYPES |= {"list_type": "a list", "dict_type": "an object", "model_type": "an object"}
JSON_TYPES = {float: "a decimal number", str: "a string", int: "an integer", list: "a list"}


def _explain(error: dict) -> tuple[tuple, bool, int, str]:
    """(loc, whether of the object there, rank, message) for a pydantic error."""
    kind, loc = error["type"], error["loc"]
    if kind == "extra_forbidden":
        holder = next((part for part in reversed(loc[:-1]) if isinstance(part, str)), None)
        fields = SCHEMAS.get(holder, Catalog).model_fields
        hint = difflib.get_close_matches(loc[-1], [f.alias or k for k, f in fields.items()], n=1)
        also = f" (did you mean {hint[0]!r}?)" if hint else ""
        return loc[:-1], True, 1, f"unknown key {loc[-1]!r}{also}"
    if kind == "missing":
        return loc[:-1], True, 2, f"missing required key {loc[-1]!r}"
    if kind in TYPES:
        value = error["input"]
        plain = value is None or isinstance(value, bool)  # null, true, false
        got = json.dumps(value) if plain else JSON_TYPES.get(type(value), "an object")
        return loc, False, 3, f"expected {TYPES[kind]}, got {got}"
    if kind == "too_short":  # prices, the one list or object with a least length
        return loc, True, 3, "a plan needs at least one price"
    if kind == "catalog_object":
        return loc[:-1], True, 3, error["ctx"]["message"]
    return loc, False, 3, error["ctx"]["message"] if kind == "catalog" else error["msg"]


class _Node(dict):
    """A JSON object, with the line its `{` is on and the keys it gives more than once."""

    line = 1
    duplicates: tuple = ()


def _decode(text: str):
    """json.loads, giving _Node objects. json makes each object as it reads its `}`, so the
    lines of the `{`s, in the order of their `}`s, go to the objects in turn."""
    open_lines, lines, line, counted = [], [], 1, 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[{}]', text):  # strings whole, so skipped
        if match[0] == "{":
            line, counted = line + text.count("\n", counted, match.start()), match.start()
            open_lines.append(line)
        elif match[0] == "}" and open_lines:
            lines.append(open_lines.pop())
    lines = iter(lines)

    def node(pairs):
        made = _Node(pairs)
        made.line = next(lines, 1)
        if len(made) < len(pairs):
            keys = [key for key, _ in pairs]
            made.duplicates = tuple(dict.fromkeys(key for key in keys if keys.count(key) > 1))
        return made

    return json.loads(text, object_pairs_hook=node)


UNSTORABLE = "text with a NUL or a lone surrogate"  # PostgreSQL or UTF-8 cannot store it


def _raw_problems(value, loc=(), own=False):
    """(loc, whether of the object there, rank, message) for keys given twice and for text,
    key or value, that the database cannot store."""
    if isinstance(value, str) and re.search("[\x00\ud800-\udfff]", value):
        yield loc, own, 0, UNSTORABLE
    elif isinstance(value, dict):
        what = "currency" if loc[-1:] == ("prices",) else "key"
        yield from ((loc, True, 0, f"{what} {key!r} is given twice") for key in value.duplicates)
        for key, item in value.items():
            yield from _raw_problems(key, loc, True)  # a key's problem is its object's
            yield from _raw_problems(item, (*loc, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _raw_problems(item, (*loc, index))


def _line(root, loc, own: bool = False) -> int:
    """The line of the object holding the value at `loc`, or if `own` of the object at `loc`."""
    line, value = 1, root
    for part in (*loc, None) if own else loc:
        line = value.line if isinstance(value, _Node) else line
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            break
    return line


def _path(loc) -> str:
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc if p != "[key]")
    return path.removeprefix(".") or "top level"  # [key]: the error is a dict key's


def _listed(node, key: str, id_key: str, loc: tuple, problems: list):
    """(loc, object) for the objects in the list node[key], whose `id_key`s must differ."""
    items, seen = node.get(key) if isinstance(node, dict) else None, {}
    for index, item in enumerate(items if isinstance(items, list) else []):
        if isinstance(item, dict):
            item_loc, value = (*loc, key, index), item.get(id_key)
            if isinstance(value, str) and value in seen:
                message = f"{value!r} is also the {id_key} of {_path(seen[value])}"
                problems.append(((*item_loc, id_key), False, 4, message))
            elif isinstance(value, str) and value:
                seen[value] = item_loc
            yield item_loc, item


def _references(root) -> list[tuple[tuple, bool, int, str]]:
    """Problems of ids given twice in a list, unknown tenants and apps that keep their pricing
    model, from the values of the right type, so they are reported with the rest."""
    problems, tenants, apps = [], [], []
    for p_loc, publisher in _listed(root, "publishers", "slug", (), problems):
        for a_loc, app in _listed(publisher, "apps", "offer_id", p_loc, problems):
            key = (publisher.get("slug"), app.get("offer_id"), app.get("pricing_model"))
            if all(isinstance(part, str) for part in key) and key[2] in PricingModel.values:
                apps.append((key, (*a_loc, "pricing_model")))
            for plan_loc, plan in _listed(app, "plans", "plan_id", a_loc, problems):
                slugs = plan.get("private_for")
                for index, slug in enumerate(slugs if isinstance(slugs, list) else []):
                    if isinstance(slug, str):
                        tenants.append((slug, (*plan_loc, "private_for", index)))
    known = Tenant.objects.filter(slug__in={slug for slug, _ in tenants}).values_list("slug")
    known = {slug for (slug,) in known}
    problems += [(loc, False, 4, f"unknown tenant {s!r}") for s, loc in tenants if s not in known]
    saved = App.objects.keeping_pricing_model().filter(publisher__slug__in={k[0] for k, _ in apps})
    kept = saved.values_list("publisher__slug", "offer_id", "pricing_model")
    kept = {(slug, offer_id): pricing_model for slug, offer_id, pricing_model in kept}
    for (slug, offer_id, wanted), loc in apps:
        if refusal := models.pricing_model_refusal(kept=kept.get((slug, offer_id)), wanted=wanted):
            problems.append((loc, False, 4, refusal))
    return problems
