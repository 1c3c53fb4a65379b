"""One activity per emotion: each module holds its testable logic and its scene."""
