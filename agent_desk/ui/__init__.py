"""The Qt desk."""
