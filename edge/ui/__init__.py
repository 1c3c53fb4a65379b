"""The full-screen exhibit: scenes, activities, art, music and the main loop (pygame)."""
