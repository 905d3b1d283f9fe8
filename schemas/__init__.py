"""marshmallow schemas: the public shape of the data, and its validation."""

from schemas.contract import ContractSchema, flatten_errors

__all__ = ["ContractSchema", "flatten_errors"]
