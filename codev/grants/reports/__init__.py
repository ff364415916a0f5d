"""Progress and final reports: filed by the association, accepted or returned by an officer."""
