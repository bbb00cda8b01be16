"""City Intelligent Operations Center: agency feeds in, one uniform model in Redis, a live control room."""

__version__ = "0.1.0"
