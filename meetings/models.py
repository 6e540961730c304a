"""Meetings, materials, apologies and attendance: built in a later issue."""
