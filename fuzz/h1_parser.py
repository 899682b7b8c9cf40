"""Coverage-guided fuzzing of the HTTP/1.1 request parser with atheris.

    pip install -e '.[fuzz]'
    python fuzz/h1_parser.py -max_total_time=300 -max_len=4096 [corpus_dir]

The first byte of each input chooses where the rest is cut into reads, so the fuzzer
explores how a request is split as well as what it holds.  Two things are bugs and make
atheris stop with the input that caused them: an exception other than
:class:`httpkit.errors.ProtocolError` (with a status from the known set), and an outcome
(messages, bodies, trailers, final status) that differs from feeding the same bytes in
one read.
"""

from __future__ import annotations

import sys

from httpkit.errors import ProtocolError
from httpkit.h1 import CLOSED, NEED_DATA, Data, EndOfMessage, Limits, ServerConnection

# Small limits so that the fuzzer reaches the 413/414/431 paths with short inputs.
LIMITS = Limits(
    max_request_line=256,
    max_header_bytes=1024,
    max_header_count=16,
    max_body=4096,
    max_chunk_extension=64,
)
STATUSES = frozenset((400, 413, 414, 417, 431, 501, 505))
MAX_EVENTS = 100_000  # far above what any input of -max_len can produce


def pieces(data: bytes) -> list[bytes]:
    """The input after its first byte, cut into reads of 1 + (first byte % 64) bytes."""
    if not data:
        return []
    step = 1 + data[0] % 64
    body = data[1:]
    return [body[start : start + step] for start in range(0, len(body), step)]


def outcome(reads: list[bytes]) -> list[object]:
    """The messages ``reads`` carry (head, whole body, trailers), then how the stream ended.

    Data events depend on how bytes arrive, so each message's body is joined.  Anything
    the parser raises other than a ProtocolError with a known status is a bug.
    """
    conn = ServerConnection(LIMITS)
    result: list[object] = []
    body: list[bytes] = []
    try:
        for piece in [*reads, b""]:  # b"": end with EOF
            conn.receive_data(piece)
            for _ in range(MAX_EVENTS):
                event = conn.next_event()
                if event is NEED_DATA or event is CLOSED:
                    break
                if isinstance(event, Data):
                    body.append(event.data)
                elif isinstance(event, EndOfMessage):
                    result += [b"".join(body), event]
                    body.clear()
                else:
                    result.append(event)
            else:
                raise RuntimeError("next_event() never asked for more data")
    except ProtocolError as error:
        if error.status not in STATUSES:
            raise RuntimeError(f"unexpected status {error.status}") from error
        return [*result, error.status]
    return [*result, CLOSED]


def run_one(data: bytes) -> None:
    """Fail loudly if the input crashes the parser or if how it was cut changes a thing."""
    split = outcome(pieces(data))
    whole = outcome([data[1:]] if data else [])
    if split != whole:
        raise RuntimeError(f"cutting the input into reads changed the outcome: {data!r}")


def main() -> None:
    import atheris  # noqa: PLC0415  (optional: only the fuzz extra installs it)

    # Without instrumentation atheris gets no coverage feedback from Python code and
    # degrades to blind random inputs: instrument the (already imported) parser.
    atheris.instrument_all()
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
