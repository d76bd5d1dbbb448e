"""moto server for the Docker-free stack: DynamoDB and SQS on one port.

moto handles requests on parallel threads without a lock, so two conditional writes can both
pass their condition. Real DynamoDB never allows that, and our uniqueness rules depend on it,
so DynamoDB requests are serialized here. SQS stays parallel: long polls block for seconds.

usage: python localstack/emulator.py PORT
"""

import logging
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import run_simple


class SerializedDynamoDB:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB_"):
            with self.lock:
                # Consume the whole response inside the lock: werkzeug may evaluate lazily.
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main():
    port = int(sys.argv[1])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    app = SerializedDynamoDB(DomainDispatcherApplication(create_backend_app))
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
