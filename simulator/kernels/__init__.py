"""simulator/kernels"""
