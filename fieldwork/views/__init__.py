"""Field-work pages: parse, call fieldwork.services or read through fieldwork.access, render.

- visits.py       the due list (the field home), the visit form, visit lists and history
- attend.py       三必: must-attend orders and the must-report quick forms
- patrols.py      the phone's patrol page, a patrol's route, the staff's daily table
- visit_rules.py  the visit and patrol rules
- compliance.py   the compliance dashboard and its Excel export
- evaluations.py  residents' ratings: the rating form, results, rounds
- notice.py       the grid notice: writing it, the public page, its QR code and poster
- offline.py      the service worker, the manifest and the bundle a phone keeps offline
"""
