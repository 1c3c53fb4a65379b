"""Scenes of the visitor flow; the activities live in edge.ui.activities."""
