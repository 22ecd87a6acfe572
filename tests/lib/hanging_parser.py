"""A parse that never ends, as a catastrophic regular expression would: the sandbox must kill it.

Imported by the sandbox's child process by name (``tests.lib.hanging_parser.parse_bytes``), so it lives in a
module of its own rather than in a test file.
"""


def parse_bytes(data: bytes, filename: str, known_agencies=None):
    while True:  # busy, like a regex backtracking, not sleeping
        pass
