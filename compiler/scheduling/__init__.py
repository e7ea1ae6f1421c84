"""compiler/scheduling"""
