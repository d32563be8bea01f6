"""Tests of the test harness itself, against the real botbuilder stack."""
