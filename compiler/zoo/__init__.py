"""compiler/zoo"""
