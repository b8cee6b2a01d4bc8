from typing import Final

COUNT_BITS: Final[int]

def add(words: memoryview, index: int, stamp: int, n: int, /) -> int: ...
