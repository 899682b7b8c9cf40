"""A Django project with its admin, served with its static files (see ``site``)."""
