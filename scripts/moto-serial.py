"""moto_server, serving one request at a time.

Same command line as `moto_server` (-H HOST -p PORT ...). moto's own server handles
requests on parallel threads, but its DynamoDB transactions are not atomic across
threads: a cancelled TransactWriteItems restores a snapshot of the whole table taken
when it started, erasing items other requests wrote in the meantime. Real DynamoDB
applies each transaction atomically; serving requests one at a time gives moto that
property, while concurrent clients still interleave their reads and transactions (so
version conflicts and retries still happen).
"""

import sys

import moto.server as server

_run_simple = server.run_simple


def _serial_run_simple(*args, **kwargs):
    kwargs["threaded"] = False
    return _run_simple(*args, **kwargs)


server.run_simple = _serial_run_simple

if __name__ == "__main__":
    server.main(sys.argv[1:])
