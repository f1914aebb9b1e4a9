"""Enrolment of a controller: the hub's certificate authority and the broker's TLS configuration.

``ca`` issues device certificates (CN = device id) from CSRs made on the device, the broker's
server certificate and the hub's identity; ``broker`` writes mosquitto's TLS listener and the ACL
that binds each device to its own topics. Enrolment tokens, ``POST /api/v1/enrolments`` and the
site manager's ``sitegate provision`` script come with the provisioning issue.
"""
