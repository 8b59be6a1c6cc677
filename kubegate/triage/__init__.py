"""Triage: when traffic to a Service fails, walk the path the probe took, hop by hop, and name
the first hop that is broken, with the command that showed it and what it returned.

A connectivity failure ("timeout at 10.247.126.36:27017 from client-minion-2") says where it
hurt, not why. The hops are what a seasoned operator would check in order: the Service, the
pods behind it, its EndpointSlices, the origin node and its kube-proxy, the NAT rules, the
route to the endpoint, filter rules, the backend answering on its pod IP and speaking its
protocol there, and the broker accepting the Secret's credentials. Each check is one small
function over a Runner (kubectl and node shells), so each has a unit test on recorded real output.
"""

from kubegate.triage.finding import Finding, Triage
from kubegate.triage.path import ProbePath
from kubegate.triage.walk import triage

__all__ = ["Finding", "ProbePath", "Triage", "triage"]
