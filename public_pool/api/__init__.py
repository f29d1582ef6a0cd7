"""REST API of the public pool (公海): the ``/api/...`` pool endpoints, one module per subdomain.

Thin views over ``public_pool.services`` and ``public_pool.selectors`` (STYLE.md section 5): a
nested ``InputSerializer`` checks the *shape* of the input, one service or selector does the
work, a nested ``OutputSerializer`` renders the answer. Domain exceptions become
``{"code", "detail"}`` answers in ``crm_site.api.exception_handler`` (``fields`` for
``InvalidInput``, whose attribute is ``fields`` as the handler expects).

Visibility decisions made here (each composes selectors, no rule of its own):

- A customer the caller cannot see answers 404 before the input is checked: visible means in
  ``customers.selectors.customers_visible_to`` (owned: owner, their manager, admins) or pooled in
  a pool of ``selectors.pools_for_user``. Claim is the exception: API.md promises ``403
  not_pool_member`` for a lead of a pool the rep may not use and ``409 already_claimed`` for a
  lead someone took, so claim goes straight to ``services.claim_customer``, which answers those
  (and 404 for an id that does not exist).
- A pool outside ``pools_for_user`` answers 404, except for ``claim-next`` where the service
  answers ``403 not_pool_member`` like claim does.
- Who may *act* (assign, transfer, move, edit a pool or a rule, decide an extension) is the
  service's rule; a visible object the caller may not act on answers 403 ``permission_denied``.

Lists are paginated (``?page=``, ``?page_size=`` at most 200) and cost a fixed number of
queries whatever the page size: the selectors join what the output serializers read.
"""
