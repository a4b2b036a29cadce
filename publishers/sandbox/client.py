"""The sandbox publisher's client of the marketplace's Fulfillment API, written from the
public documentation (SaaS fulfillment APIs v2 on Microsoft Learn, and
../shared/reference/fulfillment-api.md), over real HTTP with the standard library. It knows
nothing of the portal's code: a base URL, a token URL and credentials."""

import json
import uuid
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode
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
        try:
            with urlopen(request, timeout=TIMEOUT) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
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

    def call(self, method: str, path: str, body=None, headers=None):
        """The answer's JSON (None when empty) of `method` on `/saas/<path>`."""
        data = json.dumps(body).encode() if body is not None else None
        request = Request(
            f"{self.api_base}/saas/{path}?api-version={API_VERSION}",
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
        return self._send(request)[1]

    def resolve(self, marketplace_token: str) -> dict:
        return self.call(
            "POST", "subscriptions/resolve", headers={"x-ms-marketplace-token": marketplace_token}
        )

    def activate(self, subscription_id: str, plan_id: str, quantity: int | None) -> None:
        body = {"planId": plan_id}
        if quantity is not None:
            body["quantity"] = quantity
        self.call("POST", f"subscriptions/{subscription_id}/activate", body)

    def subscription(self, subscription_id: str) -> dict:
        return self.call("GET", f"subscriptions/{subscription_id}")
