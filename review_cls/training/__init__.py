"""What only training needs: settings checks, Trainer add-ons, Ctrl+C handling, failed runs, run reports."""
