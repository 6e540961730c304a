"""Draft documents, feedback rounds, comments and dispositions: built in a later issue."""
