"""The COUNTER_SUSHI 5.1 API specification (see README.md) and a validator over its schemas."""
