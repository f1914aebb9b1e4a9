"""Enrolment of a controller: the hub's CA and one-use tokens, and the site manager's setup script.

Not written yet (the provisioning issue). Today the demo writes each lane's configuration,
site key and roster directly.
"""
