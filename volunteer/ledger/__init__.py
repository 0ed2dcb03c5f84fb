"""Points accounts and the append-only ledger. services.py is the only code that writes them."""
