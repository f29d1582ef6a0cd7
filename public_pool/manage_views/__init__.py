"""Manager and admin pages of the public pool, mounted at ``/pool/manage/`` (``pool_manage:``).

``team``: what managers (and admins) do — bulk assign, distribution, transfer, extension
requests, the event log and its CSV export.
``rules``: the admins' recycle rules with live preview.
``setup``: admin configuration — pools, release reasons, priority weights, job schedules.
"""
