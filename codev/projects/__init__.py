"""The association's application: guided form, budget, financing plan, attachments, submission."""
