"""Lowering: a Graph becomes Workloads (GEMM views and vector ops), with fusion.

`lower(graph)` is the entry point; `free_nodes(graph)` names the nodes that do no work.
"""

from compiler.lowering.lower import free_nodes, lower

__all__ = ["free_nodes", "lower"]
