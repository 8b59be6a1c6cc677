"""kubegate: an end-to-end conformance harness for services on Kubernetes."""

__version__ = "0.1.0"
