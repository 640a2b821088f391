"""Server-rendered HTML: the storefront's pages in each store's theme, and the admin dashboard."""
