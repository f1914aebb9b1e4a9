"""Accounts of the notice's hierarchy, what each may see (scope), tokens, lockout and the audit log."""
