"""A static docs site generated from the SQL project and the warehouse (``olist docs``).

index.html (overview and the interactive lineage), models/<name>.html and
sources/<raw table>.html, with assets/site.css and assets/lineage.js beside them: no
external URL anywhere, so it works offline from file:// or from ``serve()``.
"""

from __future__ import annotations

from olist_cli.docsite.serve import DocsError, make_server, serve
from olist_cli.docsite.site import build_site

__all__ = ["DocsError", "build_site", "make_server", "serve"]
