"""Memory planning: which tensors stay on chip between layers, and where each operand lives.

`placement` defines where one workload reads its operands from and writes its output to;
`planner` decides it for a whole network on one target (liveness over the layer graph, the
activation buffer's capacity, weights streamed or resident); `traffic` states the DRAM bytes
a plan makes compulsory and those it spills.
"""
