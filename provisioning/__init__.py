"""Enrolment of a controller, from the hub's certificate authority to a self-tested lane.

Hub side: ``ca`` (the CA: device certificates from CSRs, the broker's and the hub's, the CRL),
``broker`` (mosquitto's TLS listener and the ACL that binds each device to its topics, with deny
blocks for revoked devices), ``enrolment`` (the pure rules: one-time tokens, the bundle a lane
gets), ``ledger`` (tokens, certificates and revocations, beside the CA's key), ``registrar`` (the
desk that signs, spends tokens and pushes revocations to the broker); the HTTP edge is
``hub/api/enrolment.py``.

Device side: ``sitegate provision`` (``cli``): ``device`` (key made on the Pi, CSR, the hub's
answer turned into the lane's files), ``install`` (units, udev, journald, watchdog, UART boot
configuration from ``firmware/``), ``layout`` (where everything goes under a root). A bare Pi is
brought to the point of running it by ``setup-lane.sh``.
"""
