"""Small test doubles shared by the test modules."""


class CountingOracle:
    """Forwards to the real table and counts its lookups."""

    def __init__(self, oracle):
        self.oracle = oracle
        self.calls = 0

    def query(self, key):
        self.calls += 1
        return self.oracle.query(key)

    def __getattr__(self, name):
        return getattr(self.oracle, name)
