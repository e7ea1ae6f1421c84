"""Numba kernels of the simulator (see `simulator.kernels.engines`).

They take only contiguous numpy arrays and scalars and do no validation; call them through
`simulator.run`, which validates and converts at the boundary.
"""
