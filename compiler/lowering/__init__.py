"""compiler/lowering"""
