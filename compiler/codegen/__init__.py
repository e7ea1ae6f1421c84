"""compiler/codegen"""
