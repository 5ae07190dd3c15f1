"""Compliance: sanctions and threat lists (versioned imports with diffs), screening of every PT/FT
transfer at the head, fuzzy name matching, KYC records of participants. See docs/compliance.md."""
