"""News and notices (新闻公告) of the centre and the member libraries, with feeds."""
