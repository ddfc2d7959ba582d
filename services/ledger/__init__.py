"""Ledger (台账): the district's read models, folded only from other services' events."""
