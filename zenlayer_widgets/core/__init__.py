"""The plain-Python core that runbooks call: preflight, inventory, the create workflow, the ledger.

Knows the API client and the product rules; never imports ``connection``, ``studio``, ``widgets``
or the emulator.
"""
