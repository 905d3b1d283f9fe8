"""The archive: catalogue, stored files, numbering, filing. Plain Python, no HTTP."""
