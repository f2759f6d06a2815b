"""Official documents (公文) generated from a case's records: catalogue, content, PDF and DOCX."""
