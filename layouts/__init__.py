"""The dashboard's pages (control room, feeds) and the shell around them; callbacks stay thin."""
