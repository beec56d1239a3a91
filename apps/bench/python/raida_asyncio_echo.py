"""The RAIDA guide's asyncio pattern, as a user would run it: one task and one UDP socket per server,
asyncio.gather over the 25, a per-request timeout, every reply checked (status 250, signature = the
challenge). Driven by the bench over stdin/stdout, one line per round:

    stdin  "round"                       -> runs one echo round on every server
    stdout "<elapsed ms> <ready count>"  -> time from the first send to the last settled task, and how
                                            many servers answered 250 with the right signature

Usage: python3 raida_asyncio_echo.py HOST TIMEOUT_MS PORT[,PORT...] (server i is RAIDA i on PORT i).
Standard library only.
"""
import asyncio
import os
import struct
import sys
import time
import zlib

COIN_ID = 6
ECHO_GROUP, ECHO_COMMAND = 0, 0
TERMINATOR = b"\x3e\x3e"


def echo_request(raida_id: int) -> tuple[bytes, bytes]:
    """A type-0 echo request to `raida_id` with a fresh challenge: (datagram, challenge)."""
    r = os.urandom(12)
    challenge = r + struct.pack(">I", zlib.crc32(r) & 0xFFFFFFFF)
    body = challenge + TERMINATOR
    echo_bytes = os.urandom(2)
    header = bytes([1, 0, raida_id, 0, ECHO_GROUP, ECHO_COMMAND]) + struct.pack(">H", COIN_ID) + bytes(8)
    header += bytes([0, 0]) + bytes(4) + struct.pack(">H", len(body)) + bytes(6) + echo_bytes
    return header + body, challenge


class OneReply(asyncio.DatagramProtocol):
    def __init__(self, server: tuple[str, int]) -> None:
        self.server = server
        self.reply: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        # Only the server the request went to may answer it.
        if addr[0] == self.server[0] and addr[1] == self.server[1] and not self.reply.done():
            self.reply.set_result(data)

    def error_received(self, exc: Exception) -> None:
        if not self.reply.done():
            self.reply.set_exception(exc)


async def echo(host: str, port: int, raida_id: int, timeout_s: float) -> bool:
    """One task, one socket: send the echo, await its reply or the timeout, check it."""
    loop = asyncio.get_running_loop()
    datagram, challenge = echo_request(raida_id)
    transport, protocol = await loop.create_datagram_endpoint(lambda: OneReply((host, port)), remote_addr=(host, port))
    try:
        transport.sendto(datagram)
        reply = await asyncio.wait_for(protocol.reply, timeout_s)
    except (asyncio.TimeoutError, OSError):
        return False
    finally:
        transport.close()
    return len(reply) >= 32 and reply[2] == 250 and reply[16:32] == challenge


async def main() -> None:
    host, timeout_ms, ports_text = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    ports = [int(p) for p in ports_text.split(",")]
    timeout_s = timeout_ms / 1000
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while True:
        line = await reader.readline()
        if not line:
            return
        if line.strip() != b"round":
            continue
        started = time.perf_counter()
        results = await asyncio.gather(*(echo(host, port, i, timeout_s) for i, port in enumerate(ports)))
        elapsed_ms = (time.perf_counter() - started) * 1000
        sys.stdout.write(f"{elapsed_ms:.6f} {sum(results)}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
