"""Coverage-guided fuzzing of the HTTP/1.1 request parser with atheris.

    pip install -e '.[fuzz]'
    python fuzz/h1_parser.py -max_total_time=300 -max_len=4096 [corpus_dir]

The first byte of each input chooses where the rest is cut into reads, so the fuzzer
explores how a request is split as well as what it holds.  Anything the parser raises
other than :class:`httpkit.errors.ProtocolError` (with a status from the known set) is a
bug and makes atheris stop with the input that caused it.
"""

from __future__ import annotations

import sys

from httpkit.errors import ProtocolError
from httpkit.h1 import CLOSED, NEED_DATA, Limits, ServerConnection

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


def run_one(data: bytes) -> None:
    """Feed one input; fail loudly on anything but a ProtocolError with a known status."""
    conn = ServerConnection(LIMITS)
    try:
        for piece in [*pieces(data), b""]:  # b"": end with EOF
            conn.receive_data(piece)
            for _ in range(MAX_EVENTS):
                event = conn.next_event()
                if event is NEED_DATA or event is CLOSED:
                    break
            else:
                raise RuntimeError("next_event() never asked for more data")
    except ProtocolError as error:
        if error.status not in STATUSES:
            raise RuntimeError(f"unexpected status {error.status}") from error


def main() -> None:
    import atheris  # noqa: PLC0415  (optional: only the fuzz extra installs it)

    # Without instrumentation atheris gets no coverage feedback from Python code and
    # degrades to blind random inputs: instrument the (already imported) parser.
    atheris.instrument_all()
    atheris.Setup(sys.argv, run_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
