"""compiler/frontend"""
