"""The benchmark harness: starts our programs and their peers, drives sse_load, reports."""
