from typing import Final

COUNT_BITS: Final[int]

def add(words: memoryview, row: int, width: int, own: int, stamp: int, n: int, /) -> int: ...
