"""The local Stripe server for the demo and the tests: the `localstripe` package, listening
on loopback only, its state kept in memory, answering repeated requests as Stripe does.

`localstripe` itself listens on every interface and loads and saves its state as a pickle in
/tmp that every instance on the machine shares; this runs the same application without
either. Restarting it forgets every customer and card, which the portal copes with (the
payment page asks for the card again, and `seed_demo` saves the demo card again).

`localstripe` ignores the `Idempotency-Key` header; Stripe keeps the first answer to a key
for 24 hours and gives it again to a request that repeats the key (and refuses one that
repeats it with other parameters). The portal relies on that to charge a card once however
often a task retries, so this server does it too (in memory, for as long as it runs).

    python scripts/localstripe_server.py PORT
"""

import sys

from aiohttp import web
from localstripe import server

_answers: dict[tuple[str, str], tuple[str, bytes, int, bytes]] = {}


@web.middleware
async def idempotent(request: web.Request, handler):
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    body = await request.read()  # kept by aiohttp: the handler reads it again
    scope = (request.headers.get("Authorization", ""), key)
    if scope in _answers:
        path, sent, status, answer = _answers[scope]
        if (path, sent) != (request.path_qs, body):
            error = {
                "error": {
                    "type": "idempotency_error",
                    "message": "Keys for idempotent requests can only be used with the same "
                    "parameters they were first used with.",
                }
            }
            return web.json_response(error, status=400)
        return web.Response(
            status=status,
            body=answer,
            content_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    response = await handler(request)
    if isinstance(response, web.Response) and response.body is not None:
        _answers[scope] = (request.path_qs, body, response.status, bytes(response.body))
    return response


def main() -> None:
    port = int(sys.argv[1])
    server.store.dump_to_disk = lambda: None  # memory only: no shared state file
    server.app.middlewares.insert(0, idempotent)
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
