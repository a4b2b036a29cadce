"""The local Stripe server for the demo and the tests: the `localstripe` package, listening
on loopback only, its state kept in memory.

`localstripe` itself listens on every interface and loads and saves its state as a pickle in
/tmp that every instance on the machine shares; this runs the same application without
either. Restarting it forgets every customer and card, which the portal copes with (the
payment page asks for the card again, and `seed_demo` saves the demo card again).

    python scripts/localstripe_server.py PORT
"""

import sys

from aiohttp import web
from localstripe import server


def main() -> None:
    port = int(sys.argv[1])
    server.store.dump_to_disk = lambda: None  # memory only: no shared state file
    web.run_app(server.app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
