"""The API's rows of the route table, a module per subject; :mod:`hub.api.routes` lists them all."""
