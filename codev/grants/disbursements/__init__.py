"""The tranches and their payments: what is due (rule 4), what is paid, the second signature."""
