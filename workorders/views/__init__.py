"""Work-order pages, by topic: `intake` (a resident's or grid worker's report, settling on the
spot, a hotline call, work assigned down), `desks` (my reports, my tasks, the dispatch board,
the department inbox, the overdue board), `detail` (an order, its steps and files),
`notifications`, `exports` (Excel), `config` (categories, their questions, limits and routing)
and `window` (the one-window desk); `display` holds what several of them show.

Views parse input, call workorders/services, render. Reads come through workorders/access.py, so
an id outside the user's area is a 404 and a step the user may not take is a 403; any other
refusal is shown as a message on the page with nothing changed.
"""
