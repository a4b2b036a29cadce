"""The sandbox publisher's client of the marketplace's Fulfillment API, written from the
public documentation (SaaS fulfillment APIs v2 on Microsoft Learn, and
../shared/reference/fulfillment-api.md), over real HTTP with the standard library. It knows
nothing of the portal's code: a base URL, a token URL and credentials."""

import json
import uuid
from collections.abc import Iterator
from urllib.error import HTTPError, URLError
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from urllib.request import Request, urlopen

API_VERSION = "2018-08-31"
TIMEOUT = 10  # seconds


class ApiFailure(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


class Fulfillment:
    def __init__(self, api_base: str, client_id: str, client_secret: str):
        self.api_base = api_base.rstrip("/")
        self.client_id, self.client_secret = client_id, client_secret
        self._token = None

    def _send(self, request: Request):
        """(status, JSON body or None, headers) of the answer; ApiFailure when refused."""
        try:
            with urlopen(request, timeout=TIMEOUT) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None, response.headers
        except HTTPError as error:
            try:
                message = json.loads(error.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = error.reason
            raise ApiFailure(error.code, message) from None
        except (URLError, TimeoutError) as error:
            raise ApiFailure(0, f"The marketplace can't be reached: {error}") from None
        except ValueError as error:  # a header http.client refuses (a token with CR/LF)
            raise ApiFailure(0, f"The request can't be sent: {error}") from None

    def token(self) -> str:
        if self._token is None:
            form = urlencode(
                {
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self.client_secret,
                    "resource": "20e940b3-4c77-4b0b-9a53-9e16a1b010a7",
                }
            ).encode()
            request = Request(
                f"{self.api_base}/oauth2/token",
                data=form,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                method="POST",
            )
            self._token = self._send(request)[1]["access_token"]
        return self._token

    def _request(self, method: str, url: str, body=None, headers=None):
        """(status, JSON body, headers) of `method` on the absolute `url`."""
        data = json.dumps(body).encode() if body is not None else None
        request = Request(
            url,
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token()}",
                "Content-Type": "application/json",
                "x-ms-requestid": str(uuid.uuid4()),
                "x-ms-correlationid": str(uuid.uuid4()),
                **(headers or {}),
            },
        )
        return self._send(request)

    def _url(self, path: str, **query) -> str:
        query = urlencode({"api-version": API_VERSION, **query})
        return f"{self.api_base}/saas/{path}?{query}"

    def _link(self, url: str) -> str:
        """A link the API gave (`@nextLink`, `Operation-Location`), followed exactly as given,
        but only on the API's own origin: the bearer token goes nowhere else."""
        given, base = urlsplit(url), urlsplit(self.api_base)
        if (given.scheme, given.netloc) != (base.scheme, base.netloc):
            raise ApiFailure(0, f"The marketplace linked outside its API: {url}")
        return url

    def call(self, method: str, path: str, body=None, headers=None):
        """The answer's JSON (None when empty) of `method` on `/saas/<path>`."""
        return self._request(method, self._url(path), body, headers)[1]

    def resolve(self, marketplace_token: str) -> dict:
        return self.call(
            "POST", "subscriptions/resolve", headers={"x-ms-marketplace-token": marketplace_token}
        )

    def activate(self, subscription_id: str, plan_id: str, quantity: int | None) -> None:
        body = {"planId": plan_id}
        if quantity is not None:
            body["quantity"] = quantity
        self.call("POST", f"subscriptions/{quote(subscription_id, safe='')}/activate", body)

    def subscription(self, subscription_id: str) -> dict:
        return self.call("GET", f"subscriptions/{quote(subscription_id, safe='')}")

    def subscription_page(self, continuation_token: str | None = None) -> tuple[list, str | None]:
        """One page of the publisher's subscriptions (every status, up to 100), and the
        continuationToken of the next page (None on the last), as `@nextLink` carries it."""
        query = {"continuationToken": continuation_token} if continuation_token else {}
        answer = self._request("GET", self._url("subscriptions", **query))[1]
        return answer["subscriptions"], next_token(answer)

    def subscriptions(self) -> Iterator[dict]:
        """Every subscription of the publisher, page after page, following `@nextLink`."""
        url = self._url("subscriptions")
        while url:
            answer = self._request("GET", url)[1]
            yield from answer["subscriptions"]
            url = self._link(answer["@nextLink"]) if answer.get("@nextLink") else None

    def available_plans(self, subscription_id: str) -> list[dict]:
        path = f"subscriptions/{quote(subscription_id, safe='')}/listAvailablePlans"
        return self.call("GET", path)["plans"]

    def _change(self, method: str, subscription_id: str, body=None) -> str:
        """The Operation-Location of an accepted change (202)."""
        url = self._url(f"subscriptions/{quote(subscription_id, safe='')}")
        _, _, headers = self._request(method, url, body)
        if not (location := headers.get("Operation-Location")):
            raise ApiFailure(0, "The marketplace accepted the change but gave no operation.")
        return location

    def change_plan(self, subscription_id: str, plan_id: str) -> str:
        """PATCH {planId}: the Operation-Location of the change."""
        return self._change("PATCH", subscription_id, {"planId": plan_id})

    def change_quantity(self, subscription_id: str, quantity: int) -> str:
        """PATCH {quantity}: the Operation-Location of the change."""
        return self._change("PATCH", subscription_id, {"quantity": quantity})

    def unsubscribe(self, subscription_id: str) -> str:
        """DELETE: the Operation-Location of the cancellation."""
        return self._change("DELETE", subscription_id)

    def operation(self, location: str, operation_id: str | None = None) -> dict:
        """An operation: by its Operation-Location, or by subscription and operation id."""
        if operation_id is None:
            url = self._link(location)
        else:
            ids = (quote(location, safe=""), quote(operation_id, safe=""))
            url = self._url("subscriptions/{}/operations/{}".format(*ids))
        return self._request("GET", url)[1]

    def update_operation(
        self,
        subscription_id: str,
        operation_id: str,
        *,
        success: bool,
        plan_id: str | None = None,
        quantity: int | None = None,
    ) -> None:
        """PATCH the operation: the publisher's answer to a change waiting InProgress for it,
        Success or Failure (with the operation's planId and quantity when given)."""
        body = {"status": "Success" if success else "Failure"}
        if plan_id is not None:
            body["planId"] = plan_id
        if quantity is not None:
            body["quantity"] = quantity
        ids = (quote(subscription_id, safe=""), quote(operation_id, safe=""))
        self.call("PATCH", "subscriptions/{}/operations/{}".format(*ids), body)


def next_token(answer: dict) -> str | None:
    """The continuationToken in a page's `@nextLink`, None when it is the last page."""
    if not (link := answer.get("@nextLink")):
        return None
    tokens = parse_qs(urlsplit(link).query).get("continuationToken")
    return tokens[0] if tokens else None
